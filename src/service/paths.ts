// Where the service listens and keeps its data when no flag says otherwise: per-user directories
// that need no root. `serve`, `start` and every command that talks to the service share these.
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The socket directory: $WIN11MON_SOCKET_DIR, else $XDG_RUNTIME_DIR/win11mon (a per-user tmpfs that
 * systemd creates 0700), else /tmp/win11mon-$UID (created 0755; the service refuses it if someone
 * else owns it or it is world-writable, so a squatter in /tmp cannot impersonate the service).
 *
 * @example
 * defaultSocketDir({ XDG_RUNTIME_DIR: '/run/user/1000' }) // '/run/user/1000/win11mon'
 */
export function defaultSocketDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WIN11MON_SOCKET_DIR) return env.WIN11MON_SOCKET_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'win11mon');
  return `/tmp/win11mon-${process.getuid?.() ?? 'user'}`;
}

/**
 * The data directory (journal, emulated kernel files): $WIN11MON_DATA_DIR, else
 * $XDG_STATE_HOME/win11mon, else ~/.local/state/win11mon.
 *
 * @example
 * defaultDataDir({ HOME: '/home/a' }) // '/home/a/.local/state/win11mon'
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WIN11MON_DATA_DIR) return env.WIN11MON_DATA_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'win11mon');
  return join(env.HOME || homedir(), '.local', 'state', 'win11mon');
}

/** The journal directory inside a data directory. */
export function journalDir(dataDir: string): string {
  return join(dataDir, 'journal');
}
