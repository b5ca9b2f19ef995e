/**
 * Entry point of the actions service (bundled to dist/apps/actions/main.js). Commands: `serve` (default),
 * `migrate`, `describe-config`, `run-job <name>`; see the platform's `runService`.
 *
 * @example
 *   node dist/apps/actions/main.js migrate
 */
import { runService } from '@ittd/platform';
import { actionsService } from './actions-service';

runService(actionsService);
