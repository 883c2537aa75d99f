// The ECS mapping (docs/events.md), event type by event type, on events decoded from real ring records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TelemetryRing, PAYLOAD_LAYOUTS, type MonitorEvent, type TypedEventName } from '../driver/telemetry/index.js';
import { toEcs, ATTACK_TECHNIQUES } from './ecs.js';

const u = (lo: number) => ({ hi: 0, lo });
const SAMPLES: { [K in TypedEventName]: Record<string, unknown> } = {
  InterceptDecision: { action: 'Block', reason: 'KernelAddressInBuffer', violatingOpIndex: 2, policyVersion: 3, ioRingHandle: u(0x88), operationCount: 4, violationFlags: 0, layer: 'hook', technique: 'T1068', explanation: 'SQE 2 buffer is a kernel address' },
  RegBuffersViolation: { objectAddress: { hi: 0xffffb081, lo: 0x1a60 }, regBuffersAddress: { hi: 0x1f6, lo: 0x310000 }, handle: u(4), regBuffersCount: 1, expectedCount: 4, violationFlags: 0x3, severity: 5, technique: 'T1068' },
  PolicyChanged: { version: 2, previousVersion: 1, hashPrefix: '0123456789abcdef', source: 'document' },
  HookInstalled: { targetPid: 4096, method: 'iat', address: { hi: 0x7ffa, lo: 0x2c41e4b0 }, symbol: 'ntdll!NtSubmitIoRing' },
  HookRemoved: { targetPid: 4096, method: 'inline', address: { hi: 0x7ffa, lo: 0x2c41e4b0 }, symbol: 'ntdll!NtSubmitIoRing' },
  BypassSuspected: { ioRingHandle: u(4), evidenceFlags: 1, submitsSeenByKernel: 9, submitsSeenByHook: 4, technique: 'T1562.001', detail: 'kernel SubmitCount 9 > 4' },
  EventsDropped: { count: u(12), firstDropTime: u(1), lastDropTime: u(2), policy: 'drop-newest' },
  Bugcheck: { code: 0x1a, p1: u(1), p2: u(2), p3: u(3), p4: u(4), message: 'MEMORY_MANAGEMENT' },
  RingQuarantined: { ioRingHandle: u(4), objectAddress: { hi: 0xffffb081, lo: 0x1a60 }, reason: 'RegBuffersCorrupted', violationFlags: 3, detail: 'RegBuffers reset' },
  PostSubmit: { ioRingHandle: u(4), operationCount: 3, status: 0, completions: 3 },
  DriverUnreachable: { status: 0xc0000037, fallbackAction: 'Allow', detail: 'no service' },
  CallbackError: { status: 0xc0000001, message: 'callback threw' },
};

/** Expected ECS categorization per type: [kind, category, type, action, outcome]. */
const EXPECTED: Record<string, [string, string, string, string, string]> = {
  InterceptDecision: ['alert', 'intrusion_detection', 'denied', 'ioring-submission-blocked', 'failure'],
  RegBuffersViolation: ['alert', 'intrusion_detection', 'info', 'regbuffers-corruption-detected', 'unknown'],
  PolicyChanged: ['event', 'configuration', 'change', 'policy-changed', 'success'],
  HookInstalled: ['event', 'process', 'change', 'hook-installed', 'success'],
  HookRemoved: ['event', 'process', 'change', 'hook-removed', 'success'],
  BypassSuspected: ['alert', 'intrusion_detection', 'info', 'hook-bypass-suspected', 'unknown'],
  EventsDropped: ['event', 'host', 'info', 'events-dropped', 'failure'],
  Bugcheck: ['event', 'host', 'end', 'kernel-bugcheck', 'failure'],
  RingQuarantined: ['alert', 'intrusion_detection', 'denied', 'ioring-quarantined', 'success'],
  PostSubmit: ['event', 'process', 'info', 'ioring-submitted', 'success'],
  DriverUnreachable: ['event', 'driver', 'info', 'driver-unreachable', 'failure'],
  CallbackError: ['event', 'process', 'info', 'callback-error', 'failure'],
  IoRingHandleCreated: ['event', 'process', 'info', 'io-ring-handle-created', 'unknown'],
};

function decoded(): MonitorEvent[] {
  const ring = new TelemetryRing({ clock: () => Date.UTC(2025, 10, 30, 12, 0, 0) });
  for (const l of PAYLOAD_LAYOUTS) ring.emit(l.type, SAMPLES[l.type] as never, 4242, 7);
  ring.emitRaw(6, new Uint8Array(32), 4096);
  return ring.read(1, 100).events;
}

test('ECS: every event type maps to the documented kind/category/type/action/outcome, with the common fields', () => {
  const events = decoded();
  assert.equal(events.length, PAYLOAD_LAYOUTS.length + 1);
  for (const ev of events) {
    const d = toEcs(ev);
    const exp = EXPECTED[ev.type];
    assert.ok(exp, `an expectation for ${ev.type}`);
    assert.deepEqual([d.event.kind, d.event.category[0], d.event.type[0], d.event.action, d.event.outcome], exp, ev.type);
    assert.equal(d['@timestamp'], '2025-11-30T12:00:00.000Z');
    assert.equal(d.event.sequence, ev.seq);
    assert.equal(d.event.module, 'win11mon');
    assert.equal((d.ecs as { version: string }).version, '8.11.0');
    assert.equal((d.process as { pid: number }).pid, ev.pid);
    assert.equal((d.win11mon as { type: string }).type, ev.type);
    assert.ok(typeof d.event.severity === 'number' && d.message.length > 0);
    assert.doesNotThrow(() => JSON.stringify(d));
  }
});

test('ECS: a Block carries the ATT&CK technique, rule and win11mon.* fields; sub-techniques and allowed/audit decisions', () => {
  const ev = decoded().find((e) => e.type === 'InterceptDecision')!;
  const d = toEcs(ev) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(d.threat.technique.id, ['T1068']);
  assert.deepEqual(d.threat.technique.name, ['Exploitation for Privilege Escalation']);
  assert.equal(d.threat.framework, 'MITRE ATT&CK');
  assert.deepEqual(d.threat.tactic.id, ['TA0004']);
  assert.deepEqual(d.rule, { id: 'win11mon-kernel-address-in-buffer', name: 'KernelAddressInBuffer', ruleset: 'win11mon policy', version: '3' });
  assert.equal(d.event.severity, 99);
  assert.equal(d.win11mon.reason, 'KernelAddressInBuffer');
  assert.equal(d.win11mon.ioRingHandle, '0x0000000000000088');
  assert.equal(d.win11mon.layer, 'hook');
  assert.equal(d.win11mon.violatingOpIndex, 2);
  assert.match(d.message, /blocked: KernelAddressInBuffer \(SQE 2\)/);

  const bypass = toEcs(decoded().find((e) => e.type === 'BypassSuspected')!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(bypass.threat.technique.id, ['T1562']);
  assert.deepEqual(bypass.threat.technique.subtechnique.id, ['T1562.001']);

  const base = ev as Extract<MonitorEvent, { type: 'InterceptDecision' }>;
  const allow = toEcs({ ...base, payload: { ...base.payload, action: 'Allow', reason: 'None', technique: '', violatingOpIndex: 0xffffffff } }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual([allow.event.kind, allow.event.type[0], allow.event.action, allow.threat, allow.rule, allow.win11mon.violatingOpIndex], ['event', 'allowed', 'ioring-submission-allowed', undefined, undefined, null]);
  const audit = toEcs({ ...base, payload: { ...base.payload, action: 'LogOnly' } }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual([audit.event.kind, audit.event.action, audit.threat.technique.id[0]], ['alert', 'ioring-submission-logged', 'T1068']);
  const integrity = toEcs(decoded().find((e) => e.type === 'RegBuffersViolation')!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(integrity.win11mon.violationFlagNames.length > 0, true);
});

test('docs/events.md documents every event type and technique the mapping uses', () => {
  const doc = readFileSync(new URL('../../docs/events.md', import.meta.url), 'utf8');
  for (const [type, exp] of Object.entries(EXPECTED)) {
    assert.ok(doc.includes(`| ${type} |`) || doc.includes(`| ${type} (`), `docs/events.md has a row for ${type}`);
    assert.ok(doc.includes(exp[3]), `docs/events.md names the action ${exp[3]}`);
  }
  for (const id of Object.keys(ATTACK_TECHNIQUES)) assert.ok(doc.includes(id), `docs/events.md lists ${id}`);
});
