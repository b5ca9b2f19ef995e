/**
 * Entry point of the partner-sandbox service (bundled to dist/apps/partner-sandbox/main.js). Commands: `serve` (default),
 * `migrate`, `describe-config`, `run-job <name>`; see the platform's `runService`.
 *
 * @example
 *   node dist/apps/partner-sandbox/main.js migrate
 */
import { runService } from '@ittd/platform';
import { partnerSandboxService } from './partner-sandbox-service';

runService(partnerSandboxService);
