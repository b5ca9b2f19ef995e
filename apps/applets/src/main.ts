/**
 * Entry point of the applets service (bundled to dist/apps/applets/main.js). Commands: `serve` (default),
 * `migrate`, `describe-config`; see the platform's `runService`.
 *
 * @example
 *   node dist/apps/applets/main.js migrate
 */
import { runService } from '@ittd/platform';
import { appletsService } from './applets-service';

runService(appletsService);
