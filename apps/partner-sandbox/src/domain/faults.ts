import { z } from 'zod';
import type { PartnerSandboxConfig } from '../config';

/** Which Service API calls faults apply to: all of them, `/ifttt/v1/triggers/*` or `/ifttt/v1/actions/*`. */
export const FAULT_SCOPES = ['all', 'triggers', 'actions'] as const;

/** Statuses `fail_next` may answer with. */
export const FAIL_STATUSES = [401, 429, 500, 502, 503] as const;

/**
 * The faults the sandbox injects into its Service API answers (never into /control or /health):
 *
 * - `latency_ms`: delay before every answer;
 * - `error_rate`, `unauthorized_rate`, `timeout_rate`: shares (0..1) of calls answered 503, answered 401
 *   whatever their key, or never answered (the socket is closed after FAULT_HANG_MS);
 * - `fail_next` / `fail_status`: the next N calls (counted across replicas) answered `fail_status`, for
 *   tests that need a fault exactly once;
 * - `drop_meta_id`: trigger events are answered without `meta.id` (a broken partner);
 * - `scope`: which calls they apply to.
 */
export const faultsSchema = z.object({
  latency_ms: z.number().int().min(0).max(120_000),
  error_rate: z.number().min(0).max(1),
  unauthorized_rate: z.number().min(0).max(1),
  timeout_rate: z.number().min(0).max(1),
  fail_next: z.number().int().min(0).max(1_000_000),
  fail_status: z.union(FAIL_STATUSES.map((status) => z.literal(status))),
  drop_meta_id: z.boolean(),
  scope: z.enum(FAULT_SCOPES),
});

/** The faults in effect. */
export type Faults = z.output<typeof faultsSchema>;

/** The body of `PUT /control/faults`: any of the faults; the others keep their current value. */
export const faultsPatch = faultsSchema.partial().strict();

/**
 * The faults configured by the environment (FAULT_*): what applies while none were set at run time, and
 * what `DELETE /control/faults` goes back to.
 *
 * @example
 *   configuredFaults(ctx.config).error_rate; // FAULT_ERROR_RATE, 0 by default
 */
export function configuredFaults(config: PartnerSandboxConfig): Faults {
  return {
    latency_ms: config.FAULT_LATENCY_MS,
    error_rate: config.FAULT_ERROR_RATE,
    unauthorized_rate: config.FAULT_UNAUTHORIZED_RATE,
    timeout_rate: config.FAULT_TIMEOUT_RATE,
    fail_next: 0,
    fail_status: 503,
    drop_meta_id: config.FAULT_DROP_META_ID,
    scope: 'all',
  };
}

/**
 * Whether faults of `scope` apply to a Service API path relative to `/ifttt/v1` (e.g. `/triggers/new_item`).
 *
 * @example
 *   faultApplies('actions', '/triggers/new_item'); // false
 */
export function faultApplies(scope: Faults['scope'], path: string): boolean {
  if (scope === 'all') return true;
  return path.startsWith(`/${scope}/`);
}
