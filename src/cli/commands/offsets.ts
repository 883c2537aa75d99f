// `win11mon offsets [--build N] [--json] [--override FILE]`: prints the _IORING_OBJECT offsets table
// (plan 5B) - one build, or every build the table knows - with sources and the 21H2 disagreement.
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';
import { Win11MonError } from '../../abi/errors.js';
import { OFFSETS_TABLE, loadOffsetsOverride, offsetsToJson, resolveOffsets, type OffsetsEntry } from '../../kernel/offsets.js';

interface OffsetsOpts { build?: string; json?: boolean; override?: string }

const hex = (n: number, w = 3): string => `0x${n.toString(16).toUpperCase().padStart(w, '0')}`;

function human(e: OffsetsEntry): string {
  const w = Math.max(...e.fields.map((f) => f.name.length));
  let s = `_IORING_OBJECT  build ${e.build} (${e.release}, builds ${e.firstBuild}-${e.lastBuild})  size ${hex(e.objectSize)}  [${e.confidence}]\n`;
  s += `  RegBuffers holds: ${e.regBuffersFormat === 'mc-entry-pointers' ? 'IOP_MC_BUFFER_ENTRY pointers (>= 22610)' : 'flat IORING_BUFFER_INFO array (< 22610)'}\n`;
  s += `  source: ${e.source}\n`;
  s += `  ${'Field'.padEnd(w)}  Offset  Size\n`;
  for (const f of e.fields) s += `  ${f.name.padEnd(w)}  ${hex(f.offset).padStart(6)}  ${hex(f.size, 2).padStart(4)}\n`;
  for (const a of e.alternatives ?? []) {
    s += `  alternative (not used): ${a.source}, size ${hex(a.objectSize)}\n    why not: ${a.why}\n`;
    for (const f of a.fields) s += `    ${f.name.padEnd(w)}  ${hex(f.offset).padStart(6)}  (${f.sourceName})\n`;
  }
  if (e.notes) s += `  notes: ${e.notes}\n`;
  return s;
}

const command: CommandModule = {
  register(program: Command, io: CliIo, setStatus: (s: number) => void): Command {
    return program
      .command('offsets')
      .description('print the IORING_OBJECT field offsets per Windows build (plan 5B dynamic offset resolution)')
      .option('--build <N>', 'one Windows build number (default: every build in the table)')
      .option('--json', 'machine-readable output')
      .option('--override <file>', 'an offsets override JSON file for builds the table does not know')
      .action(async (opts: OffsetsOpts) => {
        const override = opts.override ? loadOffsetsOverride(opts.override) : undefined;
        let entries: OffsetsEntry[];
        if (opts.build !== undefined) {
          if (!/^\d+$/.test(opts.build)) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `--build must be a build number: ${opts.build}`, { field: '--build', actual: opts.build });
          entries = [resolveOffsets(Number(opts.build), override)];
        } else {
          entries = [...(override ?? []), ...OFFSETS_TABLE];
        }
        if (opts.json) {
          const j = entries.map(offsetsToJson);
          io.out(JSON.stringify(opts.build !== undefined ? j[0] : j, null, 2) + '\n');
        } else {
          io.out(entries.map(human).join('\n'));
        }
        setStatus(ExitCode.Ok);
      });
  },
};

export default command;
