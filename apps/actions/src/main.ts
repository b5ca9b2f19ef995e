/**
 * Entry point of the actions service (bundled to dist/apps/actions/main.js). Commands: `serve` (default:
 * admin API), `worker` (event subscriptions and action-run jobs), `migrate`, `describe-config`; see the
 * platform's `runService`.
 *
 * @example
 *   node dist/apps/actions/main.js worker
 */
import { runService } from '@ittd/platform';
import { actionsService } from './actions-service';

runService(actionsService);
