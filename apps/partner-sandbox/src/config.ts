import { z } from 'zod';
import {
  baseServiceConfig,
  boolField,
  configField,
  databaseConfig,
  intField,
  wellFormedText,
} from '@ittd/platform';

/** A share of requests, 0..1, written in plain decimals (`0`, `0.25`, `1`). */
function shareField() {
  return z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?|\.\d+)$/, { error: 'expected a share from 0 to 1, such as 0.25' })
    .transform(Number);
}

/**
 * The partner-sandbox service's environment: the platform's HTTP, logging, lifecycle and Postgres groups,
 * the partner's service key, the control API's token, the engine to notify, and the faults it injects from
 * the start (the control API can change them at run time; see README.md). `describe-config` prints it.
 *
 * @example
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/partner_sandbox SERVICE_KEY=… CONTROL_TOKEN=… \
 *   FAULT_ERROR_RATE=0.1 node dist/apps/partner-sandbox/main.js serve
 */
export const configSchema = z.object({
  ...baseServiceConfig,
  ...databaseConfig,
  SERVICE_KEY: configField(z.string().min(16, { error: 'expected at least 16 characters' }), {
    description:
      'the IFTTT-Service-Key the engine must send (also signs the users’ bearer tokens); register it with the engine',
    secret: true,
  }),
  CONTROL_TOKEN: configField(z.string().min(24, { error: 'expected at least 24 characters' }), {
    description:
      'bearer token of the control API (/control/*: events, users, records, faults, notifications)',
    secret: true,
  }),
  ENGINE_URL: configField(
    z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .check(wellFormedText)
      .optional(),
    {
      description:
        'base URL of the engine whose /v1/notifications POST /control/notifications calls (trigger-poller); a call may name another',
    },
  ),
  NOTIFY_TIMEOUT_MS: configField(intField({ min: 100, max: 120_000 }).default(10_000), {
    description: 'time-out of one realtime notification sent to the engine',
  }),
  FAULT_LATENCY_MS: configField(intField({ min: 0, max: 120_000 }).default(0), {
    description: 'fault: delay before every Service API answer (ms)',
  }),
  FAULT_ERROR_RATE: configField(shareField().default(0), {
    description: 'fault: share of Service API calls answered 503 (0..1)',
  }),
  FAULT_UNAUTHORIZED_RATE: configField(shareField().default(0), {
    description: 'fault: share of Service API calls answered 401 whatever their key (0..1)',
  }),
  FAULT_TIMEOUT_RATE: configField(shareField().default(0), {
    description:
      'fault: share of Service API calls never answered (the socket is closed after FAULT_HANG_MS) (0..1)',
  }),
  FAULT_HANG_MS: configField(intField({ min: 100, max: 600_000 }).default(120_000), {
    description: 'how long an unanswered (time-out fault) call is held before its socket is closed',
  }),
  FAULT_DROP_META_ID: configField(boolField().default(false), {
    description:
      'fault: trigger events are answered without meta.id (a broken partner, for the conformance check)',
  }),
  FAULT_REFRESH_MS: configField(intField({ min: 50, max: 60_000 }).default(1000), {
    description: 'how often a replica re-reads the run-time faults other replicas may have set',
  }),
});

/** The parsed config. */
export type PartnerSandboxConfig = z.output<typeof configSchema>;
