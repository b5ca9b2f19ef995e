// Entry of the standalone events CLI: `tsx libs/platform/src/events/events-cli-main.ts dead list -t <topic> -s <sub>`
// (see events-cli.ts; the jobs CLI can mount the same command with eventsCommand()).
import { runEventsCli } from './events-cli';

void runEventsCli(['events', ...process.argv.slice(2)]).then((code) => {
  process.exitCode = code;
});
