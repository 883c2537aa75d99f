// `win11mon demo --mode off`, run in process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../main.js';
import type { CliIo } from '../io.js';
import { DEMO_MODES } from './demo.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out(t: string) { io.stdout += t; }, err(t: string) { io.stderr += t; }, readStdin: async () => Buffer.alloc(0) };
  return io;
}

test('demo --mode off --json: the exploit succeeds unprotected', async () => {
  const io = capture();
  assert.equal(await runCli(['demo', '--mode', 'off', '--build', '22621', '--json'], io), 0, io.stderr);
  const j = JSON.parse(io.stdout);
  assert.equal(j.runs.length, 1);
  const r = j.runs[0];
  assert.equal(r.mode, 'off');
  assert.equal(r.build, 22621);
  assert.equal(r.exploitSucceeded, true);
  assert.equal(r.tokenModified, true);
  assert.equal(r.kernelBytesLeaked, 0x58);
  assert.equal(r.blocked, false);
  assert.deepEqual(r.detectedBy, []);
  assert.ok(r.events.some((e: { kind: string }) => e.kind === 'kernel-write'));
  assert.ok(r.events.some((e: { kind: string }) => e.kind === 'driver.write'));
});

test('demo --build all runs every supported build', async () => {
  const io = capture();
  assert.equal(await runCli(['demo', '--mode', 'off', '--build', 'all', '--json'], io), 0, io.stderr);
  const j = JSON.parse(io.stdout);
  assert.deepEqual(j.runs.map((r: { build: number }) => r.build), [22000, 22621, 22631, 26100]);
  assert.ok(j.runs.every((r: { tokenModified: boolean }) => r.tokenModified));
});

test('demo (human): a timeline and a result line', async () => {
  const io = capture();
  assert.equal(await runCli(['demo', '--mode', 'off'], io), 0, io.stderr);
  assert.match(io.stdout, /== mode off, build 22621 \(22H2\) ==/);
  assert.match(io.stdout, /result: exploit SUCCEEDED; token modified: yes; kernel bytes leaked: 88; blocked: no; detected by: -/);
});

test('demo --skip-cleanup shows the bugcheck', async () => {
  const io = capture();
  assert.equal(await runCli(['demo', '--mode', 'off', '--build', '26100', '--skip-cleanup', '--json'], io), 0, io.stderr);
  const r = JSON.parse(io.stdout).runs[0];
  assert.equal(r.bugchecks[0].name, 'BAD_POOL_CALLER');
});

test('demo: unknown modes exit 2 listing the available ones; unknown build exits 2', async () => {
  let io = capture();
  assert.equal(await runCli(['demo', '--mode', 'enforce2'], io), 2);
  assert.match(io.stderr, /available modes: off/);
  io = capture();
  assert.equal(await runCli(['demo', '--mode', 'off', '--build', '1'], io), 2);
  assert.match(io.stderr, /WIN11MON_ERR_UNKNOWN_BUILD/);
  assert.equal(typeof DEMO_MODES.off, 'function');
});
