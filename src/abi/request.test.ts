import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeInterceptRequest, serializeSqeArray } from './serialize.js';
import { InterceptRequestView } from './request.js';
import { IoRingOp, NT_IORING_OP_FLAG_REGISTERED_BUFFER } from './ioring.js';
import { Win11MonError } from './errors.js';
import { MsqOff, MON_INTERCEPT_REQUEST_HEADER_SIZE, MON_SERIALIZED_SQE_SIZE, MON_SQE_EXT_MAGIC } from './monitor.js';
import fc from 'fast-check';

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

test('property: every field accessor reads what the bytes hold, at aligned and unaligned offsets (view and copy paths)', () => {
  const accessors: Array<[keyof InterceptRequestView, number]> = [
    ['opCode', MsqOff.OpCode], ['sqeFlags', MsqOff.Flags], ['fileRefLo', MsqOff.FileRef], ['fileRefHi', MsqOff.FileRef + 4],
    ['fileOffsetLo', MsqOff.FileOffset], ['fileOffsetHi', MsqOff.FileOffset + 4], ['bufferAddressLo', MsqOff.BufferAddress],
    ['bufferAddressHi', MsqOff.BufferAddress + 4], ['bufferSize', MsqOff.BufferSize], ['bufferOffset', MsqOff.BufferOffset],
    ['key', MsqOff.Key], ['reserved1', MsqOff.Reserved1], ['userDataLo', MsqOff.UserData], ['userDataHi', MsqOff.UserData + 4],
    ['extSqeFlags', MsqOff.ExtSqeFlags], ['extOpFlags', MsqOff.ExtOpFlags], ['extCount', MsqOff.ExtCount], ['extAdvisory', MsqOff.ExtAdvisory],
    ['extArgLo', MsqOff.ExtArg], ['extArgHi', MsqOff.ExtArg + 4],
  ];
  fc.assert(fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 0xffffffff }), (n, shift, seed) => {
    const size = MON_INTERCEPT_REQUEST_HEADER_SIZE + n * MON_SERIALIZED_SQE_SIZE;
    const req = new Uint8Array(size);
    let x = seed >>> 0;
    for (let i = 0; i < size; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; req[i] = x >>> 24; }
    const dv = new DataView(req.buffer);
    dv.setUint32(0, size, true); dv.setUint32(4, 1, true); dv.setUint32(0x18, n, true); dv.setUint32(0x1c, 0, true);
    const host = new Uint8Array(size + 8);
    host.set(req, shift);
    const v = new InterceptRequestView().reset(host.subarray(shift, shift + size));
    for (let i = 0; i < n; i++) {
      for (const [name, off] of accessors) {
        assert.equal((v[name] as (i: number) => number).call(v, i), dv.getUint32(MON_INTERCEPT_REQUEST_HEADER_SIZE + i * MON_SERIALIZED_SQE_SIZE + off, true), `${String(name)}(${i}) at shift ${shift}`);
      }
      assert.equal(v.hasExt(i), dv.getUint32(MON_INTERCEPT_REQUEST_HEADER_SIZE + i * MON_SERIALIZED_SQE_SIZE + MsqOff.ExtMagic, true) === MON_SQE_EXT_MAGIC);
    }
  }), { numRuns: 200, seed: 11 });
});

test('past the request\'s SQEs an accessor never returns an earlier request\'s words (unaligned copy path)', () => {
  const big = encodeInterceptRequest({ processId: 1, threadId: 1, ioRingHandle: 4n, serializedSqes: serializeSqeArray(new Uint8Array([...nativeWrite(0, 0, 16), ...nativeWrite(1, 0, 16), ...nativeWrite(2, 0, 16)])) });
  const small = encodeInterceptRequest({ processId: 1, threadId: 1, ioRingHandle: 4n, serializedSqes: serializeSqeArray(nativeWrite(0, 0, 16)) });
  const unaligned = (b: Uint8Array) => { const host = new Uint8Array(b.byteLength + 1); host.set(b, 1); return host.subarray(1); };
  const v = new InterceptRequestView();
  v.reset(unaligned(big));
  assert.equal(v.opCode(2), IoRingOp.WRITE);
  v.reset(unaligned(small));
  assert.equal(v.operationCount, 1);
  assert.equal(v.opCode(0), IoRingOp.WRITE);
  assert.equal(v.opCode(2), undefined, 'the earlier request\'s third SQE is not visible');
});
