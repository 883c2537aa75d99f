// Buffer addresses and sizes: raw buffer pointers, REGISTER_* and scatter/gather array pointers, and
// the IORING_BUFFER_INFO arrays a REGISTER_BUFFERS points to (BufferInfoArray extension) must lie in
// user space; a kernel, above-MmHighestUserAddress or non-canonical address, or a range that wraps
// or ends outside user space, is KernelAddressInBuffer. Lengths above MaxBufferSize: BufferSizeTooLarge.
import { AddressClass, classifyAddress, isUserRange } from '../../abi/address.js';
import { IoRingOp, IORING_BUFFER_INFO_SIZE, NT_IORING_OP_FLAG_REGISTERED_BUFFER } from '../../abi/ioring.js';
import { InterceptReason, MonExtType, MON_NO_OP_INDEX } from '../../abi/monitor.js';
import type { InterceptRequestView, RequestExtension } from '../../abi/request.js';
import { ViolationFlags as VF, type ViolationSink } from '../types.js';

/** ViolationFlags for [address, address + length): 0 when it lies in user space (or is NULL). */
export function bufferRangeFlags(hi: number, lo: number, length: number): number {
  const c = classifyAddress(hi, lo);
  if (c === AddressClass.User) return isUserRange(hi, lo, length) ? 0 : VF.BUF_RANGE;
  if (c === AddressClass.Kernel || c === AddressClass.UserGuard) return VF.BUF_KERNEL;
  if (c === AddressClass.NonCanonical) return VF.BUF_NONCANONICAL;
  // NULL or below 0x10000: never mapped, the kernel's probe fails; not an exploit signature.
  return 0;
}

/** FILE_SEGMENT_ELEMENT is one 64-bit pointer. */
const SEGMENT_SIZE = 8;
const HANDLE_SIZE = 8;

/**
 * The address check of one SQE. `extCount` is the SQE's ExtCount (REGISTER_* Count, SegmentCount)
 * when the SQE carries win11mon's extension words, else -1 (then only the pointer itself is checked).
 */
export function checkSqeBuffer(op: number, commonFlags: number, hi: number, lo: number, size: number, extCount: number, opIndex: number, mode: number, sink: ViolationSink): boolean {
  let f = 0;
  let length = size;
  switch (op) {
    case IoRingOp.READ:
    case IoRingOp.WRITE:
      if ((commonFlags & NT_IORING_OP_FLAG_REGISTERED_BUFFER) !== 0) return false; // an index, checked by regBuffers
      break;
    case IoRingOp.REGISTER_BUFFERS:
      length = extCount >= 0 ? Math.min(extCount * IORING_BUFFER_INFO_SIZE, 0xffffffff) : size;
      f = VF.BUF_ARRAY;
      break;
    case IoRingOp.REGISTER_FILES:
      length = extCount >= 0 ? Math.min(extCount * HANDLE_SIZE, 0xffffffff) : size;
      f = VF.BUF_ARRAY;
      break;
    case IoRingOp.READ_SCATTER:
    case IoRingOp.WRITE_GATHER:
      length = extCount >= 0 ? Math.min(extCount * SEGMENT_SIZE, 0xffffffff) : size;
      f = VF.BUF_ARRAY;
      break;
    default:
      // NOP/CANCEL/FLUSH carry no buffer (BufferAddress is 0); unknown opcodes come in the READ/WRITE shape.
      if (hi === 0 && lo === 0) return false;
  }
  const rf = bufferRangeFlags(hi, lo, length);
  if (rf === 0) return false;
  return sink.hit('bufferAddresses', mode, InterceptReason.KernelAddressInBuffer, opIndex, -1, rf | f, hi, lo, length, 0);
}

/**
 * The IORING_BUFFER_INFO arrays of REGISTER_BUFFERS (BufferInfoArray extension: u32 SqeIndex,
 * u32 Count, Count x {u64 Address, u32 Length, u32 pad}). A record that names a non-REGISTER_BUFFERS
 * SQE or disagrees with its Count is MalformedRequest (EXT_MISMATCH): the kernel reads the SQE, not
 * the record, so a lying record must not vouch for it.
 */
export function checkBufferInfoArrays(view: InterceptRequestView, exts: readonly RequestExtension[], modeAddr: number, modeSize: number, maxBufferSize: number, sink: ViolationSink): boolean {
  const dv = view.dv;
  for (const x of exts) {
    if (x.type !== MonExtType.BufferInfoArray) continue;
    const sqe = dv.getUint32(x.payloadOffset, true);
    const count = dv.getUint32(x.payloadOffset + 4, true);
    if (sqe >= view.operationCount || view.opCode(sqe) !== IoRingOp.REGISTER_BUFFERS || (view.hasExt(sqe) && view.extCount(sqe) !== count)) {
      const mode = modeAddr !== 0 ? modeAddr : modeSize;
      if (mode !== 0 && sink.hit('bufferAddresses', mode, InterceptReason.MalformedRequest, sqe < view.operationCount ? sqe : MON_NO_OP_INDEX, -1, VF.EXT_MISMATCH, 0, 0, count, sqe < view.operationCount && view.hasExt(sqe) ? view.extCount(sqe) : 0)) return true;
      continue;
    }
    for (let i = 0; i < count; i++) {
      const o = x.payloadOffset + 8 + i * 16;
      const lo = dv.getUint32(o, true);
      const hi = dv.getUint32(o + 4, true);
      const len = dv.getUint32(o + 8, true);
      if (modeAddr !== 0) {
        const rf = bufferRangeFlags(hi, lo, len);
        if (rf !== 0 && sink.hit('bufferAddresses', modeAddr, InterceptReason.KernelAddressInBuffer, sqe, i, rf | VF.BUF_ARRAY, hi, lo, len, 0)) return true;
      }
      if (modeSize !== 0 && maxBufferSize > 0 && len > maxBufferSize) {
        if (sink.hit('bufferSize', modeSize, InterceptReason.BufferSizeTooLarge, sqe, i, VF.BUF_ARRAY, hi, lo, len, maxBufferSize)) return true;
      }
    }
  }
  return false;
}

/** BufferSize above the policy's MaxBufferSizeBytes (0 = no limit). */
export function checkBufferSize(size: number, maxBufferSize: number, hi: number, lo: number, opIndex: number, mode: number, sink: ViolationSink): boolean {
  if (maxBufferSize === 0 || size <= maxBufferSize) return false;
  return sink.hit('bufferSize', mode, InterceptReason.BufferSizeTooLarge, opIndex, -1, 0, hi, lo, size, maxBufferSize);
}
