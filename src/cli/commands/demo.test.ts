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
  assert.match(io.stderr, /available modes: off, audit, enforce, bypass/);
  io = capture();
  assert.equal(await runCli(['demo', '--mode', 'off', '--build', '1'], io), 2);
  assert.match(io.stderr, /WIN11MON_ERR_UNKNOWN_BUILD/);
  assert.equal(typeof DEMO_MODES.off, 'function');
});

interface J { mode: string; build: number; exploitSucceeded: boolean; tokenModified: boolean; kernelBytesLeaked: number; blocked: boolean; detectedBy: string[]; events: Array<{ kind: string; source: string; status?: string; reason?: string; technique?: string; layer?: string }>; bugchecks?: unknown[] }

for (const build of [22621, 26100, 22000]) {
  test(`demo (all four modes) --build ${build} --json: off succeeds, audit succeeds logged, enforce blocks, bypass is caught by polling`, async () => {
    const io = capture();
    assert.equal(await runCli(['demo', '--build', String(build), '--json'], io), 0, io.stderr);
    const runs = JSON.parse(io.stdout).runs as J[];
    assert.deepEqual(runs.map((r) => r.mode), ['off', 'audit', 'enforce', 'bypass']);
    const [off, audit, enforce, bypass] = runs as [J, J, J, J];
    const leak = build === 22000 ? 0 : 0x58; // 21H2 has no kernel READ primitive
    assert.equal(off.tokenModified, true);
    assert.deepEqual(off.detectedBy, []);
    // audit: allowed, logged with what would have been blocked.
    assert.equal(audit.exploitSucceeded, true);
    assert.equal(audit.kernelBytesLeaked, leak);
    assert.equal(audit.blocked, false);
    assert.deepEqual(audit.detectedBy, ['hook']);
    assert.ok(audit.events.some((e) => e.kind === 'InterceptDecision' && e.status === 'LogOnly' && e.reason === 'RegBuffersCorrupted' && e.technique === 'T1068'));
    // enforce: blocked before execution, token intact, nothing leaked, no bugcheck.
    assert.equal(enforce.exploitSucceeded, false);
    assert.equal(enforce.tokenModified, false);
    assert.equal(enforce.kernelBytesLeaked, 0);
    assert.equal(enforce.blocked, true);
    assert.deepEqual(enforce.detectedBy, ['hook']);
    assert.ok(enforce.events.some((e) => e.kind === 'InterceptDecision' && e.status === 'Block' && e.reason === 'RegBuffersCorrupted' && e.layer === 'hook'));
    assert.ok(enforce.events.some((e) => e.kind === 'RingQuarantined'));
    assert.equal(enforce.events.filter((e) => e.kind === 'ioring.submit').length, 0);
    assert.equal(enforce.bugchecks, undefined);
    // bypass: the exploit runs (the hook saw nothing), polling reports it, BypassSuspected after cleanup.
    assert.equal(bypass.tokenModified, true);
    assert.equal(bypass.blocked, false);
    assert.ok(bypass.detectedBy.includes('enumeration'));
    assert.ok(bypass.detectedBy.includes('integrity') || bypass.events.some((e) => e.kind === 'RegBuffersViolation'));
    assert.ok(!bypass.events.some((e) => e.kind === 'InterceptDecision'));
    const cleanupAt = bypass.events.findIndex((e) => e.kind === 'cleanup');
    assert.ok(bypass.events.slice(cleanupAt).some((e) => e.kind === 'BypassSuspected'));
  });
}

test('demo --mode enforce --skip-cleanup: the quarantined ring tears down without a bugcheck', async () => {
  const io = capture();
  assert.equal(await runCli(['demo', '--mode', 'enforce', '--build', '26100', '--skip-cleanup', '--json'], io), 0, io.stderr);
  const r = JSON.parse(io.stdout).runs[0] as J;
  assert.equal(r.tokenModified, false);
  assert.equal(r.bugchecks, undefined);
});

test('demo (human, all modes): a timeline per mode, no colour off a TTY', async () => {
  const io = capture();
  assert.equal(await runCli(['demo'], io), 0, io.stderr);
  for (const m of ['off', 'audit', 'enforce', 'bypass']) assert.match(io.stdout, new RegExp(`== mode ${m}, build 22621 \\(22H2\\) ==`));
  assert.match(io.stdout, /result: exploit failed; token modified: no; kernel bytes leaked: 0; blocked: yes; detected by: hook/);
  assert.ok(!io.stdout.includes('\u001b['), 'no ANSI colour off a TTY');
});
