// The service's socket surface under random streams, against the real driver: valid frames with any
// IOCTL code, input and output length, interleaved with malformed headers, cut into random chunks.
// Every frame before the first malformed header is answered once, in order, with a known NTSTATUS;
// a malformed header gets the id-0 error and the connection closes; and the service keeps serving
// a control client throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import fc from 'fast-check';
import { Ioctl, NtStatus, IoRingVersion } from '../abi/index.js';
import { buildRequest, readRaw, nop } from '../engine/testing.js';
import { EmulatedKernel, CreateIoRing } from '../kernel/index.js';
import { MonitorDriver } from '../driver/driver.js';
import { startService } from './server.js';
import { encodeRequest, FrameDecoder, FRAME_FIXED_SIZE, MAX_FRAME_LENGTH, CONNECTION_ERROR_ID, type Frame } from './framing.js';
import { connectSocketTransport } from '../client/socket-transport.js';

const KNOWN_STATUSES = new Set(Object.values(NtStatus).map((s) => s >>> 0));

type Item =
  | { kind: 'frame'; code: number; input: Uint8Array; outputLength: number }
  | { kind: 'malformed'; length: number };

const codes = Object.values(Ioctl);
const item: fc.Arbitrary<Item> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('frame' as const),
      code: fc.oneof({ arbitrary: fc.constantFrom(...codes), weight: 4 }, fc.nat(0xffffffff)),
      input: fc.uint8Array({ maxLength: 400 }),
      outputLength: fc.oneof(fc.constantFrom(0, 48, 152, 4096, 1 << 20, (1 << 20) + 1, 0xffffffff), fc.nat(70_000)),
    }),
    weight: 12,
  },
  fc.record({ kind: fc.constant('malformed' as const), length: fc.oneof(fc.nat(FRAME_FIXED_SIZE - 1), fc.integer({ min: MAX_FRAME_LENGTH + 1, max: 0xffffffff })) }),
);

/** Sends `bytes` in the given cuts and collects every response until the service closes or `want` arrived. */
function exchange(path: string, bytes: Uint8Array, cuts: number[], want: number, expectClose: boolean): Promise<{ frames: Frame[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const frames: Frame[] = [];
    let done = false;
    const finish = (closed: boolean): void => { if (!done) { done = true; clearTimeout(timer); s.destroy(); resolve({ frames, closed }); } };
    const d = new FrameDecoder((f) => {
      frames.push({ ...f, data: f.data.slice() });
      if (!expectClose && frames.length === want) finish(false);
    });
    const s = createConnection(path, () => {
      let at = 0;
      for (const c of cuts) { if (at >= bytes.byteLength) break; const end = Math.min(bytes.byteLength, at + 1 + c); s.write(bytes.subarray(at, end)); at = end; }
      if (at < bytes.byteLength) s.write(bytes.subarray(at));
      if (!expectClose && want === 0) finish(false);
    });
    s.on('data', (c) => d.push(c));
    s.on('error', () => { /* a reset after the id-0 error is a close */ });
    s.on('close', () => finish(true));
    const timer = setTimeout(() => { done = true; s.destroy(); reject(new Error(`no answer: ${frames.length} of ${want} frames, closed ${expectClose}`)); }, 10_000);
  });
}

test('random streams of frames and malformed headers, in random chunks, against the real driver: answered once each, in order, with a known NTSTATUS, up to the first malformed header (id-0 error, closed); the service keeps serving', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-svcfuzz-'));
  chmodSync(dir, 0o755);
  const kernel = new EmulatedKernel({ build: 22621, dataDir: dir, realFlush: false });
  const driver = new MonitorDriver({ kernel });
  assert.ok(driver.engine.setPolicy({ name: 'fuzz', checks: { rateLimit: 'off' } }).ok);
  const p = kernel.createProcess({ imageName: 'app.exe' });
  const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
  const clean = buildRequest([readRaw(), nop()], { processId: p.pid, ioRingHandle: BigInt(ring!.handle) });
  const svc = await startService({ socketDir: join(dir, 'sock'), device: driver });
  const control = await connectSocketTransport(svc.devicePath, { timeoutMs: 10_000 });
  try {
    let streams = 0;
    await fc.assert(fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(300), { maxLength: 40 }), fc.boolean(), async (items, cuts, admin) => {
      streams++;
      const firstBad = items.findIndex((i) => i.kind === 'malformed');
      const sent = firstBad < 0 ? items : items.slice(0, firstBad);
      const parts = items.map((it, i) => {
        if (it.kind === 'frame') return encodeRequest(i + 1, it.code, it.outputLength, it.input);
        const h = new Uint8Array(16);
        new DataView(h.buffer).setUint32(0, it.length, true);
        return h;
      });
      const bytes = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
      parts.reduce((at, b) => { bytes.set(b, at); return at + b.byteLength; }, 0);
      const r = await exchange(admin ? svc.adminPath : svc.devicePath, bytes, cuts, sent.length, firstBad >= 0);
      const answers = firstBad >= 0 ? r.frames.slice(0, -1) : r.frames;
      assert.deepEqual(answers.map((f) => f.id), sent.map((_, i) => i + 1), 'every frame before the first malformed header answered once, in order');
      for (const f of answers) assert.ok(KNOWN_STATUSES.has(f.a >>> 0), `frame ${f.id}: unknown status 0x${(f.a >>> 0).toString(16)}`);
      for (const [i, f] of answers.entries()) {
        const it = sent[i] as Extract<Item, { kind: 'frame' }>;
        assert.ok(f.data.byteLength <= it.outputLength, `frame ${f.id}: ${f.data.byteLength} output bytes for ${it.outputLength}`);
      }
      if (firstBad >= 0) {
        const last = r.frames[r.frames.length - 1];
        assert.ok(last !== undefined && last.id === CONNECTION_ERROR_ID && last.a === NtStatus.STATUS_INVALID_PARAMETER, 'the id-0 error comes last');
        assert.equal(r.closed, true);
      }
      // Still serving, and still deciding right.
      const v = await control.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, clean, 48);
      assert.equal(v.status, NtStatus.STATUS_SUCCESS);
    }), { numRuns: Number(process.env.WIN11MON_FUZZ_RUNS ?? 60) });
    assert.ok(streams >= 10);
  } finally {
    await control.close();
    await svc.close();
    driver.close();
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
