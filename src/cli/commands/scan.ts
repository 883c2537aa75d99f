// `win11mon scan`: A1 enumeration + A2 RegBuffers integrity now (IOCTL_MONITOR_SCAN_NOW on
// admin.sock), then the IoRing handles the driver knows, with each ring's violation flags.
import type { CommandModule } from '../command.js';
import { ExitCode } from '../io.js';
import { violationFlagNames } from '../../engine/index.js';
import { socketDirOption, withService } from '../service-client.js';
import { table, colours } from '../format.js';

const scanCommand: CommandModule = {
  register(program, io, setStatus) {
    return socketDirOption(program.command('scan').description('run A1 (IoRing handle enumeration) and A2 (RegBuffers integrity) now via admin.sock; print rings and findings (exit 0 clean, 3 findings)'))
      .option('--json', 'print { scan, rings } as JSON')
      .action(async (opts: { socketDir?: string; json?: boolean }) => {
        await withService({ ...opts, admin: true }, io, setStatus, async (client) => {
          const scan = await client.scanNow();
          const rings = (await client.ioRingHandles()).map((r) => ({ ...r, violations: violationFlagNames(r.violationFlags) }));
          const bad = rings.filter((r) => r.violationFlags !== 0);
          if (opts.json) {
            io.out(JSON.stringify({ scan, rings }, null, 2) + '\n');
          } else {
            const c = colours(io);
            io.out(`scanned ${scan.ringsScanned} IoRing(s): ${scan.newRings} new, ${scan.findings} new finding(s)\n`);
            if (rings.length > 0) {
              io.out('\n' + table(['pid', 'handle', 'IORING_OBJECT', 'access', 'RegBuffersCount', 'integrity'], rings.map((r) => [
                r.processId, r.handleValue, r.objectAddress, `0x${r.accessMask.toString(16)}`, r.regBuffersCount, r.violationFlags ? c.red(r.violations.join(',')) : c.green('ok'),
              ])));
            }
            if (bad.length > 0) io.out(`\n${c.red(`${bad.length} ring(s) with corrupted RegBuffers`)} (see \`win11mon events\` for the RegBuffersViolation records)\n`);
          }
          setStatus(bad.length > 0 ? ExitCode.Blocked : ExitCode.Ok);
        });
      });
  },
};

export default scanCommand;
