// `win11mon demo --mode off[,...] [--build N|all] [--json]`: runs the IoRing read/write exploit against
// the emulated kernel and prints a timeline. Each mode is a function (build, opts) => Promise<DemoRun>
// in DEMO_MODES; other engineers add audit/enforce/bypass there.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';
import { Win11MonError } from '../../abi/errors.js';
import { ntStatusName } from '../../abi/ntstatus.js';
import { EmulatedKernel, type KernelEvent } from '../../kernel/kernel.js';
import { runIoRingExploit, type ExploitResult } from '../../kernel/exploit.js';
import { SUPPORTED_BUILDS, resolveOffsets } from '../../kernel/offsets.js';

/** One line of a run's timeline. */
export interface DemoEvent {
  seq: number;
  source: 'exploit' | 'kernel' | 'monitor';
  kind: string;
  status?: string;
  detail: string;
}

/** What every demo mode returns. */
export interface DemoRun {
  mode: string;
  build: number;
  exploitSucceeded: boolean;
  tokenModified: boolean;
  kernelBytesLeaked: number;
  blocked: boolean;
  detectedBy: string[];
  events: DemoEvent[];
  failedAt?: string;
  bugchecks?: Array<{ code: number; name: string; reason: string }>;
  exploit?: ExploitResult;
}

export interface DemoOptions {
  /** Skip the exploit's cleanup (the teardown then bugchecks). */
  skipCleanup?: boolean;
}

export type DemoMode = (build: number, opts: DemoOptions) => Promise<DemoRun>;

/** Records kernel events into a timeline (only the ones a reader of the demo cares about). */
export function kernelTimeline(kernel: EmulatedKernel, events: DemoEvent[]): () => void {
  return kernel.onEvent((e: KernelEvent & { seq: number }) => {
    const push = (kind: string, detail: string, status?: string) => events.push({ seq: events.length + 1, source: 'kernel', kind, detail, ...(status ? { status } : {}) });
    if (e.type === 'ioring.create') push(e.type, `pid ${e.pid} handle 0x${e.handle.toString(16)} IORING_OBJECT 0x${e.object.toString(16)} (v${e.version}, sq ${e.submissionQueueSize}, cq ${e.completionQueueSize})`);
    else if (e.type === 'ioring.submit') push(e.type, `pid ${e.pid}: ${e.entries} entr${e.entries === 1 ? 'y' : 'ies'} processed`, ntStatusName(e.status));
    else if (e.type === 'driver.write') push(e.type, `vulnerable driver write-what-where: ${e.length} bytes at 0x${e.target.toString(16)}`, ntStatusName(e.status));
    else if (e.type === 'ioring.delete') push(e.type, `IopDeleteIoRing 0x${e.object.toString(16)}`);
    else if (e.type === 'bugcheck') push(e.type, `${e.bugcheck.name} (0x${e.bugcheck.code.toString(16)}): ${e.bugcheck.reason}`, 'crash');
  });
}

/** Runs the exploit on a fresh kernel with the given per-run setup (hooks, monitor) and tears it down. */
export async function runScenario(mode: string, build: number, opts: DemoOptions, setup?: (kernel: EmulatedKernel, events: DemoEvent[]) => { detectedBy?: () => string[]; directSyscalls?: boolean } | void): Promise<DemoRun> {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-demo-'));
  const kernel = new EmulatedKernel({ build, dataDir: dir });
  const events: DemoEvent[] = [];
  try {
    const off = kernelTimeline(kernel, events);
    const s = setup?.(kernel, events) ?? {};
    const r = runIoRingExploit(kernel, {
      cleanup: !opts.skipCleanup,
      directSyscalls: s.directSyscalls ?? false,
      onStep: (st) => events.push({ seq: events.length + 1, source: 'exploit', kind: st.step, status: st.status, detail: st.detail + (st.code ? ` [${st.code}]` : '') }),
    });
    off();
    const detectedBy = s.detectedBy?.() ?? [];
    return {
      mode, build, exploitSucceeded: r.exploitSucceeded, tokenModified: r.tokenModified, kernelBytesLeaked: r.kernelBytesLeaked,
      blocked: r.failedAt !== undefined && !r.tokenModified, detectedBy, events,
      ...(r.failedAt ? { failedAt: r.failedAt } : {}),
      ...(kernel.bugchecks.length ? { bugchecks: kernel.bugchecks.map((b) => ({ code: b.code, name: b.name, reason: b.reason })) } : {}),
      exploit: r,
    };
  } finally {
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The registry of demo modes. */
export const DEMO_MODES: Record<string, DemoMode> = {
  /** No monitor: the exploit runs against the bare emulated kernel. */
  off: (build, opts) => runScenario('off', build, opts),
};

function renderRun(r: DemoRun): string {
  const release = resolveOffsets(r.build).release;
  let s = `== mode ${r.mode}, build ${r.build} (${release}) ==\n`;
  const w = Math.max(...r.events.map((e) => e.kind.length), 4);
  for (const e of r.events) s += `  ${String(e.seq).padStart(3)}  ${e.source.padEnd(7)} ${e.kind.padEnd(w)}  ${(e.status ?? '').padEnd(14)} ${e.detail}\n`;
  s += `  result: exploit ${r.exploitSucceeded ? 'SUCCEEDED' : 'failed'}; token modified: ${r.tokenModified ? 'yes' : 'no'}; kernel bytes leaked: ${r.kernelBytesLeaked}; blocked: ${r.blocked ? 'yes' : 'no'}; detected by: ${r.detectedBy.length ? r.detectedBy.join(', ') : '-'}\n`;
  for (const l of r.exploit?.limitations ?? []) s += `  note: ${l}\n`;
  return s;
}

interface DemoCliOpts { mode: string; build?: string; json?: boolean; skipCleanup?: boolean }

const command: CommandModule = {
  register(program: Command, io: CliIo, setStatus: (s: number) => void): Command {
    return program
      .command('demo')
      .description('re-enact the IoRing kernel read/write exploit against the emulated kernel and print a timeline')
      .option('--mode <modes>', `comma-separated modes (${Object.keys(DEMO_MODES).join(', ')})`, 'off')
      .option('--build <N>', 'Windows build number, or "all"', '22621')
      .option('--json', 'machine-readable output')
      .option('--skip-cleanup', 'skip the exploit cleanup (the ring teardown then bugchecks)')
      .action(async (opts: DemoCliOpts) => {
        const modes = opts.mode.split(',').map((m) => m.trim()).filter(Boolean);
        const unknown = modes.filter((m) => !Object.hasOwn(DEMO_MODES, m));
        if (unknown.length || modes.length === 0) {
          io.err(`win11mon demo: unknown mode ${unknown.join(', ') || '(none)'}; available modes: ${Object.keys(DEMO_MODES).join(', ')}\n`);
          setStatus(ExitCode.BadInput);
          return;
        }
        let builds: number[];
        if (opts.build === 'all') builds = [...SUPPORTED_BUILDS];
        else if (opts.build && /^\d+$/.test(opts.build)) builds = [Number(opts.build)];
        else throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `--build must be a build number or "all": ${opts.build}`, { field: '--build', actual: String(opts.build) });
        for (const b of builds) resolveOffsets(b); // unknown build -> WIN11MON_ERR_UNKNOWN_BUILD before running anything
        const runs: DemoRun[] = [];
        for (const b of builds) for (const m of modes) runs.push(await DEMO_MODES[m]!(b, { skipCleanup: opts.skipCleanup === true }));
        if (opts.json) {
          io.out(JSON.stringify({ runs: runs.map(({ exploit: _x, ...r }) => r) }, null, 2) + '\n');
        } else {
          io.out(runs.map(renderRun).join('\n'));
        }
        setStatus(ExitCode.Ok);
      });
  },
};

export default command;
