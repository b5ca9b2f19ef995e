/**
 * Entry point of the trigger poller (bundled to dist/apps/trigger-poller/main.js). Commands: `serve`
 * (default), `worker`, `migrate`, `run-job enqueue-due-polls`, `describe-config`; see the platform's
 * `runService`.
 *
 * @example
 *   node dist/apps/trigger-poller/main.js run-job enqueue-due-polls
 */
import { runService } from '@ittd/platform';
import { triggerPollerService } from './trigger-poller-service';

runService(triggerPollerService);
