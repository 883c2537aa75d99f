// Alert aggregation: grouping, windows, dedupe, thresholds and severities, with an injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertAggregator, classifyEvent } from './alerts.js';
import type { MonitorEvent } from '../driver/telemetry/events.js';

const ts = { hi: 0, lo: 0 };
const u = (lo: number) => ({ hi: 0, lo });
function decision(seq: number, pid: number, action: 'Allow' | 'Block' | 'LogOnly', reason: string, technique = 'T1068'): MonitorEvent {
  return { type: 'InterceptDecision', seq, timestamp: ts, pid, tid: 0, payload: { action, reason, violatingOpIndex: 0, policyVersion: 1, ioRingHandle: u(4), operationCount: 1, violationFlags: 0, layer: 'hook', technique, explanation: '' } } as MonitorEvent;
}
function quarantine(seq: number, pid: number): MonitorEvent {
  return { type: 'RingQuarantined', seq, timestamp: ts, pid, tid: 0, payload: { ioRingHandle: u(4), objectAddress: u(0), reason: 'RegBuffersCorrupted', violationFlags: 1, detail: '' } } as MonitorEvent;
}
function bypass(seq: number, pid: number): MonitorEvent {
  return { type: 'BypassSuspected', seq, timestamp: ts, pid, tid: 0, payload: { ioRingHandle: u(4), evidenceFlags: 1, submitsSeenByKernel: 3, submitsSeenByHook: 0, technique: 'T1562.001', detail: '' } } as MonitorEvent;
}

test('alerts: events of one (process, reason, technique) in a window form one alert with a count, sources and layers', () => {
  let now = 1000;
  const raised: string[] = [];
  const agg = new AlertAggregator({ windowMs: 10_000, clock: () => now, onAlert: (a) => raised.push(`${a.pid}:${a.reason}:${a.severity}`) });
  assert.ok(agg.push(decision(1, 10, 'Block', 'RegBuffersCorrupted')));
  now += 5;
  assert.equal(agg.push(quarantine(2, 10)), null, 'same group, already raised');
  assert.equal(agg.push(decision(3, 10, 'Allow', 'None')), null, 'Allow is not alert material');
  assert.ok(agg.push(bypass(4, 11)));
  const [a, b] = agg.alerts();
  assert.equal(a!.count, 2);
  assert.deepEqual(a!.sources, ['InterceptDecision', 'RingQuarantined']);
  assert.deepEqual(a!.layers, ['hook', 'driver']);
  assert.equal(a!.severity, 'critical');
  assert.equal(b!.severity, 'high');
  assert.deepEqual(raised, ['10:RegBuffersCorrupted:critical', '11:BypassSuspected:high']);
  assert.equal(agg.ignored, 1);
});

test('alerts: duplicate sequence numbers are counted once; a new window raises again', () => {
  let now = 0;
  const agg = new AlertAggregator({ windowMs: 1000, clock: () => now });
  agg.push(decision(1, 10, 'Block', 'RegBuffersCorrupted'));
  agg.push(decision(1, 10, 'Block', 'RegBuffersCorrupted'));
  assert.equal(agg.duplicates, 1);
  assert.equal(agg.alerts()[0]!.count, 1);
  now = 1500;
  assert.ok(agg.push(decision(2, 10, 'Block', 'RegBuffersCorrupted')));
  assert.equal(agg.alerts().length, 2);
  now = 5000;
  assert.equal(agg.sweep(), 1);
  assert.equal(agg.openGroups, 0);
});

test('alerts: thresholds and severity overrides are configurable; audit-only groups are marked', () => {
  let now = 0;
  const agg = new AlertAggregator({ windowMs: 1000, clock: () => now, thresholds: { RateLimitExceeded: 3 }, severities: { RateLimitExceeded: 'high' } });
  assert.equal(agg.push(decision(1, 5, 'Block', 'RateLimitExceeded', 'T1499')), null);
  now = 10;
  assert.equal(agg.push(decision(2, 5, 'Block', 'RateLimitExceeded', 'T1499')), null);
  const a = agg.push(decision(3, 5, 'Block', 'RateLimitExceeded', 'T1499'));
  assert.ok(a);
  assert.equal(a.severity, 'high');
  assert.equal(a.count, 3);
  const l = agg.push(decision(4, 6, 'LogOnly', 'KernelAddressInBuffer'));
  assert.equal(l!.auditOnly, true);
  assert.equal(l!.severity, 'critical');
});

test('alerts: consume() takes an AsyncIterable and is deterministic for the same events and clock', async () => {
  const events = [decision(1, 1, 'Block', 'RegBuffersCorrupted'), bypass(2, 1), quarantine(3, 1), decision(4, 2, 'Block', 'SuspiciousOpCode')];
  async function* src() { for (const e of events) yield e; }
  const run = async () => {
    let t = 0;
    const agg = new AlertAggregator({ clock: () => (t += 7) });
    assert.equal(await agg.consume(src()), 4);
    return JSON.stringify(agg.alerts());
  };
  assert.equal(await run(), await run());
  assert.equal(classifyEvent({ type: 'PostSubmit', seq: 9, timestamp: ts, pid: 1, tid: 0, payload: { ioRingHandle: u(4), operationCount: 1, status: 0, completions: 1 } } as MonitorEvent), null);
});
