// `win11mon decode [FILE|-] [--json] [--sqes] [--strict]`: prints every field of a MON_INTERCEPT_REQUEST
// (or, with --sqes, of a bare NT_IORING_SQE array) with opcode and flag names and 64-bit values in hex.
// Malformed input exits 2 with the NTSTATUS name, the error code and what is wrong on stderr.
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { ExitCode, readInputBytes, type CliIo } from '../io.js';
import { decodeInterceptRequest, decodeNativeSqeArray } from '../../abi/decode.js';
import { isWin11MonError, type Win11MonError } from '../../abi/errors.js';

interface DecodeOpts { json?: boolean; sqes?: boolean; strict?: boolean }

/** Flattens a decoded object into [path, value] rows ("op.buffer.index", "3"). */
function rows(v: unknown, path: string, out: [string, string][]): [string, string][] {
  if (Array.isArray(v) && v.every((x) => typeof x !== 'object' || x === null)) {
    out.push([path, v.length === 0 ? '-' : v.join(' | ')]);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => rows(x, `${path}[${i}]`, out));
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) rows(x, path ? `${path}.${k}` : k, out);
  } else {
    out.push([path, v === null ? '-' : String(v)]);
  }
  return out;
}

function section(title: string, obj: unknown, skip: readonly string[] = []): string {
  const r = rows(obj, '', []).filter(([k]) => !skip.includes(k));
  const w = Math.max(0, ...r.map(([k]) => k.length));
  return `${title}\n${r.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n')}\n`;
}

const hex = (n: number): string => `0x${n.toString(16).padStart(4, '0')}`;

function render(bytes: Uint8Array, opts: DecodeOpts): string {
  const strict = opts.strict ?? false;
  if (opts.sqes) {
    const sqes = decodeNativeSqeArray(bytes, { strict });
    if (opts.json) return JSON.stringify({ sqes }, null, 2) + '\n';
    let s = `NT_IORING_SQE x ${sqes.length} (${bytes.byteLength} bytes)\n`;
    for (const [i, q] of sqes.entries()) s += section(`SQE[${i}] @${hex(q.offset)}  ${q.opName}`, q, ['offset']);
    return s;
  }
  const d = decodeInterceptRequest(bytes, { strict });
  if (opts.json) return JSON.stringify(d, null, 2) + '\n';
  let s = section(`MON_INTERCEPT_REQUEST (${d.header.size} bytes, ${d.header.operationCount} SQEs)`, d.header);
  for (const q of d.sqes) s += section(`SQE[${q.index}] @${hex(q.offset)}  ${q.opName}`, q, ['index', 'offset']);
  for (const [i, e] of d.extensions.entries()) s += section(`Extension[${i}] @${hex(e.offset)}  ${e.typeName}`, e, ['offset']);
  if (d.anomalies.length) s += section('Anomalies', d.anomalies);
  return s;
}

function describe(e: Win11MonError): string {
  const d = e.detail;
  const where = [d.struct && d.field ? `${d.struct}.${d.field}` : d.field, d.offset !== undefined ? `at offset ${d.offset} (0x${d.offset.toString(16)})` : '']
    .filter(Boolean).join(' ');
  return `win11mon decode: ${e.statusName} (0x${e.status.toString(16).padStart(8, '0')}) ${e.code}: ${e.message}${where ? ` [${where}]` : ''}\n`;
}

const command: CommandModule = {
  register(program: Command, io: CliIo, setStatus: (status: number) => void): Command {
    return program
      .command('decode')
      .description('decode a MON_INTERCEPT_REQUEST (or with --sqes a bare NT_IORING_SQE array) and print every field')
      .argument('[file]', 'binary input; "-" or nothing reads stdin')
      .option('--json', 'JSON output (64-bit values as "0x..." strings)')
      .option('--sqes', 'input is back-to-back 64-byte native NT_IORING_SQE')
      .option('--strict', 'unknown opcodes and reserved bits are errors (exit 2) instead of listed anomalies')
      .action(async (file: string | undefined, opts: DecodeOpts) => {
        let bytes: Uint8Array;
        try {
          bytes = await readInputBytes(file, io);
        } catch (e) {
          io.err(`win11mon decode: cannot read ${file ?? 'stdin'}: ${(e as Error).message}\n`);
          setStatus(ExitCode.Failure);
          return;
        }
        try {
          io.out(render(bytes, opts));
          setStatus(ExitCode.Ok);
        } catch (e) {
          if (!isWin11MonError(e)) throw e;
          io.err(describe(e));
          setStatus(ExitCode.BadInput);
        }
      });
  },
};

export default command;
