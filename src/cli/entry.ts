// Runs the CLI from source (`node --import tsx src/cli/entry.ts ...`); bin/win11mon.js does the same from dist/.
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2));
