import { isSecretReference, type EnvValue } from '../descriptor/service-descriptor';

/** An env var as Marathon and Metronome take it: a string, or `{ secret: <key in secrets> }`. */
export type MesosEnvValue = string | { secret: string };

/** The `env` and `secrets` members of a Marathon app or a Metronome job run. */
export interface MesosEnv {
  env: Record<string, MesosEnvValue>;
  secrets: Record<string, { source: string }>;
}

/**
 * Splits a descriptor env into plain values and secret references. A reference `{ secret: 'database_url' }`
 * becomes `env.DATABASE_URL = { secret: 'database_url' }` plus the declaration
 * `secrets.database_url = { source: '<svc>/database_url' }`: the value never appears in a manifest.
 *
 * @example
 * toMesosEnv('applets', { LOG_LEVEL: 'info', DATABASE_URL: { secret: 'database_url' } });
 * // { env: { LOG_LEVEL: 'info', DATABASE_URL: { secret: 'database_url' } },
 * //   secrets: { database_url: { source: 'applets/database_url' } } }
 */
export function toMesosEnv(service: string, env: Readonly<Record<string, EnvValue>>): MesosEnv {
  const result: MesosEnv = { env: {}, secrets: {} };
  for (const [name, value] of Object.entries(env).sort(([a], [b]) => a.localeCompare(b))) {
    if (isSecretReference(value)) {
      result.env[name] = { secret: value.secret };
      result.secrets[value.secret] = { source: `${service}/${value.secret}` };
    } else {
      result.env[name] = value;
    }
  }
  return result;
}
