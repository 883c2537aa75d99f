// The monitor's own binary structures, as the public C driver header lays them out, so that a C
// client built against it talks to win11mon unchanged. Source: ShaiKKO/FoxTwo_
// include/win11_monitor_public.h and src/detection/ioring_intercept.h (C_ASSERTs give the sizes).
// win11mon's additions (extension records after the SQE array, event types >= 0x100) are marked.
import { defineStruct } from './layout.js';

const PUB = 'ShaiKKO/FoxTwo_ include/win11_monitor_public.h';
const INT = 'ShaiKKO/FoxTwo_ src/detection/ioring_intercept.h';

/** MON_INTERCEPT_ACTION. */
export const InterceptAction = { Allow: 0, Block: 1, LogOnly: 2 } as const;
export type InterceptActionName = keyof typeof InterceptAction;
export const INTERCEPT_ACTION_NAMES: readonly InterceptActionName[] = ['Allow', 'Block', 'LogOnly'];

/** MON_INTERCEPT_REASON: the header's twelve reasons, with its values. */
export const InterceptReason = {
  None: 0,
  RegBuffersCorrupted: 1,
  KernelAddressInBuffer: 2,
  ExcessiveOperations: 3,
  SuspiciousOpCode: 4,
  ProcessBlacklisted: 5,
  RateLimitExceeded: 6,
  InvalidHandle: 7,
  PolicyDisabled: 8,
  ValidationError: 9,
  BufferSizeTooLarge: 10,
  MalformedRequest: 11,
} as const;
export type InterceptReasonName = keyof typeof InterceptReason;
export const INTERCEPT_REASON_NAMES: readonly InterceptReasonName[] = [
  'None', 'RegBuffersCorrupted', 'KernelAddressInBuffer', 'ExcessiveOperations', 'SuspiciousOpCode',
  'ProcessBlacklisted', 'RateLimitExceeded', 'InvalidHandle', 'PolicyDisabled', 'ValidationError',
  'BufferSizeTooLarge', 'MalformedRequest',
];

export const MON_INTERCEPT_REQUEST_VERSION = 1;
export const MON_INTERCEPT_REQUEST_HEADER_SIZE = 32;
export const MON_SERIALIZED_SQE_SIZE = 88;
export const MON_INTERCEPT_RESPONSE_SIZE = 48;
export const MON_INTERCEPT_POLICY_SIZE = 28;
export const MON_INTERCEPT_STATS_SIZE = 152;
export const MON_BLACKLIST_ENTRY_SIZE = 208;
export const MON_RING_EVENT_HEADER_SIZE = 40;
/** MON_INTERCEPT_MAX_OPS_PER_SUBMIT: the header's absolute cap on SQEs in one request. */
export const MON_INTERCEPT_MAX_OPS_PER_SUBMIT = 4096;
export const MON_INTERCEPT_DEFAULT_MAX_OPS = 1024;
export const MON_INTERCEPT_DEFAULT_RATE_LIMIT = 1000;
export const MON_INTERCEPT_MAX_BLACKLIST = 64;
export const MON_INTERCEPT_MAX_BUFFER_SIZE = 256 * 1024 * 1024;
export const MON_INTERCEPT_DEFAULT_OPCODE_MASK = 0x1ff;
/** ViolatingOpIndex when no single SQE is at fault. */
export const MON_NO_OP_INDEX = 0xffffffff;

/** MON_SQE_FLAG_*: in MON_SERIALIZED_SQE.Flags these carry the native CommonOpFlags bits. */
export const MON_SQE_FLAG_PREREGISTERED_FILE = 0x01;
export const MON_SQE_FLAG_PREREGISTERED_BUFFER = 0x02;

/**
 * win11mon extension of MON_SERIALIZED_SQE: the header's Padding[4] (0x38..0x58) carries what the
 * 88-byte form otherwise loses. A C client leaves it zero; win11mon's serializer sets ExtMagic so
 * the engine knows the other extension words are meaningful.
 */
export const MON_SQE_EXT_MAGIC = 0x5145534d; // 'MSEQ' little-endian
export const MON_SQE_EXT_VERSION = 1;

export const MON_SERIALIZED_SQE = defineStruct('MON_SERIALIZED_SQE', 88, INT, [
  ['OpCode', 0x00, 4, 'u32', 'ULONG', 'IORING_OP_CODE'],
  ['Flags', 0x04, 4, 'u32', 'ULONG', 'native CommonOpFlags: MON_SQE_FLAG_PREREGISTERED_FILE 0x1 / _BUFFER 0x2 (+ any reserved bits, kept)'],
  ['FileRef', 0x08, 8, 'u64', 'ULONG64', 'HANDLE or registered file index'],
  ['FileOffset', 0x10, 8, 'u64', 'LARGE_INTEGER', 'file offset'],
  ['BufferAddress', 0x18, 8, 'u64', 'ULONG64', 'buffer VA, registered buffer index, or array pointer (REGISTER_*)'],
  ['BufferSize', 0x20, 4, 'u32', 'ULONG', 'bytes'],
  ['BufferOffset', 0x24, 4, 'u32', 'ULONG', 'offset inside a registered buffer'],
  ['Key', 0x28, 4, 'u32', 'ULONG', 'lock key'],
  ['Reserved1', 0x2c, 4, 'u32', 'ULONG', 'zero'],
  ['UserData', 0x30, 8, 'u64', 'ULONG64', 'SQE UserData'],
  ['ExtSqeFlags', 0x38, 4, 'u32', 'ULONG64 Padding[0] (low)', 'win11mon: native NT_IORING_SQE.Flags'],
  ['ExtOpFlags', 0x3c, 4, 'u32', 'ULONG64 Padding[0] (high)', 'win11mon: op Flags (write flags, flush mode, Flags.Required)'],
  ['ExtCount', 0x40, 4, 'u32', 'ULONG64 Padding[1] (low)', 'win11mon: REGISTER_* Count / SegmentCount'],
  ['ExtAdvisory', 0x44, 4, 'u32', 'ULONG64 Padding[1] (high)', 'win11mon: REGISTER_* Flags.Advisory'],
  ['ExtArg', 0x48, 8, 'u64', 'ULONG64 Padding[2]', 'win11mon: CANCEL CancelId'],
  ['ExtMagic', 0x50, 4, 'u32', 'ULONG64 Padding[3] (low)', "win11mon: 'MSEQ' when the Ext* words are set"],
  ['ExtVersion', 0x54, 4, 'u32', 'ULONG64 Padding[3] (high)', 'win11mon: serializer version (1)'],
]);

/** Offsets inside MON_SERIALIZED_SQE, for hot-path readers. */
export const MsqOff = {
  OpCode: 0x00, Flags: 0x04, FileRef: 0x08, FileOffset: 0x10, BufferAddress: 0x18, BufferSize: 0x20,
  BufferOffset: 0x24, Key: 0x28, Reserved1: 0x2c, UserData: 0x30, ExtSqeFlags: 0x38, ExtOpFlags: 0x3c,
  ExtCount: 0x40, ExtAdvisory: 0x44, ExtArg: 0x48, ExtMagic: 0x50, ExtVersion: 0x54,
} as const;
/** MsqOff as 32-bit word indexes (every field is 4-aligned), for loops over InterceptRequestView.words. */
export const MsqWord = Object.freeze(Object.fromEntries(Object.entries(MsqOff).map(([k, v]) => [k, v >>> 2]))) as { readonly [K in keyof typeof MsqOff]: number };
/** Word index of SQE 0 in a request, and words per MON_SERIALIZED_SQE. */
export const MON_REQUEST_SQE_WORD = 32 >>> 2;
export const MON_SERIALIZED_SQE_WORDS = 88 >>> 2;

export const MON_INTERCEPT_REQUEST = defineStruct('MON_INTERCEPT_REQUEST', 32, INT, [
  ['Size', 0x00, 4, 'u32', 'ULONG', 'total bytes: header + SQEs (+ win11mon extension records)'],
  ['Version', 0x04, 4, 'u32', 'ULONG', 'must be 1'],
  ['ProcessId', 0x08, 4, 'u32', 'ULONG', 'calling process'],
  ['ThreadId', 0x0c, 4, 'u32', 'ULONG', 'calling thread'],
  ['IoRingHandle', 0x10, 8, 'u64', 'ULONG64', 'handle being submitted'],
  ['OperationCount', 0x18, 4, 'u32', 'ULONG', 'MON_SERIALIZED_SQE that follow'],
  ['Flags', 0x1c, 4, 'u32', 'ULONG', 'header: reserved 0; win11mon: MON_REQUEST_FLAG_EXTENSIONS 0x1'],
]);
/** win11mon: extension records follow the SQE array (a v1 driver that requires Flags == 0 never sees them). */
export const MON_REQUEST_FLAG_EXTENSIONS = 0x1;
export const MON_REQUEST_FLAGS_VALID = 0x1;

/** Extension record header (win11mon): u32 Type, u32 Length (bytes after this 8-byte header), 8-aligned. */
export const MON_EXT_HEADER_SIZE = 8;
export const MonExtType = {
  /** u32 SqeIndex, u32 Count, then Count IORING_BUFFER_INFO (16 B each): what a REGISTER_BUFFERS points to. */
  BufferInfoArray: 1,
  /** u32 SqeIndex, u32 Count, then Count u64 HANDLEs: what a REGISTER_FILES points to. */
  FileHandleArray: 2,
  /** u32 Count, u32 Flags, u64 ArrayAddress, then Count IORING_BUFFER_INFO: the caller's view of its registered buffers. */
  RegBuffersSnapshot: 3,
} as const;

export const MON_INTERCEPT_RESPONSE = defineStruct('MON_INTERCEPT_RESPONSE', 48, INT, [
  ['Size', 0x00, 4, 'u32', 'ULONG', '48'],
  ['Action', 0x04, 4, 'u32', 'MON_INTERCEPT_ACTION', 'Allow 0 / Block 1 / LogOnly 2'],
  ['Reason', 0x08, 4, 'u32', 'MON_INTERCEPT_REASON', 'first violation'],
  ['ViolatingOpIndex', 0x0c, 4, 'u32', 'ULONG', 'index of the first bad SQE, or 0xFFFFFFFF'],
  ['ViolationFlags', 0x10, 4, 'u32', 'ULONG', 'MON_REGBUF_VF_* detail'],
  ['Reserved', 0x14, 4, 'u32', 'ULONG', 'win11mon: policy version that decided'],
  ['ValidationTimeNs', 0x18, 8, 'u64', 'ULONG64', 'time spent validating'],
  ['MitreTechnique', 0x20, 16, 'char', 'CHAR[16]', 'ATT&CK technique id, e.g. "T1068"'],
]);

export const MON_INTERCEPT_POLICY = defineStruct('MON_INTERCEPT_POLICY', 28, INT, [
  ['Size', 0x00, 4, 'u32', 'ULONG', '28'],
  ['Enabled', 0x04, 1, 'bool8', 'BOOLEAN', 'interception on'],
  ['AuditMode', 0x05, 1, 'bool8', 'BOOLEAN', 'log, never block'],
  ['BlockKernelAddresses', 0x06, 1, 'bool8', 'BOOLEAN', 'buffer VA checks'],
  ['BlockCorruptedRegBuffers', 0x07, 1, 'bool8', 'BOOLEAN', 'A2 check'],
  ['EnforceOperationLimit', 0x08, 1, 'bool8', 'BOOLEAN', 'MaxOperationsPerSubmit'],
  ['EnforceRateLimit', 0x09, 1, 'bool8', 'BOOLEAN', 'per-process rate'],
  ['ValidateOpCodes', 0x0a, 1, 'bool8', 'BOOLEAN', 'AllowedOpCodeMask'],
  ['Reserved1', 0x0b, 1, 'u8', 'BOOLEAN', 'zero'],
  ['MaxOperationsPerSubmit', 0x0c, 4, 'u32', 'ULONG', '0 = default 1024'],
  ['MaxBufferSizeBytes', 0x10, 4, 'u32', 'ULONG', '0 = no limit'],
  ['MaxSubmitsPerSecond', 0x14, 4, 'u32', 'ULONG', '0 = default 1000'],
  ['AllowedOpCodeMask', 0x18, 4, 'u32', 'ULONG', 'bit N = opcode N allowed; 0 = all'],
]);

const STATS_COUNTERS = [
  'TotalValidationRequests', 'TotalOperationsValidated', 'TotalAllowed', 'TotalBlocked', 'TotalLogOnly',
  'BlockedRegBuffers', 'BlockedKernelAddress', 'BlockedExcessiveOps', 'BlockedSuspiciousOpCode', 'BlockedBlacklist',
  'BlockedRateLimit', 'BlockedInvalidHandle', 'BlockedBufferSize', 'BlockedMalformed',
] as const;
export const MON_INTERCEPT_STATS_COUNTERS = STATS_COUNTERS;
export const MON_INTERCEPT_STATS = defineStruct('MON_INTERCEPT_STATS', 152, INT, [
  ['Size', 0x00, 4, 'u32', 'ULONG', '152'],
  ['Reserved', 0x04, 4, 'u32', 'ULONG', 'zero'],
  ...STATS_COUNTERS.map((n, i) => [n, 8 + i * 8, 8, 'i64', 'LONG64', 'counter'] as const),
  ['TotalValidationTimeNs', 120, 8, 'i64', 'LONG64', 'sum of validation time'],
  ['PeakValidationTimeUs', 128, 4, 'u32', 'ULONG', 'slowest validation'],
  ['AverageValidationTimeUs', 132, 4, 'u32', 'ULONG', 'mean validation time'],
  ['ValidationErrors', 136, 8, 'i64', 'LONG64', 'malformed or failed validations'],
  ['SehExceptions', 144, 8, 'i64', 'LONG64', 'faults while reading input (win11mon: contained exceptions)'],
]);

export const MON_BLACKLIST_ENTRY = defineStruct('MON_BLACKLIST_ENTRY', 208, INT, [
  ['ProcessId', 0, 4, 'u32', 'ULONG', '0 = empty slot'],
  ['Reserved', 4, 4, 'u32', 'ULONG', 'zero'],
  ['AddedTime', 8, 8, 'u64', 'ULONG64', 'FILETIME (100 ns since 1601)'],
  ['ProcessName', 16, 128, 'wchar', 'WCHAR[64]', 'image name'],
  ['Reason', 144, 64, 'char', 'CHAR[64]', 'why'],
]);

export const MON_INTERCEPT_BLACKLIST_ADD_INPUT = defineStruct('MON_INTERCEPT_BLACKLIST_ADD_INPUT', 68, PUB, [
  ['ProcessId', 0, 4, 'u32', 'ULONG', 'process to block'],
  ['Reason', 4, 64, 'char', 'CHAR[64]', 'why'],
]);

/** MONITOR_EVENT_TYPE (header values 0..22) and win11mon's own types from 0x100. */
export const MonEventType = {
  Invalid: 0,
  PoolAllocation: 1,
  IopMcDetected: 2,
  CrossVmDetected: 3,
  PolicyViolation: 4,
  Anomaly: 5,
  IoRingHandleCreated: 6,
  IoRingHandleSpray: 7,
  IoRingHandleDuplicated: 8,
  RegBuffersViolation: 9,
  OffsetResolutionFailed: 10,
  // win11mon additions
  InterceptDecision: 0x100,
  PolicyChanged: 0x101,
  HookInstalled: 0x102,
  HookRemoved: 0x103,
  BypassSuspected: 0x104,
  EventsDropped: 0x105,
  Bugcheck: 0x106,
  RingQuarantined: 0x107,
  PostSubmit: 0x108,
  DriverUnreachable: 0x109,
  CallbackError: 0x10a,
} as const;
export type MonEventTypeName = keyof typeof MonEventType;

export const MON_RING_EVENT_MAGIC = 0x54564552; // 'REVT'
export const MON_RING_EVENT = defineStruct('MON_RING_EVENT', 40, PUB, [
  ['Magic', 0, 4, 'u32', 'ULONG', "'REVT' 0x54564552"],
  ['TotalSize', 4, 4, 'u32', 'ULONG', 'header + payload + padding'],
  ['PayloadSize', 8, 4, 'u32', 'ULONG', 'payload bytes'],
  ['EventType', 12, 4, 'u32', 'MONITOR_EVENT_TYPE', 'event type'],
  ['Timestamp', 16, 8, 'u64', 'ULONG64', 'system time, 100 ns units'],
  ['ProcessId', 24, 4, 'u32', 'ULONG', 'source process'],
  ['ThreadId', 28, 4, 'u32', 'ULONG', 'source thread'],
  ['SequenceNumber', 32, 4, 'u32', 'ULONG', 'monotonic'],
  ['Reserved', 36, 4, 'u32', 'ULONG', 'zero'],
]);

export const MON_OFFSET_STATUS_OUTPUT = defineStruct('MON_OFFSET_STATUS_OUTPUT', 28, PUB, [
  ['Size', 0, 4, 'u32', 'ULONG', '28'],
  ['WindowsBuildNumber', 4, 4, 'u32', 'ULONG', 'build'],
  ['Method', 8, 4, 'u32', 'MON_OFFSET_RESOLUTION_METHOD', 'Unknown 0 / Embedded 1 / Detected 2 / Degraded 3'],
  ['IoRingOffsetsValid', 12, 4, 'u32', 'ULONG', 'boolean'],
  ['IopMcOffsetsValid', 16, 4, 'u32', 'ULONG', 'boolean'],
  ['IoRingStructureSize', 20, 4, 'u32', 'ULONG', 'sizeof IORING_OBJECT'],
  ['IopMcStructureSize', 24, 4, 'u32', 'ULONG', 'sizeof IOP_MC_BUFFER_ENTRY'],
]);

export const MON_IORING_HANDLE_INFO = defineStruct('MON_IORING_HANDLE_INFO', 40, PUB, [
  ['ProcessId', 0, 4, 'u32', 'ULONG', 'owner'],
  ['Padding', 4, 4, 'u32', '(implicit)', 'alignment'],
  ['HandleValue', 8, 8, 'u64', 'ULONG64', 'handle'],
  ['ObjectAddress', 16, 8, 'u64', 'ULONG64', 'IORING_OBJECT address'],
  ['AccessMask', 24, 4, 'u32', 'ULONG', 'granted access'],
  ['RegBuffersCount', 28, 4, 'u32', 'ULONG', 'as read from the object'],
  ['ViolationFlags', 32, 4, 'u32', 'ULONG', 'MON_REGBUF_VF_*'],
  ['Padding2', 36, 4, 'u32', '(implicit)', 'alignment'],
]);

export const MON_REGBUF_VIOLATION_EVENT = defineStruct('MON_REGBUF_VIOLATION_EVENT', 64, PUB, [
  ['Size', 0, 4, 'u32', 'ULONG', '64'],
  ['ProcessId', 4, 4, 'u32', 'ULONG', 'owner'],
  ['ThreadId', 8, 4, 'u32', 'ULONG', 'thread'],
  ['Padding', 12, 4, 'u32', '(implicit)', 'alignment'],
  ['IoRingObjectAddress', 16, 8, 'u64', 'ULONG64', 'IORING_OBJECT'],
  ['RegBuffersAddress', 24, 8, 'u64', 'ULONG64', 'RegBuffers value seen'],
  ['RegBuffersCount', 32, 4, 'u32', 'ULONG', 'RegBuffersCount seen'],
  ['ViolationFlags', 36, 4, 'u32', 'ULONG', 'MON_REGBUF_VF_*'],
  ['Severity', 40, 1, 'u8', 'UCHAR', '1..5'],
  ['ATT_CK_Technique', 41, 16, 'char', 'CHAR[16]', 'technique'],
  ['Padding2', 57, 7, 'bytes', '(implicit)', 'alignment'],
]);

export const MON_RINGBUF_STATS_OUTPUT = defineStruct('MON_RINGBUF_STATS_OUTPUT', 56, PUB, [
  ['Size', 0, 4, 'u32', 'ULONG', '56'],
  ['BufferSizeBytes', 4, 4, 'u32', 'ULONG', 'ring bytes'],
  ['UsedBytes', 8, 4, 'u32', 'ULONG', 'bytes used'],
  ['FreeBytes', 12, 4, 'u32', 'ULONG', 'bytes free'],
  ['EventCount', 16, 4, 'u32', 'ULONG', 'events held'],
  ['TotalEventsWritten', 20, 4, 'u32', 'ULONG', 'lifetime'],
  ['EventsOverwritten', 24, 4, 'u32', 'ULONG', 'lost to overwrite'],
  ['EventsDropped', 28, 4, 'u32', 'ULONG', 'dropped'],
  ['WrapCount', 32, 4, 'u32', 'ULONG', 'wraps'],
  ['Padding', 36, 4, 'u32', '(implicit)', 'alignment'],
  ['OldestTimestamp', 40, 8, 'u64', 'ULONG64', 'oldest event'],
  ['NewestTimestamp', 48, 8, 'u64', 'ULONG64', 'newest event'],
]);

export const MON_RINGBUF_SNAPSHOT_OUTPUT = defineStruct('MON_RINGBUF_SNAPSHOT_OUTPUT', 48, PUB, [
  ['Size', 0, 4, 'u32', 'ULONG', '48'],
  ['EventCount', 4, 4, 'u32', 'ULONG', 'events after the header'],
  ['TotalBytes', 8, 4, 'u32', 'ULONG', 'header + events'],
  ['Flags', 12, 4, 'u32', 'ULONG', 'win11mon: 0x1 = more events after LastSequence'],
  ['SnapshotTime', 16, 8, 'u64', 'ULONG64', 'when taken'],
  ['OldestEventTime', 24, 8, 'u64', 'ULONG64', 'oldest'],
  ['NewestEventTime', 32, 8, 'u64', 'ULONG64', 'newest'],
  ['FirstSequence', 40, 4, 'u32', 'ULONG', 'first sequence'],
  ['LastSequence', 44, 4, 'u32', 'ULONG', 'last sequence'],
]);

/** Telemetry ring sizing (src/telemetry/telemetry_ringbuf.h of the C driver: default 1 MiB, clamp 64 KiB..16 MiB). */
const RINGBUF_H = 'ShaiKKO/FoxTwo_ src/telemetry/telemetry_ringbuf.h';
export const MON_RINGBUF_DEFAULT_SIZE = 1024 * 1024;
export const MON_RINGBUF_MIN_SIZE = 64 * 1024;
export const MON_RINGBUF_MAX_SIZE = 16 * 1024 * 1024;
export const MON_RINGBUF_CONFIG_INPUT = defineStruct('MON_RINGBUF_CONFIG_INPUT', 12, RINGBUF_H, [
  ['Size', 0, 4, 'u32', 'ULONG', '12'],
  ['BufferSizeBytes', 4, 4, 'u32', 'ULONG', '0 = the default (1 MiB); else 64 KiB..16 MiB'],
  ['Flags', 8, 4, 'u32', 'ULONG', 'reserved, must be 0'],
]);

export const ALL_MONITOR_STRUCTS = [
  MON_SERIALIZED_SQE, MON_INTERCEPT_REQUEST, MON_INTERCEPT_RESPONSE, MON_INTERCEPT_POLICY, MON_INTERCEPT_STATS,
  MON_BLACKLIST_ENTRY, MON_INTERCEPT_BLACKLIST_ADD_INPUT, MON_RING_EVENT, MON_OFFSET_STATUS_OUTPUT,
  MON_IORING_HANDLE_INFO, MON_REGBUF_VIOLATION_EVENT, MON_RINGBUF_STATS_OUTPUT, MON_RINGBUF_SNAPSHOT_OUTPUT, MON_RINGBUF_CONFIG_INPUT,
] as const;
