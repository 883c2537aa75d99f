// Test helpers: build native SQEs, requests (through the real serializer and encoder), contexts and
// RegBuffers states, including the state the public IoRing exploit leaves behind.
import { IoRingOp, NT_IORING_OP_FLAG_REGISTERED_BUFFER, NT_IORING_SQE_SIZE, SqeOff, IOP_MC_BUFFER_ENTRY_TYPE } from '../abi/ioring.js';
import { MonExtType } from '../abi/monitor.js';
import { encodeInterceptRequest, serializeSqeArray, type RequestExtensionInit } from '../abi/serialize.js';
import { hiOf, loOf } from '../abi/u64.js';
import { expectedMcEntrySize } from './checks/regbuffers.js';
import type { RegBufferEntryState, RegBufferState, SubmissionContext } from './types.js';

export interface NativeSqeInit {
  op: number;
  sqeFlags?: number;
  userData?: bigint;
  commonFlags?: number;
  opFlags?: number;
  file?: bigint;
  /** READ/WRITE raw buffer address, or REGISTER_* / scatter array pointer. */
  buffer?: bigint;
  regIndex?: number;
  regOffset?: number;
  length?: number;
  fileOffset?: bigint;
  /** REGISTER_* Count or SegmentCount. */
  count?: number;
}

function set64(dv: DataView, off: number, v: bigint): void {
  dv.setUint32(off, loOf(v), true);
  dv.setUint32(off + 4, hiOf(v), true);
}

/** One native 64-byte NT_IORING_SQE. */
export function nativeSqe(s: NativeSqeInit): Uint8Array {
  const b = new Uint8Array(NT_IORING_SQE_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(SqeOff.OpCode, s.op >>> 0, true);
  dv.setUint32(SqeOff.Flags, (s.sqeFlags ?? 0) >>> 0, true);
  set64(dv, SqeOff.UserData, s.userData ?? 0n);
  dv.setUint32(SqeOff.CommonOpFlags, (s.commonFlags ?? 0) >>> 0, true);
  dv.setUint32(SqeOff.OpFlags, (s.opFlags ?? 0) >>> 0, true);
  switch (s.op) {
    case IoRingOp.REGISTER_BUFFERS:
    case IoRingOp.REGISTER_FILES:
      dv.setUint32(SqeOff.RegCount, (s.count ?? 0) >>> 0, true);
      set64(dv, SqeOff.RegArray, s.buffer ?? 0n);
      break;
    case IoRingOp.READ_SCATTER:
    case IoRingOp.WRITE_GATHER:
      set64(dv, SqeOff.File, s.file ?? 0x40n);
      dv.setUint32(SqeOff.SegmentCount, (s.count ?? 0) >>> 0, true);
      set64(dv, SqeOff.SegmentArray, s.buffer ?? 0n);
      set64(dv, SqeOff.SgOffset, s.fileOffset ?? 0n);
      dv.setUint32(SqeOff.SgLength, (s.length ?? 0) >>> 0, true);
      break;
    case IoRingOp.NOP:
      break;
    case IoRingOp.CANCEL:
    case IoRingOp.FLUSH:
      set64(dv, SqeOff.File, s.file ?? 0x40n);
      break;
    default:
      set64(dv, SqeOff.File, s.file ?? 0x40n);
      if (s.regIndex !== undefined) {
        dv.setUint32(SqeOff.Buffer, s.regIndex >>> 0, true);
        dv.setUint32(SqeOff.Buffer + 4, (s.regOffset ?? 0) >>> 0, true);
      } else {
        set64(dv, SqeOff.Buffer, s.buffer ?? 0n);
      }
      set64(dv, SqeOff.Offset, s.fileOffset ?? 0n);
      dv.setUint32(SqeOff.Length, (s.length ?? 0) >>> 0, true);
  }
  return b;
}

export const USER_BUF = 0x000001f600310000n;
export const KERNEL_ADDR = 0xfffff80012345000n;

export const readRaw = (buffer = USER_BUF, length = 0x1000): Uint8Array => nativeSqe({ op: IoRingOp.READ, buffer, length });
export const writeRaw = (buffer = USER_BUF, length = 0x1000): Uint8Array => nativeSqe({ op: IoRingOp.WRITE, buffer, length });
export const readReg = (regIndex: number, length = 0x1000, regOffset = 0): Uint8Array => nativeSqe({ op: IoRingOp.READ, commonFlags: NT_IORING_OP_FLAG_REGISTERED_BUFFER, regIndex, regOffset, length });
export const writeReg = (regIndex: number, length = 0x1000, regOffset = 0): Uint8Array => nativeSqe({ op: IoRingOp.WRITE, commonFlags: NT_IORING_OP_FLAG_REGISTERED_BUFFER, regIndex, regOffset, length });
export const nop = (): Uint8Array => nativeSqe({ op: IoRingOp.NOP });
export const registerBuffers = (array: bigint, count: number): Uint8Array => nativeSqe({ op: IoRingOp.REGISTER_BUFFERS, buffer: array, count });

export interface BuildOptions {
  processId?: number;
  threadId?: number;
  ioRingHandle?: bigint;
  extensions?: RequestExtensionInit[];
}

/** A MON_INTERCEPT_REQUEST for these native SQEs, through serializeSqeArray + encodeInterceptRequest. */
export function buildRequest(sqes: readonly Uint8Array[], o: BuildOptions = {}): Uint8Array {
  const native = new Uint8Array(sqes.length * NT_IORING_SQE_SIZE);
  sqes.forEach((s, i) => native.set(s, i * NT_IORING_SQE_SIZE));
  return encodeInterceptRequest({
    processId: o.processId ?? 4242,
    threadId: o.threadId ?? 7,
    ioRingHandle: o.ioRingHandle ?? 0x88n,
    serializedSqes: serializeSqeArray(native, sqes.length),
    ...(o.extensions ? { extensions: o.extensions } : {}),
  });
}

/** `n` clean raw reads. */
export function cleanRequest(n: number, o: BuildOptions = {}): Uint8Array {
  return buildRequest(Array.from({ length: n }, (_, i) => readRaw(USER_BUF + BigInt(i) * 0x1000n, 0x1000)), o);
}

/** BufferInfoArray extension record: what a REGISTER_BUFFERS SQE points to. */
export function bufferInfoArrayExt(sqeIndex: number, entries: ReadonlyArray<{ address: bigint; length: number }>): RequestExtensionInit {
  const p = new Uint8Array(8 + entries.length * 16);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, sqeIndex, true);
  dv.setUint32(4, entries.length, true);
  entries.forEach((e, i) => {
    set64(dv, 8 + i * 16, e.address);
    dv.setUint32(8 + i * 16 + 8, e.length, true);
  });
  return { type: MonExtType.BufferInfoArray, payload: p };
}

/** RegBuffersSnapshot extension record: the caller's view of its registered buffers. */
export function regBuffersSnapshotExt(arrayAddress: bigint, entries: ReadonlyArray<{ address: bigint; length: number }>, count = entries.length): RequestExtensionInit {
  const p = new Uint8Array(16 + entries.length * 16);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, count, true);
  dv.setUint32(4, 0, true);
  set64(dv, 8, arrayAddress);
  entries.forEach((e, i) => {
    set64(dv, 16 + i * 16, e.address);
    dv.setUint32(16 + i * 16 + 8, e.length, true);
  });
  return { type: MonExtType.RegBuffersSnapshot, payload: p };
}

export function context(over: Partial<SubmissionContext> = {}): SubmissionContext {
  return { nowNs: 1e12, processId: 4242, imageName: 'app.exe', imagePath: 'C:\\Program Files\\App\\app.exe', regBuffers: null, handleKnown: true, ...over };
}

/** A legitimate MC entry for a user buffer. */
export function mcEntry(entryAddress: bigint, address: bigint, length: number, over: Partial<RegBufferEntryState> = {}): RegBufferEntryState {
  return {
    entryAddressHi: hiOf(entryAddress), entryAddressLo: loOf(entryAddress), readable: true,
    type: IOP_MC_BUFFER_ENTRY_TYPE, size: expectedMcEntrySize(loOf(address), length), referenceCount: 1, accessMode: 1,
    addressHi: hiOf(address), addressLo: loOf(address), length, ...over,
  };
}

/** A sound kernel RegBuffers state with `count` registered user buffers (>= 22610 format). */
export function legitRegBuffers(count: number): RegBufferState {
  const entries = Array.from({ length: count }, (_, i) => mcEntry(0xffffa0000000c000n + BigInt(i) * 0x80n, USER_BUF + BigInt(i) * 0x10000n, 0x1000));
  return {
    source: 'kernel', objectAddressHi: 0xffffa000, objectAddressLo: 0x12340000,
    arrayAddressHi: count === 0 ? 0 : 0xffffa000, arrayAddressLo: count === 0 ? 0 : 0x00abc000,
    count, expectedCount: count, format: 'mc-entry', ownerUserMode: true, entries, entriesTruncated: false, far: [], farIndex: [], farCount: 0,
  };
}

/**
 * The state "One I/O Ring to Rule Them All" leaves: RegBuffers = 0x1000000 (a user VA), count 1,
 * entry 0 a user-mode fake IOP_MC_BUFFER_ENTRY (Type 0xC02, Size 0x80, AccessMode 1, RefCount 1)
 * whose Address is a kernel target. expectedCount 0: nothing was ever registered.
 */
export function exploitRegBuffers(target = KERNEL_ADDR): RegBufferState {
  return {
    source: 'kernel', objectAddressHi: 0xffffa000, objectAddressLo: 0x12340000,
    arrayAddressHi: 0, arrayAddressLo: 0x01000000,
    count: 1, expectedCount: 0, format: 'mc-entry', ownerUserMode: true,
    entries: [mcEntry(0x0000000002000000n, target, 0x1000, { size: 0x80 })],
    entriesTruncated: false, far: [], farIndex: [], farCount: 0,
  };
}
