// SerializeSubmissionQueue's word-level fast path produces exactly the bytes of abi serializeSqe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { serializeSqe, NT_IORING_SQE_SIZE, MON_SERIALIZED_SQE_SIZE, IoRingOp } from '../abi/index.js';
import { serializeCommonSqe } from './serialize-queue.js';

test('serializeCommonSqe equals serializeSqe for NOP/READ/WRITE/FLUSH with any field values (and declines other opcodes)', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: NT_IORING_SQE_SIZE, maxLength: NT_IORING_SQE_SIZE }), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 77), fc.boolean(), (raw, op, reg) => {
    const n = new Uint8Array(raw);
    const dv = new DataView(n.buffer);
    dv.setUint32(0, op, true);
    if (reg) dv.setUint32(0x10, dv.getUint32(0x10, true) | 2, true);
    const a = new Uint8Array(MON_SERIALIZED_SQE_SIZE).fill(0xcc);
    const b = new Uint8Array(MON_SERIALIZED_SQE_SIZE).fill(0xcc);
    serializeSqe(dv, 0, new DataView(a.buffer), 0);
    const handled = serializeCommonSqe(new Uint32Array(n.buffer), 0, new Uint32Array(b.buffer), 0);
    assert.equal(handled, op === IoRingOp.NOP || op === IoRingOp.READ || op === IoRingOp.WRITE || op === IoRingOp.FLUSH);
    if (handled) assert.deepEqual(b, a);
  }), { seed: 42, numRuns: 2000 });
});
