// Benchmarks of the emulated IoRing kernel: the benign workload's operations per second (the
// baseline a hook-overhead benchmark divides by), NOP-only submissions, and the exploit run.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EmulatedKernel } from '../kernel/kernel.js';
import { Workload } from '../kernel/workload.js';
import { runIoRingExploit } from '../kernel/exploit.js';

export async function run(opts: { quick: boolean }): Promise<Array<{ name: string; value: number; unit: string }>> {
  const ops = opts.quick ? 60_000 : 400_000;
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-kbench-'));
  const out: Array<{ name: string; value: number; unit: string }> = [];
  try {
    const k = new EmulatedKernel({ build: 22621, dataDir: dir, realFlush: false });
    const w = new Workload(k, { seed: 42, apps: 3 });
    w.run(Math.min(20_000, ops / 4)); // warm-up (JIT)
    const s = w.run(ops);
    out.push({ name: 'kernel.workload.ops_per_sec', value: s.opsPerSec, unit: 'ops/s' });
    out.push({ name: 'kernel.workload.ns_per_op', value: Math.round((s.elapsedMs * 1e6) / s.operations), unit: 'ns' });
    const nop = new Workload(k, { seed: 43, apps: 1, flushRatio: 0 });
    // NOP-only: pure emulation cost (builder + submit + CQE), no file I/O.
    const t0 = performance.now();
    const app = nop.apps[0]!;
    const { BuildIoRingNop, SubmitIoRing, popCompletionFast } = await import('../kernel/kernelbase.js');
    const cqe = { userDataLo: 0, resultCode: 0, information: 0 };
    let n = 0;
    while (n < ops) {
      for (let i = 0; i < app.sqSize; i++) BuildIoRingNop(app.ring, i);
      SubmitIoRing(app.ring, 0, 0);
      while (popCompletionFast(app.ring, cqe)) n++;
    }
    out.push({ name: 'kernel.nop.ops_per_sec', value: Math.round((n * 1000) / (performance.now() - t0)), unit: 'ops/s' });
    w.close();
    nop.close();
    k.close();
    const t1 = performance.now();
    const runs = opts.quick ? 5 : 20;
    for (let i = 0; i < runs; i++) {
      const ek = new EmulatedKernel({ build: 22621, dataDir: dir });
      runIoRingExploit(ek);
      ek.close();
    }
    out.push({ name: 'kernel.exploit.ms_per_run', value: Math.round(((performance.now() - t1) / runs) * 100) / 100, unit: 'ms' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
