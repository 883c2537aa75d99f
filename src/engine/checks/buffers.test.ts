import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferRangeFlags, checkBufferInfoArrays, checkBufferSize, checkSqeBuffer } from './buffers.js';
import { RecordingSink } from './testsink.js';
import { ViolationFlags as VF } from '../types.js';
import { InterceptReason as R } from '../../abi/monitor.js';
import { IoRingOp } from '../../abi/ioring.js';
import { InterceptRequestView, readExtensions } from '../../abi/request.js';
import { buildRequest, registerBuffers, bufferInfoArrayExt, readRaw, USER_BUF, KERNEL_ADDR } from '../testing.js';

test('address classes: user ok, kernel/guard -> BUF_KERNEL, hole -> BUF_NONCANONICAL, overrun -> BUF_RANGE', () => {
  assert.equal(bufferRangeFlags(0x1f6, 0x310000, 0x1000), 0);
  assert.equal(bufferRangeFlags(0, 0, 0x1000), 0);
  assert.equal(bufferRangeFlags(0xfffff800, 0, 1), VF.BUF_KERNEL);
  assert.equal(bufferRangeFlags(0x7fff, 0xffff0000, 1), VF.BUF_KERNEL); // above MmHighestUserAddress
  assert.equal(bufferRangeFlags(0x8000, 0, 1), VF.BUF_NONCANONICAL);
  assert.equal(bufferRangeFlags(0x7fff, 0xfffe0000, 0x20000), VF.BUF_RANGE);
});

test('registered-buffer READ/WRITE carries an index, not an address: not checked here', () => {
  const s = new RecordingSink();
  assert.equal(checkSqeBuffer(IoRingOp.READ, 2, 0xffffffff, 0xffffffff, 16, -1, 0, 2, s), false);
  assert.equal(s.hits.length, 0);
});

test('array pointers of REGISTER_* and scatter/gather must be user ranges', () => {
  const s = new RecordingSink();
  checkSqeBuffer(IoRingOp.REGISTER_BUFFERS, 0, 0xffff8000, 0, 16, 1, 0, 2, s);
  checkSqeBuffer(IoRingOp.READ_SCATTER, 0, 0x7fff, 0xfffefff0, 0, 4, 1, 2, s); // 4 x 8 bytes run past user space
  checkSqeBuffer(IoRingOp.REGISTER_FILES, 0, 0x1f6, 0, 8, 1, 2, 2, s);
  assert.deepEqual(s.hits.map((h) => [h.opIndex, h.flags]), [[0, VF.BUF_KERNEL | VF.BUF_ARRAY], [1, VF.BUF_RANGE | VF.BUF_ARRAY]]);
  assert.equal(s.hits[0]!.reason, R.KernelAddressInBuffer);
});

test('IORING_BUFFER_INFO arrays: kernel entries, oversize entries, and records that lie about their SQE', () => {
  const big = 512 * 1024 * 1024;
  const req = buildRequest([registerBuffers(USER_BUF, 2), readRaw()], { extensions: [bufferInfoArrayExt(0, [{ address: KERNEL_ADDR, length: 16 }, { address: USER_BUF, length: big }]), bufferInfoArrayExt(1, [])] });
  const v = new InterceptRequestView().reset(req);
  const s = new RecordingSink();
  checkBufferInfoArrays(v, readExtensions(v), 2, 2, 256 * 1024 * 1024, s);
  assert.deepEqual(s.hits.map((h) => [h.reason, h.entryIndex]), [[R.KernelAddressInBuffer, 0], [R.BufferSizeTooLarge, 1], [R.MalformedRequest, -1]]);
  assert.ok(s.hits[2]!.flags & VF.EXT_MISMATCH);
});

test('buffer size above the limit; 0 = no limit', () => {
  const s = new RecordingSink();
  assert.equal(checkBufferSize(100, 0, 0, 0, 0, 2, s), false);
  assert.equal(checkBufferSize(100, 100, 0, 0, 0, 2, s), false);
  checkBufferSize(101, 100, 0, 0, 5, 2, s);
  assert.equal(s.hits[0]!.reason, R.BufferSizeTooLarge);
  assert.equal(s.hits[0]!.opIndex, 5);
});
