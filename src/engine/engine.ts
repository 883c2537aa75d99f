// The policy engine: runs the checks in their fixed order over one submission and writes the
// decision into a caller-owned Decision. Pure: time, process identity and the ring's RegBuffers
// state come in through SubmissionContext; no clock, no I/O, no logging, no per-SQE allocation.
import { InterceptAction, InterceptReason, MonExtType, MON_NO_OP_INDEX, INTERCEPT_ACTION_NAMES, INTERCEPT_REASON_NAMES, MON_SQE_EXT_MAGIC, MsqWord, MON_REQUEST_SQE_WORD, MON_SERIALIZED_SQE_WORDS } from '../abi/monitor.js';
import { IoRingOp, IORING_OP_MAX_KNOWN, NT_IORING_OP_FLAG_REGISTERED_BUFFER, NT_IORING_OP_FLAGS_VALID, NT_IORING_SQE_FLAGS_VALID } from '../abi/ioring.js';
import { InterceptRequestView, readExtensions, type RequestExtension } from '../abi/request.js';
import { isWin11MonError, Win11MonError } from '../abi/errors.js';
import { NtStatus, ntStatusName } from '../abi/ntstatus.js';
import { encodeInterceptResponse, type InterceptResponse } from '../abi/response.js';
import { CheckMode, Decision, REASON_TECHNIQUES, CHECK_MODE_NAMES, type CheckId, type RegBufferState, type SubmissionContext, type ViolationSink, type DecisionSource } from './types.js';
import { CompiledPolicy, type Profile } from './compile.js';
import { defaultPolicy, loadPolicyObject, loadPolicyText, type PolicyDocument, type PolicyIssue } from './policy.js';
import { applyBinaryPolicy, decodePolicyBinary, encodePolicyBinary } from './policy-binary.js';
import { ProcessTable, type ProcessEntry } from './processes.js';
import { EngineStats } from './stats.js';
import { RuntimeBlacklist, type BlacklistEntry } from './checks/blacklist.js';
import { checkBlacklist } from './checks/blacklist.js';
import { checkOperationCount } from './checks/opcount.js';
import { checkRegBufferState, checkRegisteredRef, regBufferStateFromSnapshot, registrationBySqe } from './checks/regbuffers.js';
import { checkOpcode } from './checks/opcodes.js';
import { checkBufferInfoArrays, checkBufferSize, checkSqeBuffer } from './checks/buffers.js';
import { checkRateLimit } from './checks/ratelimit.js';
import { describeViolation } from './explain.js';

/** One violation, as `explain()` reports it (cold path). */
export interface Violation {
  checkId: CheckId;
  /** The check's configured mode: 'block' or 'log'. */
  mode: 'block' | 'log';
  reason: number;
  reasonName: string;
  /** SQE index, or null when no single SQE is at fault. */
  operationIndex: number | null;
  /** RegBuffers entry / array element / blacklist pattern index, or null. */
  entryIndex: number | null;
  violationFlags: number;
  technique: string;
  address: string | null;
  value: number;
  limit: number;
  message: string;
}

/** What MonInterceptValidateSubmission returns: the IOCTL's status and response, plus the TypeScript extras. */
export interface ValidationResult {
  /** NTSTATUS of the IOCTL: STATUS_SUCCESS (Allow/LogOnly), STATUS_ACCESS_DENIED (Block), or the malformed request's error status. */
  status: number;
  response: InterceptResponse;
  /** The 48-byte MON_INTERCEPT_RESPONSE. */
  responseBytes: Uint8Array;
  decision: Decision;
  explanation: string;
  /** Set when the request was malformed: the typed error that says what is wrong. */
  error: Win11MonError | null;
}

export type SetPolicyResult = { ok: true; version: number; hash: string } | { ok: false; issues: PolicyIssue[] };

export interface PolicyEngineOptions {
  /** Initial policy document (default: the embedded default policy). */
  policy?: PolicyDocument;
  /**
   * Monotonic ns clock used only by MonInterceptValidateSubmission to fill ValidationTimeNs and the
   * latency histogram. validate() never reads it; without it the convenience path records no latency.
   */
  clock?: () => number;
}

/** The hot-path sink: first block wins and stops the scan; log-only hits are kept until a block. */
class DecisionSink implements ViolationSink {
  d: Decision = new Decision();
  audit = false;

  hit(check: CheckId, mode: number, reason: number, opIndex: number, entryIndex: number, flags: number, addrHi: number, addrLo: number, value: number, limit: number): boolean {
    const d = this.d;
    d.violationCount++;
    const blocking = mode === CheckMode.Block;
    if (blocking || d.action === InterceptAction.Allow) {
      d.reason = reason;
      d.checkId = check;
      d.checkMode = mode;
      d.violatingOpIndex = opIndex >>> 0;
      d.entryIndex = entryIndex;
      d.violationFlags = flags;
      d.addressHi = addrHi;
      d.addressLo = addrLo;
      d.value = value;
      d.limit = limit;
      d.technique = REASON_TECHNIQUES[reason] ?? '';
      if (blocking) {
        if (this.audit) {
          d.action = InterceptAction.LogOnly;
          d.wouldHaveBlocked = true;
        } else {
          d.action = InterceptAction.Block;
        }
        return true;
      }
      d.action = InterceptAction.LogOnly;
    }
    return false;
  }
}

/** The explain sink: collects every violation, never stops. */
class CollectSink implements ViolationSink {
  readonly out: Violation[] = [];
  hit(check: CheckId, mode: number, reason: number, opIndex: number, entryIndex: number, flags: number, addrHi: number, addrLo: number, value: number, limit: number): boolean {
    const v: Violation = {
      checkId: check,
      mode: mode === CheckMode.Block ? 'block' : 'log',
      reason,
      reasonName: INTERCEPT_REASON_NAMES[reason] ?? String(reason),
      operationIndex: opIndex === MON_NO_OP_INDEX ? null : opIndex,
      entryIndex: entryIndex < 0 ? null : entryIndex,
      violationFlags: flags,
      technique: REASON_TECHNIQUES[reason] ?? '',
      address: addrHi === 0 && addrLo === 0 ? null : '0x' + (addrHi >>> 0).toString(16).padStart(8, '0') + (addrLo >>> 0).toString(16).padStart(8, '0'),
      value,
      limit,
      message: '',
    };
    v.message = describeViolation(v);
    this.out.push(v);
    return false;
  }
}

// Word indexes into InterceptRequestView.words, as module constants for the per-SQE loop.
const W_HDR = MON_REQUEST_SQE_WORD, W_SQE = MON_SERIALIZED_SQE_WORDS;
const { OpCode: W_OP, Flags: W_FLAGS, ExtMagic: W_MAGIC, ExtSqeFlags: W_SQEFLAGS, BufferSize: W_SIZE, BufferAddress: W_ADDR, ExtCount: W_COUNT, BufferOffset: W_BUFOFF } = MsqWord;

/**
 * The checks in their fixed order (docs/policy.md "Check order"):
 *  1 handle  2 blacklist  3 operationLimit  4 regBuffers (ring state)
 *  5 per SQE in index order: opcodes, bufferAddresses, bufferSize, regBuffers (the SQE's reference)
 *  6 extension arrays (BufferInfoArray: bufferAddresses, bufferSize)  7 rateLimit.
 * The rate limit runs last so that only submissions that passed every blocking check take tokens.
 * Returns true when the sink settled the outcome.
 */
function runChecks(view: InterceptRequestView, ctx: SubmissionContext, pol: CompiledPolicy, blacklist: RuntimeBlacklist, e: ProcessEntry, p: Profile, sink: ViolationSink, peek: boolean): boolean {
  const n = view.operationCount;
  if (p.modeHandle !== 0 && !ctx.handleKnown) {
    if (sink.hit('handle', p.modeHandle, InterceptReason.InvalidHandle, MON_NO_OP_INDEX, -1, 0, view.ioRingHandleHi, view.ioRingHandleLo, 0, 0)) return true;
  }
  if (p.modeBlacklist !== 0) {
    const pid = ctx.processId;
    if (checkBlacklist(blacklist.has(pid) || pol.blacklistPids.has(pid), e.patternIndex, p.modeBlacklist, sink)) return true;
  }
  if (p.modeOperationLimit !== 0 && checkOperationCount(n, p.maxOps, p.modeOperationLimit, sink)) return true;

  let exts: RequestExtension[] | null = null;
  let reg: RegBufferState | null = ctx.regBuffers;
  if (view.extOffset >= 0) {
    exts = readExtensions(view); // cold: only requests that carry extension records
    if (reg === null) {
      for (const x of exts) if (x.type === MonExtType.RegBuffersSnapshot) { reg = regBufferStateFromSnapshot(view, x.payloadOffset); break; }
    }
  }
  const modeReg = reg === null ? 0 : p.modeRegBuffers;
  if (modeReg !== 0 && checkRegBufferState(reg!, modeReg, sink)) return true;

  const modeOp = p.modeOpcodes;
  const modeAddr = p.modeBufferAddresses;
  const modeSize = p.modeBufferSize;
  if (modeOp !== 0 || modeAddr !== 0 || modeSize !== 0 || modeReg !== 0) {
    const mask = p.allowedOpMask;
    const rejectReserved = p.rejectReservedFlags;
    const reservedCommon = rejectReserved ? ~NT_IORING_OP_FLAGS_VALID : 0;
    const maxSize = p.maxBufferSize;
    // Fields read as 32-bit words (view.words; word indexes = MsqOff / 4, W_* above runChecks): one
    // base index per SQE, no accessor calls. Each check has an inline "obviously fine" predicate; the
    // check module runs only when it fails, so a clean SQE costs a handful of integer compares.
    const w = view.words;
    for (let i = 0, b = W_HDR; i < n; i++, b += W_SQE) {
      const op = w[b + W_OP]!;
      const cf = w[b + W_FLAGS]!;
      const ext = w[b + W_MAGIC] === MON_SQE_EXT_MAGIC;
      if (modeOp !== 0) {
        const sf = ext ? w[b + W_SQEFLAGS]! : 0;
        const fine = op < 32 && ((mask >>> op) & 1) === 1 && op <= IORING_OP_MAX_KNOWN && (cf & reservedCommon) === 0 && (!rejectReserved || (sf & ~NT_IORING_SQE_FLAGS_VALID) === 0);
        if (!fine && checkOpcode(op, cf, ext ? sf : -1, mask, rejectReserved, i, modeOp, sink)) return true;
      }
      const size = w[b + W_SIZE]!;
      const hi = w[b + W_ADDR + 1]!;
      const lo = w[b + W_ADDR]!;
      // hi < 0x7ffe: start and end (start + a 32-bit length) both lie below MmHighestUserAddress.
      if (modeAddr !== 0 && hi >= 0x7ffe && checkSqeBuffer(op, cf, hi, lo, size, ext ? w[b + W_COUNT]! : -1, i, modeAddr, sink)) return true;
      if (modeSize !== 0 && size > maxSize && checkBufferSize(size, maxSize, hi, lo, i, modeSize, sink)) return true;
      if (modeReg !== 0 && (cf & NT_IORING_OP_FLAG_REGISTERED_BUFFER) !== 0 && (op === IoRingOp.READ || op === IoRingOp.WRITE)) {
        if (checkRegisteredRef(lo, w[b + W_BUFOFF]!, size, reg!, i, modeReg, sink)) return true;
      }
      // The entries after a REGISTER_BUFFERS name what it registers (the kernel runs them in order).
      if (op === IoRingOp.REGISTER_BUFFERS && modeReg !== 0) reg = registrationBySqe(view, exts, i);
    }
  }
  if (exts !== null && (modeAddr !== 0 || modeSize !== 0) && checkBufferInfoArrays(view, exts, modeAddr, modeSize, p.maxBufferSize, sink)) return true;
  if (p.modeRateLimit !== 0 && checkRateLimit(e, p, ctx.nowNs, n, peek, p.modeRateLimit, sink)) return true;
  return false;
}

/**
 * The win11mon policy engine. One instance per driver / service / CLI run; `validate()` is the hot
 * path and allocates nothing per SQE (a new process costs one table entry; requests with extension
 * records decode them).
 *
 * @example
 * const engine = new PolicyEngine();
 * const view = new InterceptRequestView();
 * const decision = new Decision();
 * engine.validate(view.reset(requestBytes), { nowNs, processId, imageName: 'app.exe', imagePath: '', regBuffers: null, handleKnown: true }, decision);
 * if (decision.action === InterceptAction.Block) return STATUS_ACCESS_DENIED;
 */
export class PolicyEngine {
  private current: CompiledPolicy;
  private generation = 1;
  private readonly table = new ProcessTable();
  private readonly runtimeBlacklist = new RuntimeBlacklist();
  private readonly sink = new DecisionSink();
  private readonly view = new InterceptRequestView();
  private readonly clock: (() => number) | null;
  /** Counters, histogram and top talkers. */
  readonly stats = new EngineStats();

  constructor(opts: PolicyEngineOptions = {}) {
    this.current = new CompiledPolicy(opts.policy ?? defaultPolicy(1), this.generation);
    this.clock = opts.clock ?? null;
  }

  /**
   * Validates one submission (the hot path). `view` must already be `reset()` on the request bytes
   * (that validates the header; MonInterceptValidateSubmission does it for you). Writes into and
   * returns `out`. Never throws: a malformed extension record gives Block/MalformedRequest, any
   * other exception Block/ValidationError (LogOnly in audit mode).
   */
  validate(view: InterceptRequestView, ctx: SubmissionContext, out: Decision): Decision {
    const pol = this.current; // one read: a concurrent setPolicy applies from the next submission
    out.reset(pol.version, pol.hash);
    if (!pol.enabled) {
      out.reason = InterceptReason.PolicyDisabled;
      out.checkId = 'enabled';
      out.technique = REASON_TECHNIQUES[InterceptReason.PolicyDisabled]!;
      this.stats.record(out, view.operationCount);
      return out;
    }
    const e = this.table.lookup(ctx.processId >>> 0, ctx.imageName, ctx.imagePath, ctx.nowNs, pol);
    const p = e.profile;
    out.auditMode = p.audit;
    const sink = this.sink;
    sink.d = out;
    sink.audit = p.audit;
    try {
      runChecks(view, ctx, pol, this.runtimeBlacklist, e, p, sink, false);
    } catch (err) {
      this.fail(out, p.audit, isWin11MonError(err) ? InterceptReason.MalformedRequest : InterceptReason.ValidationError, isWin11MonError(err) ? 'request' : 'internal');
      if (!isWin11MonError(err)) this.stats.contained++;
    }
    e.submissions++;
    e.operations += view.operationCount;
    if (out.action === InterceptAction.Block) e.blocked++;
    else if (out.action === InterceptAction.LogOnly) e.logOnly++;
    this.stats.record(out, view.operationCount);
    return out;
  }

  private fail(out: Decision, audit: boolean, reason: number, source: DecisionSource): void {
    out.reason = reason;
    out.checkId = source;
    out.checkMode = CheckMode.Block;
    out.violatingOpIndex = MON_NO_OP_INDEX;
    out.technique = REASON_TECHNIQUES[reason] ?? '';
    out.violationCount++;
    out.action = audit ? InterceptAction.LogOnly : InterceptAction.Block;
    out.wouldHaveBlocked = audit;
    out.auditMode = audit;
  }

  /**
   * Every violation of the submission, in check order (cold path, for `--explain`). Does not take
   * rate-limit tokens, count statistics or change any state.
   */
  explain(view: InterceptRequestView, ctx: SubmissionContext): Violation[] {
    const pol = this.current;
    if (!pol.enabled) return [];
    const sink = new CollectSink();
    const probe = this.table.peekEntry(ctx.processId >>> 0, ctx.imageName, ctx.imagePath, pol);
    try {
      runChecks(view, ctx, pol, this.runtimeBlacklist, probe, probe.profile, sink, true);
    } catch (err) {
      const reason = isWin11MonError(err) ? InterceptReason.MalformedRequest : InterceptReason.ValidationError;
      const v: Violation = { checkId: 'handle', mode: 'block', reason, reasonName: INTERCEPT_REASON_NAMES[reason]!, operationIndex: null, entryIndex: null, violationFlags: 0, technique: REASON_TECHNIQUES[reason]!, address: null, value: 0, limit: 0, message: '' };
      v.message = (err as Error).message;
      sink.out.push(v);
    }
    return sink.out;
  }

  /**
   * MonInterceptValidateSubmission: the IOCTL_MONITOR_INTERCEPT_VALIDATE entry point. Parses the
   * request bytes, validates, and returns the NTSTATUS and MON_INTERCEPT_RESPONSE. Never throws for
   * bad input: a malformed request is Block/MalformedRequest (LogOnly in audit mode) with the typed
   * error's NTSTATUS.
   */
  MonInterceptValidateSubmission(bytes: Uint8Array, ctx: SubmissionContext, out: Decision = new Decision()): ValidationResult {
    const t0 = this.clock === null ? 0 : this.clock();
    let error: Win11MonError | null = null;
    try {
      this.view.reset(bytes);
    } catch (err) {
      error = isWin11MonError(err) ? err : new Win11MonError('WIN11MON_ERR_INTERNAL', String((err as Error)?.message ?? err));
    }
    if (error !== null) {
      const pol = this.current;
      out.reset(pol.version, pol.hash);
      this.fail(out, pol.base.audit, InterceptReason.MalformedRequest, 'request');
      this.stats.record(out, 0);
    } else {
      this.validate(this.view, ctx, out);
    }
    const ns = this.clock === null ? 0 : Math.max(0, this.clock() - t0);
    if (this.clock !== null) this.stats.recordLatency(ns);
    const response: InterceptResponse = {
      action: out.action,
      reason: out.reason,
      violatingOpIndex: out.violatingOpIndex,
      violationFlags: out.violationFlags,
      policyVersion: out.policyVersion,
      validationTimeNs: ns,
      mitreTechnique: out.technique,
    };
    const status = error !== null ? error.status : out.action === InterceptAction.Block ? NtStatus.STATUS_ACCESS_DENIED : NtStatus.STATUS_SUCCESS;
    return { status, response, responseBytes: encodeInterceptResponse(response), decision: out, explanation: explainDecision(out, error), error };
  }

  /** Records a validation latency the caller measured (ns) into the histogram and MON_INTERCEPT_STATS times. */
  recordLatency(ns: number): void {
    this.stats.recordLatency(ns);
  }

  // ---- policy ----------------------------------------------------------------------------------

  /**
   * Replaces the policy atomically (INT-T08): the next submission sees the new one. Accepts policy
   * text (YAML/JSON, with `file` for error locations) or an object. On any error the running policy
   * stays and the issues are returned. A document without `version` gets the running version + 1.
   */
  setPolicy(doc: string | object, file = '<policy>'): SetPolicyResult {
    const next = this.current.version + 1;
    const r = typeof doc === 'string' ? loadPolicyText(doc, file, next) : loadPolicyObject(doc, file, next);
    if (!r.ok) return { ok: false, issues: r.issues };
    return this.install(r.policy);
  }

  /** Installs an already-normalized document (e.g. from getPolicy()). */
  private install(doc: PolicyDocument): SetPolicyResult {
    const compiled = new CompiledPolicy(doc, ++this.generation);
    this.current = compiled;
    return { ok: true, version: compiled.version, hash: compiled.hash };
  }

  /** The running policy document (a copy), with its version and hash. */
  getPolicy(): { policy: PolicyDocument; version: number; hash: string } {
    const c = this.current;
    return { policy: structuredClone(c.doc), version: c.version, hash: c.hash };
  }

  get policyVersion(): number {
    return this.current.version;
  }

  get policyHash(): string {
    return this.current.hash;
  }

  /** IOCTL_MONITOR_INTERCEPT_GET_POLICY: the running core switches as MON_INTERCEPT_POLICY (28 bytes). */
  getPolicyBinary(): Uint8Array {
    return encodePolicyBinary(this.current.doc);
  }

  /**
   * IOCTL_MONITOR_INTERCEPT_SET_POLICY with a binary MON_INTERCEPT_POLICY: updates the core switches,
   * keeps the rest of the document, bumps the version. Returns the typed error instead of throwing.
   */
  setPolicyBinary(bytes: Uint8Array): { ok: true; version: number; hash: string } | { ok: false; error: Win11MonError } {
    let b;
    try {
      b = decodePolicyBinary(bytes);
    } catch (err) {
      if (isWin11MonError(err)) return { ok: false, error: err };
      throw err;
    }
    const r = this.install(applyBinaryPolicy(this.current.doc, b, this.current.version + 1));
    return r as { ok: true; version: number; hash: string };
  }

  /** IOCTL_MONITOR_INTERCEPT_ENABLE: ULONG 0/1. */
  setEnabled(enabled: boolean): { version: number; hash: string } {
    const r = this.install({ ...this.current.doc, enabled, version: this.current.version + 1 });
    return r as { ok: true; version: number; hash: string };
  }

  // ---- blacklist (IOCTL ADD_BL / REMOVE_BL / GET_BL) ----------------------------------------

  /** Adds or updates a pid. STATUS_SUCCESS, STATUS_INVALID_PARAMETER (pid 0), STATUS_INSUFFICIENT_RESOURCES (64 entries). */
  blacklistAdd(entry: { processId: number; processName?: string; reason?: string; addedTime?: bigint }): number {
    return this.runtimeBlacklist.add({ processId: entry.processId, processName: entry.processName ?? '', reason: entry.reason ?? '', addedTime: entry.addedTime ?? 0n });
  }

  /** STATUS_SUCCESS or STATUS_NOT_FOUND. */
  blacklistRemove(processId: number): number {
    return this.runtimeBlacklist.remove(processId);
  }

  /** Runtime entries (source 'runtime') and the policy document's pid and image entries (source 'policy'). */
  blacklistList(): Array<{ source: 'runtime' | 'policy'; processId: number | null; image: string | null; processName: string; reason: string }> {
    const rt = this.runtimeBlacklist.list().map((e) => ({ source: 'runtime' as const, processId: e.processId, image: null, processName: e.processName, reason: e.reason }));
    const pol = this.current.doc.blacklist.map((e) => ({ source: 'policy' as const, processId: e.pid ?? null, image: e.image ?? null, processName: '', reason: e.reason }));
    return [...rt, ...pol];
  }

  /** IOCTL_MONITOR_INTERCEPT_GET_BL: the runtime table as MON_BLACKLIST_ENTRY[] (208 bytes each). */
  encodeBlacklist(): Uint8Array {
    return this.runtimeBlacklist.encode();
  }

  runtimeBlacklistEntries(): BlacklistEntry[] {
    return this.runtimeBlacklist.list();
  }

  // ---- stats -------------------------------------------------------------------------------

  /** IOCTL_MONITOR_INTERCEPT_GET_STATS payload (see EngineStats.encode and docs/policy.md). */
  encodeStats(maxBytes = Infinity, topN = 16): Uint8Array {
    return this.stats.encode(this.table.top(topN), maxBytes, { tracked: this.table.size, evictions: this.table.evictions });
  }

  /** JSON statistics with top talkers. */
  statsJSON(topN = 16): Record<string, unknown> {
    return { ...this.stats.toJSON(this.table.top(topN)), trackedProcesses: this.table.size, evictions: this.table.evictions, policyVersion: this.current.version, policyHash: this.current.hash };
  }

  /** IOCTL_MONITOR_INTERCEPT_RESET_STATS. */
  resetStats(): void {
    this.stats.reset();
    this.table.resetCounters();
  }
}

/** A human explanation of a decision (cold path; the TypeScript side of the response). */
export function explainDecision(d: Decision, error: Win11MonError | null = null): string {
  const action = INTERCEPT_ACTION_NAMES[d.action] ?? String(d.action);
  if (error !== null) return `${action}: malformed request: ${error.message} (${error.code}, ${ntStatusName(error.status)})`;
  if (d.reason === InterceptReason.None) return 'Allow: no check found a violation';
  if (d.reason === InterceptReason.PolicyDisabled) return 'Allow: interception is disabled by policy (Enabled = false); nothing was checked';
  const v: Violation = {
    checkId: (d.checkId === 'none' || d.checkId === 'enabled' || d.checkId === 'request' || d.checkId === 'internal' ? 'handle' : d.checkId),
    mode: d.checkMode === CheckMode.Log ? 'log' : 'block',
    reason: d.reason,
    reasonName: INTERCEPT_REASON_NAMES[d.reason] ?? String(d.reason),
    operationIndex: d.violatingOpIndex === MON_NO_OP_INDEX ? null : d.violatingOpIndex,
    entryIndex: d.entryIndex < 0 ? null : d.entryIndex,
    violationFlags: d.violationFlags,
    technique: d.technique,
    address: d.addressHi === 0 && d.addressLo === 0 ? null : '0x' + (d.addressHi >>> 0).toString(16).padStart(8, '0') + (d.addressLo >>> 0).toString(16).padStart(8, '0'),
    value: d.value,
    limit: d.limit,
    message: '',
  };
  const what = d.checkId === 'internal' ? 'an internal error was contained while validating' : d.checkId === 'request' ? 'a request extension record is malformed' : describeViolation(v);
  const how = d.wouldHaveBlocked ? ' (audit mode: would have blocked)' : d.action === InterceptAction.LogOnly ? ` (check mode ${CHECK_MODE_NAMES[d.checkMode]})` : '';
  return `${action}: ${what}${how}`;
}
