// Entry of `npm run jobs -- <command>` (see jobs-cli.ts).
import { runJobsCli } from './jobs-cli';

void runJobsCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
