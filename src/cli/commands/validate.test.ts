import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../main.js';
import type { CliIo } from '../io.js';
import { buildRequest, readRaw, writeReg, cleanRequest, regBuffersSnapshotExt, KERNEL_ADDR } from '../../engine/testing.js';

function capture(stdin: Uint8Array = new Uint8Array()): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) { io.stdout += t; },
    err(t: string) { io.stderr += t; },
    readStdin: async () => Buffer.from(stdin),
    isTty: false,
  };
  return io;
}

const dir = mkdtempSync(join(tmpdir(), 'win11mon-validate-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, data: Uint8Array | string) => { const p = join(dir, name); writeFileSync(p, data); return p; };

test('validate: a clean request is Allow, exit 0, with policy version and hash', async () => {
  const io = capture();
  const code = await runCli(['validate', file('clean.bin', cleanRequest(3))], io);
  assert.equal(code, 0, io.stderr);
  const j = JSON.parse(io.stdout);
  assert.equal(j.action, 'Allow');
  assert.equal(j.reason, 'None');
  assert.equal(j.violatingOperationIndex, null);
  assert.equal(j.policyVersion, 1);
  assert.match(j.policyHash, /^[0-9a-f]{64}$/);
});

test('validate: kernel address is Block, exit 3; --explain lists violations', async () => {
  const io = capture();
  const code = await runCli(['validate', '--explain', file('k.bin', buildRequest([readRaw(), readRaw(KERNEL_ADDR)]))], io);
  assert.equal(code, 3);
  const j = JSON.parse(io.stdout);
  assert.equal(j.action, 'Block');
  assert.equal(j.reason, 'KernelAddressInBuffer');
  assert.equal(j.violatingOperationIndex, 1);
  assert.equal(j.technique, 'T1068');
  assert.equal(j.violations.length, 1);
  assert.match(j.explanation, /not a user-mode range/);
});

test('validate: stdin, RegBuffersSnapshot with the exploit signature', async () => {
  const req = buildRequest([writeReg(0)], { extensions: [regBuffersSnapshotExt(0x1000000n, [{ address: KERNEL_ADDR, length: 0x1000 }])] });
  const io = capture(req);
  assert.equal(await runCli(['validate', '-'], io), 3);
  assert.equal(JSON.parse(io.stdout).reason, 'RegBuffersCorrupted');
});

test('validate: --pid and --image drive the blacklist from --policy', async () => {
  const pol = file('bl.yaml', 'blacklist:\n  - pid: 1234\n    reason: known bad\n  - image: "ioring*.exe"\n');
  const req = file('r.bin', cleanRequest(1));
  let io = capture();
  assert.equal(await runCli(['validate', '--policy', pol, '--pid', '1234', req], io), 3);
  assert.equal(JSON.parse(io.stdout).reason, 'ProcessBlacklisted');
  io = capture();
  assert.equal(await runCli(['validate', '--policy', pol, '--image', 'IoRingExploit.exe', req], io), 3);
  io = capture();
  assert.equal(await runCli(['validate', '--policy', pol, req], io), 0);
  io = capture();
  assert.equal(await runCli(['validate', '--policy', pol, '--pid', 'abc', req], io), 2);
});

test('validate: audit policy turns the block into LogOnly, exit 0', async () => {
  const io = capture();
  assert.equal(await runCli(['validate', '--policy', file('audit.json', '{"auditMode": true}'), file('k2.bin', buildRequest([readRaw(KERNEL_ADDR)]))], io), 0);
  const j = JSON.parse(io.stdout);
  assert.equal(j.action, 'LogOnly');
  assert.equal(j.wouldHaveBlocked, true);
});

test('validate: malformed input prints Block/MalformedRequest JSON, the NTSTATUS on stderr, exit 2', async () => {
  const bad = cleanRequest(2);
  new DataView(bad.buffer).setUint32(0x18, 5, true);
  const io = capture();
  assert.equal(await runCli(['validate', file('bad.bin', bad)], io), 2);
  const j = JSON.parse(io.stdout);
  assert.equal(j.action, 'Block');
  assert.equal(j.reason, 'MalformedRequest');
  assert.match(io.stderr, /STATUS_INFO_LENGTH_MISMATCH \(WIN11MON_ERR_SIZE_MISMATCH\)/);
  const io2 = capture();
  assert.equal(await runCli(['validate', file('short.bin', new Uint8Array(5))], io2), 2);
});

test('validate: an invalid --policy prints file:line errors, exit 2', async () => {
  const p = file('badpol.yaml', 'checks:\n  regBuffers: sometimes\n');
  const io = capture();
  assert.equal(await runCli(['validate', '--policy', p, file('c.bin', cleanRequest(1))], io), 2);
  assert.match(io.stderr, new RegExp(`${p.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}:2: checks.regBuffers: `));
});

test('policy check: normalized JSON, exit 0; errors file:line: path: message, exit 2', async () => {
  let io = capture();
  assert.equal(await runCli(['policy', 'check', file('ok.yaml', 'opcodes:\n  allowed: [READ, WRITE]\n')], io), 0);
  const j = JSON.parse(io.stdout);
  assert.deepEqual(j.policy.opcodes.allowed, [1, 5]);
  assert.match(j.hash, /^[0-9a-f]{64}$/);
  io = capture();
  const p = file('bad.json', '{\n  "rateLimit": {\n    "submissionsPerSecond": "fast"\n  }\n}\n');
  assert.equal(await runCli(['policy', 'check', p], io), 2);
  assert.ok(io.stderr.startsWith(`${p}:3: rateLimit.submissionsPerSecond: `), io.stderr);
});

test('policy check: every fixture in fixtures/policies is valid', async () => {
  const { readdirSync } = await import('node:fs');
  const names = readdirSync('fixtures/policies').filter((n) => /\.(ya?ml|json)$/.test(n) && !n.startsWith('invalid'));
  assert.ok(names.length >= 3);
  for (const n of names) {
    const io = capture();
    assert.equal(await runCli(['policy', 'check', join('fixtures/policies', n)], io), 0, `${n}: ${io.stderr}`);
  }
});
