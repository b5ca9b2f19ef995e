import { stringify } from 'yaml';
import {
  isSecretReference,
  resolveEnv,
  resolveHealthPaths,
  type Service,
} from '../descriptor/service-descriptor';
import { serviceOutputs } from '../service-outputs';

/** The env of service.json that compose.yaml runs the services with. */
export const COMPOSE_ENVIRONMENT = 'local';

/** Overridable images: `POSTGRES_IMAGE=postgres:16 docker compose up`. */
export const COMPOSE_IMAGES = {
  postgres: '${POSTGRES_IMAGE:-postgres:16-bookworm}',
  redis: '${REDIS_IMAGE:-redis:7-bookworm}',
  base: '${BASE_IMAGE:-node:24-bookworm-slim}',
} as const;

/** The one-shot service that creates every service's database in the compose Postgres. */
export const DATABASES_SERVICE = 'databases';

type Condition = 'service_healthy' | 'service_completed_successfully';

/** The subset of the Compose file format that compose.yaml uses (docker-compose 1.29 and Compose v2). */
export interface ComposeService {
  image: string;
  build?: { context: string; dockerfile: string; args: Record<string, string> };
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: Condition }>;
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number; start_period?: string };
  restart?: string;
}

/** A whole compose file. */
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, Record<string, never>>;
}

const healthy = { condition: 'service_healthy' } as const;
const completed = { condition: 'service_completed_successfully' } as const;

/** Compose interpolates `$`; a literal value must double it. */
const literal = (value: string): string => value.replace(/\$/g, '$$$$');

function localEnv(service: Service): Record<string, string> {
  const env = resolveEnv(service.descriptor, COMPOSE_ENVIRONMENT);
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (isSecretReference(value)) {
      throw new Error(
        `apps/${service.name}/service.json: env.${COMPOSE_ENVIRONMENT}.${name} is a secret reference; compose has ` +
          `no secret store, give it a development value`,
      );
    }
    result[name] = literal(value);
  }
  return result;
}

/** The database named by a `local` DATABASE_URL (`postgres://postgres@postgres:5432/applets` -> applets). */
function databaseOf(env: Record<string, string>): string | undefined {
  if (!env.DATABASE_URL) return undefined;
  const name = new URL(env.DATABASE_URL).pathname.replace(/^\//, '');
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`DATABASE_URL names an unusable database "${name}"`);
  return name;
}

function createDatabasesCommand(databases: string[]): string {
  const psql = 'psql -h postgres -U postgres';
  const steps = databases.map(
    (db) =>
      `${psql} -tAc "SELECT 1 FROM pg_database WHERE datname = '${db}'" | grep -q 1 || createdb -h postgres -U postgres ${db}`,
  );
  return ['set -e', ...steps].join('; ');
}

/** A node one-liner (the image has no curl): exit 0 when the ready path answers 2xx. */
function readyProbe(port: number, path: string): string[] {
  const url = `http://127.0.0.1:${port}${path}`;
  return [
    'CMD',
    'node',
    '-e',
    `fetch('${url}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
  ];
}

/**
 * Derives the root compose.yaml from every service descriptor (pure): Postgres and Redis with health
 * checks, a one-shot that creates each service's database, and per service a one-shot `<svc>-migrate`
 * (`node main.js migrate`) plus one container per process, all built from docker/Dockerfile with the
 * bundle as context, waiting for their dependencies to be healthy/complete. Web ports are published on
 * the same host port; two services on one port is an error.
 *
 * @example
 * buildComposeFile([{ name: 'applets', descriptor }]).services['applets-migrate'].command; // ['migrate']
 */
export function buildComposeFile(services: readonly Service[]): ComposeFile {
  const file: ComposeFile = {
    services: {
      postgres: {
        image: COMPOSE_IMAGES.postgres,
        environment: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
        volumes: ['postgres-data:/var/lib/postgresql/data'],
        healthcheck: {
          test: ['CMD', 'pg_isready', '-U', 'postgres'],
          interval: '2s',
          timeout: '5s',
          retries: 30,
        },
      },
      redis: {
        image: COMPOSE_IMAGES.redis,
        // The job queue needs persistence: without it a Redis restart loses every job (libs/platform/src/jobs).
        // Overriding the command drops the image's own arguments: listen to the other containers again.
        command: ['redis-server', '--bind', '0.0.0.0', '--protected-mode', 'no', '--appendonly', 'yes'],
        volumes: ['redis-data:/data'],
        healthcheck: { test: ['CMD', 'redis-cli', 'ping'], interval: '2s', timeout: '5s', retries: 30 },
      },
    },
    volumes: { 'postgres-data': {}, 'redis-data': {} },
  };
  const sorted = [...services].sort((a, b) => a.name.localeCompare(b.name));
  const envs = new Map(sorted.map((service) => [service.name, localEnv(service)]));
  const databases = sorted.flatMap((service) => databaseOf(envs.get(service.name) ?? {}) ?? []);
  file.services[DATABASES_SERVICE] = {
    image: COMPOSE_IMAGES.postgres,
    entrypoint: ['sh', '-c'],
    command: [createDatabasesCommand(databases)],
    depends_on: { postgres: healthy },
  };

  const hostPorts = new Map<number, string>();
  for (const service of sorted) {
    const env = envs.get(service.name) ?? {};
    const { readyPath } = resolveHealthPaths(service.descriptor);
    const image = `ittd/${service.name}:local`;
    const build = {
      context: serviceOutputs(service.name).bundle,
      dockerfile: '../../../docker/Dockerfile',
      args: { BASE_IMAGE: COMPOSE_IMAGES.base, APP_DIR: '.' },
    };
    const infrastructure = { postgres: healthy, redis: healthy };
    const migrate = `${service.name}-migrate`;
    file.services[migrate] = {
      image,
      build,
      command: ['migrate'],
      environment: env,
      depends_on: { ...infrastructure, [DATABASES_SERVICE]: completed },
    };
    for (const [process, spec] of Object.entries(service.descriptor.processes)) {
      const name = process === 'web' ? service.name : `${service.name}-${process}`;
      const container: ComposeService = {
        image,
        build,
        command: spec.args,
        environment: spec.port ? { ...env, PORT: String(spec.port) } : env,
        depends_on: { ...infrastructure, [migrate]: completed },
        restart: 'unless-stopped',
      };
      if (spec.port) {
        const taken = hostPorts.get(spec.port);
        if (taken)
          throw new Error(`${name} and ${taken} both publish port ${spec.port}; give one another port`);
        hostPorts.set(spec.port, name);
        container.ports = [`${spec.port}:${spec.port}`];
        container.healthcheck = {
          test: readyProbe(spec.port, readyPath),
          interval: '5s',
          timeout: '3s',
          retries: 20,
          start_period: '10s',
        };
      }
      file.services[name] = container;
    }
  }
  return file;
}

/** The header of compose.yaml: where it comes from and how to use it. */
export const COMPOSE_HEADER = [
  'Generated from apps/*/service.json by `npx nx g @ittd/nx-plugin:compose`: do not edit by hand.',
  'Run it with `npm run stack` (bundles, picks or builds the images, then `docker compose up --build`).',
  'Images are overridable: POSTGRES_IMAGE, REDIS_IMAGE, BASE_IMAGE.',
].join('\n');

/**
 * Serialises a compose file as YAML with the generated-file header.
 *
 * @example
 * writeFileSync('compose.yaml', composeYaml(buildComposeFile(services)));
 */
export function composeYaml(file: ComposeFile): string {
  const header = COMPOSE_HEADER.split('\n')
    .map((line) => `# ${line}`)
    .join('\n');
  return `${header}\n${stringify(file, { lineWidth: 0, aliasDuplicateObjects: false, singleQuote: true, version: '1.1' })}`;
}
