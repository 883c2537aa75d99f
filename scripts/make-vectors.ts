// Builds the hand-made binary vectors in fixtures/vectors/ (committed) from readable descriptions.
// `npx tsx scripts/make-vectors.ts` rewrites them; `--check` exits 1 if a committed file differs.
// src/cli/commands/decode.test.ts decodes them and checks they match buildVectors().
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { encodeNativeSqe, type NativeSqeInit } from '../src/abi/decode.js';
import { encodeInterceptRequest, serializeSqeArray } from '../src/abi/serialize.js';
import { IoRingOp } from '../src/abi/ioring.js';
import { MonExtType } from '../src/abi/monitor.js';

export const VECTOR_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'vectors');

const PIPE = 0x124n; // a named-pipe client handle, as in the public PoC
const native = (sqes: NativeSqeInit[]): Uint8Array => {
  const out = new Uint8Array(64 * sqes.length);
  sqes.forEach((s, i) => out.set(encodeNativeSqe(s), 64 * i));
  return out;
};
const req = (sqes: NativeSqeInit[], extensions?: { type: number; payload: Uint8Array }[]): Uint8Array =>
  encodeInterceptRequest({ processId: 4242, threadId: 4243, ioRingHandle: 0x2c0n, serializedSqes: serializeSqeArray(native(sqes)), extensions });

/** RegBuffersSnapshot: u32 Count, u32 Flags, u64 ArrayAddress, then Count IORING_BUFFER_INFO. */
function snapshot(arrayAddress: bigint, entries: [bigint, number][]): Uint8Array {
  const p = new Uint8Array(16 + 16 * entries.length);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, entries.length, true);
  dv.setBigUint64(8, arrayAddress, true);
  entries.forEach(([a, l], k) => { dv.setBigUint64(16 + 16 * k, a, true); dv.setUint32(24 + 16 * k, l, true); });
  return p;
}

const ALL_OPS: NativeSqeInit[] = [
  { opCode: IoRingOp.NOP, userData: 1n },
  { opCode: IoRingOp.READ, userData: 2n, op: { file: { kind: 'raw', handle: 0x80n }, buffer: { kind: 'raw', address: 0x1f600310000n }, fileOffset: 0n, length: 0x1000 } },
  { opCode: IoRingOp.REGISTER_FILES, userData: 3n, op: { count: 2, handles: 0x1f600320000n } },
  { opCode: IoRingOp.REGISTER_BUFFERS, userData: 4n, op: { count: 1, buffers: 0x1f600330000n } },
  { opCode: IoRingOp.CANCEL, userData: 5n, op: { file: { kind: 'raw', handle: 0x80n }, cancelId: 2n } },
  { opCode: IoRingOp.WRITE, userData: 6n, op: { writeFlags: 1, file: { kind: 'registered', index: 1 }, buffer: { kind: 'registered', index: 0, offset: 0x20 }, fileOffset: 0x200n, length: 0x100 } },
  { opCode: IoRingOp.FLUSH, userData: 7n, flags: 1, op: { flushMode: 0, file: { kind: 'registered', index: 1 } } },
  { opCode: IoRingOp.READ_SCATTER, userData: 8n, op: { file: { kind: 'raw', handle: 0x80n }, segmentCount: 2, segmentArray: 0x1f600340000n, fileOffset: 0n, length: 0x2000 } },
  { opCode: IoRingOp.WRITE_GATHER, userData: 9n, op: { file: { kind: 'raw', handle: 0x80n }, segmentCount: 2, segmentArray: 0x1f600340000n, fileOffset: 0x2000n, length: 0x2000 } },
];

/** The vectors, by file name. */
export function buildVectors(): Record<string, Uint8Array> {
  const clean = req([ALL_OPS[1]!, { opCode: IoRingOp.WRITE, userData: 10n, op: { file: { kind: 'raw', handle: 0x84n }, buffer: { kind: 'raw', address: 0x1f600310000n }, length: 0x1000 } }, ALL_OPS[0]!]);
  // The public technique's kernel READ primitive: a ring WRITE from registered buffer 0 (whose
  // entry the attacker forged to point into the kernel) into a pipe; RegBuffers was overwritten with
  // the user address 0x1000000 (the increment variant).
  const exploit = req(
    [{ opCode: IoRingOp.WRITE, userData: 0x41n, op: { file: { kind: 'raw', handle: PIPE }, buffer: { kind: 'registered', index: 0, offset: 0 }, length: 0x100 } }],
    [{ type: MonExtType.RegBuffersSnapshot, payload: snapshot(0x1000000n, [[0xfffff80012c00000n, 0x100]]) }],
  );
  const kernelRead = req([{ opCode: IoRingOp.READ, userData: 0x42n, op: { file: { kind: 'raw', handle: PIPE }, buffer: { kind: 'raw', address: 0xffff8000deadb000n }, length: 0x10 } }]);
  const malformed = clean.slice();
  new DataView(malformed.buffer).setUint32(0, clean.byteLength + 88, true); // Size claims one more SQE than given
  const overflow = clean.slice(0, 32 + 88);
  new DataView(overflow.buffer).setUint32(0, 32 + 88, true);
  new DataView(overflow.buffer).setUint32(0x18, 0x20000001, true); // 32 + n*88 wraps to 120 in 32 bits
  const unknown = native([{ opCode: 0x2a, userData: 0x2an, op: { raw: '00'.repeat(0x30) } }]);
  return {
    'clean-request.bin': clean,
    'exploit-regbuf-write.bin': exploit,
    'kernel-address-read.bin': kernelRead,
    'malformed-size.bin': malformed,
    'malformed-count-overflow.bin': overflow,
    'native-all-opcodes.sqes.bin': native(ALL_OPS),
    'native-unknown-opcode.sqes.bin': unknown,
  };
}

function main(): void {
  const check = process.argv.includes('--check');
  mkdirSync(VECTOR_DIR, { recursive: true });
  let bad = 0;
  for (const [name, bytes] of Object.entries(buildVectors())) {
    const path = join(VECTOR_DIR, name);
    if (check) {
      let cur: Uint8Array | undefined;
      try { cur = readFileSync(path); } catch { cur = undefined; }
      if (!cur || Buffer.compare(Buffer.from(cur), Buffer.from(bytes)) !== 0) { console.error(`${name}: differs from the generator`); bad++; }
    } else {
      writeFileSync(path, bytes);
      console.log(`${name}  ${bytes.byteLength} bytes`);
    }
  }
  process.exit(bad ? 1 : 0);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
