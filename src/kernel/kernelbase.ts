// A minimal KernelBase-like user layer over an emulated process's ntdll: CreateIoRing, the
// BuildIoRing* builders writing real NT_IORING_SQEs into the user-mapped submission queue,
// SubmitIoRing (through process.ntdll, so a hook on that table sees it) and PopIoRingCompletion.
// Prototypes follow ioringapi.h ([SDK] reference §1.7); HRESULTs are returned instead of thrown.
import { NtStatus, hresultFromNt } from '../abi/ntstatus.js';
import {
  IoRingOp, IoRingVersion, IORING_REF_RAW, IORING_REF_REGISTERED, NT_IORING_OP_FLAG_REGISTERED_BUFFER, NT_IORING_OP_FLAG_REGISTERED_FILE,
  NT_IORING_SQE_SIZE, NT_IORING_SQ_HEADER_SIZE, NT_IORING_CQ_HEADER_SIZE, NT_IORING_CQE_SIZE, NT_IORING_CREATE_SKIP_BUILDER_PARAM_CHECKS, SqeOff as SqeOff_,
} from '../abi/ioring.js';
import { hiOf, loOf, toBigInt } from '../abi/u64.js';
import { addHi as addHi_, addLo as addLo_ } from './memory.js';

// Hot-path bindings as module-local constants (imported bindings go through getters under tsx).
const SqeOff = { ...SqeOff_ };
const addHi = addHi_;
const addLo = addLo_;
import type { EmulatedProcess } from './process.js';
import type { NtApi } from './ntapi.js';

export const S_OK = 0;
export const S_FALSE = 1;
export const E_INVALIDARG = 0x80070057;
/** winerror.h IORING_E_* (values from the SDK header, recalled; not re-verified in this repository). */
export const IORING_E_SUBMISSION_QUEUE_FULL = 0x80460002;
/** INFINITE for SubmitIoRing's milliseconds. */
export const INFINITE = 0xffffffff;

/** IORING_HANDLE_REF. */
export interface IoRingHandleRef { kind: number; handle: number }
/** IORING_BUFFER_REF: raw address, or registered { index, offset }. */
export interface IoRingBufferRef { kind: number; address: bigint; index: number; offset: number }

export function IoRingHandleRefFromHandle(handle: number): IoRingHandleRef {
  return { kind: IORING_REF_RAW, handle };
}
export function IoRingHandleRefFromIndex(index: number): IoRingHandleRef {
  return { kind: IORING_REF_REGISTERED, handle: index };
}
export function IoRingBufferRefFromPointer(address: bigint): IoRingBufferRef {
  return { kind: IORING_REF_RAW, address, index: 0, offset: 0 };
}
export function IoRingBufferRefFromIndexAndOffset(index: number, offset: number): IoRingBufferRef {
  return { kind: IORING_REF_REGISTERED, address: 0n, index, offset };
}

/** IORING_CQE as PopIoRingCompletion returns it. */
export interface IoRingCqe { UserData: bigint; ResultCode: number; Information: number }

/**
 * The user-mode HIORING object (KernelBase private). Modelled as a plain object with the fields the
 * exploit patches (reference §1.7: RegBufferArray @+0x40, BufferArraySize @+0x48 in the 2022 PoCs).
 */
export class HIORING {
  /** The kernel IoRing handle (first field of the real struct: `*(PHANDLE)hIoRing`). */
  handle = 0;
  IoRingKernelAcceptedVersion = 0;
  /** User VA of the registered-buffer array KernelBase keeps (what BuildIoRingRegisterBuffers was given). */
  RegBufferArray = 0n;
  BufferArraySize = 0;
  FileHandlesCount = 0;
  /** Local SQ tail: builders fill entries here, SubmitIoRing publishes it. */
  SubQueueTail = 0;
  SubQueueHead = 0;
  sqSize = 0;
  sqMask = 0;
  cqSize = 0;
  cqMask = 0;
  sqHi = 0;
  sqLo = 0;
  cqHi = 0;
  cqLo = 0;
  advisoryFlags = 0;
  /** A user page for syscall parameter blocks. */
  scratch = 0n;
  private readonly sqe = new Uint8Array(NT_IORING_SQE_SIZE);
  readonly sqeDv = new DataView(this.sqe.buffer);
  constructor(readonly process: EmulatedProcess) {}

  get submissionQueue(): bigint { return toBigInt(this.sqHi, this.sqLo); }
  get completionQueue(): bigint { return toBigInt(this.cqHi, this.cqLo); }

  /** @internal writes the scratch SQE into the next free slot. */
  commitSqe(): number {
    const m = this.process.memory;
    const head = m.readU32(this.sqHi, this.sqLo);
    if (((this.SubQueueTail - head) >>> 0) >= this.sqSize) return IORING_E_SUBMISSION_QUEUE_FULL;
    const off = NT_IORING_SQ_HEADER_SIZE + ((this.SubQueueTail & this.sqMask) >>> 0) * NT_IORING_SQE_SIZE;
    m.writeFrom(addHi(this.sqHi, this.sqLo, off), addLo(this.sqLo, off), this.sqe, 0, NT_IORING_SQE_SIZE);
    this.SubQueueTail = (this.SubQueueTail + 1) >>> 0;
    return S_OK;
  }

  /** @internal zeroed scratch SQE with opcode, flags and user data. */
  beginSqe(op: number, flags: number, userData: number | bigint): DataView {
    this.sqe.fill(0);
    const dv = this.sqeDv;
    dv.setUint32(SqeOff.OpCode, op, true);
    dv.setUint32(SqeOff.Flags, flags, true);
    if (typeof userData === 'bigint') {
      dv.setUint32(SqeOff.UserData, Number(userData & 0xffffffffn), true);
      dv.setUint32(SqeOff.UserData + 4, Number((userData >> 32n) & 0xffffffffn), true);
    } else {
      dv.setUint32(SqeOff.UserData, userData >>> 0, true);
      dv.setUint32(SqeOff.UserData + 4, Math.floor(userData / 0x100000000) >>> 0, true);
    }
    return dv;
  }

  get checksParams(): boolean {
    return (this.advisoryFlags & NT_IORING_CREATE_SKIP_BUILDER_PARAM_CHECKS) === 0;
  }
}

function scratchOf(p: EmulatedProcess, ring?: HIORING): bigint {
  if (ring && ring.scratch !== 0n) return ring.scratch;
  const s = p.virtualAlloc(0x1000);
  if (ring) ring.scratch = s;
  return s;
}

/** QueryIoRingCapabilities → IORING_CAPABILITIES. */
export function QueryIoRingCapabilities(p: EmulatedProcess, nt: NtApi = p.ntdll): { hr: number; MaxVersion: number; MaxSubmissionQueueSize: number; MaxCompletionQueueSize: number; FeatureFlags: number; MaxOpCode: number } {
  const s = scratchOf(p);
  const st = nt.NtQueryIoRingCapabilities(0x14, s);
  const r = { hr: hresultFromNt(st), MaxVersion: p.readU32(s), MaxOpCode: p.readU32(s + 4n), FeatureFlags: p.readU32(s + 8n), MaxSubmissionQueueSize: p.readU32(s + 0xcn), MaxCompletionQueueSize: p.readU32(s + 0x10n) };
  p.virtualFree(s);
  return r;
}

/**
 * CreateIoRing(version, flags, sqSize, cqSize, &h): NtCreateIoRing with an NT_IORING_STRUCTV1, then the
 * returned NT_IORING_INFO (user VAs of the queues) is kept in the HIORING.
 * @example const { hr, ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 0x10000, 0x20000);
 */
export function CreateIoRing(p: EmulatedProcess, version: number, flags: { required: number; advisory: number }, submissionQueueSize: number, completionQueueSize: number, nt: NtApi = p.ntdll): { hr: number; ring?: HIORING } {
  const ring = new HIORING(p);
  const s = scratchOf(p, ring);
  p.writeU32(s, version);
  p.writeU32(s + 4n, submissionQueueSize);
  p.writeU32(s + 8n, completionQueueSize);
  p.writeU32(s + 0xcn, flags.required);
  p.writeU32(s + 0x10n, flags.advisory);
  const info = s + 0x100n;
  const out = s + 0x80n;
  const st = nt.NtCreateIoRing(out, 0x14, s, 0x30, info);
  if (st !== NtStatus.STATUS_SUCCESS) {
    p.virtualFree(s);
    return { hr: hresultFromNt(st) };
  }
  ring.handle = Number(p.readU64(out));
  ring.IoRingKernelAcceptedVersion = p.readU32(info);
  ring.advisoryFlags = p.readU32(info + 8n);
  ring.sqSize = p.readU32(info + 0xcn);
  ring.sqMask = p.readU32(info + 0x10n);
  ring.cqSize = p.readU32(info + 0x14n);
  ring.cqMask = p.readU32(info + 0x18n);
  const sq = p.readU64(info + 0x20n);
  const cq = p.readU64(info + 0x28n);
  ring.sqHi = hiOf(sq); ring.sqLo = loOf(sq);
  ring.cqHi = hiOf(cq); ring.cqLo = loOf(cq);
  return { hr: S_OK, ring };
}

function putFile(ring: HIORING, dv: DataView, ref: IoRingHandleRef): number | undefined {
  if (ref.kind === IORING_REF_REGISTERED) {
    if (ring.checksParams && ref.handle >= ring.FileHandlesCount) return E_INVALIDARG;
    dv.setUint32(SqeOff.File, ref.handle >>> 0, true);
    return NT_IORING_OP_FLAG_REGISTERED_FILE;
  }
  if (ref.kind !== IORING_REF_RAW) return E_INVALIDARG;
  dv.setUint32(SqeOff.File, ref.handle >>> 0, true);
  return 0;
}

function putBuffer(ring: HIORING, dv: DataView, ref: IoRingBufferRef): number | undefined {
  if (ref.kind === IORING_REF_REGISTERED) {
    // KernelBase only knows the array it was given (or the one the exploit patched in, reference §4 step 5).
    if (ring.checksParams && ref.index >= ring.BufferArraySize) return E_INVALIDARG;
    dv.setUint32(SqeOff.Buffer, ref.index >>> 0, true);
    dv.setUint32(SqeOff.Buffer + 4, ref.offset >>> 0, true);
    return NT_IORING_OP_FLAG_REGISTERED_BUFFER;
  }
  if (ref.kind !== IORING_REF_RAW) return E_INVALIDARG;
  dv.setUint32(SqeOff.Buffer, loOf(ref.address), true);
  dv.setUint32(SqeOff.Buffer + 4, hiOf(ref.address), true);
  return 0;
}

function readOrWrite(ring: HIORING, op: number, file: IoRingHandleRef, buffer: IoRingBufferRef, n: number, offset: number | bigint, writeFlags: number, userData: number | bigint, sqeFlags: number): number {
  const dv = ring.beginSqe(op, sqeFlags, userData);
  const ff = putFile(ring, dv, file);
  if (ff === E_INVALIDARG) return E_INVALIDARG;
  const bf = putBuffer(ring, dv, buffer);
  if (bf === E_INVALIDARG) return E_INVALIDARG;
  dv.setUint32(SqeOff.CommonOpFlags, (ff! | bf!) >>> 0, true);
  dv.setUint32(SqeOff.OpFlags, writeFlags >>> 0, true);
  if (typeof offset === 'bigint') {
    dv.setUint32(SqeOff.Offset, loOf(offset), true);
    dv.setUint32(SqeOff.Offset + 4, hiOf(offset), true);
  } else {
    dv.setUint32(SqeOff.Offset, offset >>> 0, true);
    dv.setUint32(SqeOff.Offset + 4, Math.floor(offset / 0x100000000) >>> 0, true);
  }
  dv.setUint32(SqeOff.Length, n >>> 0, true);
  return ring.commitSqe();
}

/** BuildIoRingReadFile(ring, fileRef, dataRef, numberOfBytesToRead, fileOffset, userData, sqeFlags). */
export function BuildIoRingReadFile(ring: HIORING, file: IoRingHandleRef, buffer: IoRingBufferRef, numberOfBytesToRead: number, fileOffset: number | bigint, userData: number | bigint, sqeFlags = 0): number {
  return readOrWrite(ring, IoRingOp.READ, file, buffer, numberOfBytesToRead, fileOffset, 0, userData, sqeFlags);
}

/** BuildIoRingWriteFile(ring, fileRef, bufferRef, numberOfBytesToWrite, fileOffset, writeFlags, userData, sqeFlags). */
export function BuildIoRingWriteFile(ring: HIORING, file: IoRingHandleRef, buffer: IoRingBufferRef, numberOfBytesToWrite: number, fileOffset: number | bigint, writeFlags: number, userData: number | bigint, sqeFlags = 0): number {
  return readOrWrite(ring, IoRingOp.WRITE, file, buffer, numberOfBytesToWrite, fileOffset, writeFlags, userData, sqeFlags);
}

/** BuildIoRingFlushFile(ring, fileRef, flushMode, userData, sqeFlags). */
export function BuildIoRingFlushFile(ring: HIORING, file: IoRingHandleRef, flushMode: number, userData: number | bigint, sqeFlags = 0): number {
  const dv = ring.beginSqe(IoRingOp.FLUSH, sqeFlags, userData);
  const ff = putFile(ring, dv, file);
  if (ff === E_INVALIDARG) return E_INVALIDARG;
  dv.setUint32(SqeOff.CommonOpFlags, ff!, true);
  dv.setUint32(SqeOff.OpFlags, flushMode >>> 0, true);
  return ring.commitSqe();
}

/** BuildIoRingCancelRequest(ring, fileRef, opToCancel, userData). */
export function BuildIoRingCancelRequest(ring: HIORING, file: IoRingHandleRef, opToCancel: number | bigint, userData: number | bigint): number {
  const dv = ring.beginSqe(IoRingOp.CANCEL, 0, userData);
  const ff = putFile(ring, dv, file);
  if (ff === E_INVALIDARG) return E_INVALIDARG;
  dv.setUint32(SqeOff.CommonOpFlags, ff!, true);
  const c = typeof opToCancel === 'bigint' ? opToCancel : BigInt(opToCancel);
  dv.setUint32(SqeOff.CancelId, loOf(c), true);
  dv.setUint32(SqeOff.CancelId + 4, hiOf(c), true);
  return ring.commitSqe();
}

/** Not a Win32 API (there is no BuildIoRingNop); writes an IORING_OP_NOP SQE for tests and workloads. */
export function BuildIoRingNop(ring: HIORING, userData: number | bigint, sqeFlags = 0): number {
  ring.beginSqe(IoRingOp.NOP, sqeFlags, userData);
  return ring.commitSqe();
}

/** BuildIoRingRegisterFileHandles(ring, count, handles (user array of HANDLE), userData). */
export function BuildIoRingRegisterFileHandles(ring: HIORING, count: number, handles: bigint, userData: number | bigint): number {
  const dv = ring.beginSqe(IoRingOp.REGISTER_FILES, 0, userData);
  dv.setUint32(SqeOff.RegCount, count >>> 0, true);
  dv.setUint32(SqeOff.RegArray, loOf(handles), true);
  dv.setUint32(SqeOff.RegArray + 4, hiOf(handles), true);
  const hr = ring.commitSqe();
  if (hr === S_OK) ring.FileHandlesCount = count;
  return hr;
}

/** BuildIoRingRegisterBuffers(ring, count, buffers (user array of IORING_BUFFER_INFO), userData). */
export function BuildIoRingRegisterBuffers(ring: HIORING, count: number, buffers: bigint, userData: number | bigint): number {
  const dv = ring.beginSqe(IoRingOp.REGISTER_BUFFERS, 0, userData);
  dv.setUint32(SqeOff.RegCount, count >>> 0, true);
  dv.setUint32(SqeOff.RegArray, loOf(buffers), true);
  dv.setUint32(SqeOff.RegArray + 4, hiOf(buffers), true);
  const hr = ring.commitSqe();
  if (hr === S_OK) {
    ring.RegBufferArray = buffers;
    ring.BufferArraySize = count;
  }
  return hr;
}

/** BuildIoRingReadFileScatter / WriteFileGather (IORING_VERSION_4): segments = user array of page pointers. */
export function BuildIoRingScatterGather(ring: HIORING, write: boolean, file: IoRingHandleRef, segmentCount: number, segments: bigint, numberOfBytes: number, fileOffset: number, userData: number | bigint, sqeFlags = 0): number {
  const dv = ring.beginSqe(write ? IoRingOp.WRITE_GATHER : IoRingOp.READ_SCATTER, sqeFlags, userData);
  const ff = putFile(ring, dv, file);
  if (ff === E_INVALIDARG) return E_INVALIDARG;
  dv.setUint32(SqeOff.CommonOpFlags, ff!, true);
  dv.setUint32(SqeOff.SegmentCount, segmentCount >>> 0, true);
  dv.setUint32(SqeOff.SegmentArray, loOf(segments), true);
  dv.setUint32(SqeOff.SegmentArray + 4, hiOf(segments), true);
  dv.setUint32(SqeOff.SgOffset, fileOffset >>> 0, true);
  dv.setUint32(SqeOff.SgOffset + 4, Math.floor(fileOffset / 0x100000000) >>> 0, true);
  dv.setUint32(SqeOff.SgLength, numberOfBytes >>> 0, true);
  return ring.commitSqe();
}

/**
 * SubmitIoRing(ring, waitOperations, milliseconds, &submitted): publishes the SQ tail and calls
 * NtSubmitIoRing through `nt` (default: the process's ntdll table, read at call time so hooks apply).
 */
export function SubmitIoRing(ring: HIORING, waitOperations: number, milliseconds: number, submitted?: { value: number }, nt: NtApi = ring.process.ntdll): number {
  const m = ring.process.memory;
  const before = m.readU32(ring.sqHi, ring.sqLo);
  m.writeU32(ring.sqHi, ring.sqLo + 4, ring.SubQueueTail);
  let timeout = 0n;
  if (waitOperations !== 0 && milliseconds !== INFINITE) {
    timeout = scratchOf(ring.process, ring) + 0x40n;
    ring.process.writeU64(timeout, BigInt.asUintN(64, -BigInt(milliseconds) * 10000n)); // relative, 100 ns units
  }
  const st = nt.NtSubmitIoRing(ring.handle, 0, waitOperations, timeout);
  const after = m.readU32(ring.sqHi, ring.sqLo);
  ring.SubQueueHead = after;
  if (submitted) submitted.value = (after - before) >>> 0;
  return st === NtStatus.STATUS_SUCCESS ? S_OK : hresultFromNt(st);
}

/** PopIoRingCompletion(ring, &cqe): S_OK with the entry, S_FALSE when the CQ is empty. */
export function PopIoRingCompletion(ring: HIORING, cqe: IoRingCqe): number {
  const m = ring.process.memory;
  const head = m.readU32(ring.cqHi, ring.cqLo);
  const tail = m.readU32(ring.cqHi, ring.cqLo + 4);
  if (head === tail) return S_FALSE;
  const off = NT_IORING_CQ_HEADER_SIZE + ((head & ring.cqMask) >>> 0) * NT_IORING_CQE_SIZE;
  const h = addHi(ring.cqHi, ring.cqLo, off);
  const l = addLo(ring.cqLo, off);
  const u = m.readU64Parts(h, l);
  cqe.UserData = toBigInt(u.hi, u.lo);
  cqe.ResultCode = m.readU32(h, l + 8);
  const inf = m.readU64Parts(h, l + 16);
  cqe.Information = inf.hi * 0x100000000 + inf.lo;
  m.writeU32(ring.cqHi, ring.cqLo, (head + 1) >>> 0);
  return S_OK;
}

/** Pops into a caller-owned object without allocating; returns false when empty. Hot-path variant. */
export function popCompletionFast(ring: HIORING, out: { userDataLo: number; resultCode: number; information: number }): boolean {
  const m = ring.process.memory;
  const head = m.readU32(ring.cqHi, ring.cqLo);
  if (head === m.readU32(ring.cqHi, ring.cqLo + 4)) return false;
  const off = NT_IORING_CQ_HEADER_SIZE + ((head & ring.cqMask) >>> 0) * NT_IORING_CQE_SIZE;
  const h = addHi(ring.cqHi, ring.cqLo, off);
  const l = addLo(ring.cqLo, off);
  out.userDataLo = m.readU32(h, l);
  out.resultCode = m.readU32(h, l + 8);
  out.information = m.readU32(h, l + 16);
  m.writeU32(ring.cqHi, ring.cqLo, (head + 1) >>> 0);
  return true;
}

/** SetIoRingCompletionEvent(ring, hEvent) → NtSetInformationIoRing(IoRingRegisterUserCompletionEventClass). */
export function SetIoRingCompletionEvent(ring: HIORING, event: number, nt: NtApi = ring.process.ntdll): number {
  const s = scratchOf(ring.process, ring) + 0x60n;
  ring.process.writeU64(s, BigInt(event));
  return hresultFromNt(nt.NtSetInformationIoRing(ring.handle, 1, 8, s));
}

/** IsIoRingOpSupported: opcode within the accepted version's set. */
export function IsIoRingOpSupported(ring: HIORING, op: number): boolean {
  const v = ring.IoRingKernelAcceptedVersion;
  const max = v >= IoRingVersion.V4 ? IoRingOp.WRITE_GATHER : v >= IoRingVersion.V3 ? IoRingOp.FLUSH : IoRingOp.CANCEL;
  return op >= 0 && op <= max;
}

/** CloseIoRing: NtClose of the kernel handle and release of the user scratch page. */
export function CloseIoRing(ring: HIORING, nt: NtApi = ring.process.ntdll): number {
  const st = nt.NtClose(ring.handle);
  if (ring.scratch !== 0n && !ring.process.terminated) ring.process.virtualFree(ring.scratch);
  ring.scratch = 0n;
  return hresultFromNt(st);
}

// ---- small user-mode helpers (CreateFileW / CreateNamedPipeW / ReadFile / WriteFile equivalents) ----

/** Opens (or creates) a file; returns the handle or throws nothing: { status, handle }. */
export function openFile(p: EmulatedProcess, name: string, access: number, disposition: number, nt: NtApi = p.ntdll): { status: number; handle: number } {
  const s = p.virtualAlloc(0x1000);
  const st = nt.NtCreateFile(s, access, name, s + 0x10n, disposition, 0);
  const handle = st === 0 ? Number(p.readU64(s)) : 0;
  p.virtualFree(s);
  return { status: st, handle };
}

/** CreateNamedPipe (server end) + CreateFile (client end) of `\\.\pipe\<name>`. */
export function createPipePair(p: EmulatedProcess, name: string, nt: NtApi = p.ntdll): { status: number; server: number; client: number } {
  const s = p.virtualAlloc(0x1000);
  const full = `\\\\.\\pipe\\${name}`;
  let st = nt.NtCreateNamedPipeFile(s, 0xc0000000, full, s + 0x10n);
  const server = st === 0 ? Number(p.readU64(s)) : 0;
  let client = 0;
  if (st === 0) {
    st = nt.NtCreateFile(s, 0xc0000000, full, s + 0x10n, 1, 0);
    client = st === 0 ? Number(p.readU64(s)) : 0;
  }
  p.virtualFree(s);
  return { status: st, server, client };
}

/** WriteFile of JS bytes (copied into a temporary user buffer). */
export function writeBytes(p: EmulatedProcess, handle: number, bytes: Uint8Array, offset?: number, nt: NtApi = p.ntdll): number {
  const s = p.virtualAlloc(bytes.length + 0x20);
  p.write(s + 0x20n, bytes);
  let off = 0n;
  if (offset !== undefined) { off = s + 0x10n; p.writeU64(off, BigInt(offset)); }
  const st = nt.NtWriteFile(handle, 0, 0n, 0n, s, s + 0x20n, bytes.length, off, 0n);
  p.virtualFree(s);
  return st;
}

/** ReadFile into JS bytes (through a temporary user buffer). */
export function readBytes(p: EmulatedProcess, handle: number, length: number, offset?: number, nt: NtApi = p.ntdll): { status: number; bytes: Uint8Array } {
  const s = p.virtualAlloc(length + 0x20);
  let off = 0n;
  if (offset !== undefined) { off = s + 0x10n; p.writeU64(off, BigInt(offset)); }
  const st = nt.NtReadFile(handle, 0, 0n, 0n, s, s + 0x20n, length, off, 0n);
  const n = st === 0 ? Number(p.readU64(s + 8n)) : 0;
  const bytes = p.read(s + 0x20n, n);
  p.virtualFree(s);
  return { status: st, bytes };
}
