import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeInterceptRequest, serializeSqeArray } from './serialize.js';
import { InterceptRequestView } from './request.js';
import { IoRingOp, NT_IORING_OP_FLAG_REGISTERED_BUFFER } from './ioring.js';
import { Win11MonError } from './errors.js';

function nativeWrite(index: number, offset: number, len: number): Uint8Array {
  const b = new Uint8Array(64);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, IoRingOp.WRITE, true);
  dv.setUint32(0x10, NT_IORING_OP_FLAG_REGISTERED_BUFFER, true);
  dv.setUint32(0x18, 0x124, true); // pipe handle
  dv.setUint32(0x20, index, true);
  dv.setUint32(0x24, offset, true);
  dv.setUint32(0x30, len, true);
  return b;
}

test('a registered-buffer WRITE serializes index to BufferAddress and offset to BufferOffset', () => {
  const req = encodeInterceptRequest({ processId: 4242, threadId: 7, ioRingHandle: 0x88n, serializedSqes: serializeSqeArray(nativeWrite(3, 0x10, 0x20)) });
  assert.equal(req.byteLength, 32 + 88);
  const v = new InterceptRequestView().reset(req);
  assert.equal(v.processId, 4242);
  assert.equal(v.operationCount, 1);
  assert.equal(v.opCode(0), IoRingOp.WRITE);
  assert.equal(v.sqeFlags(0), NT_IORING_OP_FLAG_REGISTERED_BUFFER);
  assert.equal(v.bufferAddressLo(0), 3);
  assert.equal(v.bufferAddressHi(0), 0);
  assert.equal(v.bufferOffset(0), 0x10);
  assert.equal(v.bufferSize(0), 0x20);
  assert.equal(v.fileRefLo(0), 0x124);
  assert.ok(v.hasExt(0));
});

test('a Size field that lies about the SQE count is rejected with the field named', () => {
  const req = encodeInterceptRequest({ processId: 1, threadId: 1, ioRingHandle: 4n, serializedSqes: new Uint8Array(88 * 2) });
  new DataView(req.buffer).setUint32(0x18, 3, true); // OperationCount 3 but only 2 SQEs
  assert.throws(() => new InterceptRequestView().reset(req), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_SIZE_MISMATCH' && e.detail.field === 'Size');
});
