/**
 * `npm run partner:check -- --url <base URL> --key <service key> [--timeout <ms>]`: the partner conformance
 * check (see partner-check.ts). Prints one line per check (`PASS <name>` or `FAIL <name>: <reason>`) and a
 * summary; exits 0 when every check passed, 1 when one failed, 2 for bad arguments.
 *
 * @example
 *   npm run partner:check -- --url http://127.0.0.1:3014 --key local-sandbox-service-key-0123456789
 */
import { Command, InvalidArgumentError } from 'commander';
import { runPartnerCheck } from './partner-check';

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new InvalidArgumentError('expected a positive integer (ms)');
  return Number(value);
}

function httpUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:3014');
}

const program = new Command()
  .name('partner:check')
  .description(
    "Runs IFTTT's endpoint tests against a partner service and validates every request and answer against the Service API's OpenAPI file.",
  )
  .requiredOption(
    '--url <base URL>',
    'the partner base URL (the Service API is under <url>/ifttt/v1)',
    httpUrl,
  )
  .requiredOption('--key <service key>', 'the partner service key (IFTTT-Service-Key)')
  .option('--timeout <ms>', 'time-out of each call', positiveInteger, 10_000)
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .parse();

/** Runs the check and sets the exit code (top-level await is not available: the CLI runs as CommonJS). */
async function main(): Promise<void> {
  const options = program.opts<{ url: string; key: string; timeout: number }>();
  const results = await runPartnerCheck({
    url: options.url,
    serviceKey: options.key,
    timeoutMs: options.timeout,
    onResult: (result) =>
      console.log(result.ok ? `PASS  ${result.name}` : `FAIL  ${result.name}: ${result.reason}`),
  });
  const failed = results.filter((result) => !result.ok).length;
  console.log(`partner:check ${options.url}: ${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 2;
});
