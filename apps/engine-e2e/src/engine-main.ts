/**
 * `npm run engine`: the whole engine for development, from source, as separate processes on the local
 * Postgres and Redis: applets (3000), trigger-poller web (3010) and worker (3011), actions web (3012) and
 * worker (3013), partner-sandbox (3014), each with its app's `.env.example` (databases `applets`,
 * `trigger_poller`, `actions`, `partner_sandbox`, created when missing and kept). Output is one stream, each
 * line prefixed with its process. Ctrl-C stops everything (SIGTERM, SIGKILL after 10 s).
 *
 *   npm run engine                  # from source (node --import tsx apps/<service>/src/main.ts)
 *   npm run engine -- --from bundle # from dist/apps/<service>/main.js (npx nx run-many -t bundle first)
 */
import { createServer } from 'node:net';
import { Command, Option } from 'commander';
import {
  DEV_PORTS,
  startEngineProcesses,
  type EngineProcessName,
  type EngineProcesses,
} from './engine-processes';

const program = new Command('engine')
  .description('start the applet engine and partner-sandbox as separate processes for development')
  .addOption(
    new Option('--from <kind>', 'run the sources (tsx) or the bundles in dist/apps')
      .choices(['source', 'bundle'])
      .default('source'),
  )
  .parse();

const { from } = program.opts<{ from: 'source' | 'bundle' }>();

let engine: EngineProcesses | undefined;
let stopping = false;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write('engine: stopping every process\n');
  await engine?.stop().catch((error: unknown) => process.stderr.write(`engine: ${String(error)}\n`));
  process.stdout.write('engine: every process stopped\n');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

/** Whether something already listens on `port` (of 127.0.0.1). */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

async function main(): Promise<void> {
  const names = Object.keys(DEV_PORTS) as EngineProcessName[];
  const taken: string[] = [];
  for (const name of names) if (await portTaken(DEV_PORTS[name])) taken.push(`${DEV_PORTS[name]} (${name})`);
  if (taken.length > 0) {
    process.stderr.write(
      `engine: port ${taken.join(', ')} already in use: stop what holds it (the compose stack? bash docker/compose.sh down)\n`,
    );
    process.exit(1);
  }
  try {
    engine = await startEngineProcesses({ from, isolation: 'dev', output: 'console' });
  } catch (error) {
    process.stderr.write(
      `engine: could not start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  }
  const running = engine;

  const lines = Object.entries(DEV_PORTS).map(
    ([name, port]) => `  ${name.padEnd(22)} http://localhost:${port}`,
  );
  process.stdout.write(
    [
      '',
      'engine: every process is ready (Ctrl-C stops them all)',
      ...lines,
      `  applets admin token    ${running.env.applets.ADMIN_TOKEN}`,
      `  sandbox service key    ${running.env['partner-sandbox'].SERVICE_KEY}`,
      `  sandbox control token  ${running.env['partner-sandbox'].CONTROL_TOKEN}`,
      '',
    ].join('\n'),
  );

  // A process that dies on its own ends the session: the developer sees why in its last lines above.
  for (const name of names) {
    void running.process(name).exited.then((code) => {
      if (stopping) return;
      process.stderr.write(`engine: ${name} ended (${code}); stopping the others\n`);
      void shutdown(1);
    });
  }
}

void main();
