// The native NT_IORING_SQE -> MON_SERIALIZED_SQE conversion, per opcode (docs/abi.md "Native SQE to
// MON_SERIALIZED_SQE"), for unknown opcodes and reserved bits, and as a totality property.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { serializeSqe, serializeSqeArray } from './serialize.js';
import { encodeNativeSqe } from './decode.js';
import { IoRingOp } from './ioring.js';
import { MsqOff, MON_SQE_EXT_MAGIC, MON_SQE_EXT_VERSION, MON_SERIALIZED_SQE } from './monitor.js';
import { decodeStruct } from './codec.js';

const SEED = 0x5eed;
const ser = (native: Uint8Array) => decodeStruct(MON_SERIALIZED_SQE, serializeSqeArray(native));
const common = (op: number) => ({ OpCode: op, ExtMagic: MON_SQE_EXT_MAGIC, ExtVersion: MON_SQE_EXT_VERSION, UserData: '0x1122334455667788', ExtSqeFlags: 1 });
const Z = '0x0000000000000000';

function expectFields(got: Record<string, unknown>, want: Record<string, unknown>): void {
  for (const f of MON_SERIALIZED_SQE.fields) {
    const w = want[f.name] ?? (f.type === 'u64' ? Z : 0);
    assert.equal(got[f.name], w, `MON_SERIALIZED_SQE.${f.name}`);
  }
}

test('NOP: only OpCode, UserData and the ext words; the payload is ignored', () => {
  const n = encodeNativeSqe({ opCode: IoRingOp.NOP, flags: 1, userData: 0x1122334455667788n });
  n.fill(0xee, 0x10); // garbage in the payload
  expectFields(ser(n), common(IoRingOp.NOP));
});

test('READ with a raw handle and raw buffer', () => {
  const n = encodeNativeSqe({ opCode: IoRingOp.READ, flags: 1, userData: 0x1122334455667788n, op: { padding: 7, file: { kind: 'raw', handle: 0x124n }, buffer: { kind: 'raw', address: 0x7ff612340000n }, fileOffset: 0x1000n, length: 0x200, key: 9 } });
  expectFields(ser(n), { ...common(IoRingOp.READ), FileRef: '0x0000000000000124', BufferAddress: '0x00007ff612340000', FileOffset: '0x0000000000001000', BufferSize: 0x200, Key: 9, ExtOpFlags: 7 });
});

test('WRITE with a registered buffer (the exploit shape): index -> BufferAddress, offset -> BufferOffset', () => {
  const n = encodeNativeSqe({ opCode: IoRingOp.WRITE, flags: 1, userData: 0x1122334455667788n, op: { writeFlags: 1, file: { kind: 'raw', handle: 0x124n }, buffer: { kind: 'registered', index: 3, offset: 0x10 }, length: 0x20 } });
  expectFields(ser(n), { ...common(IoRingOp.WRITE), Flags: 2, FileRef: '0x0000000000000124', BufferAddress: '0x0000000000000003', BufferOffset: 0x10, BufferSize: 0x20, ExtOpFlags: 1 });
});

test('READ with a registered file: FileRef carries the index, Flags bit 0x1', () => {
  const n = encodeNativeSqe({ opCode: IoRingOp.READ, flags: 1, userData: 0x1122334455667788n, op: { file: { kind: 'registered', index: 5 }, buffer: { kind: 'raw', address: 0x10000n }, length: 1 } });
  expectFields(ser(n), { ...common(IoRingOp.READ), Flags: 1, FileRef: '0x0000000000000005', BufferAddress: '0x0000000000010000', BufferSize: 1 });
});

test('FLUSH: FileRef and the flush mode (ExtOpFlags)', () => {
  const n = encodeNativeSqe({ opCode: IoRingOp.FLUSH, flags: 1, userData: 0x1122334455667788n, op: { flushMode: 2, file: { kind: 'raw', handle: 0x88n } } });
  n.fill(0xee, 0x20); // bytes past the FLUSH payload are not carried
  expectFields(ser(n), { ...common(IoRingOp.FLUSH), FileRef: '0x0000000000000088', ExtOpFlags: 2 });
});

test('CANCEL: FileRef and CancelId (ExtArg)', () => {
  const n = encodeNativeSqe({ opCode: IoRingOp.CANCEL, flags: 1, userData: 0x1122334455667788n, op: { file: { kind: 'raw', handle: 0x88n }, cancelId: 0xabcdefn } });
  expectFields(ser(n), { ...common(IoRingOp.CANCEL), FileRef: '0x0000000000000088', ExtArg: '0x0000000000abcdef' });
});

test('REGISTER_FILES / REGISTER_BUFFERS: array -> BufferAddress, array bytes -> BufferSize (saturating), Count/Advisory/Required in ext', () => {
  const f = encodeNativeSqe({ opCode: IoRingOp.REGISTER_FILES, flags: 1, userData: 0x1122334455667788n, op: { requiredFlags: 0, advisoryFlags: 4, count: 3, handles: 0x20000n } });
  expectFields(ser(f), { ...common(IoRingOp.REGISTER_FILES), BufferAddress: '0x0000000000020000', BufferSize: 24, ExtCount: 3, ExtAdvisory: 4 });
  const b = encodeNativeSqe({ opCode: IoRingOp.REGISTER_BUFFERS, flags: 1, userData: 0x1122334455667788n, op: { requiredFlags: 6, count: 0x20000000, buffers: 0x30000n } });
  expectFields(ser(b), { ...common(IoRingOp.REGISTER_BUFFERS), BufferAddress: '0x0000000000030000', BufferSize: 0xffffffff, ExtCount: 0x20000000, ExtOpFlags: 6 });
});

test('READ_SCATTER / WRITE_GATHER: SegmentArray -> BufferAddress, SegmentCount -> ExtCount', () => {
  for (const opCode of [IoRingOp.READ_SCATTER, IoRingOp.WRITE_GATHER]) {
    const n = encodeNativeSqe({ opCode, flags: 1, userData: 0x1122334455667788n, op: { [opCode === IoRingOp.READ_SCATTER ? 'padding' : 'writeFlags']: 1, file: { kind: 'registered', index: 2 }, segmentCount: 4, segmentArray: 0x40000n, fileOffset: 0x2000n, length: 0x4000, key: 3 } });
    expectFields(ser(n), { ...common(opCode), Flags: 1, FileRef: '0x0000000000000002', FileOffset: '0x0000000000002000', BufferAddress: '0x0000000000040000', BufferSize: 0x4000, Key: 3, ExtCount: 4, ExtOpFlags: 1 });
  }
});

test('unknown opcodes are carried in the READ/WRITE shape (buffer never split into index/offset); reserved bits are kept', () => {
  for (const opCode of [9, 0x7fffffff, 0xffffffff]) {
    const n = new Uint8Array(64);
    const dv = new DataView(n.buffer);
    dv.setUint32(0, opCode, true);
    dv.setUint32(4, 0xfffffffe, true); // reserved SQE flags
    dv.setUint32(0x10, 0xfffffffe, true); // reserved + registered-buffer bit
    dv.setUint32(0x20, 0x00000001, true);
    dv.setUint32(0x24, 0xffff8000, true); // a kernel address
    dv.setUint32(0x30, 0x40, true);
    const s = ser(n);
    expectFields(s, { OpCode: opCode, ExtMagic: MON_SQE_EXT_MAGIC, ExtVersion: MON_SQE_EXT_VERSION, ExtSqeFlags: 0xfffffffe, Flags: 0xfffffffe, BufferAddress: '0xffff800000000001', BufferSize: 0x40 });
  }
});

test('reserved CommonOpFlags bits on a known opcode are kept in Flags for the engine to see', () => {
  const n = encodeNativeSqe({ opCode: IoRingOp.READ, op: { commonOpFlags: 0x80000001, file: { kind: 'raw', handle: 4n } } });
  assert.equal(ser(n).Flags, 0x80000001);
});

test('property: any 64 bytes serialize without throwing, every output byte is written, nothing outside is touched', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.integer({ min: 0, max: 40 }), (native, pad) => {
    const outs = [0xaa, 0x55].map((fill) => {
      const ab = new ArrayBuffer(pad + 88 + 16);
      const all = new Uint8Array(ab).fill(fill);
      serializeSqe(new DataView(native.buffer, native.byteOffset, 64), 0, new DataView(ab, pad, 88), 0);
      for (let k = 0; k < pad; k++) assert.equal(all[k], fill);
      for (let k = pad + 88; k < all.length; k++) assert.equal(all[k], fill);
      return all.slice(pad, pad + 88);
    });
    assert.deepEqual(outs[0], outs[1]); // independent of what the buffer held before
    const dv = new DataView(outs[0]!.buffer);
    assert.equal(dv.getUint32(MsqOff.OpCode, true), new DataView(native.buffer).getUint32(0, true));
    assert.equal(dv.getUint32(MsqOff.ExtMagic, true), MON_SQE_EXT_MAGIC);
  }), { seed: SEED, numRuns: 400 });
});
