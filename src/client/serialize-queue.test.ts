// SerializeSubmissionQueue's word-level fast path produces exactly the bytes of abi serializeSqe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { serializeSqe, NT_IORING_SQE_SIZE, MON_SERIALIZED_SQE_SIZE, IoRingOp } from '../abi/index.js';
import { serializeCommonSqes } from './serialize-queue.js';

const COMMON = new Set<number>([IoRingOp.NOP, IoRingOp.READ, IoRingOp.WRITE, IoRingOp.FLUSH]);

test('serializeCommonSqes equals serializeSqe for runs of NOP/READ/WRITE/FLUSH with any field values, and stops at the first other opcode', () => {
  const sqe = fc.record({
    raw: fc.uint8Array({ minLength: NT_IORING_SQE_SIZE, maxLength: NT_IORING_SQE_SIZE }),
    op: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 77),
    reg: fc.boolean(),
  });
  fc.assert(fc.property(fc.array(sqe, { minLength: 1, maxLength: 8 }), fc.nat(3), (sqes, skip) => {
    const n = new Uint8Array(sqes.length * NT_IORING_SQE_SIZE);
    const dv = new DataView(n.buffer);
    sqes.forEach((q, i) => {
      n.set(q.raw, i * NT_IORING_SQE_SIZE);
      dv.setUint32(i * NT_IORING_SQE_SIZE, q.op, true);
      if (q.reg) dv.setUint32(i * NT_IORING_SQE_SIZE + 0x10, dv.getUint32(i * NT_IORING_SQE_SIZE + 0x10, true) | 2, true);
    });
    const first = Math.min(skip, sqes.length - 1);
    const max = sqes.length - first;
    // Canary bytes: a destination word the run must not touch keeps 0xcc.
    const a = new Uint8Array(max * MON_SERIALIZED_SQE_SIZE).fill(0xcc);
    const b = new Uint8Array(max * MON_SERIALIZED_SQE_SIZE).fill(0xcc);
    const done = serializeCommonSqes(new Uint32Array(n.buffer), (first * NT_IORING_SQE_SIZE) >>> 2, new Uint32Array(b.buffer), 0, max);
    let expect = 0;
    while (expect < max && COMMON.has(sqes[first + expect]!.op)) expect++;
    assert.equal(done, expect);
    for (let i = 0; i < done; i++) serializeSqe(dv, (first + i) * NT_IORING_SQE_SIZE, new DataView(a.buffer), i * MON_SERIALIZED_SQE_SIZE);
    assert.deepEqual(b, a);
  }), { seed: 42, numRuns: 2000 });
});
