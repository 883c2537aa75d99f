// Service transport benchmarks: socket round-trip latency (p50/p99 µs) and throughput with 1, 4
// and 16 concurrent clients against a trivial in-process device (the transport alone).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NtStatus } from '../abi/index.js';
import type { Device } from '../driver/device.js';
import { startService } from '../service/server.js';
import { connectSocketTransport } from '../client/socket-transport.js';

const echo: Device = { ioctl: (_c, input) => ({ status: NtStatus.STATUS_SUCCESS, information: input.byteLength, output: input }) };

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export async function run(opts: { quick: boolean }): Promise<Array<{ name: string; value: number; unit: string }>> {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-bench-'));
  const svc = await startService({ socketDir: dir, device: echo });
  const out: Array<{ name: string; value: number; unit: string }> = [];
  const input = new Uint8Array(120); // about one MON_INTERCEPT_REQUEST with one SQE
  try {
    for (const clients of [1, 4, 16]) {
      const ts = await Promise.all(Array.from({ length: clients }, () => connectSocketTransport(svc.devicePath, { timeoutMs: 10_000 })));
      const perClient = Math.ceil((opts.quick ? 3000 : 30_000) / clients);
      for (const t of ts) for (let i = 0; i < 50; i++) await t.ioctl(0x222080, input, 48); // warm up
      const lat: number[] = [];
      const t0 = process.hrtime.bigint();
      await Promise.all(ts.map(async (t) => {
        for (let i = 0; i < perClient; i++) {
          const s = process.hrtime.bigint();
          await t.ioctl(0x222080, input, 48);
          lat.push(Number(process.hrtime.bigint() - s) / 1000);
        }
      }));
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      lat.sort((a, b) => a - b);
      out.push(
        { name: `service.transport.c${clients}.p50`, value: pct(lat, 0.5), unit: 'us' },
        { name: `service.transport.c${clients}.p99`, value: pct(lat, 0.99), unit: 'us' },
        { name: `service.transport.c${clients}.throughput`, value: lat.length / secs, unit: 'req/s' },
      );
      await Promise.all(ts.map((t) => t.close()));
    }
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run({ quick: process.argv.includes('--quick') }).then((r) => console.table(r));
}
