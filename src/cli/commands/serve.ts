// `win11mon serve` and `win11mon start`: run the emulated kernel, the MonitorDriver and the service
// on local sockets until SIGINT/SIGTERM, journaling the telemetry ring under the data directory.
// `start` (what `npm start` runs) is `serve --workload` on the embedded defaults.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';
import { loadPolicyText, formatPolicyIssue } from '../../engine/index.js';
import { isWin11MonError } from '../../abi/errors.js';
import { SUPPORTED_BUILDS } from '../../kernel/offsets.js';
import { installSignalHandlers } from '../../service/server.js';
import { startRuntime, type WorkloadRunner } from '../../service/runtime.js';
import { hookedWorkload } from '../workload-runner.js';
import { defaultDataDir, defaultSocketDir } from '../../service/paths.js';

interface ServeOptions {
  socketDir?: string;
  dataDir?: string;
  policy?: string;
  build?: string;
  workload?: boolean;
  scanInterval?: string;
  json?: boolean;
}

/** The workload `start` and `serve --workload` run. Replaceable (e.g. by one that goes through the interception hook). */
export let defaultWorkload: () => WorkloadRunner = () => hookedWorkload();
export function setDefaultWorkload(f: () => WorkloadRunner): void {
  defaultWorkload = f;
}

function intArg(name: string, v: string | undefined, dflt: number, io: CliIo, min = 0): number | undefined {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) {
    io.err(`win11mon: ${name} must be an integer >= ${min}, got "${v}"\n`);
    return undefined;
  }
  return Number(v);
}

async function serve(opts: ServeOptions, withWorkload: boolean, io: CliIo, setStatus: (s: number) => void): Promise<void> {
  const build = intArg('--build', opts.build, 22621, io, 1);
  const scan = intArg('--scan-interval', opts.scanInterval, 250, io);
  if (build === undefined || scan === undefined) { setStatus(ExitCode.BadInput); return; }
  if (!SUPPORTED_BUILDS.some((b) => b === build)) {
    io.err(`win11mon: build ${build} is not emulated; supported: ${SUPPORTED_BUILDS.join(', ')}\n`);
    setStatus(ExitCode.BadInput);
    return;
  }
  let policyText: string | undefined;
  if (opts.policy !== undefined) {
    policyText = await readFile(opts.policy, 'utf8');
    const r = loadPolicyText(policyText, opts.policy);
    if (!r.ok) {
      for (const i of r.issues) io.err(formatPolicyIssue(i) + '\n');
      setStatus(ExitCode.BadInput);
      return;
    }
  }
  const socketDir = opts.socketDir ?? defaultSocketDir();
  const dataDir = opts.dataDir ?? defaultDataDir();
  let rt;
  try {
    rt = await startRuntime({
      socketDir, dataDir, build, scanIntervalMs: scan,
      ...(policyText !== undefined ? { policyText, policySource: opts.policy! } : {}),
      workload: withWorkload || opts.workload ? defaultWorkload() : null,
    });
  } catch (e) {
    if (isWin11MonError(e)) {
      io.err(`win11mon: cannot start: ${e.code}: ${e.message}\n`);
      setStatus(ExitCode.Failure);
      return;
    }
    throw e;
  }
  const info = {
    pid: process.pid, build, device: rt.service.devicePath, admin: rt.service.adminPath, journal: rt.journalDir,
    policyVersion: rt.driver.engine.policyVersion, scanIntervalMs: scan, workload: Boolean(withWorkload || opts.workload),
    recovered: rt.journal.recovery.tornTail ?? null,
    ringBytes: rt.driver.ring.slotCount * rt.driver.ring.slotSize, ringEvents: rt.driver.ring.slotCount,
  };
  const dirFlag = opts.socketDir !== undefined ? ` --socket-dir ${socketDir}` : '';
  if (opts.json) io.out(JSON.stringify({ listening: info }) + '\n');
  else {
    io.out(
      `win11mon service (emulated Windows build ${build}, pid ${process.pid})\n` +
      `  device (read):   ${info.device}\n` +
      `  admin (write):   ${info.admin}\n` +
      `  journal:         ${info.journal}\n` +
      `  telemetry ring:  ${info.ringEvents} events (${info.ringBytes / 1024} KiB; 'win11mon ring --size BYTES' changes it from the next start)\n` +
      `  A1/A2 polling:   ${scan > 0 ? `every ${scan} ms` : 'off'}\n` +
      `  benign workload: ${info.workload ? 'running (3 emulated apps doing IoRing file I/O through the interception hook)' : 'off (--workload to enable)'}\n` +
      (info.recovered ? `  journal tail repaired: ${JSON.stringify(info.recovered)}\n` : '') +
      `look with:\n` +
      `  win11mon events --follow${dirFlag}\n` +
      `  win11mon stats${dirFlag}\n` +
      `  win11mon demo\n` +
      `stop with Ctrl-C (SIGINT) or SIGTERM\n`,
    );
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    installSignalHandlers({ ...rt.service, close: () => rt.close() }, resolve);
  });
  const c = rt.pump.counters;
  const msg = `win11mon: ${signal}: stopped; journal flushed (${c.records} records${c.dropNotices ? `, ${c.eventsMissed} events missed in ${c.dropNotices} drop notices` : ''}), sockets removed\n`;
  if (opts.json) io.out(JSON.stringify({ stopped: { signal, records: c.records, dropNotices: c.dropNotices, eventsMissed: c.eventsMissed } }) + '\n');
  else io.err(msg);
  setStatus(ExitCode.Ok);
}

function define(cmd: Command, io: CliIo, setStatus: (s: number) => void, withWorkload: boolean): Command {
  cmd
    .option('--socket-dir <dir>', `where device.sock and admin.sock are created (named pipes carrying DIR in their names on Windows; default: ${defaultSocketDir()}; env WIN11MON_SOCKET_DIR)`)
    .option('--data-dir <dir>', `journal and emulated kernel files (default: ${defaultDataDir()}; env WIN11MON_DATA_DIR)`)
    .option('--policy <file>', 'policy document (YAML or JSON); default: the embedded policy')
    .option('--build <n>', `Windows build to emulate (${SUPPORTED_BUILDS.join(', ')})`, '22621')
    .option('--scan-interval <ms>', 'A1 enumeration + A2 integrity polling interval; 0 = off', '250')
    .option('--json', 'print the start and stop reports as JSON lines');
  if (!withWorkload) cmd.option('--workload', 'also run a benign workload (a few emulated apps doing IoRing file I/O)');
  return cmd.action(async (opts: ServeOptions) => serve(opts, withWorkload, io, setStatus));
}

const serveCommand: CommandModule = {
  register(program, io, setStatus) {
    return define(program.command('serve').description('run the emulated kernel, the monitor driver and the service on local sockets until SIGINT/SIGTERM'), io, setStatus, false);
  },
};

/** `win11mon start` (npm start): `serve` with the embedded defaults and the benign workload running. */
export const startCommand: CommandModule = {
  register(program, io, setStatus) {
    return define(program.command('start').description('what `npm start` runs: `serve` on the defaults with a benign workload running'), io, setStatus, true);
  },
};

export default serveCommand;
