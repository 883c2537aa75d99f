// win11mon_intercept (plan 3.2 / 4.2): the user-mode NtSubmitIoRing hook. Installing replaces the
// emulated process's ntdll entries (the IAT/inline hook); PreSubmitIoRing_Hook serializes the pending
// SQEs, asks the driver (IOCTL_MONITOR_INTERCEPT_VALIDATE) and either refuses the submission with
// STATUS_ACCESS_DENIED before the kernel sees it or calls the original. Direct syscalls
// (process.syscall) never pass through here, exactly as on Windows. Design notes: docs/interception.md.
import {
  Ioctl, NtStatus, InterceptAction, INTERCEPT_ACTION_NAMES, INTERCEPT_REASON_NAMES, InterceptRequestView, MON_INTERCEPT_RESPONSE_SIZE,
  FILE_READ_ACCESS, FILE_WRITE_ACCESS, hresultFromNt, isWin11MonError, hiOf, loOf, readU32LE, type InterceptActionName,
} from '../abi/index.js';
import type { DeviceCaller, IoctlResult } from '../driver/device.js';
import { encodeHookNotify, encodeClientEvent, MON_POST_SUBMIT_INPUT_SIZE } from '../driver/payloads.js';
import type { EmulatedProcess } from '../kernel/process.js';
import type { NtApi, Ptr } from '../kernel/ntapi.js';
import { INFINITE, type HIORING } from '../kernel/kernelbase.js';
import type { Win11MonClient } from './client.js';
import { SubmissionQueueSerializer, type RingQueueInfo } from './serialize-queue.js';

const IOCTL_VALIDATE = Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!;
const IOCTL_POST_SUBMIT = Ioctl.IOCTL_MONITOR_INTERCEPT_POST_SUBMIT!;
const IOCTL_HOOK_NOTIFY = Ioctl.IOCTL_MONITOR_HOOK_NOTIFY!;
const IOCTL_CLIENT_EVENT = Ioctl.IOCTL_MONITOR_CLIENT_EVENT!;
const OK = NtStatus.STATUS_SUCCESS;
const DENIED = NtStatus.STATUS_ACCESS_DENIED;
/** Where the emulation pretends ntdll!NtSubmitIoRing lives (reported in HookInstalled; no real code is patched). */
const NTDLL_SUBMIT_ADDRESS = { hi: 0x7ffa, lo: 0x2c41e4b0 };
/** Equal bytes (a request serialized again against the one validated); a number (a fault) is never equal. */
function sameBytes(a: Uint8Array | number, b: Uint8Array): boolean {
  if (typeof a === 'number' || a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < b.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Re-validations of an asynchronous submission whose queue changed while its decision was awaited, before it is refused. */
const MAX_ASYNC_REVALIDATIONS = 4;
/** Client events kept while the driver cannot be reached (oldest dropped beyond this). */
const MAX_PENDING_CLIENT_EVENTS = 32;

/** What the hook does when the driver cannot be reached (docs/interception.md "Driver unreachable"). */
export type UnreachablePolicy = 'fail-open' | 'fail-closed';
/** What the hook does for a ring created before it was installed and not adopted (its queue address is unknown). */
export type UnknownRingPolicy = 'validate-ring' | 'block' | 'allow';

/** A device that answers synchronously, as DeviceIoControl does (MonitorDriver is one). */
export interface SyncDevice {
  ioctl(code: number, input: Uint8Array, outputLength: number, caller: DeviceCaller): IoctlResult;
}

/** The driver's answer as the callback sees it ('Unreachable' when there was none). */
export interface DriverVerdict {
  action: InterceptActionName | 'Unreachable';
  reason: string;
  technique: string;
  violatingOpIndex: number;
  violationFlags: number;
}

/** What a validation callback is given. Valid only during the call (buffers are reused). */
export interface InterceptCallbackContext {
  processId: number;
  threadId: number;
  ioRingHandle: number;
  operationCount: number;
  /** The MON_INTERCEPT_REQUEST sent to the driver (header + serialized SQEs + extensions). */
  request: Uint8Array;
  /** A view over `request` (opCode(i), bufferAddressLo(i), ...). */
  view: InterceptRequestView;
  driver: DriverVerdict;
}

/** A callback may veto (block) an allowed submission and/or annotate; it cannot un-block a driver Block. */
export type InterceptCallbackResult = void | undefined | { veto?: boolean; reason?: string; annotation?: string };
export type InterceptCallback = (ctx: InterceptCallbackContext) => InterceptCallbackResult;

export interface InterceptOptions {
  /** Synchronous device (the in-process MonitorDriver): required for the ntdll hook to validate. */
  device?: SyncDevice;
  /** Asynchronous client (e.g. over the service socket): used by submitAsync / SubmitIoRingAsync. */
  client?: Win11MonClient;
  /** Caller identity on the synchronous device (default: read access, pid = the hooked process). */
  caller?: DeviceCaller;
  /** Default 'fail-open' (with a DriverUnreachable event); see docs/interception.md. */
  onDriverUnreachable?: UnreachablePolicy;
  /** Default 'validate-ring': a header-only request, so the driver still checks the ring's kernel object. */
  unknownRing?: UnknownRingPolicy;
  /** Rings created before install whose queues the injector knows (KernelBase HIORING or NT_IORING_INFO values). */
  rings?: ReadonlyArray<HIORING | RingQueueInfo>;
  /** Report every submission's outcome (IOCTL_MONITOR_INTERCEPT_POST_SUBMIT); default true. */
  postSubmit?: boolean;
  callback?: InterceptCallback;
  /** Thread id put in requests (the emulation has no threads; default 0). */
  threadId?: number;
  /** Reported in HookInstalled (default 'iat'). */
  method?: 'iat' | 'inline';
  /**
   * Accumulate the time of each phase of the hooked path in `phaseTimes` (default false): what the
   * hook costs an application, part by part. Costs two clock reads per phase when on.
   */
  phaseTiming?: boolean;
}

/**
 * Cumulative time (ms) per phase of the hooked NtSubmitIoRing, when `phaseTiming` is on: capture
 * (Head/Tail and the pending SQEs), serialize (MON_INTERCEPT_REQUEST), validate (the VALIDATE
 * IOCTL and the callback), then, for submissions that ran, kernel (the original NtSubmitIoRing)
 * and post (the outcome report, POST_SUBMIT).
 */
export interface HookPhaseTimes {
  /** Submissions that went through capture (the phases below sum over these). */
  submissions: number;
  captureMs: number;
  serializeMs: number;
  validateMs: number;
  kernelMs: number;
  postMs: number;
}

/** Counters the tests and the CLI read. */
export interface InterceptStats {
  submits: number;
  validations: number;
  allowed: number;
  blocked: number;
  loggedOnly: number;
  callbackVetoes: number;
  callbackErrors: number;
  driverUnreachable: number;
  failOpenAllowed: number;
  unknownRing: number;
  corruptQueue: number;
  faults: number;
  clientEventsDropped: number;
  /** Asynchronous submissions validated again because their queue changed while the decision was awaited. */
  revalidations: number;
}

/** The last decision the hook took (one object, overwritten per submission). */
export interface LastDecision {
  ioRingHandle: number;
  operationCount: number;
  status: number;
  blocked: boolean;
  by: 'driver' | 'callback' | 'unreachable' | 'queue' | 'unknown-ring' | 'none';
  verdict: DriverVerdict;
  annotation: string;
}

const newVerdict = (): DriverVerdict => ({ action: 'Allow', reason: 'None', technique: '', violatingOpIndex: 0xffffffff, violationFlags: 0 });

/**
 * One installed hook in one process. Create with `installIntercept` (Mon_InterceptInstall).
 * @example
 * const hook = installIntercept(process, { device: driver });
 * SubmitIoRing(ring, 0, 0);           // goes through hook.PreSubmitIoRing_Hook
 * removeIntercept(hook);              // ntdll entries restored by identity
 */
export class InterceptHook {
  readonly process: EmulatedProcess;
  readonly stats: InterceptStats = {
    submits: 0, validations: 0, allowed: 0, blocked: 0, loggedOnly: 0, callbackVetoes: 0, callbackErrors: 0, driverUnreachable: 0,
    failOpenAllowed: 0, unknownRing: 0, corruptQueue: 0, faults: 0, clientEventsDropped: 0, revalidations: 0,
  };
  readonly last: LastDecision = { ioRingHandle: 0, operationCount: 0, status: 0, blocked: false, by: 'none', verdict: newVerdict(), annotation: '' };
  /** Entries of the current synchronous submission the driver allowed (PostSubmit's AllowedOperations). */
  private allowedOps = 0;
  /** Per-phase time, filled only with `phaseTiming: true`. */
  readonly phaseTimes: HookPhaseTimes = { submissions: 0, captureMs: 0, serializeMs: 0, validateMs: 0, kernelMs: 0, postMs: 0 };
  private readonly timing: boolean;
  /** Rings whose submission queue the hook knows, by handle. */
  readonly rings = new Map<number, RingQueueInfo>();
  private readonly original: Pick<NtApi, 'NtSubmitIoRing' | 'NtCreateIoRing' | 'NtClose'>;
  private readonly hooked: Pick<NtApi, 'NtSubmitIoRing' | 'NtCreateIoRing' | 'NtClose'>;
  private device: SyncDevice | undefined;
  private client: Win11MonClient | undefined;
  private readonly caller: DeviceCaller;
  private readonly unreachable: UnreachablePolicy;
  private readonly unknownRing: UnknownRingPolicy;
  private readonly postSubmitOn: boolean;
  private readonly threadId: number;
  private readonly method: 'iat' | 'inline';
  private callback: InterceptCallback | undefined;
  private serializer = new SubmissionQueueSerializer();
  private view: InterceptRequestView | undefined;
  private ctx: InterceptCallbackContext | undefined;
  private readonly post = new Uint8Array(MON_POST_SUBMIT_INPUT_SIZE);
  private readonly postDv = new DataView(this.post.buffer);
  private readonly pendingEvents: Uint8Array[] = [];
  private installed = false;

  constructor(process: EmulatedProcess, opts: InterceptOptions) {
    this.process = process;
    this.device = opts.device;
    this.client = opts.client;
    this.caller = opts.caller ?? { access: FILE_READ_ACCESS, pid: process.pid, uid: -1, endpoint: 'in-process' };
    this.unreachable = opts.onDriverUnreachable ?? 'fail-open';
    this.unknownRing = opts.unknownRing ?? 'validate-ring';
    this.postSubmitOn = opts.postSubmit ?? true;
    this.timing = opts.phaseTiming ?? false;
    this.threadId = opts.threadId ?? 0;
    this.method = opts.method ?? 'iat';
    this.callback = opts.callback;
    const nt = process.ntdll;
    this.original = { NtSubmitIoRing: nt.NtSubmitIoRing, NtCreateIoRing: nt.NtCreateIoRing, NtClose: nt.NtClose };
    this.hooked = {
      NtSubmitIoRing: (h, f, w, t) => this.PreSubmitIoRing_Hook(h, f, w, t),
      NtCreateIoRing: (oh, cl, cp, ol, op) => this.createHook(oh, cl, cp, ol, op),
      NtClose: (h) => this.closeHook(h),
    };
    for (const r of opts.rings ?? []) this.adopt(r);
  }

  /** @internal Mon_InterceptInstall's second half: patch the table and tell the driver. */
  install(): this {
    const nt = this.process.ntdll;
    nt.NtSubmitIoRing = this.hooked.NtSubmitIoRing;
    nt.NtCreateIoRing = this.hooked.NtCreateIoRing;
    nt.NtClose = this.hooked.NtClose;
    this.installed = true;
    this.notify(1);
    return this;
  }

  get isInstalled(): boolean {
    return this.installed;
  }

  /** Teaches the hook a ring created before it was installed (the injector read it from KernelBase's HIORING). */
  adopt(r: HIORING | RingQueueInfo): void {
    this.rings.set(r.handle, { handle: r.handle, sqHi: r.sqHi, sqLo: r.sqLo, sqSize: r.sqSize, sqMask: r.sqMask });
  }

  /** Mon_InterceptSetCallback: replaces (or with undefined clears) the validation callback. */
  setCallback(cb: InterceptCallback | undefined): void {
    this.callback = cb;
  }

  /**
   * Mon_InterceptRemove: restores the original ntdll entries (by identity, when ours are still the ones
   * installed; otherwise a later hook chained on top of ours and ours becomes a pass-through), tells the
   * driver, and drops every buffer, ring entry and callback it holds. Returns whether the table was restored.
   */
  remove(): boolean {
    if (!this.installed) return false;
    this.installed = false;
    const nt = this.process.ntdll;
    let restored = true;
    for (const k of ['NtSubmitIoRing', 'NtCreateIoRing', 'NtClose'] as const) {
      if (nt[k] === this.hooked[k]) (nt as unknown as Record<string, unknown>)[k] = this.original[k];
      else restored = false;
    }
    this.notify(2);
    this.rings.clear();
    this.serializer.release();
    this.serializer = new SubmissionQueueSerializer();
    this.view = undefined;
    this.ctx = undefined;
    this.callback = undefined;
    this.pendingEvents.length = 0;
    this.device = undefined;
    this.client = undefined;
    return restored;
  }

  /** Bytes of buffers the hook currently retains (serializer + pending events). */
  get retainedBytes(): number {
    let n = this.serializer.retainedBytes + this.post.byteLength;
    for (const e of this.pendingEvents) n += e.byteLength;
    return n;
  }

  // ---- the hooked entries ----------------------------------------------------------------------

  private createHook(outHandle: Ptr, createLen: number, createParams: Ptr, outLen: number, outInfo: Ptr): number {
    const st = this.original.NtCreateIoRing(outHandle, createLen, createParams, outLen, outInfo);
    if (st !== OK || !this.installed) return st;
    try {
      // NT_IORING_INFO: +0x0C SubmissionQueueSize, +0x10 SubmissionQueueRingMask, +0x20 SubmissionQueue (user VA).
      const m = this.process.memory;
      const handle = m.readU32(hiOf(outHandle), loOf(outHandle));
      const ih = hiOf(outInfo);
      const il = loOf(outInfo);
      const sq = m.readU64Parts(ih, il + 0x20);
      this.rings.set(handle, { handle, sqHi: sq.hi, sqLo: sq.lo, sqSize: m.readU32(ih, il + 0x0c), sqMask: m.readU32(ih, il + 0x10) });
    } catch {
      // The kernel wrote these a moment ago; if the caller unmapped them since, the ring stays unknown.
    }
    return st;
  }

  private closeHook(handle: number): number {
    const st = this.original.NtClose(handle);
    if (st === OK) this.rings.delete(handle);
    return st;
  }

  /**
   * The NtSubmitIoRing replacement (synchronous: needs a synchronous device). Returns the NTSTATUS the
   * caller sees: the original's, STATUS_ACCESS_DENIED for a block (the queue is left as it was: the
   * entries stay between Head and Tail, unconsumed, no CQEs), STATUS_IORING_CORRUPT for a lying tail,
   * STATUS_ACCESS_VIOLATION when the queue or a REGISTER_* array cannot be read.
   */
  PreSubmitIoRing_Hook(handle: number, flags: number, waitOperations: number, timeout: Ptr): number {
    const orig = this.original.NtSubmitIoRing;
    if (!this.installed) return orig(handle, flags, waitOperations, timeout);
    const s = this.stats;
    s.submits++;
    const last = this.last;
    last.ioRingHandle = handle;
    last.annotation = '';
    this.allowedOps = 0;
    const m = this.process.memory;
    const ring = this.rings.get(handle);
    let count = 0;
    let head = 0;
    if (ring === undefined) {
      s.unknownRing++;
      if (this.unknownRing === 'allow') return this.finish(handle, 0, 'unknown-ring', orig(handle, flags, waitOperations, timeout), false, undefined);
      if (this.unknownRing === 'block') return this.finish(handle, 0, 'unknown-ring', DENIED, true, undefined);
      // 'validate-ring': no SQEs (their address is unknown), but the driver still reads the ring's kernel object (A2).
      const req = this.serializer.build(m, this.process.pid, this.threadId, handle, 0, 0);
      const v = this.decide(req as Uint8Array, handle, 0);
      if (v !== 0) return this.finish(handle, 0, v === 2 ? 'unreachable' : last.by, DENIED, true, undefined);
      return this.finish(handle, 0, last.by, orig(handle, flags, waitOperations, timeout), false, undefined);
    }
    const ser = this.serializer;
    const timing = this.timing;
    const pt = this.phaseTimes;
    let t = timing ? performance.now() : 0;
    const cst = ser.capture(m, ring);
    if (timing) { const now = performance.now(); pt.captureMs += now - t; pt.submissions++; t = now; }
    if (cst !== OK) {
      if (cst === NtStatus.STATUS_IORING_CORRUPT) s.corruptQueue++;
      else s.faults++;
      return this.finish(handle, 0, 'queue', cst, true, undefined);
    }
    count = ser.pending;
    head = ser.head;
    if (count === 0) return orig(handle, flags, waitOperations, timeout); // nothing will execute: waits only
    for (let first = 0; first < count; first += 4096) {
      const n = Math.min(4096, count - first);
      const req = ser.build(m, this.process.pid, this.threadId, handle, first, n);
      if (timing) { const now = performance.now(); pt.serializeMs += now - t; t = now; }
      if (typeof req === 'number') {
        s.faults++;
        return this.finish(handle, count, 'queue', req, true, undefined);
      }
      const v = this.decide(req, handle, n);
      if (timing) { const now = performance.now(); pt.validateMs += now - t; t = now; }
      if (v !== 0) return this.finish(handle, count, last.by, DENIED, true, undefined);
    }
    const st = orig(handle, flags, waitOperations, timeout);
    if (!timing) return this.finish(handle, count, last.by, st, false, ring, head);
    const k = performance.now();
    pt.kernelMs += k - t;
    const r = this.finish(handle, count, last.by, st, false, ring, head);
    pt.postMs += performance.now() - k;
    return r;
  }

  /**
   * Validates one request synchronously and runs the callback. Returns 0 to go on, 1 when blocked
   * (driver or callback), 2 when blocked because the driver was unreachable (fail-closed).
   */
  private decide(req: Uint8Array, handle: number, n: number): number {
    const s = this.stats;
    const last = this.last;
    const vd = last.verdict;
    s.validations++;
    let action = -1;
    const dev = this.device;
    let why = '';
    if (dev !== undefined) {
      try {
        const r = dev.ioctl(IOCTL_VALIDATE, req, MON_INTERCEPT_RESPONSE_SIZE, this.caller);
        const o = r.output;
        if (o.byteLength >= MON_INTERCEPT_RESPONSE_SIZE) {
          // A failure status with a response is a request the driver refused to parse: its response says Block.
          action = readU32LE(o, 4);
          if (action !== InterceptAction.Allow || this.callback !== undefined || r.status !== OK) fillVerdict(vd, o);
          else { vd.action = 'Allow'; vd.reason = 'None'; vd.technique = ''; }
          if (r.status !== OK && action === InterceptAction.Allow) action = InterceptAction.Block;
          if (action !== InterceptAction.Block) this.allowedOps += n; // the driver counts these as validated
        } else {
          why = `IOCTL_MONITOR_INTERCEPT_VALIDATE returned 0x${(r.status >>> 0).toString(16)} without a response`;
        }
      } catch (e) {
        why = `device threw: ${String((e as Error)?.message ?? e).slice(0, 100)}`;
      }
    } else {
      why = 'no synchronous device: the ntdll hook cannot wait for an asynchronous transport';
    }
    if (action < 0) return this.onUnreachable(why, handle);
    this.flushPendingEvents();
    let blocked = action === InterceptAction.Block;
    last.by = 'driver';
    if (action === InterceptAction.LogOnly) s.loggedOnly++;
    if (this.callback !== undefined) {
      const veto = this.runCallback(req, handle, n);
      if (veto && !blocked) {
        blocked = true;
        last.by = 'callback';
        s.callbackVetoes++;
      }
    }
    if (blocked) { s.blocked++; return 1; }
    s.allowed++;
    return 0;
  }

  private onUnreachable(why: string, handle: number): number {
    const s = this.stats;
    s.driverUnreachable++;
    const closed = this.unreachable === 'fail-closed';
    const vd = this.last.verdict;
    vd.action = 'Unreachable';
    vd.reason = why;
    vd.technique = '';
    this.last.by = 'unreachable';
    this.queueClientEvent(closed ? 3 : 1, NtStatus.STATUS_UNSUCCESSFUL, `${closed ? 'fail-closed: blocked' : 'fail-open: allowed'} handle 0x${handle.toString(16)}: ${why}`);
    if (closed) { s.blocked++; return 2; }
    s.failOpenAllowed++;
    return 0;
  }

  /** Runs the callback with its exceptions contained (reported as CallbackError). Returns true for a veto. */
  private runCallback(req: Uint8Array, handle: number, n: number): boolean {
    const cb = this.callback!;
    const view = (this.view ??= new InterceptRequestView());
    const ctx = (this.ctx ??= { processId: 0, threadId: 0, ioRingHandle: 0, operationCount: 0, request: req, view, driver: this.last.verdict });
    ctx.processId = this.process.pid;
    ctx.threadId = this.threadId;
    ctx.ioRingHandle = handle;
    ctx.operationCount = n;
    ctx.request = req;
    ctx.driver = this.last.verdict;
    try {
      view.reset(req);
      const r = cb(ctx);
      if (r && typeof r === 'object') {
        if (r.annotation) this.last.annotation = String(r.annotation).slice(0, 160);
        if (r.veto === true) {
          if (r.reason) this.last.annotation = String(r.reason).slice(0, 160);
          return true;
        }
      }
    } catch (e) {
      this.stats.callbackErrors++;
      this.queueClientEvent(2, NtStatus.STATUS_UNSUCCESSFUL, `validation callback threw: ${String((e as Error)?.message ?? e)}`);
      this.flushPendingEvents();
    }
    return false;
  }

  /** Records the outcome (post-submit event) and returns the status for the caller. */
  private finish(handle: number, count: number, by: LastDecision['by'], status: number, blocked: boolean, ring: RingQueueInfo | undefined, headBefore = 0): number {
    const last = this.last;
    last.operationCount = count;
    last.status = status >>> 0;
    last.blocked = blocked;
    last.by = by;
    if (!this.postSubmitOn || this.device === undefined) return status;
    let completions = 0;
    if (ring !== undefined && !blocked) {
      try { completions = (this.process.memory.readU32(ring.sqHi, ring.sqLo) - headBefore) >>> 0; } catch { completions = 0; }
    }
    const dv = this.postDv;
    dv.setUint32(0, MON_POST_SUBMIT_INPUT_SIZE, true);
    dv.setUint32(4, this.process.pid, true);
    dv.setUint32(8, this.threadId, true);
    dv.setUint32(12, count, true);
    dv.setUint32(16, handle >>> 0, true);
    dv.setUint32(20, 0, true);
    dv.setUint32(24, status >>> 0, true);
    dv.setUint32(28, completions, true);
    dv.setUint32(32, blocked ? 1 : 0, true);
    dv.setUint32(36, this.allowedOps, true); // AllowedOperations: the driver discounts those the kernel did not consume
    try { this.device.ioctl(IOCTL_POST_SUBMIT, this.post, 0, this.caller); } catch { /* telemetry only */ }
    return status;
  }

  // ---- the asynchronous path (socket transport) --------------------------------------------------

  /**
   * NtSubmitIoRing validated through the asynchronous client (the service socket): serialize, await the
   * driver's decision, then call the original entry. The request is copied (the serializer's buffer may be
   * reused by another submission while this one waits). Same statuses as PreSubmitIoRing_Hook.
   */
  async submitAsync(handle: number, flags: number, waitOperations: number, timeout: Ptr): Promise<number> {
    if (!this.installed || this.client === undefined) return this.PreSubmitIoRing_Hook(handle, flags, waitOperations, timeout);
    this.stats.submits++;
    return this.validateAndSubmitAsync(handle, flags, waitOperations, timeout, 0);
  }

  private async validateAndSubmitAsync(handle: number, flags: number, waitOperations: number, timeout: Ptr, attempt: number): Promise<number> {
    const orig = this.original.NtSubmitIoRing;
    const client = this.client!;
    const ring = this.rings.get(handle);
    const m = this.process.memory;
    const ser = new SubmissionQueueSerializer(); // per call: concurrent async submissions must not share buffers
    let req: Uint8Array | number;
    let count = 0;
    if (ring === undefined) {
      this.stats.unknownRing++;
      if (this.unknownRing === 'allow') return orig(handle, flags, waitOperations, timeout);
      if (this.unknownRing === 'block') return DENIED;
      req = ser.build(m, this.process.pid, this.threadId, handle, 0, 0);
    } else {
      const cst = ser.capture(m, ring);
      if (cst !== OK) return cst;
      count = ser.pending;
      if (count === 0) return orig(handle, flags, waitOperations, timeout);
      if (count > 4096) return NtStatus.STATUS_INVALID_PARAMETER; // async path: one request per submission
      req = ser.build(m, this.process.pid, this.threadId, handle, 0, count);
    }
    if (typeof req === 'number') return req;
    const bytes = req.slice();
    this.stats.validations++;
    let action: number;
    try {
      const r = await client.validate(bytes);
      action = r.action;
      const vd = this.last.verdict;
      vd.action = (INTERCEPT_ACTION_NAMES[r.action] ?? 'Block');
      vd.reason = r.reasonName;
      vd.technique = r.mitreTechnique;
      vd.violatingOpIndex = r.violatingOpIndex;
      vd.violationFlags = r.violationFlags;
    } catch (e) {
      // WIN11MON_ERR_IOCTL_FAILED is an answer (a request the driver refused): block. Anything else: unreachable.
      if (isWin11MonError(e) && e.code === 'WIN11MON_ERR_IOCTL_FAILED') action = InterceptAction.Block;
      else {
        const v = this.onUnreachable(`client: ${String((e as Error)?.message ?? e).slice(0, 100)}`, handle);
        if (v !== 0) return DENIED;
        return orig(handle, flags, waitOperations, timeout);
      }
    }
    if (!this.installed) return DENIED; // removed while waiting: do not submit on a stale decision
    let blocked = action === InterceptAction.Block;
    const driverAllowed = !blocked;
    if (!blocked && ring !== undefined) {
      // The event loop ran other code while the decision was awaited: the application may have queued
      // or rewritten entries (or the REGISTER_* arrays they point to), and the kernel would run what
      // is there now. Serialize it again; if that is not the request that was validated, validate
      // again (a few times, then refuse) before anything runs.
      const now = new SubmissionQueueSerializer();
      const same = now.capture(m, ring) === OK && now.pending === count && sameBytes(now.build(m, this.process.pid, this.threadId, handle, 0, count), bytes);
      if (!same) {
        this.stats.revalidations++;
        if (attempt < MAX_ASYNC_REVALIDATIONS) {
          // This attempt's Allow will not be used: report it as not submitted (STATUS_CANCELLED), so the
          // driver's bypass evidence does not count its entries as validated and run.
          if (this.postSubmitOn) client.postSubmit({ processId: this.process.pid, threadId: this.threadId, operationCount: count, handleHi: 0, handleLo: handle, status: NtStatus.STATUS_CANCELLED, completions: 0, flags: 1, allowedOperations: count }).catch(() => undefined);
          return this.validateAndSubmitAsync(handle, flags, waitOperations, timeout, attempt + 1);
        }
        this.last.annotation = `the queue kept changing while validation was awaited (${attempt + 1} times)`;
        blocked = true;
      }
    }
    if (!blocked && this.callback !== undefined && this.runCallback(bytes, handle, count)) { blocked = true; this.stats.callbackVetoes++; }
    const st = blocked ? DENIED : orig(handle, flags, waitOperations, timeout);
    if (blocked) this.stats.blocked++;
    else this.stats.allowed++;
    if (this.postSubmitOn) {
      // Completions = how far the kernel moved the queue head (the driver's bypass evidence counts only consumed entries).
      let completions = 0;
      if (ring !== undefined && !blocked) {
        try { completions = (m.readU32(ring.sqHi, ring.sqLo) - ser.head) >>> 0; } catch { completions = 0; }
      }
      client.postSubmit({ processId: this.process.pid, threadId: this.threadId, operationCount: count, handleHi: 0, handleLo: handle, status: st, completions, flags: blocked ? 1 : 0, allowedOperations: driverAllowed ? count : 0 }).catch(() => undefined);
    }
    return st;
  }

  /**
   * KernelBase SubmitIoRing over submitAsync: publishes the local tail, submits, reports what was
   * consumed. Returns an HRESULT like SubmitIoRing.
   */
  async SubmitIoRingAsync(ring: HIORING, waitOperations: number, milliseconds: number, submitted?: { value: number }): Promise<number> {
    const m = ring.process.memory;
    const before = m.readU32(ring.sqHi, ring.sqLo);
    m.writeU32(ring.sqHi, ring.sqLo + 4, ring.SubQueueTail);
    let timeout = 0n;
    if (waitOperations !== 0 && milliseconds !== INFINITE) {
      if (ring.scratch === 0n) ring.scratch = ring.process.virtualAlloc(0x1000);
      timeout = ring.scratch + 0x40n;
      ring.process.writeU64(timeout, BigInt.asUintN(64, -BigInt(milliseconds) * 10000n));
    }
    const st = await this.submitAsync(ring.handle, 0, waitOperations, timeout);
    const after = m.readU32(ring.sqHi, ring.sqLo);
    ring.SubQueueHead = after;
    if (submitted) submitted.value = (after - before) >>> 0;
    return st === OK ? 0 : hresultFromNt(st);
  }

  // ---- driver notifications ----------------------------------------------------------------------

  private notify(event: 1 | 2): void {
    const bytes = encodeHookNotify({ event, targetPid: this.process.pid, method: this.method === 'iat' ? 0 : 1, addressHi: NTDLL_SUBMIT_ADDRESS.hi, addressLo: NTDLL_SUBMIT_ADDRESS.lo });
    if (this.device !== undefined) {
      try { this.device.ioctl(IOCTL_HOOK_NOTIFY, bytes, 0, this.caller); } catch { /* the driver learns of the hook at its next validation */ }
    } else if (this.client !== undefined) {
      this.client.call(IOCTL_HOOK_NOTIFY, bytes, 0).catch(() => undefined);
    }
  }

  /** Queues a DriverUnreachable (1) / CallbackError (2) event; delivered as soon as the driver answers. */
  private queueClientEvent(kind: 1 | 2 | 3, status: number, text: string): void {
    if (this.pendingEvents.length >= MAX_PENDING_CLIENT_EVENTS) {
      this.pendingEvents.shift();
      this.stats.clientEventsDropped++;
    }
    this.pendingEvents.push(encodeClientEvent({ kind, processId: this.process.pid, status, text }));
  }

  private flushPendingEvents(): void {
    const q = this.pendingEvents;
    if (q.length === 0) return;
    if (this.device !== undefined) {
      while (q.length > 0) {
        try {
          const r = this.device.ioctl(IOCTL_CLIENT_EVENT, q[0]!, 0, this.caller);
          if (r.status !== OK) break;
        } catch {
          break;
        }
        q.shift();
      }
    } else if (this.client !== undefined) {
      const c = this.client;
      for (const b of q.splice(0)) c.call(IOCTL_CLIENT_EVENT, b, 0).catch(() => { this.stats.clientEventsDropped++; });
    }
  }
}

/** Cold path (a block, a log, or a callback present): the response's fields into the verdict. */
function fillVerdict(vd: DriverVerdict, o: Uint8Array): void {
  const a = readU32LE(o, 4);
  const r = readU32LE(o, 8);
  vd.action = INTERCEPT_ACTION_NAMES[a] ?? 'Block';
  vd.reason = INTERCEPT_REASON_NAMES[r] ?? `Unknown(${r})`;
  vd.violatingOpIndex = readU32LE(o, 12);
  vd.violationFlags = readU32LE(o, 16);
  let t = '';
  for (let k = 32; k < 48 && o[k] !== 0; k++) t += String.fromCharCode(o[k]!);
  vd.technique = t;
}

/**
 * Mon_InterceptInstall: hooks NtSubmitIoRing (and NtCreateIoRing / NtClose, to learn and forget each
 * ring's user-mapped submission queue) in `process`. Rings created before install are unknown unless
 * passed in `options.rings`; see `UnknownRingPolicy`.
 * @example const hook = installIntercept(p, { device: driver, callback: (c) => c.operationCount > 64 ? { veto: true } : undefined });
 */
export function installIntercept(process: EmulatedProcess, options: InterceptOptions): InterceptHook {
  return new InterceptHook(process, options).install();
}

/** Mon_InterceptRemove. */
export function removeIntercept(hook: InterceptHook): boolean {
  return hook.remove();
}

/** Mon_InterceptSetCallback. */
export function setInterceptCallback(hook: InterceptHook, callback: InterceptCallback | undefined): void {
  hook.setCallback(callback);
}

// The plan's C names (plan 4.2), for readers mapping win11mon_intercept.c to this module.
export { installIntercept as Mon_InterceptInstall, removeIntercept as Mon_InterceptRemove, setInterceptCallback as Mon_InterceptSetCallback };

/** Caller with write access (for a hook that also sends admin IOCTLs; the hook itself needs only read). */
export const INTERCEPT_ADMIN_CALLER = (pid: number): DeviceCaller => ({ access: FILE_READ_ACCESS | FILE_WRITE_ACCESS, pid, uid: -1, endpoint: 'in-process' });
