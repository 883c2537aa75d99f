// Plain decoders (bare NT_IORING_SQE, whole MON_INTERCEPT_REQUEST) and the request framing checks:
// per-opcode payloads, strict/non-strict handling of unknown opcodes and reserved bits, every kind
// of malformed header with its stable code, field, offset and NTSTATUS, and fuzzing with canaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeNativeSqe, decodeNativeSqeArray, encodeNativeSqe, decodeInterceptRequest, type NativeSqeInit } from './decode.js';
import { encodeInterceptRequest, serializeSqeArray } from './serialize.js';
import { InterceptRequestView, readExtensions } from './request.js';
import { IoRingOp } from './ioring.js';
import { MonExtType } from './monitor.js';
import { Win11MonError, type ErrorCode } from './errors.js';

const SEED = 0x5eed;

function isErr(code: ErrorCode, field?: string, offset?: number, status?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof Win11MonError, `expected Win11MonError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (field !== undefined) assert.equal(e.detail.field, field, e.message);
    if (offset !== undefined) assert.equal(e.detail.offset, offset, e.message);
    if (status !== undefined) assert.equal(e.statusName, status, e.message);
    return true;
  };
}

const vectors: NativeSqeInit[] = [
  { opCode: IoRingOp.NOP, userData: 1n },
  { opCode: IoRingOp.READ, userData: 2n, op: { file: { kind: 'raw', handle: '0x0000000000000124' }, buffer: { kind: 'raw', address: '0xffff800012345678' }, fileOffset: 0x10n, length: 8, key: 0 } },
  { opCode: IoRingOp.WRITE, flags: 1, op: { writeFlags: 1, file: { kind: 'raw', handle: 0x124n }, buffer: { kind: 'registered', index: 0, offset: 0 }, length: 0x40 } },
  { opCode: IoRingOp.FLUSH, op: { flushMode: 1, file: { kind: 'registered', index: 3 } } },
  { opCode: IoRingOp.CANCEL, op: { file: { kind: 'raw', handle: 8n }, cancelId: 0x77n } },
  { opCode: IoRingOp.REGISTER_FILES, op: { count: 2, handles: 0x10000n } },
  { opCode: IoRingOp.REGISTER_BUFFERS, op: { count: 1, buffers: 0x20000n, advisoryFlags: 0 } },
  { opCode: IoRingOp.READ_SCATTER, op: { file: { kind: 'raw', handle: 4n }, segmentCount: 2, segmentArray: 0x30000n, fileOffset: 0n, length: 0x2000 } },
  { opCode: IoRingOp.WRITE_GATHER, op: { writeFlags: 1, file: { kind: 'raw', handle: 4n }, segmentCount: 2, segmentArray: 0x30000n, length: 0x2000 } },
];

test('decodeNativeSqe gives the per-opcode payload for every known opcode, and encodeNativeSqe inverts it', () => {
  for (const v of vectors) {
    const bytes = encodeNativeSqe(v);
    const d = decodeNativeSqe(bytes);
    assert.equal(d.opCode, v.opCode);
    assert.equal(d.op.kind, d.opName.replace('IORING_OP_', ''));
    assert.deepEqual(d.anomalies, []);
    assert.deepEqual(encodeNativeSqe(d as unknown as NativeSqeInit), bytes, d.opName);
  }
  const w = decodeNativeSqe(encodeNativeSqe(vectors[2]!));
  assert.deepEqual(w.commonOpFlagNames, ['NT_IORING_OP_FLAG_REGISTERED_BUFFER']);
  assert.deepEqual(w.flagNames, ['NT_IORING_SQE_FLAG_DRAIN_PRECEDING_OPS']);
  assert.ok(w.op.kind === 'WRITE' && w.op.buffer.kind === 'registered' && w.op.file.kind === 'raw' && w.op.file.handle === '0x0000000000000124');
  const r = decodeNativeSqe(encodeNativeSqe(vectors[1]!));
  assert.ok(r.op.kind === 'READ' && r.op.buffer.kind === 'raw' && r.op.buffer.addressClass === 'kernel');
});

test('an unknown opcode is WIN11MON_ERR_UNKNOWN_OPCODE (field OpCode, absolute offset) in strict mode, a flagged decode otherwise', () => {
  const arr = new Uint8Array(128);
  arr.set(encodeNativeSqe(vectors[0]!), 0);
  new DataView(arr.buffer).setUint32(64, 9, true);
  assert.throws(() => decodeNativeSqe(arr, 64), isErr('WIN11MON_ERR_UNKNOWN_OPCODE', 'OpCode', 64, 'STATUS_INVALID_PARAMETER'));
  const d = decodeNativeSqe(arr, 64, { strict: false });
  assert.equal(d.op.kind, 'UNKNOWN');
  assert.equal(d.opName, 'IORING_OP_UNKNOWN(9)');
  assert.deepEqual(d.anomalies.map((a) => [a.code, a.field, a.offset]), [['WIN11MON_ERR_UNKNOWN_OPCODE', 'OpCode', 64]]);
});

test('reserved bits in SQE Flags and CommonOpFlags are WIN11MON_ERR_RESERVED_NONZERO with field and offset', () => {
  const a = encodeNativeSqe({ ...vectors[1]!, flags: 0x3 });
  assert.throws(() => decodeNativeSqe(a), isErr('WIN11MON_ERR_RESERVED_NONZERO', 'Flags', 4));
  const b = encodeNativeSqe({ opCode: IoRingOp.WRITE, op: { commonOpFlags: 0x6, file: { kind: 'raw', handle: 1n } } });
  assert.throws(() => decodeNativeSqe(b), isErr('WIN11MON_ERR_RESERVED_NONZERO', 'CommonOpFlags', 0x10));
  assert.deepEqual(decodeNativeSqe(b, 0, { strict: false }).anomalies.map((x) => x.field), ['CommonOpFlags']);
  assert.throws(() => decodeNativeSqe(new Uint8Array(63)), isErr('WIN11MON_ERR_TRUNCATED', 'OpCode', 0, 'STATUS_BUFFER_TOO_SMALL'));
  assert.throws(() => decodeNativeSqeArray(new Uint8Array(100)), isErr('WIN11MON_ERR_TRUNCATED', 'OpCode', 64));
});

function request(sqes: NativeSqeInit[], extensions?: { type: number; payload: Uint8Array }[]): Uint8Array {
  const native = new Uint8Array(64 * sqes.length);
  sqes.forEach((s, i) => native.set(encodeNativeSqe(s), 64 * i));
  return encodeInterceptRequest({ processId: 4242, threadId: 7, ioRingHandle: 0x88n, serializedSqes: serializeSqeArray(native), extensions });
}

function bufferInfoExt(sqeIndex: number, entries: [bigint, number][]): Uint8Array {
  const p = new Uint8Array(8 + 16 * entries.length);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, sqeIndex, true);
  dv.setUint32(4, entries.length, true);
  entries.forEach(([a, l], k) => { dv.setBigUint64(8 + 16 * k, a, true); dv.setUint32(16 + 16 * k, l, true); });
  return p;
}

test('decodeInterceptRequest: header, every SQE with names and per-opcode meaning, extension records', () => {
  const req = request(vectors, [
    { type: MonExtType.BufferInfoArray, payload: bufferInfoExt(6, [[0xffff800000001000n, 0x1000]]) },
    { type: MonExtType.FileHandleArray, payload: (() => { const p = new Uint8Array(24); const dv = new DataView(p.buffer); dv.setUint32(0, 5, true); dv.setUint32(4, 2, true); dv.setBigUint64(8, 0x10n, true); dv.setBigUint64(16, 0x14n, true); return p; })() },
  ]);
  const d = decodeInterceptRequest(Buffer.from(req));
  assert.equal(d.header.processId, 4242);
  assert.equal(d.header.ioRingHandle, '0x0000000000000088');
  assert.deepEqual(d.header.flagNames, ['MON_REQUEST_FLAG_EXTENSIONS']);
  assert.equal(d.sqes.length, vectors.length);
  assert.deepEqual(d.sqes.map((s) => s.meaning.kind), vectors.map((v) => decodeNativeSqe(encodeNativeSqe(v)).op.kind));
  const w = d.sqes[2]!;
  assert.deepEqual(w.flagNames, ['MON_SQE_FLAG_PREREGISTERED_BUFFER']);
  assert.deepEqual(w.ext?.sqeFlagNames, ['NT_IORING_SQE_FLAG_DRAIN_PRECEDING_OPS']);
  assert.deepEqual(w.meaning, { kind: 'WRITE', file: { kind: 'raw', handle: '0x0000000000000124' }, buffer: { kind: 'registered', index: 0, offset: 0 }, length: 0x40, fileOffset: '0x0000000000000000', key: 0, writeThrough: true });
  assert.deepEqual(d.sqes[4]!.meaning, { kind: 'CANCEL', file: { kind: 'raw', handle: '0x0000000000000008' }, cancelId: '0x0000000000000077' });
  assert.equal(d.extensions.length, 2);
  assert.deepEqual(d.extensions[0]!.buffers, [{ address: '0xffff800000001000', addressClass: 'kernel', length: 0x1000 }]);
  assert.deepEqual(d.extensions[1]!.handles, ['0x0000000000000010', '0x0000000000000014']);
  assert.deepEqual(d.anomalies, []);
});

test('an extension record naming an SQE the request does not have is WIN11MON_ERR_BAD_EXTENSION', () => {
  const req = request([vectors[6]!], [{ type: MonExtType.BufferInfoArray, payload: bufferInfoExt(1, []) }]);
  assert.throws(() => decodeInterceptRequest(req), isErr('WIN11MON_ERR_BAD_EXTENSION', 'Extension.SqeIndex', 32 + 88 + 8));
});

test('malformed headers: each a stable code naming the field and offset, with the driver NTSTATUS', () => {
  const ok = request([vectors[1]!, vectors[2]!]);
  const mut = (f: (dv: DataView) => void, bytes = ok): Uint8Array => { const c = bytes.slice(); f(new DataView(c.buffer)); return c; };
  const cases: [string, Uint8Array, ErrorCode, string, number, string][] = [
    ['truncated header', ok.subarray(0, 31), 'WIN11MON_ERR_TRUNCATED', 'Size', 0, 'STATUS_BUFFER_TOO_SMALL'],
    ['Size larger than the bytes given', mut((dv) => dv.setUint32(0, ok.byteLength + 8, true)), 'WIN11MON_ERR_SIZE_MISMATCH', 'Size', 0, 'STATUS_BUFFER_TOO_SMALL'],
    ['Size smaller than header + SQEs', mut((dv) => dv.setUint32(0, ok.byteLength - 88, true)), 'WIN11MON_ERR_SIZE_MISMATCH', 'Size', 0, 'STATUS_INFO_LENGTH_MISMATCH'],
    ['bytes cut after the header', ok.subarray(0, 32 + 88), 'WIN11MON_ERR_SIZE_MISMATCH', 'Size', 0, 'STATUS_BUFFER_TOO_SMALL'],
    ['OperationCount whose 32 + n*88 overflows 32 bits', mut((dv) => dv.setUint32(0x18, 0x20000001, true)), 'WIN11MON_ERR_COUNT_OVERFLOW', 'OperationCount', 0x18, 'STATUS_INVALID_PARAMETER'],
    ['OperationCount 0xFFFFFFFF', mut((dv) => dv.setUint32(0x18, 0xffffffff, true)), 'WIN11MON_ERR_COUNT_OVERFLOW', 'OperationCount', 0x18, 'STATUS_INVALID_PARAMETER'],
    ['OperationCount past the absolute maximum', mut((dv) => dv.setUint32(0x18, 4097, true)), 'WIN11MON_ERR_COUNT_OVERFLOW', 'OperationCount', 0x18, 'STATUS_INVALID_PARAMETER'],
    ['OperationCount beyond the bytes given', mut((dv) => dv.setUint32(0x18, 3, true)), 'WIN11MON_ERR_SIZE_MISMATCH', 'Size', 0, 'STATUS_INFO_LENGTH_MISMATCH'],
    ['Version 2', mut((dv) => dv.setUint32(4, 2, true)), 'WIN11MON_ERR_BAD_VERSION', 'Version', 4, 'STATUS_REVISION_MISMATCH'],
    ['reserved header Flags', mut((dv) => dv.setUint32(0x1c, 0x80, true)), 'WIN11MON_ERR_RESERVED_NONZERO', 'Flags', 0x1c, 'STATUS_INVALID_PARAMETER'],
  ];
  // 32 + 0x20000001 * 88 = 11 * 2^32 + 120: in 32-bit arithmetic it wraps to 120, exactly the size of a
  // one-SQE request, so a driver that multiplies in ULONG would accept it (the classic overflow).
  assert.equal((32 + 0x20000001 * 88) % 2 ** 32, 32 + 88);
  const wrap = mut((dv) => { dv.setUint32(0, 120, true); dv.setUint32(0x18, 0x20000001, true); }, ok.slice(0, 120));
  assert.throws(() => new InterceptRequestView().reset(wrap), isErr('WIN11MON_ERR_COUNT_OVERFLOW', 'OperationCount', 0x18, 'STATUS_INVALID_PARAMETER'));
  for (const [name, bytes, code, field, offset, status] of cases) {
    assert.throws(() => decodeInterceptRequest(bytes), isErr(code, field, offset, status), name);
    assert.throws(() => new InterceptRequestView().reset(bytes), isErr(code, field, offset, status), name);
  }
});

test('malformed extension records: cut header, lying Length, unknown Type, Count/Length disagreement', () => {
  const base = request([vectors[6]!], [{ type: MonExtType.BufferInfoArray, payload: bufferInfoExt(0, [[0x10000n, 16]]) }]);
  const extOff = 32 + 88;
  const mut = (f: (dv: DataView) => void): Uint8Array => { const c = base.slice(); f(new DataView(c.buffer)); return c; };
  const cases: [Uint8Array, string, number][] = [
    [mut((dv) => dv.setUint32(extOff + 4, 0x1000, true)), 'Extension.Length', extOff + 4],
    [mut((dv) => dv.setUint32(extOff, 99, true)), 'Extension.Type', extOff],
    [mut((dv) => dv.setUint32(extOff + 12, 2, true)), 'Extension.Count', extOff + 8],
    [mut((dv) => dv.setUint32(extOff + 4, 4, true)), 'Extension.Length', extOff + 4],
  ];
  for (const [bytes, field, offset] of cases) assert.throws(() => decodeInterceptRequest(bytes), isErr('WIN11MON_ERR_BAD_EXTENSION', field, offset));
  const cut = mut((dv) => dv.setUint32(0, extOff + 4, true)).subarray(0, extOff + 4);
  assert.throws(() => decodeInterceptRequest(cut), isErr('WIN11MON_ERR_BAD_EXTENSION', 'Extension.Type', extOff));
});

test('non-strict request decode reports unknown opcodes and reserved bits; strict throws them', () => {
  const native = new Uint8Array(64);
  new DataView(native.buffer).setUint32(0, 42, true);
  new DataView(native.buffer).setUint32(0x10, 0x10, true);
  const req = encodeInterceptRequest({ processId: 1, threadId: 1, ioRingHandle: 4n, serializedSqes: serializeSqeArray(native) });
  const d = decodeInterceptRequest(req);
  assert.deepEqual(d.anomalies.map((a) => a.code), ['WIN11MON_ERR_UNKNOWN_OPCODE', 'WIN11MON_ERR_RESERVED_NONZERO']);
  assert.equal(d.sqes[0]!.opName, 'IORING_OP_UNKNOWN(42)');
  assert.throws(() => decodeInterceptRequest(req, { strict: true }), isErr('WIN11MON_ERR_UNKNOWN_OPCODE', 'Sqe[0].OpCode', 32));
});

/** Runs `fn` over `bytes` placed between canaries; checks only Win11MonError escapes and the result ignores the canaries. */
function withCanaries(bytes: Uint8Array, pre: number, fn: (b: Uint8Array) => unknown): void {
  const run = (canary: number): unknown => {
    const ab = new ArrayBuffer(pre + bytes.byteLength + 97);
    const all = new Uint8Array(ab).fill(canary);
    const slice = new Uint8Array(ab, pre, bytes.byteLength);
    slice.set(bytes);
    let r: unknown;
    try { r = fn(slice); } catch (e) {
      assert.ok(e instanceof Win11MonError, `only Win11MonError may escape, got ${(e as Error)?.stack ?? String(e)}`);
      r = { code: e.code, detail: e.detail };
    }
    for (let k = 0; k < pre; k++) assert.equal(all[k], canary);
    for (let k = pre + bytes.byteLength; k < all.length; k++) assert.equal(all[k], canary);
    return r;
  };
  assert.deepEqual(run(0xc3), run(0x3c));
}

const decodeAll = (b: Uint8Array): unknown => {
  const v = new InterceptRequestView().reset(b);
  for (let i = 0; i < v.operationCount; i++) { v.opCode(i); v.bufferAddressHi(i); v.extArgHi(i); v.userDataHi(i); }
  readExtensions(v);
  return decodeInterceptRequest(b);
};

test('property: random bytes never crash the request decoders nor read outside the slice', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.integer({ min: 0, max: 33 }), fc.boolean(), (b, pre, fixHeader) => {
    if (fixHeader && b.byteLength >= 32) {
      // give the header a chance: right Version, Size = length, a plausible count
      const dv = new DataView(b.buffer, b.byteOffset);
      dv.setUint32(0, b.byteLength, true);
      dv.setUint32(4, 1, true);
      dv.setUint32(0x18, Math.floor((b.byteLength - 32) / 88), true);
      dv.setUint32(0x1c, dv.getUint32(0x1c, true) & 1, true);
    }
    withCanaries(b, pre, decodeAll);
    withCanaries(b, pre, (x) => decodeNativeSqeArray(x.subarray(0, x.byteLength - (x.byteLength % 64)), { strict: false }));
    withCanaries(b, pre, (x) => decodeNativeSqeArray(x));
  }), { seed: SEED, numRuns: 400 });
});

test('property: mutations of valid requests never throw anything but Win11MonError and never read outside', () => {
  const valid = request(vectors, [{ type: MonExtType.BufferInfoArray, payload: bufferInfoExt(6, [[0x10000n, 0x100], [0xffff800000000000n, 8]]) }, { type: MonExtType.RegBuffersSnapshot, payload: (() => { const p = new Uint8Array(16 + 16); const dv = new DataView(p.buffer); dv.setUint32(0, 1, true); dv.setBigUint64(8, 0x1000000n, true); dv.setBigUint64(16, 0xffff800000000000n, true); return p; })() }]);
  decodeInterceptRequest(valid); // the base is valid
  const mutation = fc.record({ at: fc.nat({ max: valid.byteLength - 1 }), value: fc.integer({ min: 0, max: 255 }), word: fc.boolean(), cut: fc.nat({ max: 200 }) });
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 17 }), (muts, pre) => {
    const b = valid.slice();
    const dv = new DataView(b.buffer);
    let end = b.byteLength;
    for (const m of muts) {
      if (m.word && m.at + 4 <= b.byteLength) dv.setUint32(m.at & ~3, m.value * 0x01010101 >>> 0, true);
      else b[m.at] = m.value;
      if (m.cut > 180) end = Math.min(end, m.at);
    }
    withCanaries(b.subarray(0, end), pre, decodeAll);
  }), { seed: SEED, numRuns: 400 });
});
