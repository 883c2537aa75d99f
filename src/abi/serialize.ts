// SerializeSubmissionQueue's core: native 64-byte NT_IORING_SQE -> 88-byte MON_SERIALIZED_SQE, and
// the MON_INTERCEPT_REQUEST encoder. The conversion is total (every opcode, known or not) and
// documented per opcode in docs/abi.md ("Native SQE to MON_SERIALIZED_SQE").
import { IoRingOp, NT_IORING_OP_FLAG_REGISTERED_BUFFER, NT_IORING_SQE_SIZE, SqeOff, IORING_BUFFER_INFO_SIZE } from './ioring.js';
import {
  MON_INTERCEPT_REQUEST_HEADER_SIZE as HDR,
  MON_SERIALIZED_SQE_SIZE as SQE,
  MON_INTERCEPT_REQUEST_VERSION,
  MON_REQUEST_FLAG_EXTENSIONS,
  MON_EXT_HEADER_SIZE,
  MON_SQE_EXT_MAGIC,
  MON_SQE_EXT_VERSION,
  MON_INTERCEPT_MAX_OPS_PER_SUBMIT,
  MsqOff,
} from './monitor.js';
import { Win11MonError } from './errors.js';

function copy64(src: DataView, so: number, dst: DataView, d: number): void {
  dst.setUint32(d, src.getUint32(so, true), true);
  dst.setUint32(d + 4, src.getUint32(so + 4, true), true);
}

/**
 * Converts the native SQE at `src[so..so+64)` into a MON_SERIALIZED_SQE at `dst[d..d+88)`.
 * Every byte of the destination is written (no stale data from a reused buffer). No allocation.
 */
export function serializeSqe(src: DataView, so: number, dst: DataView, d: number): void {
  for (let k = 0; k < SQE; k += 4) dst.setUint32(d + k, 0, true);
  const op = src.getUint32(so + SqeOff.OpCode, true);
  dst.setUint32(d + MsqOff.OpCode, op, true);
  copy64(src, so + SqeOff.UserData, dst, d + MsqOff.UserData);
  dst.setUint32(d + MsqOff.ExtSqeFlags, src.getUint32(so + SqeOff.Flags, true), true);
  dst.setUint32(d + MsqOff.ExtMagic, MON_SQE_EXT_MAGIC, true);
  dst.setUint32(d + MsqOff.ExtVersion, MON_SQE_EXT_VERSION, true);
  if (op === IoRingOp.NOP) return;
  const common = src.getUint32(so + SqeOff.CommonOpFlags, true);
  dst.setUint32(d + MsqOff.Flags, common, true);
  dst.setUint32(d + MsqOff.ExtOpFlags, src.getUint32(so + SqeOff.OpFlags, true), true);
  switch (op) {
    case IoRingOp.READ:
    case IoRingOp.WRITE:
    default: {
      // Unknown opcodes are carried in the READ/WRITE shape, so addresses in the usual places stay visible to checks.
      copy64(src, so + SqeOff.File, dst, d + MsqOff.FileRef);
      copy64(src, so + SqeOff.Offset, dst, d + MsqOff.FileOffset);
      if ((common & NT_IORING_OP_FLAG_REGISTERED_BUFFER) !== 0 && (op === IoRingOp.READ || op === IoRingOp.WRITE)) {
        // IORING_REGISTERED_BUFFER {BufferIndex, Offset}: index -> BufferAddress, offset -> BufferOffset.
        dst.setUint32(d + MsqOff.BufferAddress, src.getUint32(so + SqeOff.Buffer, true), true);
        dst.setUint32(d + MsqOff.BufferOffset, src.getUint32(so + SqeOff.Buffer + 4, true), true);
      } else {
        copy64(src, so + SqeOff.Buffer, dst, d + MsqOff.BufferAddress);
      }
      dst.setUint32(d + MsqOff.BufferSize, src.getUint32(so + SqeOff.Length, true), true);
      dst.setUint32(d + MsqOff.Key, src.getUint32(so + SqeOff.Key, true), true);
      return;
    }
    case IoRingOp.FLUSH:
      copy64(src, so + SqeOff.File, dst, d + MsqOff.FileRef);
      return;
    case IoRingOp.CANCEL:
      copy64(src, so + SqeOff.File, dst, d + MsqOff.FileRef);
      copy64(src, so + SqeOff.CancelId, dst, d + MsqOff.ExtArg);
      return;
    case IoRingOp.REGISTER_FILES:
    case IoRingOp.REGISTER_BUFFERS: {
      const count = src.getUint32(so + SqeOff.RegCount, true);
      const elem = op === IoRingOp.REGISTER_FILES ? 8 : IORING_BUFFER_INFO_SIZE;
      copy64(src, so + SqeOff.RegArray, dst, d + MsqOff.BufferAddress);
      // BufferSize = bytes of the array (saturating), so a C driver's MaxBufferSize check still sees it.
      dst.setUint32(d + MsqOff.BufferSize, Math.min(count * elem, 0xffffffff), true);
      dst.setUint32(d + MsqOff.ExtCount, count, true);
      dst.setUint32(d + MsqOff.ExtAdvisory, src.getUint32(so + SqeOff.RegAdvisory, true), true);
      return;
    }
    case IoRingOp.READ_SCATTER:
    case IoRingOp.WRITE_GATHER:
      copy64(src, so + SqeOff.File, dst, d + MsqOff.FileRef);
      copy64(src, so + SqeOff.SgOffset, dst, d + MsqOff.FileOffset);
      copy64(src, so + SqeOff.SegmentArray, dst, d + MsqOff.BufferAddress);
      dst.setUint32(d + MsqOff.BufferSize, src.getUint32(so + SqeOff.SgLength, true), true);
      dst.setUint32(d + MsqOff.Key, src.getUint32(so + SqeOff.SgKey, true), true);
      dst.setUint32(d + MsqOff.ExtCount, src.getUint32(so + SqeOff.SegmentCount, true), true);
      return;
  }
}

/** An extension record to append to a request (see MonExtType). */
export interface RequestExtensionInit {
  type: number;
  payload: Uint8Array;
}

export interface InterceptRequestInit {
  processId: number;
  threadId: number;
  ioRingHandle: bigint;
  /** OperationCount serialized SQEs, back to back (88 bytes each). */
  serializedSqes: Uint8Array;
  extensions?: readonly RequestExtensionInit[];
}

/** Bytes a request with `count` SQEs and these extension payload lengths occupies. */
export function requestSize(count: number, extensionLengths: readonly number[] = []): number {
  let n = HDR + count * SQE;
  for (const len of extensionLengths) n += MON_EXT_HEADER_SIZE + ((len + 7) & ~7);
  return n;
}

/** Builds a MON_INTERCEPT_REQUEST. Without extensions the bytes are exactly what a v1 C client sends. */
export function encodeInterceptRequest(init: InterceptRequestInit): Uint8Array {
  if (init.serializedSqes.byteLength % SQE !== 0) {
    throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `serializedSqes is ${init.serializedSqes.byteLength} bytes, not a multiple of ${SQE}`, { struct: 'MON_INTERCEPT_REQUEST', field: 'OperationCount' });
  }
  const count = init.serializedSqes.byteLength / SQE;
  if (count > MON_INTERCEPT_MAX_OPS_PER_SUBMIT) {
    throw new Win11MonError('WIN11MON_ERR_COUNT_OVERFLOW', `${count} SQEs exceed the maximum ${MON_INTERCEPT_MAX_OPS_PER_SUBMIT} per request`, { struct: 'MON_INTERCEPT_REQUEST', field: 'OperationCount', actual: count });
  }
  const exts = init.extensions ?? [];
  const size = requestSize(count, exts.map((e) => e.payload.byteLength));
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0x00, size, true);
  dv.setUint32(0x04, MON_INTERCEPT_REQUEST_VERSION, true);
  dv.setUint32(0x08, init.processId >>> 0, true);
  dv.setUint32(0x0c, init.threadId >>> 0, true);
  dv.setUint32(0x10, Number(init.ioRingHandle & 0xffffffffn), true);
  dv.setUint32(0x14, Number((init.ioRingHandle >> 32n) & 0xffffffffn), true);
  dv.setUint32(0x18, count, true);
  dv.setUint32(0x1c, exts.length > 0 ? MON_REQUEST_FLAG_EXTENSIONS : 0, true);
  out.set(init.serializedSqes, HDR);
  let off = HDR + count * SQE;
  for (const e of exts) {
    dv.setUint32(off, e.type, true);
    dv.setUint32(off + 4, e.payload.byteLength, true);
    out.set(e.payload, off + MON_EXT_HEADER_SIZE);
    off += MON_EXT_HEADER_SIZE + ((e.payload.byteLength + 7) & ~7);
  }
  return out;
}

/** Serializes `count` native SQEs (64 bytes each, from `native`) into one 88-byte-per-SQE array. */
export function serializeSqeArray(native: Uint8Array, count = native.byteLength / NT_IORING_SQE_SIZE): Uint8Array {
  const out = new Uint8Array(count * SQE);
  const src = new DataView(native.buffer, native.byteOffset, native.byteLength);
  const dst = new DataView(out.buffer);
  for (let i = 0; i < count; i++) serializeSqe(src, i * NT_IORING_SQE_SIZE, dst, i * SQE);
  return out;
}
