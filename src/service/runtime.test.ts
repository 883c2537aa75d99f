// The real service as a child process: `win11mon serve` started from source, talked to over its
// sockets, stopped with SIGTERM; the journal must hold what the ring held and the sockets must be gone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Win11MonClient } from '../client/client.js';
import { socketTransport } from '../client/transport.js';
import { readJournal, decodeEvent } from '../driver/telemetry/index.js';
import { Ioctl, InterceptAction, Win11MonError } from '../abi/index.js';
import { cleanRequest } from '../engine/testing.js';
import { JournalPump, startRuntime } from './runtime.js';
import { defaultDataDir, defaultSocketDir } from './paths.js';
import { Journal, TelemetryRing } from '../driver/telemetry/index.js';

const ENTRY = fileURLToPath(new URL('../cli/entry.ts', import.meta.url));

function serve(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string; line: Promise<Record<string, unknown>>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  const line = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
    });
    child.once('exit', (c) => reject(new Error(`serve exited ${c} before listening: ${err}`)));
  });
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { child, stdout: () => out, stderr: () => err, line, exit };
}

test('serve (child process): listens on DIR/device.sock + admin.sock, answers, journals, and on SIGTERM flushes, removes the sockets, exits 0', { timeout: 60_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'win11mon-rt-'));
  const sockDir = join(tmp, 'sock'), dataDir = join(tmp, 'data');
  const s = serve(['--socket-dir', sockDir, '--data-dir', dataDir, '--workload', '--scan-interval', '50', '--json']);
  try {
    const info = (await s.line).listening as Record<string, unknown>;
    assert.equal(info.device, join(sockDir, 'device.sock'));
    assert.equal(info.admin, join(sockDir, 'admin.sock'));
    const client = new Win11MonClient(await socketTransport(sockDir));
    // A1 polling finds the workload's three rings.
    let events = (await client.readEvents(1)).events;
    for (let i = 0; i < 50 && events.filter((e) => e.type === 'IoRingHandleCreated').length < 3; i++) {
      await new Promise((res) => setTimeout(res, 50));
      events = (await client.readEvents(1)).events;
    }
    assert.equal(events.filter((e) => e.type === 'IoRingHandleCreated').length, 3);
    // An unknown ring: Block (InvalidHandle), recorded in the ring.
    const r = await client.validate(cleanRequest(2, { processId: 999, ioRingHandle: 0x1234n }));
    assert.equal(r.action, InterceptAction.Block);
    assert.ok((await client.readEvents(1)).events.some((e) => e.type === 'InterceptDecision'));
    // A second service on the same directory is refused with exit 1.
    const second = serve(['--socket-dir', sockDir, '--data-dir', join(tmp, 'data2'), '--json']);
    second.line.catch(() => undefined);
    assert.equal(await second.exit, 1);
    assert.match(second.stderr(), /WIN11MON_ERR_SERVICE_RUNNING/);
    // device.sock is read-only: SCAN_NOW needs admin.sock.
    const denied = await client.transport.ioctl(Ioctl.IOCTL_MONITOR_SCAN_NOW!, new Uint8Array(0), 16);
    assert.equal(denied.status >>> 0, 0xc0000022);
    await client.close();
    const held = (await (async () => { const c = new Win11MonClient(await socketTransport(sockDir)); try { return (await c.readEvents(1)).events.length; } finally { await c.close(); } })());
    s.child.kill('SIGTERM');
    assert.equal(await s.exit, 0, s.stderr());
    assert.ok(!existsSync(join(sockDir, 'device.sock')) && !existsSync(join(sockDir, 'admin.sock')), 'socket files removed');
    const journaled = [...readJournal(join(dataDir, 'journal'))];
    assert.ok(journaled.length >= held, `journal holds ${journaled.length} of the ${held} events the ring held`);
    const types = journaled.map((e) => decodeEvent(e.record, 0, e.seq).type);
    assert.ok(types.includes('InterceptDecision') && types.includes('IoRingHandleCreated'));
    assert.deepEqual(journaled.map((e) => e.seq), journaled.map((_e, i) => i + 1), 'journal sequences are the ring sequences on a fresh journal');
    assert.match(s.stdout(), /"stopped":\{"signal":"SIGTERM"/);
  } finally {
    s.child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('journal pump: ring gaps become an EventsDropped notice at the first missing sequence; sequences continue across restarts', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'win11mon-pump-'));
  try {
    const dir = join(tmp, 'j');
    const ring = new TelemetryRing({ slotCount: 16 });
    const emit = (n: number) => { for (let i = 0; i < n; i++) ring.emit('PolicyChanged', { version: i, previousVersion: 0, hashPrefix: 'ab', source: 'test' }); };
    let j = Journal.open({ dir, fsyncIntervalMs: 0 });
    let pump = new JournalPump(ring, j);
    emit(5);
    assert.equal(pump.drain(), 5);
    emit(40); // 5 more than the ring holds past the cursor... 40 > 16: 24 are overwritten
    pump.drain();
    assert.equal(pump.counters.dropNotices, 1);
    assert.equal(pump.counters.eventsMissed, 40 - 16);
    j.close();
    const entries = [...readJournal(dir)].map((e) => ({ seq: e.seq, type: decodeEvent(e.record, 0, e.seq).type }));
    assert.deepEqual(entries.find((e) => e.type === 'EventsDropped'), { seq: 6, type: 'EventsDropped' });
    assert.equal(entries.length, 5 + 1 + 16);
    // A restart: a new ring starts at 1 again, the journal continues after its last sequence.
    j = Journal.open({ dir, fsyncIntervalMs: 0 });
    const last = j.lastSeq;
    const ring2 = new TelemetryRing({ slotCount: 16 });
    pump = new JournalPump(ring2, j);
    ring2.emit('PolicyChanged', { version: 1, previousVersion: 0, hashPrefix: 'cd', source: 'restart' });
    pump.drain();
    j.close();
    const all = [...readJournal(dir)];
    assert.equal(all[all.length - 1]!.seq, last + 1);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('startRuntime refuses an invalid policy with file:line issues; defaults honour the environment', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'win11mon-rtp-'));
  try {
    await assert.rejects(startRuntime({ socketDir: join(tmp, 's'), dataDir: join(tmp, 'd'), policyText: 'limits:\n  maxOperationsPerSubmit: -1\n', policySource: 'bad.yaml' }),
      (e: { code?: string; message: string }) => e.code === 'WIN11MON_ERR_POLICY_INVALID' && /bad\.yaml:2:/.test(e.message));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  assert.equal(defaultSocketDir({ WIN11MON_SOCKET_DIR: '/x' }), '/x');
  assert.equal(defaultSocketDir({ XDG_RUNTIME_DIR: '/run/user/5' }), '/run/user/5/win11mon');
  assert.match(defaultSocketDir({}), /^\/tmp\/win11mon-/);
  assert.equal(defaultDataDir({ WIN11MON_DATA_DIR: '/d' }), '/d');
  assert.equal(defaultDataDir({ XDG_STATE_HOME: '/s' }), '/s/win11mon');
  assert.equal(defaultDataDir({ HOME: '/home/a' }), '/home/a/.local/state/win11mon');
});

test('IOCTL_MONITOR_RINGBUF_CONFIGURE: admin only, checked input, saved in the data directory and applied at the next start', { timeout: 30_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'win11mon-ringcfg-'));
  const sockDir = join(tmp, 's'), dataDir = join(tmp, 'd');
  const code = Ioctl.IOCTL_MONITOR_RINGBUF_CONFIGURE!;
  const input = (size: number, bytes: number, flags: number, len = 12): Uint8Array => {
    const b = new Uint8Array(len);
    const dv = new DataView(b.buffer);
    if (len >= 12) { dv.setUint32(0, size, true); dv.setUint32(4, bytes, true); dv.setUint32(8, flags, true); }
    return b;
  };
  try {
    let rt = await startRuntime({ socketDir: sockDir, dataDir, scanIntervalMs: 0 });
    assert.equal(rt.driver.ring.slotCount, 4096); // the default: 1 MiB of 256-byte slots
    const admin = await socketTransport(sockDir, { admin: true });
    const device = await socketTransport(sockDir);
    try {
      assert.equal((await device.ioctl(code, input(12, 256 * 1024, 0), 4)).status >>> 0, 0xc0000022, 'device.sock is read-only');
      assert.equal((await admin.ioctl(code, input(12, 256 * 1024, 0, 8), 4)).status >>> 0, 0xc0000004, 'short input: STATUS_INFO_LENGTH_MISMATCH');
      assert.equal((await admin.ioctl(code, input(16, 256 * 1024, 0), 4)).status >>> 0, 0xc0000004, 'Size field not 12');
      assert.equal((await admin.ioctl(code, input(12, 256 * 1024, 1), 4)).status >>> 0, 0xc000000d, 'reserved Flags');
      const small = await admin.ioctl(code, input(12, 1000, 0), 4096);
      assert.equal(small.status >>> 0, 0xc000000d, 'below 64 KiB');
      assert.match(Buffer.from(small.output).toString(), /WIN11MON_ERR_RING_CONFIG_INVALID.*BufferSizeBytes/);
      assert.equal((await admin.ioctl(code, input(12, 17 * 1024 * 1024, 0), 4)).status >>> 0, 0xc000000d, 'above 16 MiB');
      assert.equal(rt.driver.pendingRingBytes, null, 'refused requests change nothing');
      // 300,000 bytes: rounded down to 1024 slots (262,144 bytes), reported in the 4-byte output.
      const okr = await admin.ioctl(code, input(12, 300_000, 0), 4);
      assert.equal(okr.status, 0);
      assert.equal(new DataView(okr.output.buffer, okr.output.byteOffset, 4).getUint32(0, true), 262_144);
      assert.equal(rt.driver.ring.slotCount, 4096, 'the running ring keeps its size');
      assert.equal(rt.driver.pendingRingBytes, 262_144);
    } finally {
      await admin.close();
      await device.close();
      await rt.close();
    }
    assert.deepEqual(JSON.parse(readFileSync(join(dataDir, 'ringbuf.json'), 'utf8')), { bufferSizeBytes: 262_144 });
    rt = await startRuntime({ socketDir: sockDir, dataDir, scanIntervalMs: 0 });
    try {
      assert.equal(rt.driver.ring.slotCount, 1024);
      const stats = rt.driver.ioctl(Ioctl.IOCTL_MONITOR_RINGBUF_GET_STATS!, new Uint8Array(0), 56, { access: 1, pid: 0, uid: -1, endpoint: 'in-process' });
      assert.equal(new DataView(stats.output.buffer, stats.output.byteOffset, 56).getUint32(4, true), 262_144, 'MON_RINGBUF_STATS_OUTPUT.BufferSizeBytes');
    } finally {
      await rt.close();
    }
    // A damaged file stops the start with an error naming it, never a silent default.
    writeFileSync(join(dataDir, 'ringbuf.json'), '{"bufferSizeBytes": "big"}');
    await assert.rejects(startRuntime({ socketDir: sockDir, dataDir, scanIntervalMs: 0 }), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_RING_CONFIG_INVALID' && e.message.includes('ringbuf.json'));
    writeFileSync(join(dataDir, 'ringbuf.json'), '{"bufferSizeBytes": 4096}');
    await assert.rejects(startRuntime({ socketDir: sockDir, dataDir, scanIntervalMs: 0 }), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_RING_CONFIG_INVALID' && /outside/.test(e.message));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
