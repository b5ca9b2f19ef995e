import { z } from 'zod';
import { configField } from '../config/config-field';
import { parseKeyringSetting, SecretKeyringError } from './secret-keyring';

/** A keyring setting: `<id>:<base64 32 bytes>[,<id>:<base64>...]`, the first active; checked at start. */
function keyringField(description: string): z.ZodString {
  return configField(
    z.string().superRefine((value, ctx) => {
      try {
        parseKeyringSetting(value);
      } catch (error) {
        if (!(error instanceof SecretKeyringError)) throw error;
        ctx.addIssue({ code: 'custom', message: error.message });
      }
    }),
    { description, secret: true },
  );
}

/**
 * The keys a service seals its stored credentials with (partner service keys): `SECRETS_KEYS`, a
 * comma-separated list of `<key id>:<base64 of 32 random bytes>`; the first key seals, all of them open.
 * Rotate by putting the new key first, deploying, running `run-job rotate-secrets`, then dropping the old
 * key (README "Security"). Each service has its own keys.
 *
 * @example
 *   const configSchema = z.object({ ...baseServiceConfig, ...databaseConfig, ...secretsConfig });
 *   const keyring = SecretKeyring.fromSetting(ctx.config.SECRETS_KEYS);
 */
export const secretsConfig = {
  SECRETS_KEYS: keyringField(
    'keys sealing stored credentials (AES-256-GCM): <key id>:<base64 32 bytes>[,...], the first seals, all open',
  ),
};

/**
 * The keys that seal secrets inside service events (the `service_key` of `partner-service.changed`), so
 * neither the publisher's outbox rows nor the Redis streams hold them in clear: `EVENTS_SECRETS_KEYS`, same
 * format as `SECRETS_KEYS`, and the same value in every service of one engine (publisher and subscribers).
 *
 * @example
 *   const configSchema = z.object({ ...eventsConfig, ...eventSecretsConfig });
 *   const eventKeys = SecretKeyring.fromSetting(ctx.config.EVENTS_SECRETS_KEYS);
 */
export const eventSecretsConfig = {
  EVENTS_SECRETS_KEYS: keyringField(
    'keys sealing secrets inside events (AES-256-GCM), the same in every service: <key id>:<base64 32 bytes>[,...], the first seals',
  ),
};
