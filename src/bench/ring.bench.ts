// Telemetry ring benchmarks: producer cost per event (ns) and consumer throughput (events/s).
import { TelemetryRing } from '../driver/telemetry/ring.js';
import type { DecisionPayload } from '../driver/telemetry/events.js';

export async function run(opts: { quick: boolean }): Promise<Array<{ name: string; value: number; unit: string }>> {
  const n = opts.quick ? 200_000 : 2_000_000;
  const payload: DecisionPayload = {
    action: 'Block', reason: 'KernelAddressInBuffer', violatingOpIndex: 2, policyVersion: 7, ioRingHandle: { hi: 0, lo: 0x88 },
    operationCount: 4, violationFlags: 0, layer: 'hook', technique: 'T1068', explanation: 'SQE 2 buffer 0xffff8000`00001000 is a kernel address',
  };
  const ring = new TelemetryRing({ slotCount: 4096, clock: () => 1_700_000_000_000 });
  const raw = new Uint8Array(64);
  for (let i = 0; i < 20_000; i++) ring.emit('InterceptDecision', payload, 1, 1); // warm up
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) ring.emit('InterceptDecision', payload, 4242, 7);
  const decisionNs = Number(process.hrtime.bigint() - t0) / n;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) ring.emitRaw(5, raw, 4242, 7);
  const rawNs = Number(process.hrtime.bigint() - t0) / n;

  // consumer: fill the ring, read it all (raw records, then decoded), repeatedly
  let cursor = ring.head();
  let rawRead = 0, decoded = 0;
  let rawTime = 0n, decTime = 0n;
  const rounds = opts.quick ? 20 : 200;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < 4000; i++) ring.emit('InterceptDecision', payload, 4242, 7);
    const c0 = cursor;
    t0 = process.hrtime.bigint();
    const res = ring.readRecords(c0, 10_000, () => {});
    rawTime += process.hrtime.bigint() - t0;
    rawRead += res.count;
    t0 = process.hrtime.bigint();
    const d = ring.read(c0, 10_000);
    decTime += process.hrtime.bigint() - t0;
    decoded += d.events.length;
    cursor = d.nextCursor;
  }
  return [
    { name: 'ring.produce.decision', value: decisionNs, unit: 'ns/event' },
    { name: 'ring.produce.raw64', value: rawNs, unit: 'ns/event' },
    { name: 'ring.consume.raw', value: rawRead / (Number(rawTime) / 1e9), unit: 'events/s' },
    { name: 'ring.consume.decoded', value: decoded / (Number(decTime) / 1e9), unit: 'events/s' },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run({ quick: process.argv.includes('--quick') }).then((r) => console.table(r));
}
