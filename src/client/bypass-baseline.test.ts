// BypassSuspected compares the kernel's SubmitCount with what the hook validated. What a ring
// processed before its process installed the hook must not count as a bypass; what it processes
// around the hook afterwards must.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EmulatedKernel, Workload, BuildIoRingNop, SubmitIoRing, popCompletionFast } from '../kernel/index.js';
import { MonitorDriver } from '../driver/driver.js';
import { installIntercept } from './intercept.js';

test('no BypassSuspected for entries a ring processed before the hook was installed; a direct syscall afterwards is reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-baseline-'));
  const kernel = new EmulatedKernel({ build: 22621, dataDir: dir, realFlush: false });
  const driver = new MonitorDriver({ kernel });
  try {
    driver.engine.setPolicy({ name: 't', checks: { rateLimit: 'off' } });
    const w = new Workload(kernel, { seed: 7, apps: 2 });
    w.run(200); // before any hook: registrations and I/O the monitor never saw
    const hooks = w.apps.map((a) => installIntercept(a.process, { device: driver, rings: [a.ring] }));
    for (let i = 0; i < 5; i++) { w.run(100); driver.scanNow(); }
    const bypass = () => driver.ring.read(1, 4096).events.filter((e) => e.type === 'BypassSuspected');
    assert.equal(bypass().length, 0, 'benign hooked apps are not bypass suspects');
    // Now one app submits through the direct syscall path, around its hook.
    const app = w.apps[0]!;
    BuildIoRingNop(app.ring, 99);
    SubmitIoRing(app.ring, 0, 0, undefined, app.process.syscall);
    popCompletionFast(app.ring, { userDataLo: 0, resultCode: 0, information: 0 });
    driver.scanNow();
    const b = bypass();
    assert.equal(b.length, 1);
    assert.equal(b[0]!.pid, app.process.pid);
    for (const h of hooks) h.remove();
    w.close();
  } finally {
    driver.close();
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
