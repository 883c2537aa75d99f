// The engine's vocabulary: the context a submission is judged in (time, process, the ring's
// registered-buffer state), the reusable Decision it writes, violation flags, checks and techniques.
import { InterceptAction, InterceptReason, MON_NO_OP_INDEX } from '../abi/monitor.js';

/**
 * One RegBuffers[i] entry as the driver read it from kernel memory (A2), or as a snapshot sent it.
 * Monomorphic: every field is always present and a number/boolean.
 */
export interface RegBufferEntryState {
  /** Pointer stored in RegBuffers[i] (IOP_MC_BUFFER_ENTRY*); 0/0 for flat IORING_BUFFER_INFO arrays. */
  entryAddressHi: number;
  entryAddressLo: number;
  /** The monitor could read the entry. */
  readable: boolean;
  /** IOP_MC_BUFFER_ENTRY fields (0 for the flat format). */
  type: number;
  size: number;
  referenceCount: number;
  /** KPROCESSOR_MODE at registration: 0 KernelMode, 1 UserMode. */
  accessMode: number;
  /** The buffer the entry describes. */
  addressHi: number;
  addressLo: number;
  length: number;
}

/** Registered-buffer state of the ring, read by the driver from kernel memory (A2) or sent as a snapshot. */
export interface RegBufferState {
  /**
   * 'kernel': read from the IORING_OBJECT (A2); 'snapshot': a RegBuffersSnapshot extension;
   * 'submission': what a REGISTER_BUFFERS entry earlier in the same submission registers (the
   * kernel builds those entries from buffers it probed itself, so an entry not held is sound).
   */
  source: 'kernel' | 'snapshot' | 'submission';
  /** IORING_OBJECT address (forensics only). */
  objectAddressHi: number;
  objectAddressLo: number;
  /** IORING_OBJECT.RegBuffers. */
  arrayAddressHi: number;
  arrayAddressLo: number;
  /** IORING_OBJECT.RegBuffersCount. */
  count: number;
  /** Count the monitor saw legitimately registered, or -1 when unknown. */
  expectedCount: number;
  /** >= build 22610: array of IOP_MC_BUFFER_ENTRY*; older builds: flat IORING_BUFFER_INFO. */
  format: 'mc-entry' | 'buffer-info';
  /**
   * The ring belongs to a user-mode process (not System): its buffers were registered through
   * NtSubmitIoRing from user mode, so every MC entry's AccessMode is UserMode and its buffer was
   * probed as a user buffer. A KernelMode entry there is forged (ioring-abi.md 5.2, invariant 4).
   */
  ownerUserMode: boolean;
  /** The first min(count, cap) entries (entry i at index i). */
  entries: RegBufferEntryState[];
  /** count > the cap: entries past it are only those in `far`. */
  entriesTruncated: boolean;
  /**
   * Entries past the cap that were read as well, by ascending index (farIndex[i] is far[i]'s index):
   * every one the submission references (the kernel dereferences exactly those), or the A2 poll's
   * rotating window. Only the first farCount are meaningful: the arrays are reused.
   */
  far: RegBufferEntryState[];
  farIndex: number[];
  farCount: number;
}

/** Everything about a submission that is not in its bytes. The engine never reads a clock or the OS. */
export interface SubmissionContext {
  /** Monotonic clock in ns (a Number: exact up to 2^53 ns, about 104 days of uptime). */
  nowNs: number;
  processId: number;
  imageName: string;
  imagePath: string;
  /** null = not available (hook-only path): the RegBuffers check then uses a RegBuffersSnapshot extension if any. */
  regBuffers: RegBufferState | null;
  /** false when the driver could not find the IoRing (ProcessId, IoRingHandle) -> InvalidHandle. */
  handleKnown: boolean;
}

/**
 * Violation detail flags (Decision.violationFlags, MON_INTERCEPT_RESPONSE.ViolationFlags).
 * 0x01..0x40 are the C driver's MON_REGBUF_VF_* values (ShaiKKO/FoxTwo_ src/detection/regbuf_integrity.h);
 * 0x100 and up are win11mon's, documented in docs/policy.md.
 */
export const ViolationFlags = {
  NONE: 0,
  /** MON_REGBUF_VF_USERMODE_PTR: RegBuffers points to user VA (the public exploit's signature). */
  REGBUF_USERMODE_PTR: 0x1,
  /** MON_REGBUF_VF_COUNT_MISMATCH: NULL pointer with a count, a pointer with count 0, or count != registered. */
  REGBUF_COUNT_MISMATCH: 0x2,
  /** MON_REGBUF_VF_ENTRY_USERMODE: an RegBuffers[i] entry pointer in user VA (a forged IOP_MC_BUFFER_ENTRY). */
  REGBUF_ENTRY_USERMODE: 0x4,
  /** MON_REGBUF_VF_ACCESS_VIOLATION: an entry could not be read. */
  REGBUF_ACCESS_VIOLATION: 0x8,
  /** MON_REGBUF_VF_INVALID_STRUCTURE: MC entry Type != 0x0C02, Size != 0x20*(pages+3) or ReferenceCount < 1. */
  REGBUF_INVALID_STRUCTURE: 0x10,
  /** MON_REGBUF_VF_NULL_OBJECT (kept for the C value; the engine does not set it). */
  REGBUF_NULL_OBJECT: 0x20,
  /** MON_REGBUF_VF_OFFSETS_UNAVAIL (kept for the C value; the engine does not set it). */
  REGBUF_OFFSETS_UNAVAIL: 0x40,
  /** win11mon: a UserMode entry (or flat entry) describes a buffer in kernel space (exploit signature). */
  REGBUF_KERNEL_BUFFER: 0x100,
  /** win11mon: an entry's Address + Length wraps or leaves user space. */
  REGBUF_BUFFER_RANGE: 0x200,
  /** win11mon: an SQE's registered-buffer index is >= RegBuffersCount. */
  REGBUF_INDEX_OUT_OF_RANGE: 0x400,
  /** win11mon: an SQE's registered-buffer Offset + Length exceeds the entry's Length. */
  REGBUF_OFFSET_OUT_OF_RANGE: 0x800,
  /** win11mon: buffer address in kernel space (>= 0xFFFF800000000000) or above MmHighestUserAddress. */
  BUF_KERNEL: 0x1000,
  /** win11mon: buffer address in the non-canonical hole. */
  BUF_NONCANONICAL: 0x2000,
  /** win11mon: Address + Length wraps around 2^64 or ends outside user space. */
  BUF_RANGE: 0x4000,
  /** win11mon: the bad address is an array pointer or an array element (REGISTER_*, scatter/gather). */
  BUF_ARRAY: 0x8000,
  /** win11mon: an opcode Windows does not define. */
  OP_UNKNOWN: 0x10000,
  /** win11mon: an opcode the policy does not allow. */
  OP_NOT_ALLOWED: 0x20000,
  /** win11mon: CommonOpFlags bits beyond 0x3. */
  OP_RESERVED_COMMON_FLAGS: 0x40000,
  /** win11mon: NT_IORING_SQE Flags bits beyond 0x1 (DRAIN). */
  OP_RESERVED_SQE_FLAGS: 0x80000,
  /** win11mon: the submissions-per-second bucket is empty. */
  RATE_SUBMISSIONS: 0x100000,
  /** win11mon: the operations-per-second bucket cannot cover this submission. */
  RATE_OPERATIONS: 0x200000,
  /** win11mon: matched by process id. */
  BLACKLIST_PID: 0x400000,
  /** win11mon: matched by an image name or path pattern. */
  BLACKLIST_IMAGE: 0x800000,
  /** win11mon: a BufferInfoArray extension disagrees with its SQE (Count, opcode or index). */
  EXT_MISMATCH: 0x1000000,
} as const;
export type ViolationFlagName = keyof typeof ViolationFlags;

/** Names of the flags set in `flags`, for JSON and explanations. */
export function violationFlagNames(flags: number): ViolationFlagName[] {
  const out: ViolationFlagName[] = [];
  for (const [name, bit] of Object.entries(ViolationFlags) as [ViolationFlagName, number][]) {
    if (bit !== 0 && (flags & bit) !== 0) out.push(name);
  }
  return out;
}

/**
 * The checks, in the fixed order they run (docs/policy.md "Check order"). The id strings name the
 * check in policy documents (`checks.<id>`), decisions and explanations.
 */
export const CHECK_IDS = ['handle', 'blacklist', 'operationLimit', 'regBuffers', 'opcodes', 'bufferAddresses', 'bufferSize', 'rateLimit'] as const;
export type CheckId = (typeof CHECK_IDS)[number];
/** Pseudo-checks a decision can name: the interception switch, a malformed request, an internal fault. */
export type DecisionSource = CheckId | 'enabled' | 'request' | 'internal' | 'none';

/** What a check does with a violation: block it, let it through and log it, or not run at all. */
export const CheckMode = { Off: 0, Log: 1, Block: 2 } as const;
export type CheckModeName = 'off' | 'log' | 'block';
export const CHECK_MODE_NAMES: readonly CheckModeName[] = ['off', 'log', 'block'];

/**
 * MITRE ATT&CK technique per MON_INTERCEPT_REASON (index = reason value). Rationale in
 * docs/policy.md "Reasons and techniques".
 */
export const REASON_TECHNIQUES: readonly string[] = [
  '', // None
  'T1068', // RegBuffersCorrupted: Exploitation for Privilege Escalation (the public IoRing R/W primitive)
  'T1068', // KernelAddressInBuffer: Exploitation for Privilege Escalation (kernel VA handed to the kernel as a user buffer)
  'T1499', // ExcessiveOperations: Endpoint Denial of Service
  'T1068', // SuspiciousOpCode: undefined opcodes / reserved bits probe the kernel dispatcher
  'T1068', // ProcessBlacklisted: operators blacklist known exploit tooling
  'T1499', // RateLimitExceeded: Endpoint Denial of Service
  'T1106', // InvalidHandle: Native API (a ring the monitor never saw created: direct syscalls, forged handle)
  'T1562.001', // PolicyDisabled: Impair Defenses: Disable or Modify Tools
  'T1562.001', // ValidationError: input that faults the monitor
  'T1499', // BufferSizeTooLarge: Endpoint Denial of Service (resource exhaustion)
  'T1562.001', // MalformedRequest: Impair Defenses (requests crafted against the monitor)
];

/** The decision for one submission. Callers own one and pass it to every `validate()` (no allocation). */
export class Decision {
  /** InterceptAction: Allow 0, Block 1, LogOnly 2. */
  action: number = InterceptAction.Allow;
  /** InterceptReason of the deciding violation (None when clean). */
  reason: number = InterceptReason.None;
  /** SQE index at fault, or MON_NO_OP_INDEX (0xFFFFFFFF) when no single SQE is. */
  violatingOpIndex: number = MON_NO_OP_INDEX;
  /** RegBuffers entry index at fault, or -1. */
  entryIndex = -1;
  /** ViolationFlags bits. */
  violationFlags = 0;
  /** ATT&CK technique id for `reason` ('' for None). */
  technique = '';
  /** The check that decided. */
  checkId: DecisionSource = 'none';
  /** The deciding check's configured mode (CheckMode). */
  checkMode = 0;
  /** True when the submission would have been blocked but audit mode let it through. */
  wouldHaveBlocked = false;
  /** Offending address (hi/lo), 0/0 when none: the buffer, array or entry pointer. */
  addressHi = 0;
  addressLo = 0;
  /** Offending length or count (check-specific), 0 when none. */
  value = 0;
  /** The limit it was compared with (check-specific), 0 when none. */
  limit = 0;
  /** Violations seen (the first decides; in non-audit mode scanning stops at the first block). */
  violationCount = 0;
  /** Policy version and sha256 (hex) of the normalized policy that decided. */
  policyVersion = 0;
  policyHash = '';
  /** True when audit mode was in force for this process. */
  auditMode = false;

  reset(policyVersion: number, policyHash: string): this {
    this.action = InterceptAction.Allow;
    this.reason = InterceptReason.None;
    this.violatingOpIndex = MON_NO_OP_INDEX;
    this.entryIndex = -1;
    this.violationFlags = 0;
    this.technique = '';
    this.checkId = 'none';
    this.checkMode = 0;
    this.wouldHaveBlocked = false;
    this.addressHi = 0;
    this.addressLo = 0;
    this.value = 0;
    this.limit = 0;
    this.violationCount = 0;
    this.policyVersion = policyVersion;
    this.policyHash = policyHash;
    this.auditMode = false;
    return this;
  }

  copyFrom(d: Decision): this {
    this.action = d.action;
    this.reason = d.reason;
    this.violatingOpIndex = d.violatingOpIndex;
    this.entryIndex = d.entryIndex;
    this.violationFlags = d.violationFlags;
    this.technique = d.technique;
    this.checkId = d.checkId;
    this.checkMode = d.checkMode;
    this.wouldHaveBlocked = d.wouldHaveBlocked;
    this.addressHi = d.addressHi;
    this.addressLo = d.addressLo;
    this.value = d.value;
    this.limit = d.limit;
    this.violationCount = d.violationCount;
    this.policyVersion = d.policyVersion;
    this.policyHash = d.policyHash;
    this.auditMode = d.auditMode;
    return this;
  }
}

/**
 * Where checks report what they find. The hot path's sink writes the Decision and tells the check
 * to stop at the first block; the explain sink collects everything. Two implementations only, so
 * the call site stays at most bimorphic.
 */
export interface ViolationSink {
  /**
   * Reports one violation. Returns true when the caller must stop scanning (the outcome is settled).
   * `mode` is the check's CheckMode (never Off: checks that are off do not run).
   */
  hit(check: CheckId, mode: number, reason: number, opIndex: number, entryIndex: number, flags: number, addrHi: number, addrLo: number, value: number, limit: number): boolean;
}
