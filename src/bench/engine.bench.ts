// Benchmarks of the policy engine's hot path (validate()) and, in the same run, of the same checks
// expressed as json-rules-engine rules over decoded SQE facts (what a TypeScript developer would
// otherwise reach for). Not part of the timed tests; `run({ quick: true })` takes about 10 s.
import { Bench } from 'tinybench';
import { Engine as RulesEngine } from 'json-rules-engine';
import { PolicyEngine, Decision, type SubmissionContext } from '../engine/index.js';
import { InterceptRequestView } from '../abi/request.js';
import { buildRequest, readRaw, writeRaw, readReg, legitRegBuffers, USER_BUF } from '../engine/testing.js';
import { defaultPolicy } from '../engine/policy.js';

export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
}

/** A realistic clean submission of `n` ops: raw reads/writes and registered-buffer reads. */
function submission(n: number): Uint8Array {
  const sqes = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? readRaw(USER_BUF + BigInt(i) * 0x1000n) : i % 3 === 1 ? writeRaw(USER_BUF + BigInt(i) * 0x1000n) : readReg(i % 4, 0x800)));
  return buildRequest(sqes);
}

function makeContext(): SubmissionContext {
  return { nowNs: 0, processId: 4242, imageName: 'app.exe', imagePath: 'C:\\app.exe', regBuffers: legitRegBuffers(4), handleKnown: true };
}

/** The default policy's checks as json-rules-engine rules over one SQE's facts, plus a submission rule. */
function rulesEngine(): RulesEngine {
  const p = defaultPolicy();
  const allowed = p.opcodes.allowed === 'all' ? Array.from({ length: 32 }, (_, i) => i) : p.opcodes.allowed;
  const e = new RulesEngine([], { allowUndefinedFacts: true });
  e.addRule({ name: 'opcode', conditions: { any: [{ fact: 'opCode', operator: 'notIn', value: allowed }, { fact: 'reservedFlags', operator: 'notEqual', value: 0 }] }, event: { type: 'SuspiciousOpCode' } });
  e.addRule({ name: 'kernel-address', conditions: { all: [{ fact: 'registered', operator: 'equal', value: false }, { any: [{ fact: 'addressHi', operator: 'greaterThan', value: 0x7fff }, { all: [{ fact: 'addressHi', operator: 'equal', value: 0x7fff }, { fact: 'addressLo', operator: 'greaterThan', value: 0xfffeffff }] }] }] }, event: { type: 'KernelAddressInBuffer' } });
  e.addRule({ name: 'buffer-size', conditions: { all: [{ fact: 'bufferSize', operator: 'greaterThan', value: p.limits.maxBufferSizeBytes }] }, event: { type: 'BufferSizeTooLarge' } });
  e.addRule({ name: 'registered-index', conditions: { all: [{ fact: 'registered', operator: 'equal', value: true }, { fact: 'index', operator: 'greaterThanInclusive', value: 4 }] }, event: { type: 'RegBuffersCorrupted' } });
  return e;
}

async function rulesValidate(e: RulesEngine, view: InterceptRequestView): Promise<number> {
  let violations = 0;
  const n = view.operationCount;
  if (n > 1024) violations++;
  for (let i = 0; i < n; i++) {
    const flags = view.sqeFlags(i);
    const r = await e.run({
      opCode: view.opCode(i), reservedFlags: flags & ~3, registered: (flags & 2) !== 0,
      addressHi: view.bufferAddressHi(i), addressLo: view.bufferAddressLo(i), bufferSize: view.bufferSize(i), index: view.bufferAddressLo(i),
    });
    violations += r.events.length;
  }
  return violations;
}

/** Runs the benchmarks and returns the figures (latencies in µs, throughput in SQEs/s). */
export async function run(opts: { quick: boolean }): Promise<BenchFigure[]> {
  const engine = new PolicyEngine();
  engine.setPolicy({ checks: { rateLimit: 'off' } }); // a benchmark loop is not a workload the rate limit should see
  const view = new InterceptRequestView();
  const d = new Decision();
  const ctx = makeContext();
  const figures: BenchFigure[] = [];
  const sizes = [1, 8, 64, 512];
  const reqs = new Map(sizes.map((n) => [n, submission(n)]));
  const bench = new Bench({ time: opts.quick ? 400 : 2000, warmupTime: opts.quick ? 100 : 500 });
  let sink = 0;
  for (const n of sizes) {
    const req = reqs.get(n)!;
    bench.add(`ops${n}`, () => {
      engine.validate(view.reset(req), ctx, d);
      sink += d.action;
    });
  }
  await bench.run();
  for (const t of bench.tasks) {
    const r = t.result as { latency?: { p50: number; p99: number } } | undefined;
    if (!r?.latency) continue;
    figures.push({ name: `validate.latency.p50.${t.name}`, value: r.latency.p50 * 1000, unit: 'µs' });
    figures.push({ name: `validate.latency.p99.${t.name}`, value: r.latency.p99 * 1000, unit: 'µs' });
  }

  // Batch throughput: back-to-back 64-op submissions on one core.
  const req64 = reqs.get(64)!;
  const batch = opts.quick ? 100_000 : 500_000;
  for (let i = 0; i < 10_000; i++) engine.validate(view.reset(req64), ctx, d);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) {
    engine.validate(view.reset(req64), ctx, d);
    sink += d.action;
  }
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const ours = (batch * 64) / sec;
  figures.push({ name: 'validate.throughput', value: ours, unit: 'SQEs/s' });

  // The same checks with json-rules-engine on the same submissions.
  const rules = rulesEngine();
  const jreBatch = opts.quick ? 200 : 1000;
  view.reset(req64);
  for (let i = 0; i < 20; i++) sink += await rulesValidate(rules, view);
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < jreBatch; i++) sink += await rulesValidate(rules, view);
  const jreSec = Number(process.hrtime.bigint() - t1) / 1e9;
  const jre = (jreBatch * 64) / jreSec;
  figures.push({ name: 'validate.throughput.json-rules-engine', value: jre, unit: 'SQEs/s' });
  figures.push({ name: 'validate.speedup.json-rules-engine', value: ours / jre, unit: 'x' });
  if (sink === -1) figures.push({ name: 'unreachable', value: 0, unit: '' }); // keeps `sink` alive
  return figures;
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  const figures = await run({ quick: process.argv.includes('--quick') });
  for (const f of figures) console.log(`${f.name.padEnd(44)} ${f.value.toFixed(f.value < 100 ? 3 : 0).padStart(14)} ${f.unit}`);
}
