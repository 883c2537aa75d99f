// Where the service listens and keeps its data when no flag says otherwise: per-user directories
// that need no root. `serve`, `start` and every command that talks to the service share these.
import { homedir } from 'node:os';
import { join, win32 } from 'node:path';

/**
 * The socket directory: $WIN11MON_SOCKET_DIR, else $XDG_RUNTIME_DIR/win11mon (a per-user tmpfs that
 * systemd creates 0700), else /tmp/win11mon-$UID (created 0755; the service refuses it if someone
 * else owns it or it is world-writable, so a squatter in /tmp cannot impersonate the service).
 * On Windows, %LOCALAPPDATA%\win11mon: only a name there, carried into the pipe names
 * (endpointPaths).
 *
 * @example
 * defaultSocketDir({ XDG_RUNTIME_DIR: '/run/user/1000' }) // '/run/user/1000/win11mon'
 */
export function defaultSocketDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.WIN11MON_SOCKET_DIR) return env.WIN11MON_SOCKET_DIR;
  if (platform === 'win32') return win32.join(localAppData(env), 'win11mon');
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'win11mon');
  return `/tmp/win11mon-${process.getuid?.() ?? 'user'}`;
}

/**
 * The data directory (journal, emulated kernel files): $WIN11MON_DATA_DIR, else
 * $XDG_STATE_HOME/win11mon, else ~/.local/state/win11mon; on Windows %LOCALAPPDATA%\win11mon\state.
 *
 * @example
 * defaultDataDir({ HOME: '/home/a' }) // '/home/a/.local/state/win11mon'
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.WIN11MON_DATA_DIR) return env.WIN11MON_DATA_DIR;
  if (platform === 'win32') return win32.join(localAppData(env), 'win11mon', 'state');
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'win11mon');
  return join(env.HOME || homedir(), '.local', 'state', 'win11mon');
}

/** %LOCALAPPDATA%, else %USERPROFILE%\AppData\Local (both set in every Windows logon session). */
function localAppData(env: NodeJS.ProcessEnv): string {
  return env.LOCALAPPDATA || win32.join(env.USERPROFILE || homedir(), 'AppData', 'Local');
}

/** The journal directory inside a data directory. */
export function journalDir(dataDir: string): string {
  return join(dataDir, 'journal');
}

/** Endpoint names inside the socket directory (a contract: other tools rely on them). */
export const DEVICE_SOCKET_NAME = 'device.sock';
export const ADMIN_SOCKET_NAME = 'admin.sock';

/** Where the two endpoints of a socket directory live on a platform, and what kind of object they are. */
export interface EndpointPaths {
  device: string;
  admin: string;
  /**
   * 'unix': socket files in the directory (access by file mode). 'pipe': Windows named pipes, whose
   * namespace is flat and holds no files: no directory, no stale file, access by the pipe's DACL.
   */
  kind: 'unix' | 'pipe';
}

const PIPE_PREFIX = /^\\\\[.?]\\pipe\\/i;

/**
 * The endpoints of `socketDir`. On Linux and macOS: `DIR/device.sock` and `DIR/admin.sock`. On
 * Windows the local sockets are named pipes (libuv): the directory path is carried into the pipe
 * name, `\\?\pipe\<DIR>\device.sock`, so that one `--socket-dir` value names one service on every
 * platform (Node documents this form; the pipe namespace is flat, backslashes included). A
 * directory given as a pipe path already (`\\.\pipe\x`) is used as it is.
 *
 * @example
 * endpointPaths('/run/user/1000/win11mon', 'linux').admin // '/run/user/1000/win11mon/admin.sock'
 * endpointPaths('C:\\Temp\\win11mon', 'win32').device     // '\\\\?\\pipe\\C:\\Temp\\win11mon\\device.sock'
 */
export function endpointPaths(socketDir: string, platform: NodeJS.Platform = process.platform): EndpointPaths {
  if (platform !== 'win32') return { device: join(socketDir, DEVICE_SOCKET_NAME), admin: join(socketDir, ADMIN_SOCKET_NAME), kind: 'unix' };
  const base = PIPE_PREFIX.test(socketDir) ? socketDir : win32.join('\\\\?\\pipe', win32.resolve(socketDir));
  return { device: win32.join(base, DEVICE_SOCKET_NAME), admin: win32.join(base, ADMIN_SOCKET_NAME), kind: 'pipe' };
}
