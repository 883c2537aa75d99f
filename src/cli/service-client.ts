// How CLI commands reach a running service: the shared --socket-dir default and one clear error
// when nothing is listening there.
import type { Command } from 'commander';
import { Win11MonClient } from '../client/client.js';
import { socketTransport } from '../client/transport.js';
import { isWin11MonError } from '../abi/errors.js';
import { defaultSocketDir, endpointPaths } from '../service/paths.js';
import { ExitCode, type CliIo } from './io.js';

/** Adds `--socket-dir DIR` with the shared default (env WIN11MON_SOCKET_DIR, then XDG_RUNTIME_DIR/win11mon, then /tmp/win11mon-UID). */
export function socketDirOption(cmd: Command): Command {
  return cmd.option('--socket-dir <dir>', `service socket directory (default: ${defaultSocketDir()}; env WIN11MON_SOCKET_DIR)`);
}

/** The message printed when the service cannot be reached. */
export function notRunningMessage(dir: string): string {
  return `win11mon service not running at ${dir} (start it with \`win11mon serve\` or \`npm start\`)`;
}

/**
 * Connects to the service (device.sock, or admin.sock with `admin`), runs `fn`, closes. When the
 * service is not reachable prints the not-running message and sets exit status 1; returns undefined.
 */
export async function withService<T>(
  opts: { socketDir?: string | undefined; admin?: boolean },
  io: CliIo,
  setStatus: (s: number) => void,
  fn: (client: Win11MonClient, dir: string) => Promise<T>,
): Promise<T | undefined> {
  const dir = opts.socketDir ?? defaultSocketDir();
  let client: Win11MonClient;
  try {
    client = new Win11MonClient(await socketTransport(dir, { admin: opts.admin ?? false, timeoutMs: 5000 }));
  } catch (e) {
    if (isWin11MonError(e) && (e.code === 'WIN11MON_ERR_NOT_CONNECTED' || e.code === 'WIN11MON_ERR_TIMEOUT')) {
      if (e.detail.actual === 'EACCES') io.err(`win11mon: permission denied on ${endpointPaths(dir).admin} (it is 0600: run this as the user the service runs as)\n`);
      else io.err(notRunningMessage(dir) + '\n');
      setStatus(ExitCode.Failure);
      return undefined;
    }
    throw e;
  }
  try {
    return await fn(client, dir);
  } finally {
    await client.close();
  }
}
