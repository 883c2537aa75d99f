// `win11mon ring`: the telemetry ring's size and counters (RINGBUF_GET_STATS on device.sock), and with
// --size the size the service uses from its next start (RINGBUF_CONFIGURE on admin.sock).
import type { CommandModule } from '../command.js';
import { ExitCode } from '../io.js';
import { socketDirOption, withService } from '../service-client.js';
import { num } from '../format.js';
import { MON_RINGBUF_MAX_SIZE, MON_RINGBUF_MIN_SIZE } from '../../abi/index.js';
import { RING_SLOT_SIZE } from '../../driver/telemetry/index.js';

const ringCommand: CommandModule = {
  register(program, io, setStatus) {
    return socketDirOption(program.command('ring').description('show the telemetry ring (size, events held, overwritten, dropped); with --size set its size for the next start of the service (admin.sock)'))
      .option('--size <bytes>', `ring size in bytes for the next start: ${MON_RINGBUF_MIN_SIZE}..${MON_RINGBUF_MAX_SIZE}, rounded down to a power-of-two number of 256-byte slots; 0 = the default 1 MiB`)
      .option('--json', 'print JSON')
      .action(async (opts: { socketDir?: string; size?: string; json?: boolean }) => {
        if (opts.size !== undefined) {
          if (!/^\d+$/.test(opts.size)) {
            io.err(`win11mon ring: --size must be a whole number of bytes (${MON_RINGBUF_MIN_SIZE}..${MON_RINGBUF_MAX_SIZE}, or 0 for the default), got "${opts.size}"\n`);
            setStatus(ExitCode.BadInput);
            return;
          }
          const bytes = Number(opts.size);
          await withService({ socketDir: opts.socketDir, admin: true }, io, setStatus, async (client) => {
            const applied = await client.configureRing(bytes);
            if (opts.json) io.out(JSON.stringify({ nextStartBytes: applied, nextStartEvents: applied / RING_SLOT_SIZE }) + '\n');
            else io.out(`telemetry ring: ${num(applied)} bytes (${num(applied / RING_SLOT_SIZE)} events) from the next start of the service\n`);
            setStatus(ExitCode.Ok);
          });
          return;
        }
        await withService({ socketDir: opts.socketDir }, io, setStatus, async (client) => {
          const r = await client.ringStats();
          if (opts.json) io.out(JSON.stringify(r) + '\n');
          else {
            io.out(`telemetry ring: ${num(r.bufferSizeBytes)} bytes (${num(r.bufferSizeBytes / RING_SLOT_SIZE)} events), ${num(r.eventCount)} held, ` +
              `${num(r.totalEventsWritten)} written, ${num(r.eventsOverwritten)} overwritten, ${num(r.eventsDropped)} dropped\n`);
          }
          setStatus(ExitCode.Ok);
        });
      });
  },
};

export default ringCommand;
