// The `win11mon` command: builds the commander program from one module per subcommand.
import { Command, CommanderError } from 'commander';
import { processIo, ExitCode, type CliIo } from './io.js';
import { isWin11MonError } from '../abi/errors.js';
// Subcommands: each module exports `register(program, io)` and sets process exit status through
// the returned promise of its action. Add one import and one entry to COMMANDS per subcommand.
import type { CommandModule } from './command.js';

const COMMANDS: Array<() => Promise<CommandModule>> = [
  // (subcommands are listed here)
  () => import('./commands/validate.js').then((m) => m.default),
  () => import('./commands/policy.js').then((m) => m.default),
  () => import('./commands/decode.js').then((m) => m.default),
  () => import('./commands/offsets.js').then((m) => m.default),
  () => import('./commands/demo.js').then((m) => m.default),
  () => import('./commands/serve.js').then((m) => m.default),
  () => import('./commands/serve.js').then((m) => m.startCommand),
  () => import('./commands/stats.js').then((m) => m.default),
  () => import('./commands/events.js').then((m) => m.default),
  () => import('./commands/scan.js').then((m) => m.default),
  () => import('./commands/ring.js').then((m) => m.default),
  () => import('./commands/bench.js').then((m) => m.default),
];

/** `win11mon events | head` closes stdout early: that is the reader's choice, not an error. */
function exitQuietlyOnEpipe(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

export async function runCli(argv: string[], io?: CliIo): Promise<number> {
  if (!io) { exitQuietlyOnEpipe(); io = processIo(); }
  const program = new Command('win11mon');
  program
    .description('Intercept and validate Windows 11 IoRing submissions before the kernel runs them (against an emulated Windows IoRing kernel).')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  let status: number = ExitCode.Ok;
  const setStatus = (s: number) => { status = s; };
  for (const load of COMMANDS) {
    const mod = await load();
    const cmd = mod.register(program, io, setStatus);
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return ExitCode.Ok;
      return ExitCode.BadInput;
    }
    if (isWin11MonError(e)) {
      io.err(`win11mon: ${e.code} (${e.statusName}): ${e.message}\n`);
      return ExitCode.BadInput;
    }
    const errno = e as NodeJS.ErrnoException;
    if (errno && typeof errno.code === 'string' && typeof errno.path === 'string') {
      // A file the user named could not be opened: say which and why, no stack trace.
      io.err(`win11mon: cannot ${errno.syscall ?? 'open'} ${errno.path}: ${errno.code}\n`);
      return errno.code === 'ENOENT' || errno.code === 'EISDIR' || errno.code === 'ENOTDIR' ? ExitCode.BadInput : ExitCode.Failure;
    }
    io.err(`win11mon: internal error (please report): ${process.env.WIN11MON_DEBUG ? (e as Error)?.stack : String((e as Error)?.message ?? e)}\n`);
    return ExitCode.Failure;
  }
  return status;
}
