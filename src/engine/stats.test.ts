import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyEngine, Decision, decodeStatsExtension } from './index.js';
import { InterceptRequestView } from '../abi/request.js';
import { buildRequest, cleanRequest, context, readRaw, KERNEL_ADDR } from './testing.js';

function run(e: PolicyEngine, bytes: Uint8Array, pid: number): Decision {
  const d = new Decision();
  e.validate(new InterceptRequestView().reset(bytes), context({ processId: pid }), d);
  return d;
}

test('decodeStatsExtension reads back what EngineStats.encode wrote (counters, reasons, histogram, top talkers)', () => {
  const e = new PolicyEngine();
  for (let i = 0; i < 5; i++) run(e, cleanRequest(3), 100 + (i % 2));
  run(e, buildRequest([readRaw(KERNEL_ADDR)]), 200);
  e.recordLatency(1000);
  e.recordLatency(3000);
  const s = decodeStatsExtension(e.encodeStats());
  assert.equal(s.requests, 6);
  assert.equal(s.operations, 16);
  assert.deepEqual(s.actions, { Allow: 5, Block: 1, LogOnly: 0 });
  assert.deepEqual(s.blockedByReason, { KernelAddressInBuffer: 1 });
  assert.ok(s.extension);
  assert.equal(s.extension.latencySamples, 2);
  assert.equal(s.extension.totalDecisions, 6);
  assert.equal(s.extension.decisionsByReason.KernelAddressInBuffer, 1);
  assert.deepEqual(s.extension.latencyHistogram, [{ fromNs: 512, toNs: 1024, count: 1 }, { fromNs: 2048, toNs: 4096, count: 1 }]);
  assert.equal(s.extension.topTalkers[0]!.processId, 100);
  assert.equal(s.extension.topTalkers[0]!.submissions, 3);
  assert.equal(s.extension.topTalkers.length, 3);
});

test('decodeStatsExtension: the plain 152-byte form has no extension; malformed input is a typed error', () => {
  const e = new PolicyEngine();
  run(e, cleanRequest(1), 7);
  assert.equal(decodeStatsExtension(e.encodeStats(152)).extension, null);
  assert.throws(() => decodeStatsExtension(new Uint8Array(100)), (err: { code?: string }) => err.code === 'WIN11MON_ERR_TRUNCATED');
  const bad = e.encodeStats();
  bad[152] = 0;
  assert.throws(() => decodeStatsExtension(bad), (err: { code?: string }) => err.code === 'WIN11MON_ERR_SIZE_MISMATCH');
  const cut = e.encodeStats().subarray(0, 600);
  new DataView(cut.buffer).setUint32(164, 5, true);
  assert.throws(() => decodeStatsExtension(cut), (err: { code?: string }) => err.code === 'WIN11MON_ERR_SIZE_MISMATCH');
});
