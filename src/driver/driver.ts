// The monitor driver (win11_monitor_mgr): a DeviceIoControl-style dispatch over the policy engine,
// A1 enumeration, A2 integrity and the 5A telemetry ring, on top of the emulated kernel.
// METHOD_BUFFERED semantics: output longer than the caller's buffer is STATUS_BUFFER_TOO_SMALL with
// the size needed; unknown codes are STATUS_INVALID_DEVICE_REQUEST; nothing ever throws out of ioctl().
import {
  Ioctl, ioctlAccess, NtStatus, InterceptAction, InterceptReason, INTERCEPT_ACTION_NAMES, INTERCEPT_REASON_NAMES,
  InterceptRequestView, MON_INTERCEPT_RESPONSE_SIZE, MON_INTERCEPT_POLICY_SIZE, MON_IORING_HANDLE_INFO, MON_OFFSET_STATUS_OUTPUT,
  MON_INTERCEPT_BLACKLIST_ADD_INPUT, MON_RINGBUF_CONFIG_INPUT, IOP_MC_BUFFER_ENTRY, MON_NO_OP_INDEX, writeInterceptResponseBytes, isWin11MonError, Win11MonError,
  encodeStruct, hex64, IoRingOp, NT_IORING_OP_FLAG_REGISTERED_BUFFER, MsqWord, MON_REQUEST_SQE_WORD, MON_SERIALIZED_SQE_WORDS, u32Bytes, readU32LE,
  MON_INTERCEPT_MAX_OPS_PER_SUBMIT,
} from '../abi/index.js';
import { PolicyEngine, Decision, CheckMode, REASON_TECHNIQUES, explainDecision, type RegBufferState, type SubmissionContext, type ViolationSink, type CheckId } from '../engine/index.js';
import { checkRegBufferState, REGBUF_MAX_PLAUSIBLE_COUNT } from '../engine/checks/regbuffers.js';
import type { EmulatedKernel } from '../kernel/index.js';
import type { Device, DeviceCaller, IoctlResult } from './device.js';
import { TelemetryRing, encodeSnapshot, encodeRingStats, ringSlotsForBytes, RING_SLOT_SIZE, type DecisionLayer } from './telemetry/index.js';
import { readRegBufferState, neutralizeRegBuffers, REGBUF_SCAN_MAX_ENTRIES, type ReferencedEntries } from './regbuf-reader.js';
import { RingRegistry, type RingRecord } from './ring-registry.js';
import {
  MON_VERSION_OUTPUT_SIZE, MON_IORING_HANDLES_HEADER_SIZE, WIN11MON_CAPS, decodePostSubmit, MON_POST_SUBMIT_INPUT_SIZE, decodeHookNotify, decodeClientEvent, encodeScanOutput,
} from './payloads.js';

export const WIN11MON_VERSION = { major: 0, minor: 1, patch: 0 } as const;

export interface MonitorDriverOptions {
  kernel: EmulatedKernel;
  engine?: PolicyEngine;
  ring?: TelemetryRing;
  /** Monotonic clock in ns (default performance.now() * 1e6). */
  clockNs?: () => number;
  /** A1/A2 polling interval in ms; 0 disables polling (scanNow() still works). Default 0; the service uses 250. */
  scanIntervalMs?: number;
  /** Neutralize a ring whose RegBuffers is found corrupted when the decision blocks (default true). */
  quarantine?: boolean;
  /** Record every Allow decision in the ring (default false: Block and LogOnly always are). */
  logAllowed?: boolean;
  /**
   * Called by IOCTL_MONITOR_RINGBUF_CONFIGURE with the ring size (bytes) the next start should use;
   * the service saves it. A throw fails the IOCTL. Without it the request is only remembered in
   * `pendingRingBytes`.
   */
  onRingConfigure?: (bufferSizeBytes: number) => void;
}

export interface IntegrityFinding {
  pid: number;
  handle: number;
  objectAddress: string;
  regBuffersAddress: string;
  regBuffersCount: number;
  expectedCount: number;
  violationFlags: number;
  /** The first corrupted RegBuffers entry, or -1 when the array pointer or the count is what is wrong. */
  entryIndex: number;
  layer: 'integrity' | 'enumeration';
  quarantined: boolean;
}

export interface ScanReport {
  ringsScanned: number;
  newRings: number;
  findings: IntegrityFinding[];
  bypassSuspected: number;
}

/** Collects the flags of a ring-level RegBuffers check (A2 without a submission). */
class FlagSink implements ViolationSink {
  flags = 0;
  /** The first hit's entry index (-1: the array pointer or count, not one entry). */
  entry = -1;
  hit(_c: CheckId, _m: number, _r: number, _o: number, entry: number, flags: number): boolean {
    if (this.flags === 0) this.entry = entry;
    this.flags |= flags;
    return false;
  }
}

/** Sorts a[0, n) ascending and drops repeats in place; returns the distinct count. */
function sortDistinct(a: Int32Array, n: number): number {
  a.subarray(0, n).sort();
  let k = 1;
  for (let i = 1; i < n; i++) if (a[i] !== a[k - 1]) a[k++] = a[i]!;
  return k;
}

/** Read every RegBuffers entry (a header-only request: the submission's entries are unknown). */
const ALL_ENTRIES: ReferencedEntries = Object.freeze({ near: null, far: new Int32Array(0), farCount: 0, all: true });
const IOCTL_VALIDATE = Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!;
const IOCTL_POST_SUBMIT = Ioctl.IOCTL_MONITOR_INTERCEPT_POST_SUBMIT!;
const { OpCode: W_OP, Flags: W_FLAGS, BufferAddress: W_ADDR } = MsqWord;
/** The output of IOCTLs that return nothing: one shared zero-length array (nothing can be written into it). */
const NO_OUTPUT = new Uint8Array(0);
const ok = (output: Uint8Array): IoctlResult => ({ status: NtStatus.STATUS_SUCCESS, information: output.byteLength, output });
// A failure may carry UTF-8 JSON diagnostics (what was wrong); they are truncated to the caller's buffer like any output.
const fail = (status: number, information = 0, output: Uint8Array = NO_OUTPUT): IoctlResult => ({ status, information: output.byteLength > 0 ? output.byteLength : information, output });

export class MonitorDriver implements Device {
  readonly kernel: EmulatedKernel;
  readonly engine: PolicyEngine;
  readonly ring: TelemetryRing;
  readonly registry: RingRegistry;
  private readonly clockNs: () => number;
  private readonly view = new InterceptRequestView();
  private readonly decision = new Decision();
  /** Reused per request (monomorphic, no allocation on the hot path). */
  private readonly ctx: SubmissionContext = { nowNs: 0, processId: 0, imageName: '', imagePath: '', regBuffers: null, handleKnown: false };
  private readonly quarantine: boolean;
  private readonly logAllowed: boolean;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  /** The ring size IOCTL_MONITOR_RINGBUF_CONFIGURE asked for, applied at the next start (null: none asked). */
  pendingRingBytes: number | null = null;
  private readonly onRingConfigure: ((bufferSizeBytes: number) => void) | undefined;
  /** Counters the CLI and tests read. */
  readonly counters = { validations: 0, scans: 0, findings: 0, quarantines: 0, bypassSuspicions: 0, ioctls: 0, ioctlFailures: 0 };

  constructor(opts: MonitorDriverOptions) {
    this.kernel = opts.kernel;
    this.clockNs = opts.clockNs ?? (() => performance.now() * 1e6);
    this.engine = opts.engine ?? new PolicyEngine({ clock: this.clockNs });
    this.ring = opts.ring ?? new TelemetryRing({ slotCount: 4096 });
    this.registry = new RingRegistry(this.kernel);
    this.quarantine = opts.quarantine ?? true;
    this.logAllowed = opts.logAllowed ?? false;
    this.onRingConfigure = opts.onRingConfigure;
    // A bugcheck of the emulated kernel is the one event the driver cannot prevent after the fact: record it.
    this.unsubscribe = this.kernel.onBugcheck((b) => {
      const p = b.parameters.map((v) => ({ hi: Number((v >> 32n) & 0xffffffffn), lo: Number(v & 0xffffffffn) }));
      this.ring.emit('Bugcheck', { code: b.code, p1: p[0]!, p2: p[1]!, p3: p[2]!, p4: p[3]!, message: `${b.name}: ${b.reason}`.slice(0, 120) });
    });
    if (opts.scanIntervalMs && opts.scanIntervalMs > 0) this.startPolling(opts.scanIntervalMs);
  }

  /** Starts A1/A2 polling (plan 7.2 layers 2 and 3). The timer does not keep the process alive. */
  startPolling(intervalMs: number): void {
    this.stopPolling();
    this.timer = setInterval(() => this.scanNow(), intervalMs);
    this.timer.unref();
  }

  stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stops polling and detaches from the kernel. */
  close(): void {
    this.stopPolling();
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  // ---- A1 + A2 -------------------------------------------------------------------------------

  /**
   * A1 + A2 now: enumerate IoRing handles (new rings are checked at once), read every ring's
   * RegBuffers state from kernel memory, report each new corruption once, and compare the kernel's
   * SubmitCount with what the hook validated (evidence of a direct-syscall bypass).
   */
  scanNow(): ScanReport {
    this.counters.scans++;
    const added = this.refreshRings();
    const addedSet = new Set(added);
    const findings: IntegrityFinding[] = [];
    let bypass = 0;
    for (const rec of this.registry.rings.values()) {
      const obj = this.registry.object(rec);
      if (!obj) continue;
      const window = this.pollWindow(rec, obj);
      const windowStart = window.farCount > 0 ? window.far[0]! : -1;
      const state = readRegBufferState(this.kernel, obj, rec.expectedCount, REGBUF_SCAN_MAX_ENTRIES, undefined, window);
      const sink = new FlagSink();
      checkRegBufferState(state, CheckMode.Block, sink);
      // Each finding is reported once: for the array and its first 64 entries (read every poll) in
      // lastFlags; for the windows past them (each read every few polls) in farFlags, by window start.
      const layer = addedSet.has(rec) ? 'enumeration' : 'integrity';
      if (sink.flags === 0 || sink.entry < REGBUF_SCAN_MAX_ENTRIES) {
        if (sink.flags === 0) {
          // A sound state: what is registered now is legitimate (the registration path wrote it).
          rec.expectedCount = state.count;
          if (windowStart >= 0) rec.farFlags?.delete(windowStart);
        } else if (sink.flags !== rec.lastFlags) {
          findings.push(this.reportFinding(rec, state, sink.flags, sink.entry, layer));
        }
        rec.lastFlags = sink.flags; // a finding here masks the window: its standing is left as it was
      } else {
        // The array and the first entries are sound; the corrupted entry is in this poll's window.
        rec.expectedCount = state.count;
        rec.lastFlags = 0;
        const far = (rec.farFlags ??= new Map<number, number>());
        if (far.get(windowStart) !== sink.flags) {
          far.set(windowStart, sink.flags);
          findings.push(this.reportFinding(rec, state, sink.flags, sink.entry, layer));
        }
      }
      if (this.checkBypass(rec, obj.hi, obj.lo)) bypass++;
    }
    return { ringsScanned: this.registry.rings.size, newRings: added.length, findings, bypassSuspected: bypass };
  }

  /**
   * The poll's window past the scan cap for one ring: REGBUF_SCAN_MAX_ENTRIES entries from the ring's
   * cursor, which then moves on (back to the cap after the end), so that every entry of a large
   * registration is read within a bounded number of polls at a bounded cost per poll.
   */
  private pollWindow(rec: RingRecord, obj: { hi: number; lo: number }): ReferencedEntries {
    const w = this.window;
    w.farCount = 0;
    let count = 0;
    try { count = this.kernel.memory.readU32(obj.hi, obj.lo + this.kernel.offsets.off.RegBuffersCount); } catch { return w; }
    const cap = REGBUF_SCAN_MAX_ENTRIES;
    if (count > REGBUF_MAX_PLAUSIBLE_COUNT) return w; // a finding by itself: no window needed
    if (count <= cap) { rec.scanCursor = cap; rec.farFlags = undefined; return w; }
    const start = rec.scanCursor < cap || rec.scanCursor >= count ? cap : rec.scanCursor;
    const n = Math.min(cap, count - start);
    for (let i = 0; i < n; i++) w.far[w.farCount++] = start + i;
    rec.scanCursor = start + n >= count ? cap : start + n;
    return w;
  }

  private readonly window: ReferencedEntries = { near: null, far: new Int32Array(REGBUF_SCAN_MAX_ENTRIES), farCount: 0, all: false };

  /** A1: re-enumerates when handle tables changed; every ring seen for the first time is announced. */
  private refreshRings(): RingRecord[] {
    const added = this.registry.refresh();
    for (const rec of added) this.announceRing(rec);
    return added;
  }

  private readonly announceRing = (rec: RingRecord): void => {
    this.ring.emitRaw(6 /* MonEvent_IoRingHandleCreated */, handleEventPayload(rec), rec.pid);
  };

  private reportFinding(rec: RingRecord, state: RegBufferState, flags: number, entryIndex: number, layer: 'integrity' | 'enumeration'): IntegrityFinding {
    this.counters.findings++;
    this.ring.emit('RegBuffersViolation', {
      objectAddress: { hi: rec.objectHi, lo: rec.objectLo },
      regBuffersAddress: { hi: state.arrayAddressHi, lo: state.arrayAddressLo },
      handle: { hi: 0, lo: rec.handle },
      regBuffersCount: state.count,
      expectedCount: state.expectedCount,
      violationFlags: flags,
      severity: 5,
      technique: REASON_TECHNIQUES[InterceptReason.RegBuffersCorrupted] ?? 'T1068',
    }, rec.pid);
    return {
      pid: rec.pid, handle: rec.handle, objectAddress: hex64(rec.objectHi, rec.objectLo), regBuffersAddress: hex64(state.arrayAddressHi, state.arrayAddressLo),
      regBuffersCount: state.count, expectedCount: state.expectedCount, violationFlags: flags, entryIndex, layer, quarantined: rec.quarantined,
    };
  }

  /** The kernel processed more entries on this ring than the hook validated: someone submitted around the hook. */
  private checkBypass(rec: RingRecord, hi: number, lo: number): boolean {
    if (rec.opsValidated === 0 && !this.hookedPids.has(rec.pid)) return false;
    const submitted = this.kernelSubmitCount(hi, lo);
    if (submitted < 0) return false;
    // Entries the kernel processed since the hook was installed, against those the hook validated.
    const kernelOps = submitted - rec.submitBaseline;
    if (kernelOps <= rec.opsValidated || submitted === rec.bypassReportedAt) return false;
    rec.bypassReportedAt = submitted;
    this.counters.bypassSuspicions++;
    this.ring.emit('BypassSuspected', {
      ioRingHandle: { hi: 0, lo: rec.handle }, evidenceFlags: 0x1, submitsSeenByKernel: kernelOps, submitsSeenByHook: rec.opsValidated,
      technique: 'T1562.001', detail: `kernel SubmitCount ${kernelOps} > ${rec.opsValidated} operations the hook validated`,
    }, rec.pid);
    return true;
  }

  /** IORING_OBJECT.SubmitCount (entries the kernel processed), or -1 when unreadable. */
  private kernelSubmitCount(hi: number, lo: number): number {
    try {
      const v = this.kernel.memory.readU64Parts(hi, lo + this.kernel.offsets.off.SubmitCount);
      return v.hi * 0x100000000 + v.lo;
    } catch {
      return -1;
    }
  }

  /** Processes with the interception hook installed (from IOCTL_MONITOR_HOOK_NOTIFY). */
  readonly hookedPids = new Set<number>();

  // ---- INTERCEPT_VALIDATE --------------------------------------------------------------------

  /**
   * What the C driver's IOCTL_MONITOR_INTERCEPT_VALIDATE does, completed: decode the request, find
   * the IoRing by (ProcessId, IoRingHandle), read its RegBuffers state from kernel memory (A2), run
   * the engine, quarantine a corrupted ring on Block, record the decision. Returns the 48-byte
   * response for any request that parsed (STATUS_SUCCESS whatever the decision).
   */
  validate(input: Uint8Array, layer: DecisionLayer = 'hook'): { status: number; response: Uint8Array; decision: Decision; explanation: string } {
    this.counters.validations++;
    const t0 = this.clockNs();
    const d = this.decision;
    let parsed = true;
    try {
      this.view.reset(input);
    } catch {
      parsed = false;
    }
    if (!parsed) {
      const r = this.engine.MonInterceptValidateSubmission(input, EMPTY_CTX, d);
      this.recordDecision(d, 0, 0, 0, 0, 0, layer, r.explanation);
      return { status: r.error?.status ?? NtStatus.STATUS_INVALID_PARAMETER, response: r.responseBytes, decision: d, explanation: r.explanation };
    }
    const v = this.view;
    const rec = v.ioRingHandleHi === 0 ? this.registry.lookup(v.processId, v.ioRingHandleLo, this.announceRing) : undefined;
    // lookup() confirmed rec.object and rec.owner against the handle table (or its generation).
    const obj = rec?.object;
    const proc = rec !== undefined ? rec.owner : this.kernel.process(v.processId);
    const ctx = this.ctx;
    ctx.nowNs = t0;
    ctx.processId = v.processId;
    ctx.imageName = proc?.imageName ?? '';
    ctx.imagePath = ctx.imageName;
    const ownerView = proc !== undefined && obj !== undefined && proc.pid === obj.ownerPid ? proc.kernelView : undefined;
    if (!rec || !obj) ctx.regBuffers = null;
    // A request without entries (the hook does not know this ring's queue) may be followed by any
    // entry the kernel finds there: every registered entry is read, into a state not kept (it can be large).
    else if (v.operationCount === 0) ctx.regBuffers = readRegBufferState(this.kernel, obj, rec.expectedCount, REGBUF_SCAN_MAX_ENTRIES, undefined, ALL_ENTRIES, ownerView);
    else ctx.regBuffers = rec.regState = readRegBufferState(this.kernel, obj, rec.expectedCount, REGBUF_SCAN_MAX_ENTRIES, rec.regState, this.referencedEntries(v), ownerView);
    ctx.handleKnown = obj !== undefined;
    this.engine.validate(v, ctx, d);
    let explanation = '';
    if (rec && obj) {
      if (rec.quarantined && d.action !== InterceptAction.Block) {
        // A ring neutralized earlier stays refused: its earlier state proved it compromised.
        const audit = d.auditMode;
        d.action = audit ? InterceptAction.LogOnly : InterceptAction.Block;
        d.reason = InterceptReason.RegBuffersCorrupted;
        d.technique = REASON_TECHNIQUES[InterceptReason.RegBuffersCorrupted] ?? 'T1068';
        d.violatingOpIndex = MON_NO_OP_INDEX;
        d.wouldHaveBlocked = audit;
        explanation = `ring quarantined: ${rec.quarantineDetail}`;
      } else if (d.action === InterceptAction.Block && d.reason === InterceptReason.RegBuffersCorrupted && this.quarantine && ctx.regBuffers) {
        // Only a ring whose kernel object is itself corrupted is neutralized. A submission can be
        // blocked for RegBuffersCorrupted by its own SQEs (a registered index or offset out of range:
        // an application bug the kernel would fail per operation); resetting a sound ring then would
        // destroy its legitimate registrations, and any device.sock client naming the ring could do it.
        const state = new FlagSink();
        checkRegBufferState(ctx.regBuffers, CheckMode.Block, state);
        if (state.flags !== 0) this.quarantineRing(rec, obj, ctx.regBuffers, state.flags);
      }
      if (d.action !== InterceptAction.Block) rec.opsValidated += v.operationCount;
    }
    const ns = Math.max(0, this.clockNs() - t0);
    this.engine.recordLatency(ns);
    // Explanations are strings: build one only when the decision is recorded (not on the Allow hot path).
    if (explanation === '' && (d.action !== InterceptAction.Allow || this.logAllowed)) explanation = explainDecision(d, null);
    this.recordDecision(d, v.processId, v.threadId, v.ioRingHandleHi, v.ioRingHandleLo, v.operationCount, layer, explanation);
    // A new 48-byte buffer per response (the caller owns it: the service queues it on a socket), written
    // byte-wise: a DataView would force V8 to move the small array's storage off the heap, per call.
    const response = new Uint8Array(MON_INTERCEPT_RESPONSE_SIZE);
    writeInterceptResponseBytes(response, d.action, d.reason, d.violatingOpIndex, d.violationFlags, d.policyVersion, ns, d.technique);
    return { status: NtStatus.STATUS_SUCCESS, response, decision: d, explanation };
  }

  /**
   * Which RegBuffers entries the request's READ/WRITE SQEs reference (registered-buffer flag 0x2,
   * index in BufferAddress low, as the kernel takes it); the per-submission A2 read is limited to
   * these. Indexes below the scan cap go into a reused 0/1 map; the rare ones past it (a ring with
   * more than 64 registered buffers) into a sorted, distinct list, so that every entry the kernel
   * will dereference is read, however far into the array it lies.
   */
  private referencedEntries(v: InterceptRequestView): ReferencedEntries {
    const refs = this.refs;
    const map = refs.near!;
    map.fill(0);
    const far = refs.far;
    let farCount = 0;
    const w = v.words;
    for (let i = 0, b = MON_REQUEST_SQE_WORD, n = v.operationCount; i < n; i++, b += MON_SERIALIZED_SQE_WORDS) {
      const op = w[b + W_OP]!;
      if ((op !== IoRingOp.READ && op !== IoRingOp.WRITE) || (w[b + W_FLAGS]! & NT_IORING_OP_FLAG_REGISTERED_BUFFER) === 0) continue;
      const index = w[b + W_ADDR]!;
      if (index < REGBUF_SCAN_MAX_ENTRIES) map[index] = 1;
      else if (index < REGBUF_MAX_PLAUSIBLE_COUNT && farCount < far.length) far[farCount++] = index; // larger: past any sound count
    }
    if (farCount > 1) farCount = sortDistinct(far, farCount);
    refs.farCount = farCount;
    return refs;
  }

  private readonly refs: ReferencedEntries = { near: new Uint8Array(REGBUF_SCAN_MAX_ENTRIES), far: new Int32Array(MON_INTERCEPT_MAX_OPS_PER_SUBMIT), farCount: 0, all: false };

  private quarantineRing(rec: RingRecord, obj: { hi: number; lo: number; ownerPid: number }, state: RegBufferState, flags: number): void {
    const ring = this.kernel.getIoRing(rec.pid, rec.handle);
    if (!ring) return;
    let before;
    try {
      before = neutralizeRegBuffers(this.kernel, ring);
    } catch {
      return;
    }
    rec.quarantined = true;
    rec.expectedCount = 0;
    rec.lastFlags = flags;
    rec.quarantineDetail = `RegBuffers was ${hex64(before.arrayHi, before.arrayLo)} (count ${before.count}); reset to NULL/0 so teardown cannot free a forged array`;
    this.counters.quarantines++;
    this.ring.emit('RingQuarantined', {
      ioRingHandle: { hi: 0, lo: rec.handle }, objectAddress: { hi: obj.hi, lo: obj.lo }, reason: 'RegBuffersCorrupted',
      violationFlags: flags, detail: rec.quarantineDetail.slice(0, 100),
    }, rec.pid);
    void state;
  }

  private recordDecision(d: Decision, pid: number, tid: number, hHi: number, hLo: number, ops: number, layer: DecisionLayer, explanation: string): void {
    if (d.action === InterceptAction.Allow && !this.logAllowed) return;
    this.ring.emit('InterceptDecision', {
      action: INTERCEPT_ACTION_NAMES[d.action] ?? 'Block',
      reason: INTERCEPT_REASON_NAMES[d.reason] ?? 'ValidationError',
      violatingOpIndex: d.violatingOpIndex,
      policyVersion: d.policyVersion,
      ioRingHandle: { hi: hHi, lo: hLo },
      operationCount: ops,
      violationFlags: d.violationFlags,
      layer,
      technique: d.technique,
      explanation: explanation.slice(0, 160),
    }, pid, tid);
  }

  // ---- dispatch ------------------------------------------------------------------------------

  /** DeviceIoControl. Never throws: every failure is an NTSTATUS. */
  ioctl(code: number, input: Uint8Array, outputLength: number, caller: DeviceCaller): IoctlResult {
    this.counters.ioctls++;
    const need = ioctlAccess(code);
    if ((need & ~caller.access) !== 0) {
      this.counters.ioctlFailures++;
      return fail(NtStatus.STATUS_ACCESS_DENIED);
    }
    let r: IoctlResult;
    try {
      r = this.dispatch(code >>> 0, input, outputLength, caller);
    } catch (e) {
      r = isWin11MonError(e) ? fail(e.status, 0, utf8(JSON.stringify(e.toJSON()))) : fail(NtStatus.STATUS_INTERNAL_ERROR, 0, utf8(String((e as Error)?.message ?? e)));
    }
    if (r.status === NtStatus.STATUS_SUCCESS && r.output.byteLength > outputLength) {
      r = fail(NtStatus.STATUS_BUFFER_TOO_SMALL, r.output.byteLength);
    }
    if (r.status !== NtStatus.STATUS_SUCCESS) {
      this.counters.ioctlFailures++;
      if (r.status !== NtStatus.STATUS_BUFFER_TOO_SMALL && r.output.byteLength > outputLength) {
        r = { status: r.status, information: outputLength, output: r.output.subarray(0, outputLength) };
      }
    }
    return r;
  }

  private dispatch(code: number, input: Uint8Array, outLen: number, caller: DeviceCaller): IoctlResult {
    // The two IOCTLs every hooked submission makes come first (the switch compares case by case).
    if (code === IOCTL_VALIDATE) return this.validateIoctl(input, outLen);
    if (code === IOCTL_POST_SUBMIT) return this.postSubmit(input);
    switch (code) {
      case Ioctl.IOCTL_MONITOR_GET_VERSION: {
        const b = new Uint8Array(MON_VERSION_OUTPUT_SIZE);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, MON_VERSION_OUTPUT_SIZE, true);
        dv.setUint32(4, WIN11MON_VERSION.major, true);
        dv.setUint32(8, WIN11MON_VERSION.minor, true);
        dv.setUint32(12, WIN11MON_VERSION.patch, true);
        return ok(b);
      }
      case Ioctl.IOCTL_MONITOR_GET_CAPABILITIES:
        return ok(u32Bytes(WIN11MON_CAPS));
      case Ioctl.IOCTL_MONITOR_SCAN_NOW: {
        const s = this.scanNow();
        return ok(encodeScanOutput(s.ringsScanned, s.newRings, s.findings.length));
      }
      case Ioctl.IOCTL_MONITOR_GET_IORING_HANDLES:
        return ok(this.encodeHandles());
      case Ioctl.IOCTL_MONITOR_GET_OFFSET_STATUS: {
        const o = this.kernel.offsets;
        return ok(encodeStruct(MON_OFFSET_STATUS_OUTPUT, {
          Size: MON_OFFSET_STATUS_OUTPUT.size, WindowsBuildNumber: this.kernel.build, Method: o.confidence === 'override' ? 2 : 1,
          IoRingOffsetsValid: 1, IopMcOffsetsValid: o.regBuffersFormat === 'mc-entry-pointers' ? 1 : 0, IoRingStructureSize: o.objectSize,
          IopMcStructureSize: IOP_MC_BUFFER_ENTRY.size,
        }));
      }
      case Ioctl.IOCTL_MONITOR_RINGBUF_SNAPSHOT: {
        // Input (win11mon): optional u64 cursor (sequence to start at; default 1 = the oldest held).
        let cursor = 1;
        if (input.byteLength !== 0) {
          if (input.byteLength !== 8) return fail(NtStatus.STATUS_INFO_LENGTH_MISMATCH);
          const dv = new DataView(input.buffer, input.byteOffset, 8);
          cursor = dv.getUint32(4, true) * 0x100000000 + dv.getUint32(0, true);
        }
        if (outLen < 48) return fail(NtStatus.STATUS_BUFFER_TOO_SMALL, 48 + 256);
        return ok(encodeSnapshot(this.ring, cursor, outLen).bytes);
      }
      case Ioctl.IOCTL_MONITOR_RINGBUF_CONFIGURE:
        return this.configureRing(input, outLen);
      case Ioctl.IOCTL_MONITOR_RINGBUF_GET_STATS:
        return ok(encodeRingStats(this.ring.stats()));
      case Ioctl.IOCTL_MONITOR_RINGBUF_CLEAR:
        // The journal keeps what was drained already; readers' cursors below the new head see a gap.
        this.ring.clear();
        return ok(NO_OUTPUT);
      case Ioctl.IOCTL_MONITOR_INTERCEPT_SET_POLICY:
        return this.setPolicy(input, caller);
      case Ioctl.IOCTL_MONITOR_INTERCEPT_GET_POLICY: {
        // Input (win11mon): empty or u32 0 = the 28-byte MON_INTERCEPT_POLICY; u32 1 = the full document as JSON.
        const form = input.byteLength >= 4 ? new DataView(input.buffer, input.byteOffset, 4).getUint32(0, true) : 0;
        if (form === 0) return ok(this.engine.getPolicyBinary());
        if (form === 1) {
          const p = this.engine.getPolicy();
          return ok(utf8(JSON.stringify({ version: p.version, hash: p.hash, policy: p.policy })));
        }
        return fail(NtStatus.STATUS_INVALID_PARAMETER);
      }
      case Ioctl.IOCTL_MONITOR_INTERCEPT_GET_STATS:
        if (outLen < 152) return fail(NtStatus.STATUS_BUFFER_TOO_SMALL, 152);
        return ok(this.engine.encodeStats(outLen));
      case Ioctl.IOCTL_MONITOR_INTERCEPT_RESET_STATS:
        this.engine.resetStats();
        return ok(NO_OUTPUT);
      case Ioctl.IOCTL_MONITOR_INTERCEPT_ENABLE: {
        if (input.byteLength !== 4) return fail(NtStatus.STATUS_INFO_LENGTH_MISMATCH);
        const v = new DataView(input.buffer, input.byteOffset, 4).getUint32(0, true);
        if (v > 1) return fail(NtStatus.STATUS_INVALID_PARAMETER);
        const before = this.engine.policyVersion;
        const r = this.engine.setEnabled(v === 1);
        this.ring.emit('PolicyChanged', { version: r.version, previousVersion: before, hashPrefix: r.hash.slice(0, 16), source: v ? 'enable' : 'disable' }, caller.pid);
        return ok(NO_OUTPUT);
      }
      case Ioctl.IOCTL_MONITOR_INTERCEPT_ADD_BL: {
        if (input.byteLength !== MON_INTERCEPT_BLACKLIST_ADD_INPUT.size) return fail(NtStatus.STATUS_INFO_LENGTH_MISMATCH);
        const dv = new DataView(input.buffer, input.byteOffset, input.byteLength);
        const pid = dv.getUint32(0, true);
        const reasonBytes = input.subarray(4, 68);
        const nul = reasonBytes.indexOf(0);
        const reason = Buffer.from(nul < 0 ? reasonBytes : reasonBytes.subarray(0, nul)).toString('latin1');
        const st = this.engine.blacklistAdd({ processId: pid, processName: this.kernel.process(pid)?.imageName ?? '', reason });
        return st === NtStatus.STATUS_SUCCESS ? ok(NO_OUTPUT) : fail(st);
      }
      case Ioctl.IOCTL_MONITOR_INTERCEPT_REMOVE_BL: {
        if (input.byteLength !== 4) return fail(NtStatus.STATUS_INFO_LENGTH_MISMATCH);
        const st = this.engine.blacklistRemove(new DataView(input.buffer, input.byteOffset, 4).getUint32(0, true));
        return st === NtStatus.STATUS_SUCCESS ? ok(NO_OUTPUT) : fail(st);
      }
      case Ioctl.IOCTL_MONITOR_INTERCEPT_GET_BL:
        return ok(this.engine.encodeBlacklist());
      case Ioctl.IOCTL_MONITOR_HOOK_NOTIFY: {
        const h = decodeHookNotify(input);
        if (h.event === 1) {
          this.hookedPids.add(h.targetPid);
          // What this process's rings processed before the hook existed is not evidence of a bypass.
          this.refreshRings();
          for (const rec of this.registry.rings.values()) {
            if (rec.pid !== h.targetPid) continue;
            const n = this.kernelSubmitCount(rec.objectHi, rec.objectLo);
            if (n >= 0) rec.submitBaseline = n - rec.opsValidated;
          }
        } else {
          this.hookedPids.delete(h.targetPid);
        }
        this.ring.emit(h.event === 1 ? 'HookInstalled' : 'HookRemoved', { targetPid: h.targetPid, method: h.method === 0 ? 'iat' : 'inline', address: { hi: h.addressHi, lo: h.addressLo }, symbol: 'ntdll!NtSubmitIoRing' }, h.targetPid);
        return ok(NO_OUTPUT);
      }
      case Ioctl.IOCTL_MONITOR_CLIENT_EVENT: {
        const c = decodeClientEvent(input);
        if (c.kind === 2) this.ring.emit('CallbackError', { status: c.status, message: c.text.slice(0, 120) }, c.processId);
        else this.ring.emit('DriverUnreachable', { status: c.status, fallbackAction: c.kind === 3 ? 'Block' : 'Allow', detail: c.text.slice(0, 100) }, c.processId);
        return ok(NO_OUTPUT);
      }
      default:
        return fail(NtStatus.STATUS_INVALID_DEVICE_REQUEST);
    }
  }

  private validateIoctl(input: Uint8Array, outLen: number): IoctlResult {
    if (outLen < MON_INTERCEPT_RESPONSE_SIZE) return fail(NtStatus.STATUS_BUFFER_TOO_SMALL, MON_INTERCEPT_RESPONSE_SIZE);
    const r = this.validate(input);
    return r.status === NtStatus.STATUS_SUCCESS ? ok(r.response) : fail(r.status, 0, r.response);
  }

  /** POST_SUBMIT: one per hooked submission, so it reads MON_POST_SUBMIT_INPUT in place (no DataView, no object). */
  private postSubmit(input: Uint8Array): IoctlResult {
    if (input.byteLength !== MON_POST_SUBMIT_INPUT_SIZE || readU32LE(input, 0) !== MON_POST_SUBMIT_INPUT_SIZE) decodePostSubmit(input); // throws the typed size error
    const consumed = readU32LE(input, 28);
    const allowed = readU32LE(input, 36);
    if (allowed > consumed && readU32LE(input, 20) === 0) {
      // Entries the driver allowed but the kernel left in the queue (a full CQ, a refused call, a
      // callback's veto, a validation the hook abandoned) are not evidence for what the kernel runs
      // later: they would cover a direct submission of rewritten entries.
      const rec = this.registry.get(readU32LE(input, 4), readU32LE(input, 16));
      if (rec !== undefined) rec.opsValidated = Math.max(0, rec.opsValidated - (allowed - consumed));
    }
    this.ring.emitPostSubmit(
      readU32LE(input, 20), readU32LE(input, 16), // IoRingHandle hi, lo
      readU32LE(input, 12), readU32LE(input, 24), readU32LE(input, 28), // OperationCount, Status, Completions
      readU32LE(input, 4), readU32LE(input, 8), // ProcessId, ThreadId
    );
    return ok(NO_OUTPUT);
  }

  /**
   * RINGBUF_CONFIGURE: MON_RINGBUF_CONFIG_INPUT (12 bytes). The size applies at the next start, as in
   * the C driver. win11mon: an output buffer of 4 bytes receives the size that will apply (rounded
   * down to a power-of-two number of 256-byte slots).
   */
  private configureRing(input: Uint8Array, outLen: number): IoctlResult {
    if (input.byteLength !== MON_RINGBUF_CONFIG_INPUT.size) return fail(NtStatus.STATUS_INFO_LENGTH_MISMATCH);
    const dv = new DataView(input.buffer, input.byteOffset, input.byteLength);
    const size = dv.getUint32(0, true);
    const bytes = dv.getUint32(4, true);
    const flags = dv.getUint32(8, true);
    if (size !== MON_RINGBUF_CONFIG_INPUT.size) {
      throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `MON_RINGBUF_CONFIG_INPUT.Size is ${size}, expected ${MON_RINGBUF_CONFIG_INPUT.size}`, { struct: 'MON_RINGBUF_CONFIG_INPUT', field: 'Size', offset: 0, expected: MON_RINGBUF_CONFIG_INPUT.size, actual: size });
    }
    if (flags !== 0) {
      throw new Win11MonError('WIN11MON_ERR_RESERVED_NONZERO', `MON_RINGBUF_CONFIG_INPUT.Flags is 0x${flags.toString(16)}; it is reserved and must be 0`, { struct: 'MON_RINGBUF_CONFIG_INPUT', field: 'Flags', offset: 8, expected: 0, actual: flags });
    }
    const effective = ringSlotsForBytes(bytes) * RING_SLOT_SIZE;
    this.onRingConfigure?.(effective);
    this.pendingRingBytes = effective;
    return ok(outLen >= 4 ? u32Bytes(effective) : NO_OUTPUT);
  }

  /** SET_POLICY: a 28-byte MON_INTERCEPT_POLICY (the C client's form) or a UTF-8 policy document (JSON or YAML). */
  private setPolicy(input: Uint8Array, caller: DeviceCaller): IoctlResult {
    const before = this.engine.policyVersion;
    if (input.byteLength === MON_INTERCEPT_POLICY_SIZE) {
      const r = this.engine.setPolicyBinary(input);
      if (!r.ok) return fail(r.error.status, 0, utf8(JSON.stringify(r.error.toJSON())));
      this.ring.emit('PolicyChanged', { version: r.version, previousVersion: before, hashPrefix: r.hash.slice(0, 16), source: 'binary' }, caller.pid);
      return ok(NO_OUTPUT);
    }
    if (input.byteLength === 0 || input.byteLength > 1024 * 1024) return fail(NtStatus.STATUS_INFO_LENGTH_MISMATCH);
    const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
    const r = this.engine.setPolicy(text, '<IOCTL_MONITOR_INTERCEPT_SET_POLICY>');
    if (!r.ok) return fail(NtStatus.STATUS_INVALID_PARAMETER, 0, utf8(JSON.stringify({ code: 'WIN11MON_ERR_POLICY_INVALID', issues: r.issues })));
    this.ring.emit('PolicyChanged', { version: r.version, previousVersion: before, hashPrefix: r.hash.slice(0, 16), source: 'document' }, caller.pid);
    return ok(NO_OUTPUT);
  }

  /** MON_IORING_HANDLES_OUTPUT (win11mon): u32 Size, u32 Count, u32 Reserved[2], then Count x MON_IORING_HANDLE_INFO (40 B). */
  private encodeHandles(): Uint8Array {
    this.registry.refresh(true);
    const recs = [...this.registry.rings.values()];
    const size = MON_IORING_HANDLES_HEADER_SIZE + recs.length * MON_IORING_HANDLE_INFO.size;
    const b = new Uint8Array(size);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, size, true);
    dv.setUint32(4, recs.length, true);
    recs.forEach((rec, i) => {
      const obj = this.registry.object(rec);
      let count = 0;
      if (obj) {
        try { count = this.kernel.memory.readU32(obj.hi, obj.lo + this.kernel.offsets.off.RegBuffersCount); } catch { count = 0; }
      }
      b.set(encodeStruct(MON_IORING_HANDLE_INFO, {
        ProcessId: rec.pid, HandleValue: BigInt(rec.handle), ObjectAddress: BigInt(hex64(rec.objectHi, rec.objectLo)),
        AccessMask: rec.grantedAccess, RegBuffersCount: count, ViolationFlags: rec.lastFlags,
      }), MON_IORING_HANDLES_HEADER_SIZE + i * MON_IORING_HANDLE_INFO.size);
    });
    return b;
  }
}

const EMPTY_CTX: SubmissionContext = { nowNs: 0, processId: 0, imageName: '', imagePath: '', regBuffers: null, handleKnown: true };

function utf8(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'));
}

/** MON_IORING_HANDLE_EVENT payload (header layout: Size, ProcessId, HandleValue, ObjectAddress, AccessMask, EventSubType, Severity). */
function handleEventPayload(rec: RingRecord): Uint8Array {
  const b = new Uint8Array(32);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 32, true);
  dv.setUint32(4, rec.pid, true);
  dv.setUint32(8, rec.handle, true);
  dv.setUint32(16, rec.objectLo, true);
  dv.setUint32(20, rec.objectHi, true);
  dv.setUint32(24, rec.grantedAccess, true);
  dv.setUint8(28, 0 /* Created */);
  dv.setUint8(29, 1);
  return b;
}

export { Win11MonError };
