import { HttpProblem } from '@ittd/platform';
import type { RequestHandler } from 'express';
import type { FaultState } from '../domain/fault-state';
import { faultApplies } from '../domain/faults';

/**
 * Injects the faults in effect into the Service API calls in their scope (mounted on `/ifttt/v1` before
 * authentication, so a fault answers whatever the key): latency first, then `fail_next`, then the shares of
 * unanswered calls, 503s and 401s (one random draw each). `drop_meta_id` is left to the trigger route
 * (`res.locals.dropMetaId`). An unanswered call's socket is closed after `hangMs` (the server also closes it
 * when it stops).
 *
 * @example
 *   app.use('/ifttt/v1', faultInjection(state, config.FAULT_HANG_MS), serviceApiRouter);
 */
export function faultInjection(state: FaultState, hangMs: number): RequestHandler {
  return async function injectFaults(req, res, next) {
    const { faults } = await state.current();
    if (!faultApplies(faults.scope, req.path)) {
      next();
      return;
    }
    if (faults.latency_ms > 0) await new Promise((resolve) => setTimeout(resolve, faults.latency_ms));
    if (await state.takeFailNext()) {
      throw new HttpProblem(faults.fail_status, { detail: `Injected fault: HTTP ${faults.fail_status}.` });
    }
    if (Math.random() < faults.timeout_rate) {
      req.log.info('injected fault: no answer');
      setTimeout(() => req.socket.destroy(), hangMs).unref();
      return;
    }
    if (Math.random() < faults.error_rate) {
      throw new HttpProblem(503, {
        detail: 'Injected fault: try again later.',
        headers: { 'Retry-After': '1' },
      });
    }
    if (Math.random() < faults.unauthorized_rate) {
      throw new HttpProblem(401, { detail: 'Injected fault: the credentials were refused.' });
    }
    res.locals.dropMetaId = faults.drop_meta_id;
    next();
  };
}
