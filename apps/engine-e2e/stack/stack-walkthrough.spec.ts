import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKSPACE_ROOT } from '../src/engine-processes';
import { eventually } from '@ittd/platform/testing';
import { jsonClient } from '../src/json-client';
import { runCommand } from '../src/run-command';

/** The host ports compose.yaml publishes (applets, trigger-poller web and worker, actions web and worker, sandbox). */
const STACK_PORTS = [3000, 3010, 3011, 3012, 3013, 3014];
/** compose.yaml's local sandbox control token (the walkthrough uses it too). */
const CONTROL_TOKEN = 'local-sandbox-control-token-0123456789';

/** Whether something listens on `port` of any host address (Docker publishes on 0.0.0.0). */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(false)));
  });
}

/** The shell block of the root README between `<!-- walkthrough:start -->` and `<!-- walkthrough:end -->`. */
function readmeWalkthrough(): string {
  const readme = readFileSync(join(WORKSPACE_ROOT, 'README.md'), 'utf8');
  const section = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  if (!section)
    throw new Error('README.md has no walkthrough block (<!-- walkthrough:start --> ```sh ... ```)');
  return section[1];
}

const taken: number[] = [];
for (const port of STACK_PORTS) if (await portTaken(port)) taken.push(port);
const docker = await runCommand('docker', ['info'], { cwd: WORKSPACE_ROOT, timeoutMs: 30_000 });
const skipReason =
  taken.length > 0
    ? `host port(s) ${taken.join(', ')} taken (another stack or npm run engine?): the stack publishes fixed ports`
    : docker.code !== 0
      ? 'no Docker engine answers (docker info failed)'
      : undefined;
if (skipReason) console.warn(`engine-e2e:stack: skipped: ${skipReason}`);

/**
 * The root README's walkthrough, as written, against the compose stack: `bash docker/stack.sh --build
 * --detach` under a compose project of its own (COMPOSE_PROJECT_NAME), the README's shell block run through
 * the published ports, the run checked through applets' and the sandbox's APIs, then `down -v` with no
 * container, network or volume of the project left.
 */
describe.skipIf(skipReason !== undefined)('the README walkthrough against the compose stack', () => {
  const project = `ittd-stack-e2e-${randomBytes(4).toString('hex')}`;
  const env = { ...process.env, COMPOSE_PROJECT_NAME: project };
  let down = false;

  async function composeDown(): Promise<void> {
    const result = await runCommand(
      'bash',
      ['docker/compose.sh', 'down', '-v', '--remove-orphans', '--timeout', '10'],
      {
        cwd: WORKSPACE_ROOT,
        env,
        timeoutMs: 120_000,
      },
    );
    if (result.code !== 0)
      throw new Error(`compose down failed (${result.code}):\n${result.output.slice(-3000)}`);
    down = true;
  }

  beforeAll(async () => {
    const up = await runCommand('bash', ['docker/stack.sh', '--build', '--detach'], {
      cwd: WORKSPACE_ROOT,
      env,
      timeoutMs: 840_000,
    });
    if (up.code !== 0) {
      await composeDown().catch(() => undefined);
      throw new Error(
        `bash docker/stack.sh --build --detach failed (${up.code}):\n${up.output.slice(-4000)}`,
      );
    }
    for (const port of STACK_PORTS) {
      await eventually(
        `localhost:${port}/health/ready`,
        async () =>
          (
            await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2000) }).catch(
              () => undefined,
            )
          )?.status === 200,
        180_000,
        500,
      );
    }
  });

  afterAll(async () => {
    if (!down) await composeDown();
  }, 180_000);

  it('runs the walkthrough as written: the sandbox event fires the applet once and the activity shows it', async () => {
    const script = `${readmeWalkthrough()}\necho "walkthrough: TOKEN=$TOKEN APPLET=$APPLET"\n`;
    const run = await runCommand('bash', ['-c', script], { cwd: WORKSPACE_ROOT, timeoutMs: 180_000 });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain('"engine":{"status":202');
    const found = /walkthrough: TOKEN=(\S+) APPLET=(\S+)/.exec(run.output);
    expect(found, run.output).not.toBeNull();
    const [, token, appletId] = found as RegExpExecArray;
    expect(token).toMatch(/^ittd_/);

    const applets = jsonClient('http://127.0.0.1:3000');
    const [entry] = await eventually('the run in the activity', async () => {
      const answer = await applets.request('GET', `/v1/applets/${appletId}/activity`, { token });
      const data = (answer.body as { data?: { status: string; trigger_event_id: string }[] }).data ?? [];
      return data.length > 0 ? data : undefined;
    });
    expect(entry).toMatchObject({ status: 'success', trigger_event_id: 'item-1' });

    const sandbox = jsonClient('http://127.0.0.1:3014');
    const records = await sandbox.request('GET', '/control/actions/record_message/records', {
      token: CONTROL_TOKEN,
    });
    expect(
      (records.body as { data: { request: { actionFields: { message: string } } }[] }).data.map(
        (record) => record.request.actionFields.message,
      ),
    ).toEqual(['New in inbox: Buy milk']);
  });

  it('down -v leaves no container, network or volume of the project', async () => {
    await composeDown();
    for (const kind of ['ps -a', 'network ls', 'volume ls']) {
      const left = await runCommand(
        'docker',
        [...kind.split(' '), '-q', '--filter', `label=com.docker.compose.project=${project}`],
        { cwd: WORKSPACE_ROOT, timeoutMs: 30_000 },
      );
      expect(left.code).toBe(0);
      expect(left.output.trim(), `docker ${kind}`).toBe('');
    }
  });
});
