import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EmulatedKernel } from './kernel.js';
import { Workload, runWorkload, mulberry32 } from './workload.js';

function kernel(build = 22621) {
  const dir = mkdtempSync(join(tmpdir(), 'w11-wl-'));
  const k = new EmulatedKernel({ build, dataDir: dir, realFlush: false });
  return { k, done: () => { k.close(); rmSync(dir, { recursive: true, force: true }); } };
}

test('mulberry32 is deterministic', () => {
  const a = mulberry32(5);
  const b = mulberry32(5);
  assert.deepEqual([a(), a(), a()], [b(), b(), b()]);
});

test('the benign workload completes every operation successfully and is deterministic from the seed', () => {
  const runs = [1, 2].map(() => {
    const { k, done } = kernel();
    try {
      const s = runWorkload(k, 5000, { seed: 11 });
      assert.equal(s.completions, s.operations);
      assert.equal(s.failures, 0);
      assert.ok(s.reads > 0 && s.writes > 0 && s.nops > 0);
      assert.equal(k.openFileCount(), 0);
      assert.equal(k.ioRings().length, 0);
      assert.equal(k.bugchecks.length, 0);
      return { ...s, elapsedMs: 0, opsPerSec: 0 };
    } finally { done(); }
  });
  assert.deepEqual(runs[0], runs[1]);
});

test('21H2 workload uses reads and NOPs only (no IORING_OP_WRITE)', () => {
  const { k, done } = kernel(22000);
  try {
    const s = runWorkload(k, 2000, { seed: 3 });
    assert.equal(s.failures, 0);
    assert.equal(s.writes, 0);
  } finally { done(); }
});

test('throughput sanity: the workload runs tens of thousands of operations per second', () => {
  const { k, done } = kernel();
  try {
    const w = new Workload(k, { seed: 1 });
    w.run(5000);
    const s = w.run(30000);
    w.close();
    assert.ok(s.opsPerSec > 20000, `ops/sec ${s.opsPerSec}`);
  } finally { done(); }
});
