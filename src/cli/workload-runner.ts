// The benign workload `npm start` runs: emulated apps doing IoRing file I/O, each with the
// interception hook installed, so every submission is validated by the driver before the kernel
// runs it (what `win11mon stats` and `win11mon events` then show). Composed here, at the top layer,
// because it joins the service runtime (driver) and the client library (hook).
import { Workload } from '../kernel/workload.js';
import { installIntercept, type InterceptHook } from '../client/intercept.js';
import type { WorkloadRunner } from '../service/runtime.js';

export function hookedWorkload(opts: { apps?: number; intervalMs?: number; opsPerTick?: number; seed?: number } = {}): WorkloadRunner {
  return ({ kernel, driver }) => {
    const w = new Workload(kernel, { apps: opts.apps ?? 3, seed: opts.seed ?? 1, fileSize: 0x8000 });
    const hooks: InterceptHook[] = w.apps.map((a) => installIntercept(a.process, { device: driver, rings: [a.ring] }));
    const timer = setInterval(() => { w.run(opts.opsPerTick ?? 32); }, opts.intervalMs ?? 250);
    timer.unref();
    return {
      stop: () => {
        clearInterval(timer);
        for (const h of hooks) h.remove();
        w.close();
      },
    };
  };
}
