// subscribeEvents against the real service (startService + MonitorDriver over a Unix socket),
// including a service restart mid-stream on the same socket dir with the same ring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EmulatedKernel } from '../kernel/kernel.js';
import { MonitorDriver } from '../driver/driver.js';
import { TelemetryRing } from '../driver/telemetry/index.js';
import { startService, type ServiceHandle } from '../service/server.js';
import { Win11MonClient } from './client.js';
import { socketTransport, type DeviceTransport } from './transport.js';
import { subscribeEvents, type EventGap, type SubscriptionItem } from './events.js';

function setup(slotCount = 1024) {
  const tmp = mkdtempSync(join(tmpdir(), 'win11mon-ev-'));
  const kernel = new EmulatedKernel({ build: 22621, dataDir: tmp });
  const driver = new MonitorDriver({ kernel, ring: new TelemetryRing({ slotCount }) });
  const sockDir = join(tmp, 'sock');
  const emit = (n: number) => { for (let i = 0; i < n; i++) driver.ring.emit('PolicyChanged', { version: i + 1, previousVersion: i, hashPrefix: 'ab', source: 'test' }); };
  return { tmp, driver, sockDir, emit, cleanup: () => { driver.close(); rmSync(tmp, { recursive: true, force: true }); } };
}

const factory = (dir: string) => async () => new Win11MonClient(await socketTransport(dir, { timeoutMs: 2000 }));

test('subscribeEvents: for await from a cursor, then a service restart mid-stream (same socket dir, same ring): no event lost or duplicated', { timeout: 30_000 }, async () => {
  const t = setup();
  let svc: ServiceHandle = await startService({ socketDir: t.sockDir, device: t.driver });
  try {
    t.emit(10);
    const ac = new AbortController();
    let reconnects = 0;
    const sub = subscribeEvents(factory(t.sockDir), { intervalMs: 20, signal: ac.signal, backoff: { initialMs: 10, maxMs: 50 }, onReconnect: () => { reconnects++; } });
    const seqs: number[] = [];
    const gaps: EventGap[] = [];
    for await (const item of sub) {
      if (item.type === 'gap') gaps.push(item.gap);
      if (item.type !== 'event') continue;
      seqs.push(item.event.seq);
      if (seqs.length === 10) {
        await svc.close(); // the service goes away...
        t.emit(5); // ...events happen while it is down...
        setTimeout(() => { void startService({ socketDir: t.sockDir, device: t.driver }).then((s) => { svc = s; t.emit(5); }); }, 150); // ...and it comes back
      }
      if (seqs.length === 20) ac.abort();
    }
    assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual(gaps, []);
    assert.ok(reconnects >= 1, 'reconnected');
    assert.equal(sub.cursor, 21);
  } finally {
    await svc.close();
    t.cleanup();
  }
});

test('subscribeEvents reports the gaps the ring reports (events overwritten before they were read), in order', { timeout: 10_000 }, async () => {
  const t = setup(16);
  const svc = await startService({ socketDir: t.sockDir, device: t.driver });
  const client = await factory(t.sockDir)();
  try {
    t.emit(40);
    const items: SubscriptionItem[] = [];
    const ac = new AbortController();
    for await (const item of subscribeEvents(client, { signal: ac.signal, intervalMs: 10 })) {
      items.push(item);
      if (item.type === 'event' && item.event.seq === 40) ac.abort();
    }
    assert.deepEqual(items[0], { type: 'gap', gap: { from: 1, missed: 24 } });
    assert.deepEqual(items.slice(1).map((i) => (i.type === 'event' ? i.event.seq : -1)), Array.from({ length: 16 }, (_, i) => 25 + i));
  } finally {
    await client.close();
    await svc.close();
    t.cleanup();
  }
});

test('subscribeEvents backpressure: the iterator does not poll while its consumer is busy; callbacks are awaited in order', { timeout: 10_000 }, async () => {
  const t = setup();
  const svc = await startService({ socketDir: t.sockDir, device: t.driver });
  const inner = await socketTransport(t.sockDir);
  let calls = 0;
  const counting: DeviceTransport = { description: inner.description, ioctl: (c, i, o) => { calls++; return inner.ioctl(c, i, o); }, close: () => inner.close() };
  const client = new Win11MonClient(counting);
  try {
    t.emit(5);
    const sub = subscribeEvents(client, { intervalMs: 5, maxBatch: 2 });
    const it = sub[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.done, false);
    const before = calls;
    await new Promise((r) => setTimeout(r, 100)); // 20 poll intervals without consuming
    assert.equal(calls, before, 'no poll while the queue is not consumed');
    const second = await it.next();
    assert.equal((second.value as SubscriptionItem & { type: 'event' }).event.seq, 2);
    await sub.close();
    // Callback mode.
    const got: number[] = [];
    const ac = new AbortController();
    const cb = subscribeEvents(client, {
      signal: ac.signal, intervalMs: 5, maxBatch: 2,
      onEvent: async (e) => { await new Promise((r) => setTimeout(r, 2)); got.push(e.seq); if (got.length === 5) ac.abort(); },
    });
    await cb.done;
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    assert.throws(() => cb[Symbol.asyncIterator](), /not both/);
  } finally {
    await client.close();
    await svc.close();
    t.cleanup();
  }
});

test('subscribeEvents: a service that comes back with a new ring (sequences restarted) is reported as a reset and read from 1', { timeout: 10_000 }, async () => {
  const a = setup();
  const b = setup();
  let svc = await startService({ socketDir: a.sockDir, device: a.driver });
  try {
    a.emit(8);
    const ac = new AbortController();
    const items: SubscriptionItem[] = [];
    for await (const item of subscribeEvents(factory(a.sockDir), { signal: ac.signal, intervalMs: 10, backoff: { initialMs: 10 } })) {
      items.push(item);
      if (item.type === 'event' && item.event.seq === 8 && items.length === 8) {
        await svc.close();
        b.emit(3);
        svc = await startService({ socketDir: a.sockDir, device: b.driver });
      }
      if (items.length === 12) ac.abort();
    }
    assert.deepEqual(items[8], { type: 'reset', previousCursor: 9 });
    assert.deepEqual(items.slice(9).map((i) => (i.type === 'event' ? i.event.seq : -1)), [1, 2, 3]);
  } finally {
    await svc.close();
    a.cleanup();
    b.cleanup();
  }
});

test('subscribeEvents: a first cursor beyond the head waits there (the caller asked for it), no reset; events arrive once written', { timeout: 10_000 }, async () => {
  const a = setup();
  const svc = await startService({ socketDir: a.sockDir, device: a.driver });
  try {
    a.emit(3);
    const ac = new AbortController();
    const items: SubscriptionItem[] = [];
    let polls = 0;
    setTimeout(() => a.emit(3), 60); // sequences 4..6; the subscription waits at 5
    for await (const item of subscribeEvents(factory(a.sockDir), { from: 5, signal: ac.signal, intervalMs: 10 })) {
      items.push(item);
      polls++;
      if (items.length === 2 || polls > 50) ac.abort();
    }
    assert.deepEqual(items.map((i) => i.type), ['event', 'event']);
    assert.deepEqual(items.map((i) => (i.type === 'event' ? i.event.seq : -1)), [5, 6]);
  } finally {
    await svc.close();
    a.cleanup();
  }
});
