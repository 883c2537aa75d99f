// Service side of the service.validate benchmark, run as a child process (the service is its own
// process in production): the emulated kernel, a MonitorDriver with a real telemetry ring and the
// socket service, with one emulated process owning one IoRing for the requests to name.
import { EmulatedKernel } from '../kernel/kernel.js';
import { CreateIoRing } from '../kernel/kernelbase.js';
import { IoRingVersion } from '../abi/ioring.js';
import { MonitorDriver } from '../driver/driver.js';
import { TelemetryRing } from '../driver/telemetry/ring.js';
import { startService } from '../service/server.js';

const [socketDir, dataDir] = process.argv.slice(2) as [string, string];
const kernel = new EmulatedKernel({ build: 22621, dataDir });
const driver = new MonitorDriver({ kernel, ring: new TelemetryRing({ slotCount: 4096 }) });
// The default rate limit (1000 submissions/s per process) is a policy for real applications; one
// benchmark client submits far faster and would be measured taking the Block path instead.
driver.engine.setPolicy({ name: 'bench', checks: { rateLimit: 'off' } });
const p = kernel.createProcess({ imageName: 'bench.exe' });
const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 64, 128);
const svc = await startService({ socketDir, device: driver });
process.on('message', async (m: string) => {
  if (m === 'cpu') { process.send!({ type: 'cpu', usage: process.cpuUsage() }); return; } // CPU accounting rows (cpuOf in service.bench.ts)
  if (m !== 'stop') return;
  await svc.close();
  driver.close();
  process.send!({ type: 'stopped', validations: driver.counters.validations }, () => process.disconnect());
});
// A bench killed before it could say stop must not leave this service running.
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready', devicePath: svc.devicePath, pid: p.pid, handle: ring!.handle });
