import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NtStatus, Win11MonError } from '../abi/index.js';
import type { Device, IoctlResult } from '../driver/device.js';
import { startService } from '../service/server.js';
import { MAX_FRAME_DATA } from '../service/framing.js';
import { connectSocketTransport } from './socket-transport.js';

/** Never answers code 1; answers others by echo. Keeps the unanswered resolvers so the test can finish them. */
function stallDevice(stalled: ((r: IoctlResult) => void)[]): Device {
  return {
    ioctl(code, input) {
      if (code === 1) return new Promise((r) => stalled.push(r));
      return { status: NtStatus.STATUS_SUCCESS, information: input.byteLength, output: input };
    },
  };
}

const isCode = (code: string) => (e: unknown) => e instanceof Win11MonError && e.code === code;

function activeHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'PipeWrap' || r === 'PipeConnectWrap').sort();
}

test('CLI-T01 per-request timeout, late answers ignored, connection loss rejects all pending, no leaks after close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-tr-'));
  const stalled: ((r: IoctlResult) => void)[] = [];
  const svc = await startService({ socketDir: dir, device: stallDevice(stalled) });
  const before = activeHandles();
  try {
    const t = await connectSocketTransport(svc.devicePath, { timeoutMs: 50 });
    await assert.rejects(t.ioctl(1, new Uint8Array(0), 0), isCode('WIN11MON_ERR_TIMEOUT'));
    stalled.shift()!({ status: 0, information: 0, output: new Uint8Array(0) }); // late answer: ignored
    const echo = await t.ioctl(2, Buffer.from('ok'), 2);
    assert.equal(Buffer.from(echo.output).toString(), 'ok');
    await assert.rejects(t.ioctl(2, new Uint8Array(MAX_FRAME_DATA + 1), 0), isCode('WIN11MON_ERR_FRAME_TOO_LARGE'));
    await t.close();
    await assert.rejects(t.ioctl(2, new Uint8Array(1), 1), isCode('WIN11MON_ERR_NOT_CONNECTED'));

    const t2 = await connectSocketTransport(svc.devicePath, { timeoutMs: 10_000 });
    const pend = [t2.ioctl(1, new Uint8Array(0), 0), t2.ioctl(1, new Uint8Array(0), 0), t2.ioctl(1, new Uint8Array(0), 0)];
    while (stalled.length < 3) await new Promise((r) => setImmediate(r));
    assert.equal(t2.pendingCount, 3);
    await svc.close(); // the service goes away under the client
    for (const p of pend) await assert.rejects(p, isCode('WIN11MON_ERR_NOT_CONNECTED'));
    assert.equal(t2.pendingCount, 0);
    await t2.close();
    for (let i = 0; i < 20 && activeHandles().length > before.length; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(activeHandles().filter((h) => h !== 'PipeWrap'), before.filter((h) => h !== 'PipeWrap'), 'no timers left');
    assert.ok(activeHandles().filter((h) => h === 'PipeWrap').length <= before.filter((h) => h === 'PipeWrap').length, 'no sockets left');
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI-T02 connecting to a missing socket is WIN11MON_ERR_NOT_CONNECTED', async () => {
  await assert.rejects(connectSocketTransport('/nonexistent/win11mon/device.sock'), isCode('WIN11MON_ERR_NOT_CONNECTED'));
});

test('a result\'s output is its own: later responses (read into the reused buffer) do not change it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-tr-'));
  const svc = await startService({ socketDir: dir, device: stallDevice([]) });
  try {
    const t = await connectSocketTransport(svc.devicePath);
    const kept = [];
    for (let i = 0; i < 20; i++) kept.push(await t.ioctl(2, new Uint8Array(48).fill(i), 48));
    // Several in flight at once too (responses share one read).
    kept.push(...(await Promise.all(Array.from({ length: 20 }, (_, i) => t.ioctl(2, new Uint8Array(48).fill(100 + i), 48)))));
    kept.forEach((r, i) => assert.deepEqual([...r.output], new Array(48).fill(i < 20 ? i : 100 + i - 20), `result ${i} was overwritten`));
    await t.close();
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('frames sent from a reused buffer (the client\'s send buffer, the service\'s answer batches) are never overwritten while queued: large concurrent echoes come back intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-tr-'));
  const svc = await startService({ socketDir: dir, device: stallDevice([]) });
  try {
    const t = await connectSocketTransport(svc.devicePath, { timeoutMs: 20_000 });
    // 15 KB inputs fit the send buffer; 240 of them at once (~3.6 MB) overrun the socket's kernel
    // buffer, so some writes are queued in Node while later requests are being encoded.
    for (let round = 0; round < 3; round++) {
      const sizes = Array.from({ length: 240 }, (_, i) => (i % 3 === 0 ? 15 * 1024 : 100 + i));
      const results = await Promise.all(sizes.map((n, i) => t.ioctl(2, new Uint8Array(n).fill((i + round) & 0xff), n)));
      results.forEach((r, i) => {
        assert.equal(r.output.byteLength, sizes[i]);
        assert.ok(r.output.every((b) => b === ((i + round) & 0xff)), `echo ${i} of round ${round} is intact`);
      });
      // And one at a time, the path that reuses the buffer every time.
      for (let i = 0; i < 50; i++) {
        const r = await t.ioctl(2, new Uint8Array(2000 + i).fill(i), 2000 + i);
        assert.ok(r.output.byteLength === 2000 + i && r.output.every((b) => b === i));
      }
    }
    await t.close();
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
