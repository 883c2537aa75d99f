import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../main.js';
import type { CliIo } from '../io.js';
import { BENCH_TARGETS, runSuiteIsolated, targetStatus } from './bench.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out(t: string) { io.stdout += t; }, err(t: string) { io.stderr += t; }, readStdin: async () => Buffer.alloc(0) };
  return io;
}

test('bench --json prints { machine, results } with named figures; an unknown suite is exit 2', async () => {
  const io = capture();
  assert.equal(await runCli(['bench', '--only', 'abi', '--quick', '--json'], io), 0, io.stderr);
  const doc = JSON.parse(io.stdout) as { machine: { cores: number }; results: Array<{ name: string; value: number; unit: string }> };
  assert.ok(doc.machine.cores >= 1);
  const ratio = doc.results.find((r) => r.name === 'decode.ratio.memcpy');
  assert.ok(ratio && ratio.value > 0 && ratio.unit === 'ratio');
  const bad = capture();
  assert.equal(await runCli(['bench', '--only', 'nope'], bad), 2);
  assert.match(bad.stderr, /unknown suite/);
});

test('targets judge in the right direction', () => {
  assert.equal(targetStatus({ name: 'hook.overhead', value: 1.5, unit: '%' }), 'met');
  assert.equal(targetStatus({ name: 'hook.overhead', value: 9, unit: '%' }), 'MISSED');
  assert.equal(targetStatus({ name: 'validate.throughput', value: 2e7, unit: 'SQEs/s' }), 'met');
  assert.equal(targetStatus({ name: 'no.such.figure', value: 1, unit: '' }), '');
  for (const name of ['validate.latency.p99.ops64', 'validate.throughput', 'validate.speedup.json-rules-engine', 'service.validate.p99', 'service.validate.throughput', 'hook.overhead', 'memory.per_process']) assert.ok(BENCH_TARGETS[name], name);
});

test('bench with several suites runs each in a process of its own and merges their figures in order', async () => {
  const io = capture();
  assert.equal(await runCli(['bench', '--only', 'ring,abi', '--quick', '--json'], io), 0, io.stderr);
  const doc = JSON.parse(io.stdout) as { results: Array<{ name: string }> };
  const names = doc.results.map((r) => r.name);
  const firstAbi = names.findIndex((n) => n.startsWith('decode.'));
  const lastRing = names.map((n) => n.startsWith('ring.')).lastIndexOf(true);
  assert.ok(lastRing >= 0 && firstAbi > lastRing, `ring's figures, then abi's: ${names.join(', ')}`);
});

test('an isolated suite that fails in its child process is reported as failed, not as empty figures', async () => {
  await assert.rejects(runSuiteIsolated('no-such-suite', true), /benchmark suite no-such-suite failed \(exit code [1-9]/);
  const ring = await runSuiteIsolated('ring', true);
  assert.ok(ring.some((r) => r.name.startsWith('ring.') && r.value > 0), 'figures come back from the child');
});
