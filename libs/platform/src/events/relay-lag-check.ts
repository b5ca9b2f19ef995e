import type { Kysely } from 'kysely';
import type { HealthCheck } from '../health/health-types';
import { relayLagMs } from './outbox-relay';

/**
 * Readiness check of the outbox relay: `warn` when the oldest unrelayed event is older than `warnAboveMs`
 * (default 30 s), never `fail` (a lagging relay is a reason to look, not to leave the load balancer; the
 * outbox keeps the events). Reports the lag in ms.
 *
 * @example
 * health.add(relayLagCheck(database.db, { warnAboveMs: 60_000 }));
 */
export function relayLagCheck(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>,
  { warnAboveMs = 30_000 }: { warnAboveMs?: number } = {},
): HealthCheck {
  return {
    name: 'events-relay',
    measurement: 'lag',
    componentType: 'component',
    async run() {
      const lag = Math.round(await relayLagMs(db));
      return {
        status: lag > warnAboveMs ? 'warn' : 'pass',
        observedValue: lag,
        observedUnit: 'ms',
        ...(lag > warnAboveMs && { output: `oldest unrelayed event is ${lag} ms old` }),
      };
    },
  };
}
