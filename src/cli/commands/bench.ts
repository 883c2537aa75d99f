// `win11mon bench`: runs the benchmark modules of every layer in one process and prints one table
// (or `{ machine, results }` JSON). Each module in src/bench exports run({ quick }) -> results.
import os from 'node:os';
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { ExitCode } from '../io.js';
import { table } from '../format.js';

export interface BenchResult { name: string; value: number; unit: string }
type BenchModule = { run(opts: { quick: boolean }): Promise<BenchResult[]> };

// The hook suite is another module's work; a specifier in a variable keeps the build independent of
// whether it exists yet (it is then reported as missing, not a crash).
const HOOK_BENCH = '../../bench/hook.bench.js';

/** Suites in run order; `--only` selects by these names. */
export const BENCH_SUITES: Record<string, () => Promise<BenchModule>> = {
  abi: () => import('../../bench/abi.bench.js'),
  engine: () => import('../../bench/engine.bench.js'),
  kernel: () => import('../../bench/kernel.bench.js'),
  ring: () => import('../../bench/ring.bench.js'),
  service: () => import('../../bench/service.bench.js'),
  hook: () => import(HOOK_BENCH) as Promise<BenchModule>,
};

/** The plan's targets (section 6 INT-P01..P03 and this project's), by result name. */
export const BENCH_TARGETS: Record<string, { op: '<' | '>'; value: number; text: string }> = {
  'validate.latency.p99.ops64': { op: '<', value: 100, text: '< 100 µs (INT-P01)' },
  'validate.speedup.json-rules-engine': { op: '>', value: 1, text: '> 1x' },
  'service.validate.p99': { op: '<', value: 100, text: '< 100 µs (INT-P01, over the socket)' },
  'service.validate.throughput': { op: '>', value: 50_000, text: '> 50,000/s' },
  'hook.overhead': { op: '<', value: 5, text: '< 5 % (INT-P02)' },
  'memory.per_process': { op: '<', value: 1024 * 1024, text: '< 1 MiB (INT-P03)' },
};

export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(4);
}

/** 'met', 'missed' or '' (no target) for a result. */
export function targetStatus(r: BenchResult): string {
  const t = BENCH_TARGETS[r.name];
  if (!t) return '';
  return (t.op === '<' ? r.value < t.value : r.value > t.value) ? 'met' : 'MISSED';
}

const mod: CommandModule = {
  register(program: Command, io, setStatus) {
    return program
      .command('bench')
      .description('run the benchmarks of every layer and print a table with the targets (docs/benchmarks.md)')
      .option('--quick', 'short runs (a smoke test, a few seconds per suite)')
      .option('--json', 'print { machine, quick, results: [{ name, value, unit }], missing }')
      .option('--only <suites>', `comma-separated suites: ${Object.keys(BENCH_SUITES).join(', ')}`)
      .action(async (opts: { quick?: boolean; json?: boolean; only?: string }) => {
        const names = opts.only ? opts.only.split(',').map((s) => s.trim()).filter(Boolean) : Object.keys(BENCH_SUITES);
        const unknown = names.filter((n) => !(n in BENCH_SUITES));
        if (unknown.length > 0) {
          io.err(`win11mon bench: unknown suite(s) ${unknown.join(', ')}; available: ${Object.keys(BENCH_SUITES).join(', ')}\n`);
          setStatus(ExitCode.BadInput);
          return;
        }
        const results: BenchResult[] = [];
        const missing: string[] = [];
        const t0 = performance.now();
        for (const name of names) {
          if (!opts.json) io.err(`running ${name}${opts.quick ? ' (quick)' : ''}...\n`);
          let suite: BenchModule;
          try {
            suite = await BENCH_SUITES[name]!();
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            if (code !== 'ERR_MODULE_NOT_FOUND' || opts.only) throw e;
            io.err(`win11mon bench: suite ${name} is not available (${(e as Error).message.split('\n')[0]}); skipped\n`);
            missing.push(name);
            continue;
          }
          results.push(...(await suite.run({ quick: Boolean(opts.quick) })).filter((r) => r.name !== 'unreachable'));
        }
        const seconds = (performance.now() - t0) / 1000;
        if (opts.json) {
          io.out(JSON.stringify({ machine: machineInfo(), quick: Boolean(opts.quick), seconds, results, missing }, null, 2) + '\n');
        } else {
          io.out(table(['name', 'value', 'unit', 'target', ''], results.map((r) => [r.name, formatValue(r.value), r.unit, BENCH_TARGETS[r.name]?.text ?? '', targetStatus(r)])));
          io.err(`${results.length} figures in ${seconds.toFixed(1)} s${missing.length ? `; missing suites: ${missing.join(', ')}` : ''}\n`);
        }
        setStatus(missing.length > 0 ? ExitCode.Failure : ExitCode.Ok);
      });
  },
};
export default mod;
