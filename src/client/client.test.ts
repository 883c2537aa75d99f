// One conformance suite, two transports: the client must behave the same in process and over the socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EmulatedKernel, CreateIoRing } from '../kernel/index.js';
import { MonitorDriver } from '../driver/driver.js';
import { startService } from '../service/index.js';
import { Win11MonClient } from './client.js';
import { inProcessTransport, socketTransport, type DeviceTransport } from './transport.js';
import type { Device } from '../driver/device.js';
import { IoRingVersion, IoRingOp, encodeInterceptRequest, serializeSqeArray, isWin11MonError, NtStatus } from '../abi/index.js';
import { encodeNativeSqe } from '../abi/decode.js';

interface Fixture { client: Win11MonClient; readOnly: Win11MonClient; kernel: EmulatedKernel; done(): Promise<void> }

async function inProcess(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-client-'));
  const kernel = new EmulatedKernel({ build: 22621, dataDir: dir, realFlush: false });
  const driver = new MonitorDriver({ kernel });
  const client = new Win11MonClient(inProcessTransport(driver));
  const readOnly = new Win11MonClient(inProcessTransport(driver, { write: false }));
  return { client, readOnly, kernel, async done() { await client.close(); await readOnly.close(); driver.close(); kernel.close(); rmSync(dir, { recursive: true, force: true }); } };
}

async function overSocket(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-client-'));
  const kernel = new EmulatedKernel({ build: 22621, dataDir: join(dir) , realFlush: false });
  const driver = new MonitorDriver({ kernel });
  const svc = await startService({ socketDir: join(dir, 'sock'), device: driver });
  const t: DeviceTransport = await socketTransport(join(dir, 'sock'), { admin: true });
  const r: DeviceTransport = await socketTransport(join(dir, 'sock'));
  const client = new Win11MonClient(t);
  const readOnly = new Win11MonClient(r);
  return { client, readOnly, kernel, async done() { await client.close(); await readOnly.close(); await svc.close(); driver.close(); kernel.close(); rmSync(dir, { recursive: true, force: true }); } };
}

for (const [name, make] of [['in-process', inProcess], ['socket', overSocket]] as const) {
  test(`client (${name}): validate, policy get/set, stats, events, scan and handles behave the same`, async () => {
    const f = await make();
    try {
      const p = f.kernel.createProcess({ imageName: 'app.exe' });
      const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
      const req = encodeInterceptRequest({ processId: p.pid, threadId: 1, ioRingHandle: BigInt(ring!.handle), serializedSqes: serializeSqeArray(encodeNativeSqe({ opCode: IoRingOp.NOP })) });
      assert.equal((await f.readOnly.validate(req)).actionName, 'Allow');
      const pol = await f.client.getPolicy();
      assert.equal(typeof pol.hash, 'string');
      await f.client.setPolicy('auditMode: true\n');
      const after = await f.client.getPolicy();
      assert.ok(after.version > pol.version);
      assert.equal((await f.client.getPolicyBinary()).auditMode, true);
      await assert.rejects(f.readOnly.setPolicy('auditMode: false\n'), (e: unknown) => isWin11MonError(e) && e.code === 'WIN11MON_ERR_IOCTL_FAILED' && e.status === NtStatus.STATUS_ACCESS_DENIED);
      await assert.rejects(f.client.setPolicy('limits: [1, 2]\n'), (e: unknown) => isWin11MonError(e) && e.status === NtStatus.STATUS_INVALID_PARAMETER && /limits/.test(e.message));
      const s = await f.readOnly.getStats();
      assert.equal(s.stats.Size, 152);
      const scan = await f.client.scanNow();
      assert.equal(scan.ringsScanned, 1);
      assert.equal((await f.readOnly.ioRingHandles()).length, 1);
      const ev = await f.readOnly.readEvents(1);
      assert.ok(ev.events.some((e) => e.type === 'PolicyChanged'));
      const later = await f.readOnly.readEvents(ev.nextCursor);
      assert.equal(later.events.length, 0, 'no duplicates after the cursor');
    } finally { await f.done(); }
  });
}

test('client: every helper leaves room for a failure\'s diagnostics, whatever its success output size', async () => {
  // A device that refuses every IOCTL with a long JSON diagnostic, truncated to the caller's output
  // length as METHOD_BUFFERED does (the driver's own rule): a helper that passed the success size
  // (16, 28, 56 bytes) would surface '{"code":"WIN11…' instead of the reason.
  const diag = JSON.stringify({ code: 'WIN11MON_ERR_TEST', message: 'x'.repeat(600) });
  const bytes = new Uint8Array(Buffer.from(diag, 'utf8'));
  const device: Device = { ioctl: (_c, _i, outputLength) => ({ status: NtStatus.STATUS_INVALID_PARAMETER, information: Math.min(outputLength, bytes.byteLength), output: bytes.subarray(0, outputLength) }) };
  const client = new Win11MonClient(inProcessTransport(device));
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['getPolicyBinary', () => client.getPolicyBinary()], ['getPolicy', () => client.getPolicy()], ['setPolicy', () => client.setPolicy('auditMode: true\n')],
    ['setEnabled', () => client.setEnabled(true)], ['getStats', () => client.getStats()], ['resetStats', () => client.resetStats()],
    ['readEvents', () => client.readEvents(1)], ['ringStats', () => client.ringStats()], ['configureRing', () => client.configureRing(1 << 20)],
    ['scanNow', () => client.scanNow()], ['ioRingHandles', () => client.ioRingHandles()], ['offsetStatus', () => client.offsetStatus()], ['blacklist', () => client.blacklist()],
  ];
  for (const [name, call] of calls) {
    await assert.rejects(call(), (e: unknown) => isWin11MonError(e) && e.code === 'WIN11MON_ERR_IOCTL_FAILED' && e.message.includes(diag), `${name} must report the whole diagnostic`);
  }
  await client.close();
});
