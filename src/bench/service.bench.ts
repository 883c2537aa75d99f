// Service benchmarks: socket round-trip latency (p50/p99 µs) and throughput with 1, 4 and 16
// concurrent clients, first against a trivial in-process device (the transport alone), then the real
// IOCTL_MONITOR_INTERCEPT_VALIDATE against a MonitorDriver with a real ring, served by a child
// process (in production the service is its own process; sharing one event loop with the clients
// would measure a setup nobody runs). The one-client latency is measured in blocks alternating with
// a bare Node echo server's (service.floor.*), the platform's floor under the same conditions.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { forkBenchChild } from './child.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NtStatus } from '../abi/index.js';
import type { Device } from '../driver/device.js';
import { startService } from '../service/server.js';
import { connectSocketTransport, type SocketTransport } from '../client/socket-transport.js';
import { Ioctl } from '../abi/index.js';
import { buildRequest, readRaw, USER_BUF } from '../engine/testing.js';

const echo: Device = { ioctl: (_c, input) => ({ status: NtStatus.STATUS_SUCCESS, information: input.byteLength, output: input }) };

/** Requests each client keeps in flight in the pipelined throughput rows. */
const PIPELINE = 8;
/** Alternating blocks of the one-client latency run (validation, then the echo floor). */
const BLOCKS = 8;
/** Requests timed right after the service starts (service.validate.startup.*). */
const STARTUP_REQUESTS = 4000;
/**
 * Requests that warm the one-client run up before it is timed: windows of 2,000 requests on this VM
 * showed the p99 settling after 10,000-16,000 requests from the service's start.
 */
const WARMUP_REQUESTS = 20_000;

// Latencies are timed with performance.now(), not process.hrtime.bigint(): the BigInt each call
// allocates made the measuring client collect garbage, which showed in its p99 (A/B on this VM:
// p99 9-25 µs higher with hrtime.bigint over the same connection).
function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

export async function run(opts: { quick: boolean }): Promise<Array<{ name: string; value: number; unit: string }>> {
  return [...(await transport(opts)), ...(await validate(opts))];
}


/** CPU time (user + system, µs) the child has used so far: asked over IPC ('cpu'), answered with process.cpuUsage(). */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', on); reject(new Error(`bench child ${child.pid} did not answer the CPU query within 5 s`)); }, 5000);
    const on = (m: unknown): void => {
      const r = m as { type?: string; usage?: NodeJS.CpuUsage };
      if (r?.type !== 'cpu' || !r.usage) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(r.usage.user + r.usage.system);
    };
    child.on('message', on);
    child.send('cpu');
  });
}

const ownCpu = (): number => { const u = process.cpuUsage(); return u.user + u.system; };

async function stopChild(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => {
    child.removeAllListeners('exit');
    if (child.exitCode !== null) { resolve(); return; }
    child.once('exit', () => resolve());
    child.send('stop');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/**
 * The platform floor for service.validate: one client, one message in flight, 400 bytes each way (a
 * 4-SQE request's size), against a bare echo server in another process — the best any service over a
 * Unix socket can do here. Returns one round trip as a function, and a stop.
 */
async function startFloor(dir: string): Promise<{ roundTrip: () => Promise<void>; cpu: () => Promise<number>; stop: () => Promise<void> }> {
  const child = forkBenchChild('echo-floor', [join(dir, 'echo.sock')]);
  const { path } = await new Promise<{ path: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => reject(new Error(`service.floor: the echo child exited with ${c}`)));
    child.once('message', (m) => resolve(m as { path: string }));
  });
  const msg = Buffer.alloc(400);
  let want = 0;
  let got = 0;
  let wake: () => void = () => {};
  const readBuffer = Buffer.allocUnsafe(64 * 1024);
  const socket = createConnection({ path, onread: { buffer: readBuffer, callback: (n: number) => { got += n; if (got >= want) wake(); return true; } } });
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
  return {
    roundTrip: () => new Promise<void>((resolve) => { want += msg.byteLength; wake = resolve; socket.write(msg); }),
    cpu: () => cpuOf(child),
    stop: async () => { socket.destroy(); await stopChild(child); },
  };
}

async function transport(opts: { quick: boolean }): Promise<Array<{ name: string; value: number; unit: string }>> {
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
      const t0 = performance.now();
      await Promise.all(ts.map(async (t) => {
        for (let i = 0; i < perClient; i++) {
          const s = performance.now();
          await t.ioctl(0x222080, input, 48);
          lat.push((performance.now() - s) * 1000);
        }
      }));
      const secs = (performance.now() - t0) / 1000;
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

/** A clean 4-SQE submission (raw reads into a user buffer) on the worker's ring. */
function validateRequest(pid: number, handle: number): Uint8Array {
  return buildRequest(Array.from({ length: 4 }, (_, i) => readRaw(USER_BUF + BigInt(i * 0x1000), 0x1000)), { processId: pid, threadId: 1, ioRingHandle: BigInt(handle) });
}

/** service.validate.*: INTERCEPT_VALIDATE round trips over device.sock against the real driver. */
async function validate(opts: { quick: boolean }): Promise<Array<{ name: string; value: number; unit: string }>> {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-bench-v-'));
  const child = forkBenchChild('validate-service', [join(dir, 'sock'), dir]);
  const ready = await new Promise<{ devicePath: string; pid: number; handle: number }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => reject(new Error(`service.validate: the service child exited with ${c}`)));
    child.once('message', (m) => resolve(m as { devicePath: string; pid: number; handle: number }));
  });
  const code = Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!;
  const req = validateRequest(ready.pid, ready.handle);
  const out: Array<{ name: string; value: number; unit: string }> = [];
  const all: number[] = [];
  const floorLat: number[] = [];
  // CPU per request on each side (user + system): where a lockstep round trip's time goes, and what
  // bounds throughput once one side is saturated. µs accumulated over the timed blocks only.
  const cpu = { serviceC1: 0, clientC1: 0, nC1: 0, serviceC16: 0, clientC16: 0, nC16: 0, echoServer: 0, echoClient: 0, nEcho: 0 };
  let best = 0;
  let floorRig: Awaited<ReturnType<typeof startFloor>> | undefined;
  try {
    floorRig = await startFloor(dir);
    for (const clients of [1, 4, 16]) {
      const ts: SocketTransport[] = await Promise.all(Array.from({ length: clients }, () => connectSocketTransport(ready.devicePath, { timeoutMs: 10_000 })));
      const first = await ts[0]!.ioctl(code, req, 48);
      if (first.status !== 0 || first.output[4] !== 0) throw new Error(`service.validate: expected Allow/STATUS_SUCCESS, got status 0x${first.status.toString(16)} action ${first.output[4]}`);
      if (clients === 1) {
        // The service's first requests after its start: measured apart, since a service runs for
        // hours and the headline figures are its steady state (on this VM the p99 of the first
        // ~10,000 requests reaches milliseconds while both processes' JITs tier up).
        const startup = new Float64Array(STARTUP_REQUESTS);
        for (let i = 0; i < startup.length; i++) {
          const s = performance.now();
          await ts[0]!.ioctl(code, req, 48);
          startup[i] = (performance.now() - s) * 1000;
        }
        const st = Array.from(startup).sort((a, b) => a - b);
        out.push({ name: 'service.validate.startup.p50', value: pct(st, 0.5), unit: 'µs' }, { name: 'service.validate.startup.p99', value: pct(st, 0.99), unit: 'µs' });
      }
      const warm = clients === 1 ? (opts.quick ? 2000 : WARMUP_REQUESTS) : 500;
      for (const t of ts) for (let i = 0; i < warm; i++) await t.ioctl(code, req, 48); // warm up (JIT on both sides)
      // One client: blocks of round trips alternate with blocks to the bare echo floor, so that both
      // figures see the same phases of this shared machine (measured back to back, a slow phase of a
      // few seconds lands on one of them). Throughput counts the time spent on validations only.
      const blocks = clients === 1 ? BLOCKS : 1;
      const perBlock = Math.ceil((opts.quick ? 4000 : 40_000) / clients / blocks);
      const lat = new Float64Array(perBlock * blocks * clients);
      let k = 0;
      let notAllowed = 0;
      let busyMs = 0;
      const warmFloor = clients === 1 ? warm : 0; // the floor gets the same warm-up
      for (let i = 0; i < warmFloor; i++) await floorRig.roundTrip();
      for (let blk = 0; blk < blocks; blk++) {
        const s0 = await cpuOf(child);
        const c0 = ownCpu();
        const t0 = performance.now();
        await Promise.all(ts.map(async (t) => {
          for (let i = 0; i < perBlock; i++) {
            const s = performance.now();
            const r = await t.ioctl(code, req, 48);
            lat[k++] = (performance.now() - s) * 1000;
            if (r.status !== 0 || r.output[4] !== 0) notAllowed++;
          }
        }));
        busyMs += performance.now() - t0;
        const c1 = ownCpu();
        const s1 = await cpuOf(child);
        if (clients === 1) { cpu.serviceC1 += s1 - s0; cpu.clientC1 += c1 - c0; cpu.nC1 += perBlock; }
        if (clients === 16) { cpu.serviceC16 += s1 - s0; cpu.clientC16 += c1 - c0; cpu.nC16 += perBlock * clients; }
        if (clients === 1) {
          const e0 = await floorRig.cpu();
          const f0 = ownCpu();
          for (let i = 0; i < perBlock; i++) {
            const s = performance.now();
            await floorRig.roundTrip();
            floorLat.push((performance.now() - s) * 1000);
          }
          const f1 = ownCpu();
          cpu.echoServer += (await floorRig.cpu()) - e0;
          cpu.echoClient += f1 - f0;
          cpu.nEcho += perBlock;
        }
      }
      // Every answer must be the Allow this clean submission deserves: a bench that measured Block
      // paths (a rate limit, a missing ring) would time something else than validation.
      if (notAllowed > 0) throw new Error(`service.validate: ${notAllowed} of ${lat.length} answers were not Allow/STATUS_SUCCESS`);
      const secs = busyMs / 1000;
      const sorted = Array.from(lat).sort((a, b) => a - b);
      const thr = sorted.length / secs;
      if (clients === 1) all.push(...sorted);
      best = Math.max(best, thr);
      out.push(
        { name: `service.validate.c${clients}.p50`, value: pct(sorted, 0.5), unit: 'µs' },
        { name: `service.validate.c${clients}.p99`, value: pct(sorted, 0.99), unit: 'µs' },
        { name: `service.validate.throughput.c${clients}`, value: thr, unit: 'validations/s' },
      );
      await Promise.all(ts.map((t) => t.close()));
    }
    // The same clients with PIPELINE requests in flight each (the framing allows many per connection,
    // as the asynchronous hook uses it): the service's capacity once the wake-ups are shared. Reported
    // beside the one-in-flight figures, which are the ones the target is held to.
    for (const clients of [1, 4, 16]) {
      const ts: SocketTransport[] = await Promise.all(Array.from({ length: clients }, () => connectSocketTransport(ready.devicePath, { timeoutMs: 10_000 })));
      for (const t of ts) for (let i = 0; i < 200; i++) await t.ioctl(code, req, 48);
      const perLane = Math.ceil((opts.quick ? 8000 : 80_000) / clients / PIPELINE);
      let done = 0;
      let notAllowed = 0;
      const t0 = performance.now();
      await Promise.all(ts.flatMap((t) => Array.from({ length: PIPELINE }, async () => {
        for (let i = 0; i < perLane; i++) {
          const r = await t.ioctl(code, req, 48);
          if (r.status !== 0 || r.output[4] !== 0) notAllowed++;
          done++;
        }
      })));
      const secs = (performance.now() - t0) / 1000;
      if (notAllowed > 0) throw new Error(`service.validate: ${notAllowed} of ${done} pipelined answers were not Allow/STATUS_SUCCESS`);
      out.push({ name: `service.validate.pipelined${PIPELINE}.throughput.c${clients}`, value: done / secs, unit: 'validations/s' });
      await Promise.all(ts.map((t) => t.close()));
    }
  } finally {
    await floorRig?.stop();
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  }
  // The headline latency is one client's round trip (a hooked thread waits for its answer alone);
  // the c4/c16 percentiles above include queueing behind other clients.
  floorLat.sort((a, b) => a - b);
  out.unshift(
    { name: 'service.floor.node_echo.p50', value: pct(floorLat, 0.5), unit: 'µs' },
    { name: 'service.floor.node_echo.p99', value: pct(floorLat, 0.99), unit: 'µs' },
    { name: 'service.validate.p50', value: pct(all, 0.5), unit: 'µs' },
    { name: 'service.validate.p99', value: pct(all, 0.99), unit: 'µs' },
    { name: 'service.validate.throughput', value: best, unit: 'validations/s' },
  );
  const per = (us: number, n: number): number => Math.round((us / Math.max(1, n)) * 100) / 100;
  out.push(
    { name: 'service.validate.cpu_us.service.c1', value: per(cpu.serviceC1, cpu.nC1), unit: 'µs/validation' },
    { name: 'service.validate.cpu_us.client.c1', value: per(cpu.clientC1, cpu.nC1), unit: 'µs/validation' },
    { name: 'service.validate.cpu_us.service.c16', value: per(cpu.serviceC16, cpu.nC16), unit: 'µs/validation' },
    { name: 'service.validate.cpu_us.client.c16', value: per(cpu.clientC16, cpu.nC16), unit: 'µs/validation' },
    { name: 'service.floor.node_echo.cpu_us.server', value: per(cpu.echoServer, cpu.nEcho), unit: 'µs/round trip' },
    { name: 'service.floor.node_echo.cpu_us.client', value: per(cpu.echoClient, cpu.nEcho), unit: 'µs/round trip' },
  );
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run({ quick: process.argv.includes('--quick') }).then((r) => console.table(r));
}
