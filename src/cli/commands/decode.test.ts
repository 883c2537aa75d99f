// `win11mon decode`, run in process over the committed vectors in fixtures/vectors/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../main.js';
import type { CliIo } from '../io.js';
import { buildVectors, VECTOR_DIR } from '../../../scripts/make-vectors.js';

function capture(stdin: Buffer = Buffer.alloc(0)): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out(t: string) { io.stdout += t; }, err(t: string) { io.stderr += t; }, readStdin: async () => stdin };
  return io;
}
const vec = (name: string): string => join(VECTOR_DIR, name);

test('the committed vectors are what scripts/make-vectors.ts builds', () => {
  for (const [name, bytes] of Object.entries(buildVectors())) {
    assert.deepEqual(new Uint8Array(readFileSync(vec(name))), bytes, `${name} is stale: run npx tsx scripts/make-vectors.ts`);
  }
});

test('decode --json: the exploit registered-buffer WRITE, with names and hex addresses', async () => {
  const io = capture();
  assert.equal(await runCli(['decode', vec('exploit-regbuf-write.bin'), '--json'], io), 0, io.stderr);
  const d = JSON.parse(io.stdout);
  assert.equal(d.header.operationCount, 1);
  assert.equal(d.sqes[0].opName, 'IORING_OP_WRITE');
  assert.deepEqual(d.sqes[0].flagNames, ['MON_SQE_FLAG_PREREGISTERED_BUFFER']);
  assert.deepEqual(d.sqes[0].meaning.buffer, { kind: 'registered', index: 0, offset: 0 });
  assert.equal(d.sqes[0].fileRef, '0x0000000000000124');
  assert.equal(d.extensions[0].typeName, 'RegBuffersSnapshot');
  assert.equal(d.extensions[0].arrayAddress, '0x0000000001000000');
  assert.equal(d.extensions[0].buffers[0].addressClass, 'kernel');
});

test('decode (human listing): a kernel-address READ, aligned fields, every SQE field present', async () => {
  const io = capture();
  assert.equal(await runCli(['decode', vec('kernel-address-read.bin')], io), 0, io.stderr);
  assert.match(io.stdout, /^MON_INTERCEPT_REQUEST \(120 bytes, 1 SQEs\)/);
  assert.match(io.stdout, /SQE\[0\] @0x0020 {2}IORING_OP_READ/);
  assert.match(io.stdout, /\n {2}bufferAddress +0xffff8000deadb000\n/);
  assert.match(io.stdout, /meaning\.buffer\.addressClass +kernel/);
  for (const f of ['opCode', 'flags', 'fileRef', 'fileOffset', 'bufferSize', 'bufferOffset', 'key', 'reserved1', 'userData', 'ext.sqeFlags', 'ext.version']) {
    assert.match(io.stdout, new RegExp(`\\n  ${f.replace('.', '\\.')} +\\S`), f);
  }
});

test('decode --sqes: a bare NT_IORING_SQE array with every opcode', async () => {
  const io = capture();
  assert.equal(await runCli(['decode', '--sqes', vec('native-all-opcodes.sqes.bin'), '--json'], io), 0, io.stderr);
  const d = JSON.parse(io.stdout);
  assert.deepEqual(d.sqes.map((s: { opName: string }) => s.opName), ['NOP', 'READ', 'REGISTER_FILES', 'REGISTER_BUFFERS', 'CANCEL', 'WRITE', 'FLUSH', 'READ_SCATTER', 'WRITE_GATHER'].map((n) => `IORING_OP_${n}`));
  assert.deepEqual(d.sqes[5].op.file, { kind: 'registered', index: 1 });
  assert.deepEqual(d.sqes[5].op.buffer, { kind: 'registered', index: 0, offset: 0x20 });
});

test('decode reads stdin for "-"; an unknown opcode is listed as an anomaly, or exit 2 with --strict', async () => {
  const bytes = readFileSync(vec('native-unknown-opcode.sqes.bin'));
  const io = capture(bytes);
  assert.equal(await runCli(['decode', '-', '--sqes'], io), 0, io.stderr);
  assert.match(io.stdout, /IORING_OP_UNKNOWN\(42\)/);
  assert.match(io.stdout, /WIN11MON_ERR_UNKNOWN_OPCODE/);
  const strict = capture(bytes);
  assert.equal(await runCli(['decode', '-', '--sqes', '--strict'], strict), 2);
  assert.match(strict.stderr, /STATUS_INVALID_PARAMETER \(0xc000000d\) WIN11MON_ERR_UNKNOWN_OPCODE: .*\[NT_IORING_SQE\.OpCode at offset 0 \(0x0\)\]/);
});

test('malformed input exits 2 with the NTSTATUS name, the code and what is wrong on stderr', async () => {
  const cases: [string, RegExp][] = [
    ['malformed-size.bin', /STATUS_BUFFER_TOO_SMALL \(0xc0000023\) WIN11MON_ERR_SIZE_MISMATCH: .*Size says 384 .*\[MON_INTERCEPT_REQUEST\.Size at offset 0/],
    ['malformed-count-overflow.bin', /STATUS_INVALID_PARAMETER \(0xc000000d\) WIN11MON_ERR_COUNT_OVERFLOW: .*\[MON_INTERCEPT_REQUEST\.OperationCount at offset 24 \(0x18\)\]/],
  ];
  for (const [name, re] of cases) {
    const io = capture();
    assert.equal(await runCli(['decode', vec(name)], io), 2, name);
    assert.equal(io.stdout, '');
    assert.match(io.stderr, re);
  }
  const trunc = capture(Buffer.alloc(10));
  assert.equal(await runCli(['decode'], trunc), 2);
  assert.match(trunc.stderr, /STATUS_BUFFER_TOO_SMALL .*WIN11MON_ERR_TRUNCATED/);
  const missing = capture();
  assert.equal(await runCli(['decode', vec('no-such-file.bin')], missing), 1);
  assert.match(missing.stderr, /cannot read/);
});
