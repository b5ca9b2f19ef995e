import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { deployActor } from '../executors/deploy/deploy-actor';
import {
  deployHistory,
  deployStatus,
  deployWatch,
  type CommandDeps,
} from '../executors/deploy/deploy-commands';
import { DEPLOY_DEFAULTS, resolveDeployOptions } from '../executors/deploy/deploy-options';
import { systemClock } from '../executors/deploy/follow-deployment';
import { terminalProgress } from '../executors/deploy/executor';
import { MarathonClient } from '../marathon-client/marathon-client';
import { connectDocker } from '../docker/docker-engine';
import {
  swarmDeployHistory,
  swarmDeployStatus,
  swarmDeployWatch,
  type SwarmCommandDeps,
} from '../executors/deploy/swarm-commands';
import { dockerSwarmApi } from '../swarm-client/swarm-api';

const USAGE = `usage: deploy status <deployment id...>      follow releases submitted with --no-wait (on Swarm: deploy ids)
       deploy watch [--environment=<env>]     follow every release still submitted
       deploy history <service> [--environment=production] [--limit=20]
An environment named swarm or *-swarm (--environment=local-swarm) reads the swarm of DOCKER_HOST instead.
options: --marathon-url (default $MARATHON_URL), --timeout-seconds (${DEPLOY_DEFAULTS.timeoutSeconds}), --poll-interval-seconds (${DEPLOY_DEFAULTS.pollIntervalSeconds})`;

/**
 * The `deploy` command line: `status`, `watch` and `history`, against $MARATHON_URL (token: $MARATHON_TOKEN),
 * or for a Swarm environment (`--environment=local-swarm`) against the swarm of the engine at DOCKER_HOST.
 * Returns the exit code.
 *
 * @example
 * // npx tsx tools/nx-plugin/src/cli/deploy-cli.ts history applets --environment=production
 */
export async function runDeployCli(
  argv: readonly string[],
  print: (line: string) => void = console.log,
): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      'marathon-url': { type: 'string' },
      environment: { type: 'string' },
      limit: { type: 'string' },
      'timeout-seconds': { type: 'string' },
      'poll-interval-seconds': { type: 'string' },
    },
  });
  const [command, ...args] = positionals;
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  const resolved = resolveDeployOptions(
    {
      environment: values.environment ?? 'production',
      marathonUrl: values['marathon-url'],
      timeoutSeconds: number(values['timeout-seconds']),
      pollIntervalSeconds: number(values['poll-interval-seconds']),
    },
    process.env,
  );
  if (resolved.orchestrator === 'swarm') {
    const deps: SwarmCommandDeps = {
      swarm: dockerSwarmApi(connectDocker()),
      clock: systemClock,
      progress: terminalProgress(),
      timeoutMs: resolved.timeoutMs,
      pollIntervalMs: resolved.pollIntervalMs,
      wait: true,
      who: deployActor(process.cwd(), process.env),
      newId: randomUUID,
      print,
    };
    const env = resolved.environment;
    if (command === 'status' && args.length > 0) return (await swarmDeployStatus(args, env, deps)) ? 0 : 1;
    if (command === 'watch' && args.length === 0) return (await swarmDeployWatch(env, deps)) ? 0 : 1;
    if (command === 'history' && args.length === 1) {
      return (await swarmDeployHistory(args[0], env, number(values.limit) ?? 20, deps)) ? 0 : 1;
    }
    print(USAGE);
    return 2;
  }
  if (!resolved.marathon) {
    print('no Marathon URL: set MARATHON_URL or --marathon-url');
    return 2;
  }
  const deps: CommandDeps = {
    marathon: new MarathonClient(resolved.marathon),
    clock: systemClock,
    progress: terminalProgress(),
    timeoutMs: resolved.timeoutMs,
    pollIntervalMs: resolved.pollIntervalMs,
    force: false,
    wait: true,
    who: deployActor(process.cwd(), process.env),
    newId: randomUUID,
    print,
  };
  if (command === 'status' && args.length > 0) return (await deployStatus(args, deps)) ? 0 : 1;
  if (command === 'watch' && args.length === 0) return (await deployWatch(values.environment, deps)) ? 0 : 1;
  if (command === 'history' && args.length === 1) {
    const limit = number(values.limit) ?? 20;
    return (await deployHistory(args[0], resolved.environment, limit, deps)) ? 0 : 1;
  }
  print(USAGE);
  return 2;
}

if (require.main === module) {
  runDeployCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
