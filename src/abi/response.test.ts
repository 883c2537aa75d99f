// MON_INTERCEPT_RESPONSE: the driver's byte-wise writer produces exactly the DataView writer's bytes,
// and both decode back to what was written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { writeInterceptResponse, writeInterceptResponseBytes, decodeInterceptResponse, MON_INTERCEPT_RESPONSE_SIZE } from './index.js';

test('writeInterceptResponseBytes equals writeInterceptResponse for any fields, and decodes back', () => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  fc.assert(fc.property(u32, u32, u32, u32, u32, fc.double({ min: -1, max: 2 ** 53, noNaN: true }), fc.string({ maxLength: 24 }), (action, reason, op, flags, version, ns, tech) => {
    const a = new Uint8Array(MON_INTERCEPT_RESPONSE_SIZE).fill(0xcc);
    const b = new Uint8Array(MON_INTERCEPT_RESPONSE_SIZE).fill(0xcc);
    writeInterceptResponse(new DataView(a.buffer), 0, { action, reason, violatingOpIndex: op, violationFlags: flags, policyVersion: version, validationTimeNs: ns, mitreTechnique: tech });
    writeInterceptResponseBytes(b, action, reason, op, flags, version, ns, tech);
    assert.deepEqual(b, a);
    const d = decodeInterceptResponse(b);
    assert.equal(d.action, action);
    assert.equal(d.violatingOpIndex, op);
    assert.equal(d.validationTimeNs, ns > 0 ? Math.floor(ns) : 0);
    assert.equal(d.mitreTechnique, [...tech.slice(0, 15)].map((c) => String.fromCharCode(c.charCodeAt(0) & 0x7f)).join('').split('\0')[0]);
  }), { seed: 7, numRuns: 1000 });
});
