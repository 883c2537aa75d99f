// The Windows 11 IoRing ABI (x64): opcodes, flag words and the layouts of NT_IORING_SQE, its op
// payloads, the queue headers, NT_IORING_INFO and the public Win32 IORING_* types.
// Sources (see docs/abi.md for the full table):
//  [PDB22H2] ntdiff/headers Win11_2209_22H2/x64 ntoskrnl _NT_IORING_SUBMISSION_QUEUE.h, _IORING_OBJECT.h
//  [PDB24H2] ntdiff/headers Win11_2409_24H2 _NT_IORING_SUBMISSION_QUEUE.h, _NT_IORING_COMPLETION_QUEUE.h
//  [SDK]     Windows SDK ntioring_x.h / ioringapi.h (mingw-w64 mirrors them)
import { defineStruct } from './layout.js';

/** IORING_OP_CODE ([PDB22H2], [PDB24H2], [SDK] ntioring_x.h; "opcodes are never re-used"). */
export const IoRingOp = {
  NOP: 0,
  READ: 1,
  REGISTER_FILES: 2,
  REGISTER_BUFFERS: 3,
  CANCEL: 4,
  WRITE: 5, // IORING_VERSION_3 (22H2)
  FLUSH: 6, // IORING_VERSION_3 (22H2)
  READ_SCATTER: 7, // IORING_VERSION_4 (24H2)
  WRITE_GATHER: 8, // IORING_VERSION_4 (24H2)
} as const;
export const IORING_OP_MAX_KNOWN = 8;

const opNames = ['IORING_OP_NOP', 'IORING_OP_READ', 'IORING_OP_REGISTER_FILES', 'IORING_OP_REGISTER_BUFFERS', 'IORING_OP_CANCEL', 'IORING_OP_WRITE', 'IORING_OP_FLUSH', 'IORING_OP_READ_SCATTER', 'IORING_OP_WRITE_GATHER'];
/** "IORING_OP_READ" for 1; "IORING_OP_UNKNOWN(42)" for an opcode Windows does not define. */
export function opCodeName(op: number): string {
  return opNames[op] ?? `IORING_OP_UNKNOWN(${op >>> 0})`;
}

/** IORING_VERSION ([SDK], [PDB22H2] enum; VERSION_3 = 300, VERSION_4 = 400). */
export const IoRingVersion = { INVALID: 0, V1: 1, V2: 2, V3: 300, V4: 400 } as const;

/** NT_IORING_OP_FLAGS: the first DWORD of every op body; says whether File/Buffer are registered indexes. */
export const NT_IORING_OP_FLAG_NONE = 0;
export const NT_IORING_OP_FLAG_REGISTERED_FILE = 0x1;
export const NT_IORING_OP_FLAG_REGISTERED_BUFFER = 0x2;
/** Bits the kernel accepts in CommonOpFlags; IopIoRingDispatchWrite rejects others with 0xC0460001. */
export const NT_IORING_OP_FLAGS_VALID = 0x3;

/** NT_IORING_SQE_FLAGS ([PDB22H2]). */
export const NT_IORING_SQE_FLAG_NONE = 0;
export const NT_IORING_SQE_FLAG_DRAIN_PRECEDING_OPS = 0x1;
export const NT_IORING_SQE_FLAGS_VALID = 0x1;

/** NT_WRITE_FLAGS ([PDB22H2]). */
export const NT_WRITE_FLAG_WRITE_THROUGH = 0x1;
/** IORING_SUBMIT_WAIT_ALL ([SDK]). */
export const IORING_SUBMIT_WAIT_ALL = 0xffffffff;
/** IORING_FEATURE_FLAGS ([SDK]). */
export const IORING_FEATURE_UM_EMULATION = 0x1;
export const IORING_FEATURE_SET_COMPLETION_EVENT = 0x2;
/** IORING_REF_KIND (Win32 IORING_HANDLE_REF / IORING_BUFFER_REF). */
export const IORING_REF_RAW = 0;
export const IORING_REF_REGISTERED = 1;
/** NT_IORING_CREATE_ADVISORY_FLAGS, 24H2 ([PDB24H2]). */
export const NT_IORING_CREATE_SKIP_BUILDER_PARAM_CHECKS = 0x1;

export const NT_IORING_SQE_SIZE = 0x40;
export const NT_IORING_CQE_SIZE = 0x18;
export const NT_IORING_SQ_HEADER_SIZE = 0x10;
export const NT_IORING_CQ_HEADER_SIZE = 0x08;
export const IORING_BUFFER_INFO_SIZE = 0x10;

const PDB22 = 'ntdiff/headers Win11_2209_22H2/x64 ntoskrnl _NT_IORING_SUBMISSION_QUEUE.h (PDB)';
const PDB24 = 'ntdiff/headers Win11_2409_24H2 ntoskrnl _NT_IORING_SUBMISSION_QUEUE.h (PDB)';
const SDK = 'Windows SDK ioringapi.h / ntioring_x.h (mingw-w64 copy)';

/** NT_IORING_SQE, 64 bytes; the op union starts at 0x10. Offsets below are absolute in the SQE. */
export const NT_IORING_SQE = defineStruct('NT_IORING_SQE', 0x40, PDB22, [
  ['OpCode', 0x00, 4, 'u32', 'IORING_OP_CODE', 'operation'],
  ['Flags', 0x04, 4, 'u32', 'NT_IORING_SQE_FLAGS', 'NT_IORING_SQE_FLAG_DRAIN_PRECEDING_OPS = 1'],
  ['UserData', 0x08, 8, 'u64', 'ULONG64', 'caller cookie copied to the CQE'],
  ['Op', 0x10, 0x30, 'bytes', 'union (NT_IORING_OP_*)', 'op payload, by OpCode'],
]);

export const NT_IORING_OP_READ = defineStruct('NT_IORING_OP_READ', 0x28, PDB22, [
  ['CommonOpFlags', 0x00, 4, 'u32', 'NT_IORING_OP_FLAGS', 'registered file 0x1 / registered buffer 0x2'],
  ['Padding', 0x04, 4, 'u32', 'ULONG', 'reserved'],
  ['File', 0x08, 8, 'u64', 'NT_IORING_HANDLEREF', 'HANDLE, or HandleIndex into RegFiles'],
  ['Buffer', 0x10, 8, 'u64', 'NT_IORING_BUFFERREF', 'address, or {BufferIndex, Offset} into RegBuffers'],
  ['Offset', 0x18, 8, 'u64', 'ULONG64', 'file offset'],
  ['Length', 0x20, 4, 'u32', 'ULONG', 'bytes to read'],
  ['Key', 0x24, 4, 'u32', 'ULONG', 'lock key'],
]);

export const NT_IORING_OP_WRITE = defineStruct('NT_IORING_OP_WRITE', 0x28, PDB22, [
  ['CommonOpFlags', 0x00, 4, 'u32', 'NT_IORING_OP_FLAGS', 'registered file 0x1 / registered buffer 0x2'],
  ['Flags', 0x04, 4, 'u32', 'NT_WRITE_FLAGS', 'NT_WRITE_FLAG_WRITE_THROUGH = 1'],
  ['File', 0x08, 8, 'u64', 'NT_IORING_HANDLEREF', 'HANDLE, or HandleIndex into RegFiles'],
  ['Buffer', 0x10, 8, 'u64', 'NT_IORING_BUFFERREF', 'address, or {BufferIndex, Offset} into RegBuffers'],
  ['Offset', 0x18, 8, 'u64', 'ULONG64', 'file offset'],
  ['Length', 0x20, 4, 'u32', 'ULONG', 'bytes to write'],
  ['Key', 0x24, 4, 'u32', 'ULONG', 'lock key'],
]);

export const NT_IORING_OP_FLUSH = defineStruct('NT_IORING_OP_FLUSH', 0x10, PDB22, [
  ['CommonOpFlags', 0x00, 4, 'u32', 'NT_IORING_OP_FLAGS', 'registered file 0x1'],
  ['Flags', 0x04, 4, 'u32', 'ULONG', 'FILE_FLUSH_MODE'],
  ['File', 0x08, 8, 'u64', 'NT_IORING_HANDLEREF', 'HANDLE, or HandleIndex'],
]);

export const NT_IORING_OP_CANCEL = defineStruct('NT_IORING_OP_CANCEL', 0x18, PDB22, [
  ['CommonOpFlags', 0x00, 4, 'u32', 'NT_IORING_OP_FLAGS', 'registered file 0x1'],
  ['Padding', 0x04, 4, 'u32', '(implicit)', 'alignment'],
  ['File', 0x08, 8, 'u64', 'NT_IORING_HANDLEREF', 'file whose op is cancelled'],
  ['CancelId', 0x10, 8, 'u64', 'ULONG64', 'UserData of the op to cancel'],
]);

export const NT_IORING_OP_REGISTER_FILES = defineStruct('NT_IORING_OP_REGISTER_FILES', 0x18, PDB22, [
  ['CommonOpFlags', 0x00, 4, 'u32', 'NT_IORING_OP_FLAGS', 'must be 0'],
  ['Flags.Required', 0x04, 4, 'u32', 'NT_IORING_REG_FILES_REQ_FLAGS', 'only NONE defined'],
  ['Flags.Advisory', 0x08, 4, 'u32', 'NT_IORING_REG_FILES_ADV_FLAGS', 'only NONE defined'],
  ['Count', 0x0c, 4, 'u32', 'ULONG', 'handles in the array'],
  ['Handles', 0x10, 8, 'ptr', 'void**', 'user array of HANDLE'],
]);

export const NT_IORING_OP_REGISTER_BUFFERS = defineStruct('NT_IORING_OP_REGISTER_BUFFERS', 0x18, PDB22, [
  ['CommonOpFlags', 0x00, 4, 'u32', 'NT_IORING_OP_FLAGS', 'must be 0'],
  ['Flags.Required', 0x04, 4, 'u32', 'NT_IORING_REG_BUFFERS_REQ_FLAGS', 'only NONE defined'],
  ['Flags.Advisory', 0x08, 4, 'u32', 'NT_IORING_REG_BUFFERS_ADV_FLAGS', 'only NONE defined'],
  ['Count', 0x0c, 4, 'u32', 'ULONG', 'IORING_BUFFER_INFO elements'],
  ['Buffers', 0x10, 8, 'ptr', 'IORING_BUFFER_INFO*', 'user array of {Address, Length}'],
]);

/** READ_SCATTER / WRITE_GATHER share one shape (24H2, [PDB24H2]). */
export const NT_IORING_OP_READ_SCATTER = defineStruct('NT_IORING_OP_READ_SCATTER', 0x30, PDB24, [
  ['CommonOpFlags', 0x00, 4, 'u32', 'NT_IORING_OP_FLAGS', 'registered file 0x1'],
  ['Padding', 0x04, 4, 'u32', 'ULONG', 'reserved (WRITE_GATHER: NT_WRITE_FLAGS)'],
  ['File', 0x08, 8, 'u64', 'NT_IORING_HANDLEREF', 'HANDLE, or HandleIndex'],
  ['SegmentCount', 0x10, 4, 'u32', 'ULONG', 'FILE_SEGMENT_ELEMENT count'],
  ['Padding2', 0x14, 4, 'u32', '(implicit)', 'alignment'],
  ['SegmentArray', 0x18, 8, 'ptr', 'FILE_SEGMENT_ELEMENT*', 'page-sized segments'],
  ['Offset', 0x20, 8, 'u64', 'ULONG64', 'file offset'],
  ['Length', 0x28, 4, 'u32', 'ULONG', 'total bytes'],
  ['Key', 0x2c, 4, 'u32', 'ULONG', 'lock key'],
]);

/** Offsets of op fields, absolute within the 64-byte SQE (op union at 0x10). Hot-path readers use these. */
export const SqeOff = {
  OpCode: 0x00,
  Flags: 0x04,
  UserData: 0x08,
  CommonOpFlags: 0x10,
  OpFlags: 0x14, // WRITE Flags / FLUSH Flags / READ Padding / REGISTER_* Flags.Required
  File: 0x18, // READ/WRITE/FLUSH/CANCEL/SCATTER
  Buffer: 0x20, // READ/WRITE
  Offset: 0x28, // READ/WRITE
  Length: 0x30, // READ/WRITE
  Key: 0x34, // READ/WRITE
  CancelId: 0x20, // CANCEL
  RegAdvisory: 0x18, // REGISTER_* Flags.Advisory
  RegCount: 0x1c, // REGISTER_* Count
  RegArray: 0x20, // REGISTER_FILES Handles / REGISTER_BUFFERS Buffers
  SegmentCount: 0x20, // SCATTER/GATHER
  SegmentArray: 0x28,
  SgOffset: 0x30,
  SgLength: 0x38,
  SgKey: 0x3c,
} as const;

export const NT_IORING_SUBMISSION_QUEUE = defineStruct('NT_IORING_SUBMISSION_QUEUE', 0x10, PDB22, [
  ['Head', 0x00, 4, 'u32', 'ULONG', 'next entry the kernel consumes'],
  ['Tail', 0x04, 4, 'u32', 'ULONG', 'next entry user mode fills'],
  ['Flags', 0x08, 4, 'u32', 'NT_IORING_SQ_FLAGS', 'bit 0 set by the kernel when the CQ is full'],
  ['Padding', 0x0c, 4, 'u32', '(implicit)', 'Entries[] start at 0x10'],
]);

export const NT_IORING_COMPLETION_QUEUE = defineStruct('NT_IORING_COMPLETION_QUEUE', 0x08, 'ntdiff/headers Win11_2409_24H2 _NT_IORING_COMPLETION_QUEUE.h (PDB)', [
  ['Head', 0x00, 4, 'u32', 'ULONG', 'next entry user mode pops'],
  ['Tail', 0x04, 4, 'u32', 'ULONG', 'next entry the kernel fills'],
]);

export const NT_IORING_CQE = defineStruct('NT_IORING_CQE', 0x18, 'ntdiff/headers Win11_2409_24H2 _NT_IORING_COMPLETION_QUEUE.h (PDB)', [
  ['UserData', 0x00, 8, 'u64', 'ULONG64', 'SQE UserData'],
  ['ResultCode', 0x08, 4, 'u32', 'HRESULT (IO_STATUS_BLOCK.Status)', 'HRESULT_FROM_NT(status)'],
  ['Padding', 0x0c, 4, 'u32', '(union padding)', 'zero'],
  ['Information', 0x10, 8, 'u64', 'ULONG_PTR', 'bytes transferred'],
]);

export const NT_IORING_INFO = defineStruct('NT_IORING_INFO', 0x30, 'ntdiff/headers Win11_2209_22H2/x64 _IORING_OBJECT.h (PDB)', [
  ['IoRingVersion', 0x00, 4, 'u32', 'IORING_VERSION', 'negotiated version'],
  ['Flags.Required', 0x04, 4, 'u32', 'NT_IORING_CREATE_REQUIRED_FLAGS', 'NONE'],
  ['Flags.Advisory', 0x08, 4, 'u32', 'NT_IORING_CREATE_ADVISORY_FLAGS', 'SKIP_BUILDER_PARAM_CHECKS (24H2)'],
  ['SubmissionQueueSize', 0x0c, 4, 'u32', 'ULONG', 'entries (power of two)'],
  ['SubmissionQueueRingMask', 0x10, 4, 'u32', 'ULONG', 'size - 1'],
  ['CompletionQueueSize', 0x14, 4, 'u32', 'ULONG', 'entries (power of two)'],
  ['CompletionQueueRingMask', 0x18, 4, 'u32', 'ULONG', 'size - 1'],
  ['Padding', 0x1c, 4, 'u32', '(implicit)', 'alignment'],
  ['SubmissionQueue', 0x20, 8, 'ptr', 'NT_IORING_SUBMISSION_QUEUE*', 'user VA of the shared mapping'],
  ['CompletionQueue', 0x28, 8, 'ptr', 'NT_IORING_COMPLETION_QUEUE*', 'user VA of the shared mapping'],
]);

/** NtCreateIoRing input (RE'd: yardenshafir/IoRing_Demos ioringnt.h, CarterLi/libwinring ioringnt.h). */
export const NT_IORING_STRUCTV1 = defineStruct('NT_IORING_STRUCTV1', 0x14, 'CarterLi/libwinring include/ioringnt.h (pdbex-derived)', [
  ['IoRingVersion', 0x00, 4, 'u32', 'IORING_VERSION', 'requested version'],
  ['SubmissionQueueSize', 0x04, 4, 'u32', 'ULONG', 'requested SQ entries'],
  ['CompletionQueueSize', 0x08, 4, 'u32', 'ULONG', 'requested CQ entries'],
  ['Flags.Required', 0x0c, 4, 'u32', 'NT_IORING_CREATE_REQUIRED_FLAGS', 'NONE'],
  ['Flags.Advisory', 0x10, 4, 'u32', 'NT_IORING_CREATE_ADVISORY_FLAGS', 'advisory'],
]);

export const NT_IORING_CAPABILITIES = defineStruct('NT_IORING_CAPABILITIES', 0x14, 'CarterLi/libwinring include/ioringnt.h', [
  ['IoRingVersion', 0x00, 4, 'u32', 'IORING_VERSION', 'highest version'],
  ['MaxOpCode', 0x04, 4, 'u32', 'IORING_OP_CODE', 'highest opcode'],
  ['FlagsSupported', 0x08, 4, 'u32', 'IORING_FEATURE_FLAGS', 'features'],
  ['SubmissionQueueSize', 0x0c, 4, 'u32', 'ULONG', 'max SQ entries'],
  ['CompletionQueueSize', 0x10, 4, 'u32', 'ULONG', 'max CQ entries'],
]);

// Win32 types: checked against mingw-w64's ioringapi.h by the compile test.
export const IORING_INFO = defineStruct('IORING_INFO', 0x14, SDK, [
  ['IoRingVersion', 0x00, 4, 'u32', 'IORING_VERSION', 'version'],
  ['Flags.Required', 0x04, 4, 'u32', 'IORING_CREATE_REQUIRED_FLAGS', 'required'],
  ['Flags.Advisory', 0x08, 4, 'u32', 'IORING_CREATE_ADVISORY_FLAGS', 'advisory'],
  ['SubmissionQueueSize', 0x0c, 4, 'u32', 'UINT32', 'SQ entries'],
  ['CompletionQueueSize', 0x10, 4, 'u32', 'UINT32', 'CQ entries'],
]);

export const IORING_CAPABILITIES = defineStruct('IORING_CAPABILITIES', 0x10, SDK, [
  ['MaxVersion', 0x00, 4, 'u32', 'IORING_VERSION', 'highest version'],
  ['MaxSubmissionQueueSize', 0x04, 4, 'u32', 'UINT32', 'max SQ entries'],
  ['MaxCompletionQueueSize', 0x08, 4, 'u32', 'UINT32', 'max CQ entries'],
  ['FeatureFlags', 0x0c, 4, 'u32', 'IORING_FEATURE_FLAGS', 'features'],
]);

export const IORING_CQE = defineStruct('IORING_CQE', 0x18, SDK, [
  ['UserData', 0x00, 8, 'u64', 'UINT_PTR', 'SQE UserData'],
  ['ResultCode', 0x08, 4, 'u32', 'HRESULT', 'result'],
  ['Padding', 0x0c, 4, 'u32', '(implicit)', 'alignment'],
  ['Information', 0x10, 8, 'u64', 'ULONG_PTR', 'bytes transferred'],
]);

export const IORING_BUFFER_INFO = defineStruct('IORING_BUFFER_INFO', 0x10, SDK, [
  ['Address', 0x00, 8, 'ptr', 'void*', 'buffer VA'],
  ['Length', 0x08, 4, 'u32', 'UINT32', 'bytes'],
  ['Padding', 0x0c, 4, 'u32', '(implicit)', 'alignment'],
]);

export const IORING_REGISTERED_BUFFER = defineStruct('IORING_REGISTERED_BUFFER', 0x08, SDK, [
  ['BufferIndex', 0x00, 4, 'u32', 'UINT32', 'index into RegBuffers'],
  ['Offset', 0x04, 4, 'u32', 'UINT32', 'offset inside that buffer'],
]);

export const IORING_HANDLE_REF = defineStruct('IORING_HANDLE_REF', 0x10, SDK, [
  ['Kind', 0x00, 4, 'u32', 'IORING_REF_KIND', 'IORING_REF_RAW 0 / IORING_REF_REGISTERED 1'],
  ['Padding', 0x04, 4, 'u32', '(implicit)', 'alignment'],
  ['Handle', 0x08, 8, 'u64', 'union { HANDLE Handle; UINT32 Index; }', 'handle or registered index'],
]);

export const IORING_BUFFER_REF = defineStruct('IORING_BUFFER_REF', 0x10, SDK, [
  ['Kind', 0x00, 4, 'u32', 'IORING_REF_KIND', 'IORING_REF_RAW 0 / IORING_REF_REGISTERED 1'],
  ['Padding', 0x04, 4, 'u32', '(implicit)', 'alignment'],
  ['Buffer', 0x08, 8, 'u64', 'union { void* Address; IORING_REGISTERED_BUFFER IndexAndOffset; }', 'address or index+offset'],
]);

/** _IOP_MC_BUFFER_ENTRY, 22H2 x64 ([PDB] ntdiff/headers _IOP_MC_BUFFER_ENTRY.h); 0x80 with one page node. */
export const IOP_MC_BUFFER_ENTRY = defineStruct('IOP_MC_BUFFER_ENTRY', 0x80, 'ntdiff/headers Win11_2209_22H2/x64 _IOP_MC_BUFFER_ENTRY.h (PDB)', [
  ['Type', 0x00, 2, 'u16', 'USHORT', '0x0C02 (IopMcCreateBufferEntry)'],
  ['Reserved', 0x02, 2, 'u16', 'USHORT', 'zero'],
  ['Size', 0x04, 4, 'u32', 'ULONG', '0x20 * (pages + 3)'],
  ['ReferenceCount', 0x08, 4, 'i32', 'LONG', '>= 1'],
  ['Flags', 0x0c, 4, 'u32', 'IOP_MC_BUFFER_ENTRY_FLAGS', 'UNLOCK 1, SIGNAL_RUNDOWN 2, CLEANED_UP 4'],
  ['GlobalDataLink', 0x10, 0x10, 'bytes', 'LIST_ENTRY', 'global list of MC entries'],
  ['Address', 0x20, 8, 'ptr', 'void*', 'buffer VA'],
  ['Length', 0x28, 4, 'u32', 'ULONG', 'buffer bytes'],
  ['AccessMode', 0x2c, 1, 'u8', 'CHAR', 'PreviousMode at registration (1 = UserMode)'],
  ['MdlRef', 0x30, 4, 'i32', 'LONG', 'MDL references'],
  ['Mdl', 0x38, 8, 'ptr', 'MDL*', 'lazily built MDL'],
  ['MdlRundownEvent', 0x40, 0x18, 'bytes', 'KEVENT', 'rundown event'],
  ['PfnArray', 0x58, 8, 'ptr', 'ULONG64*', 'PFNs'],
  ['PageNodes', 0x60, 0x20, 'bytes', 'IOP_MC_BE_PAGE_NODE[1]', 'one page node'],
]);
export const IOP_MC_BUFFER_ENTRY_TYPE = 0x0c02;
