import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readU32LE, writeU32LE, u32Bytes } from './bytes.js';

test('readU32LE / writeU32LE / u32Bytes agree with DataView little-endian at any offset (property)', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.nat(12), (v, off) => {
    const a = new Uint8Array(16).fill(0xcc);
    const b = new Uint8Array(16).fill(0xcc);
    writeU32LE(a, off, v);
    new DataView(b.buffer).setUint32(off, v, true);
    assert.deepEqual(a, b); // neighbours untouched
    assert.equal(readU32LE(b, off), v);
    assert.deepEqual(u32Bytes(v), b.slice(off, off + 4));
  }), { seed: 11, numRuns: 1000 });
});
