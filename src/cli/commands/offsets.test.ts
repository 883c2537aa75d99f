// `win11mon offsets`, run in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli } from '../main.js';
import type { CliIo } from '../io.js';
import { resolveOffsets } from '../../kernel/offsets.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out(t: string) { io.stdout += t; }, err(t: string) { io.stderr += t; }, readStdin: async () => Buffer.alloc(0) };
  return io;
}

test('offsets --build 22621 --json: fields as the symbols spell them, offsets as numbers', async () => {
  const io = capture();
  assert.equal(await runCli(['offsets', '--build', '22621', '--json'], io), 0, io.stderr);
  const j = JSON.parse(io.stdout);
  assert.equal(j.build, 22621);
  assert.equal(j.objectSize, 0xd0);
  assert.equal(j.regBuffersFormat, 'mc-entry-pointers');
  assert.deepEqual(j.fields.find((f: { name: string }) => f.name === 'RegBuffers'), { name: 'RegBuffers', offset: 0xb8, size: 8 });
  assert.deepEqual(j.fields.find((f: { name: string }) => f.name === 'RegBuffersCount'), { name: 'RegBuffersCount', offset: 0xb0, size: 4 });
  assert.equal(j.fields.length, 20);
});

test('offsets --json without --build lists every build; 21H2 carries the alternative layout', async () => {
  const io = capture();
  assert.equal(await runCli(['offsets', '--json'], io), 0, io.stderr);
  const j = JSON.parse(io.stdout);
  assert.deepEqual(j.map((e: { build: number }) => e.build), [22000, 22621, 22631, 26100]);
  assert.equal(j[0].regBuffersFormat, 'buffer-info-array');
  assert.equal(j[0].alternatives[0].fields.find((f: { name: string }) => f.name === 'RegBuffers').offset, 0xa8);
});

test('offsets (human): an aligned table', async () => {
  const io = capture();
  assert.equal(await runCli(['offsets', '--build', '26100'], io), 0);
  assert.match(io.stdout, /_IORING_OBJECT {2}build 26100 \(24H2/);
  assert.match(io.stdout, /\n {2}RegBuffers +0x0B8 +0x08\n/);
});

test('offsets: unknown build and bad override exit 2 with the error code', async () => {
  let io = capture();
  assert.equal(await runCli(['offsets', '--build', '19045'], io), 2);
  assert.match(io.stderr, /WIN11MON_ERR_UNKNOWN_BUILD/);
  const dir = mkdtempSync(join(tmpdir(), 'w11-cli-off-'));
  try {
    const bad = join(dir, 'o.json');
    writeFileSync(bad, JSON.stringify({ build: 27100, objectSize: 0xd0, fields: [{ name: 'RegBuffers', offset: 0xb8 }] }));
    io = capture();
    assert.equal(await runCli(['offsets', '--override', bad, '--build', '27100'], io), 2);
    assert.match(io.stderr, /WIN11MON_ERR_OFFSETS_INVALID/);
    const good = join(dir, 'g.json');
    writeFileSync(good, JSON.stringify({ build: 27100, release: 'canary', objectSize: 0xd0, fields: resolveOffsets(22621).fields }));
    io = capture();
    assert.equal(await runCli(['offsets', '--override', good, '--build', '27100', '--json'], io), 0, io.stderr);
    assert.equal(JSON.parse(io.stdout).release, 'canary');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
