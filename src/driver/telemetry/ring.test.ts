import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { MonEventType, Win11MonError, INTERCEPT_ACTION_NAMES, INTERCEPT_REASON_NAMES } from '../../abi/index.js';
import {
  TelemetryRing, RingReader, encodeEvent, decodeEvent, PAYLOAD_LAYOUTS, payloadLayoutsMarkdown, filetimeFromUnixMs,
  unixMsFromFiletime, encodeSnapshot, decodeSnapshot, encodeRingStats, decodeRingStats, eventToJson, widenSequence,
  type MonitorEvent, type DecisionPayload, type PayloadLayout,
} from './index.js';
import { fillPattern, expectedPattern, PATTERN_EVENT_TYPE } from './ring-pattern.fixture.js';

const u64 = fc.record({ hi: fc.nat(0xffffffff), lo: fc.nat(0xffffffff) }, { noNullPrototype: true });
const ascii = (n: number) => fc.string({ unit: fc.constantFrom(...'abcdefXYZ019 -_.!~'.split('')), maxLength: n });

function arbPayload(l: PayloadLayout): fc.Arbitrary<Record<string, unknown>> {
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of l.fields) {
    if (f.kind === 'pad') continue;
    rec[f.name] = f.kind === 'u8' ? fc.nat(255) : f.kind === 'u32' ? fc.nat(0xffffffff) : f.kind === 'u64' ? u64 : f.kind === 'char' ? ascii(f.size) : fc.constantFrom(...f.names!);
  }
  return fc.record(rec, { noNullPrototype: true });
}

/** A worker running a .ts file: tsx's loader hooks are registered inside the worker first. */
function tsWorker(url: URL, workerData: unknown): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

const decision = (i: number): DecisionPayload => ({
  action: 'Block', reason: 'KernelAddressInBuffer', violatingOpIndex: i, policyVersion: 3, ioRingHandle: { hi: 0, lo: 0x88 },
  operationCount: 4, violationFlags: 0, layer: 'hook', technique: 'T1068', explanation: `kernel address in SQE ${i}`,
});

test('every typed payload round-trips through encodeEvent/decodeEvent (property)', () => {
  for (const l of PAYLOAD_LAYOUTS) {
    fc.assert(fc.property(arbPayload(l), fc.nat(2 ** 40), u64, fc.nat(0xffffffff), fc.nat(0xffffffff), (payload, seq, ts, pid, tid) => {
      const ev = { type: l.type, seq, timestamp: ts, pid, tid, payload } as unknown as MonitorEvent;
      const bytes = encodeEvent(ev);
      assert.equal(bytes.byteLength, 40 + l.size);
      assert.deepEqual(decodeEvent(bytes, 0, seq), ev);
    }), { numRuns: 60, seed: 42 });
  }
});

test('raw event types carry opaque bytes; strings are truncated to their field', () => {
  const ev: MonitorEvent = { type: 'Anomaly', eventType: MonEventType.Anomaly, seq: 9, timestamp: { hi: 1, lo: 2 }, pid: 3, tid: 4, payload: { data: new Uint8Array([1, 2, 3]) } };
  assert.deepEqual(decodeEvent(encodeEvent(ev), 0, 9), ev);
  const long = { ...decision(0), explanation: 'x'.repeat(500), technique: 'T1068.001-too-long-for-16' };
  const back = decodeEvent(encodeEvent({ type: 'InterceptDecision', seq: 1, timestamp: { hi: 0, lo: 0 }, pid: 0, tid: 0, payload: long }));
  assert.equal(back.type, 'InterceptDecision');
  if (back.type === 'InterceptDecision') {
    assert.equal(back.payload.explanation, 'x'.repeat(160));
    assert.equal(back.payload.technique, 'T1068.001-too-lo');
  }
});

test('decoding random or mutated bytes throws only typed Win11MonErrors (property)', () => {
  const valid = encodeEvent({ type: 'InterceptDecision', seq: 1, timestamp: { hi: 0, lo: 0 }, pid: 0, tid: 0, payload: decision(1) });
  const mutated = fc.tuple(fc.nat(valid.byteLength - 1), fc.nat(255), fc.nat(valid.byteLength)).map(([i, b, cut]) => { const c = valid.slice(0, Math.max(cut, 1)); if (i < c.length) c[i] = b; return c; });
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), (bytes) => {
    try { decodeEvent(bytes); } catch (e) { assert.ok(e instanceof Win11MonError, String(e)); }
    try { decodeSnapshot(bytes, 1); } catch (e) { assert.ok(e instanceof Win11MonError, String(e)); }
  }), { numRuns: 2000, seed: 7 });
});

test('FILETIME conversion is exact on halves', () => {
  const t = filetimeFromUnixMs(1_700_000_000_123.5, { hi: 0, lo: 0 });
  const expect = (1_700_000_000_123n + 11_644_473_600_000n) * 10_000n + 5000n;
  assert.equal((BigInt(t.hi) << 32n) | BigInt(t.lo), expect);
  assert.equal(Math.round(unixMsFromFiletime(t)), 1_700_000_000_124);
});

test('a reader reads through a cursor; overwrite-oldest counts exactly what a slow reader missed', () => {
  const ring = new TelemetryRing({ slotCount: 8, clock: () => 1000 });
  for (let i = 1; i <= 5; i++) assert.equal(ring.emit('InterceptDecision', decision(i), 10, 20), i);
  let r = ring.read(1, 3);
  assert.deepEqual(r.events.map((e) => e.seq), [1, 2, 3]);
  assert.equal(r.missed, 0);
  r = ring.read(r.nextCursor, 100);
  assert.deepEqual(r.events.map((e) => e.seq), [4, 5]);
  const cursor = r.nextCursor; // 6
  for (let i = 6; i <= 30; i++) ring.emit('InterceptDecision', decision(i));
  r = ring.read(cursor, 100);
  assert.equal(r.missed, 30 - 8 - 5); // 23..30 are held; 6..22 were overwritten
  assert.deepEqual(r.events.map((e) => e.seq), [23, 24, 25, 26, 27, 28, 29, 30]);
  assert.equal(r.nextCursor, 31);
  const ev = r.events[0]!;
  assert.equal(ev.type, 'InterceptDecision');
  if (ev.type === 'InterceptDecision') assert.equal(ev.payload.violatingOpIndex, 23);
  const s = ring.stats();
  assert.equal(s.eventCount, 8);
  assert.equal(s.totalEventsWritten, 30);
  assert.equal(s.eventsOverwritten, 22);
  assert.equal(s.wrapCount, 3);
  assert.equal(s.oldestSeq, 23);
  const wire = decodeRingStats(encodeRingStats(s));
  assert.equal(wire.eventCount, 8);
  assert.equal(wire.bufferSizeBytes, 8 * 256);
  assert.deepEqual(wire.oldestTimestamp, filetimeFromUnixMs(1000, { hi: 0, lo: 0 }));
});

test('drop-newest never overwrites, counts drops, and reports them with an EventsDropped record when space returns', () => {
  let now = 5000;
  const ring = new TelemetryRing({ slotCount: 4, policy: 'drop-newest', clock: () => now });
  for (let i = 1; i <= 4; i++) assert.equal(ring.emit('InterceptDecision', decision(i)), i);
  for (let i = 0; i < 3; i++) { now += 1; assert.equal(ring.emit('InterceptDecision', decision(100 + i)), 0); }
  assert.equal(ring.stats().eventsDropped, 3);
  assert.equal(ring.poll(), false); // still full: no room for the notice
  let r = ring.read(1, 100);
  assert.deepEqual(r.events.map((e) => e.seq), [1, 2, 3, 4]);
  ring.commit(3); // consumer has taken 1 and 2
  assert.equal(ring.emit('InterceptDecision', decision(200)), 6); // notice takes seq 5
  r = ring.read(5, 100);
  assert.equal(r.events[0]!.type, 'EventsDropped');
  const n = r.events[0]!;
  if (n.type === 'EventsDropped') {
    assert.deepEqual(n.payload.count, { hi: 0, lo: 3 });
    assert.deepEqual(n.payload.firstDropTime, filetimeFromUnixMs(5001, { hi: 0, lo: 0 }));
    assert.deepEqual(n.payload.lastDropTime, filetimeFromUnixMs(5003, { hi: 0, lo: 0 }));
    assert.equal(n.payload.policy, 'drop-newest');
  }
  assert.equal(r.events[1]!.seq, 6);
  assert.equal(ring.stats().eventsOverwritten, 0);
});

test('clear() forgets held events; sequences keep increasing; a future cursor waits where it is, missing nothing', () => {
  const ring = new TelemetryRing({ slotCount: 4 });
  ring.emit('PolicyChanged', { version: 1, previousVersion: 0, hashPrefix: 'ab', source: 'test' });
  ring.clear();
  assert.equal(ring.read(1).events.length, 0);
  assert.equal(ring.read(1).missed, 1);
  assert.equal(ring.emit('PolicyChanged', { version: 2, previousVersion: 1, hashPrefix: 'cd', source: 'test' }), 2);
  assert.deepEqual(ring.read(999).events, []);
  assert.equal(ring.read(999).nextCursor, 999);
  assert.equal(ring.read(999).missed, 0);
  // Through a snapshot too (the decoder used to widen the head's sequence past the cursor: a huge false gap).
  const snap = decodeSnapshot(encodeSnapshot(ring, 999, 4096).bytes, 999);
  assert.deepEqual({ n: snap.events.length, missed: snap.missed, next: snap.nextCursor }, { n: 0, missed: 0, next: 999 });
});

test('snapshots carry the ring records from a cursor, bounded by the output length', () => {
  const ring = new TelemetryRing({ slotCount: 16, clock: () => 2000 });
  for (let i = 1; i <= 10; i++) ring.emit('InterceptDecision', decision(i)); // 256-byte records
  assert.throws(() => encodeSnapshot(ring, 1, 47), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_TRUNCATED');
  const a = encodeSnapshot(ring, 1, 48 + 256 * 3 + 100);
  assert.equal(a.eventCount, 3);
  assert.equal(a.more, true);
  const da = decodeSnapshot(a.bytes, 1);
  assert.deepEqual(da.events.map((e) => e.seq), [1, 2, 3]);
  assert.equal(da.nextCursor, 4);
  assert.equal(da.more, true);
  const b = decodeSnapshot(encodeSnapshot(ring, da.nextCursor, 1 << 20).bytes, da.nextCursor);
  assert.deepEqual(b.events.map((e) => e.seq), [4, 5, 6, 7, 8, 9, 10]);
  assert.equal(b.more, false);
  const empty = decodeSnapshot(encodeSnapshot(ring, 11, 1024).bytes, 11);
  assert.deepEqual([empty.events.length, empty.nextCursor, empty.missed], [0, 11, 0]);
  for (let i = 11; i <= 40; i++) ring.emit('InterceptDecision', decision(i));
  const late = decodeSnapshot(encodeSnapshot(ring, 11, 1 << 20).bytes, 11);
  assert.equal(late.missed, 25 - 11);
  assert.equal(late.events[0]!.seq, 25);
  assert.equal(late.nextCursor, 41);
  assert.equal(widenSequence(3, 0x1_0000_0005), 0x2_0000_0003);
  assert.equal(eventToJson(late.events[0]!).type, 'InterceptDecision');
});

test("RING-C01 a worker thread reading the SharedArrayBuffer never sees a torn record and counts gaps exactly", async (t) => {
  const TOTAL = 150_000;
  const ring = new TelemetryRing({ slotCount: 64, guardBytes: 16 });
  const done = new SharedArrayBuffer(8); // [0] producer done, [1] worker attached
  const worker = tsWorker(new URL('./ring-worker.fixture.ts', import.meta.url), { buffer: ring.buffer, done });
  const result = new Promise<Record<string, number>>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  const flags = new Int32Array(done);
  for (let i = 0; i < 1000 && Atomics.load(flags, 1) === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(Atomics.load(flags, 1), 1, 'worker attached');
  const scratch = new Uint8Array(216);
  for (let seq = 1; seq <= TOTAL; seq++) {
    assert.equal(ring.emitRaw(PATTERN_EVENT_TYPE, fillPattern(scratch, seq), seq % 65536, 1), seq);
    if (seq % 5000 === 0) await new Promise((r) => setImmediate(r));
  }
  Atomics.store(new Int32Array(done), 0, 1);
  const r = await result;
  await worker.terminate();
  t.diagnostic(`worker received ${r.received}, missed ${r.missed}, reads ${r.reads}`);
  assert.equal(r.torn, 0, "torn records");
  assert.equal(r.outOfOrder, 0);
  assert.equal(r.canaryBad, 0, 'canaries intact');
  assert.equal(r.received! + r.missed!, TOTAL, `received ${r.received} + missed ${r.missed}`);
  assert.ok(r.received! > 1000 && r.reads! > 100, 'the worker read concurrently with the producer');
  // and the main thread's own view is intact too
  const mine = new RingReader(ring.buffer);
  mine.readRecords(1, 1000, (rec, seq) => { assert.ok(expectedPattern(rec, seq)); });
});

test('enum names come from the ABI tables', () => {
  const l = PAYLOAD_LAYOUTS.find((x) => x.type === 'InterceptDecision')!;
  assert.deepEqual(l.fields.find((f) => f.name === 'action')!.names, INTERCEPT_ACTION_NAMES);
  assert.deepEqual(l.fields.find((f) => f.name === 'reason')!.names, INTERCEPT_REASON_NAMES);
});

test('docs/protocol.md lists the payload layouts exactly as the codec tables define them', () => {
  const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
  assert.ok(doc.includes(payloadLayoutsMarkdown()), 'regenerate the payload section from payloadLayoutsMarkdown()');
});

test('ring: emitPostSubmit writes the same record bytes as emit("PostSubmit", …)', () => {
  const u32 = fc.nat(0xffffffff);
  fc.assert(fc.property(u32, u32, u32, u32, u32, u32, u32, fc.nat(3), (hHi, hLo, ops, status, completions, pid, tid, before) => {
    const clock = () => 1_700_000_000_123;
    // Slots scribbled with other events first, so a field the fast path forgot to store would show.
    const a = new TelemetryRing({ slotCount: 4, clock });
    const b = new TelemetryRing({ slotCount: 4, clock });
    for (const r of [a, b]) for (let i = 0; i < 4 + before; i++) r.emit('CallbackError', { status: 0xffffffff, message: 'x'.repeat(120) }, 7, 7);
    const seqA = a.emitPostSubmit(hHi, hLo, ops, status, completions, pid, tid);
    const seqB = b.emit('PostSubmit', { ioRingHandle: { hi: hHi, lo: hLo }, operationCount: ops, status, completions }, pid, tid);
    assert.equal(seqA, seqB);
    const recA: number[] = [];
    const recB: number[] = [];
    a.readRecords(seqA, 1, (rec) => { recA.push(...rec); });
    b.readRecords(seqB, 1, (rec) => { recB.push(...rec); });
    assert.ok(recA.length > 0);
    assert.deepEqual(recA, recB);
    const e = a.read(seqA, 1).events[0]!;
    assert.equal(e.type, 'PostSubmit');
  }), { numRuns: 200 });
});
