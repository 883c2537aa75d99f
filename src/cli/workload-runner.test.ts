import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRuntime } from '../service/runtime.js';
import { hookedWorkload } from './workload-runner.js';

test('the workload `npm start` runs goes through the interception hook: the driver validates its submissions, all allowed, and stop removes the hooks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-wl-'));
  const rt = await startRuntime({ socketDir: join(dir, 's'), dataDir: join(dir, 'd'), scanIntervalMs: 0, workload: hookedWorkload({ intervalMs: 10, opsPerTick: 16 }) });
  try {
    const deadline = Date.now() + 5000;
    while (rt.driver.engine.stats.requests < 5 && Date.now() < deadline) await sleep(10);
    const s = rt.driver.engine.statsJSON() as { requests: number; actions: { Allow: number; Block: number } };
    assert.ok(s.requests >= 5, `validations seen: ${s.requests}`);
    assert.equal(s.actions.Block, 0, 'a benign app is never blocked by the default policy');
    assert.equal(s.actions.Allow, s.requests);
  } finally {
    await rt.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const pids = [...rt.kernel.processes.values()].map((p) => p.pid);
  assert.ok(pids.every((pid) => !rt.driver.hookedPids.has(pid)), 'hooks removed on stop');
});
