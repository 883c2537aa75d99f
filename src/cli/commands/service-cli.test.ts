// The service-facing commands (stats, events, scan, policy get/set) run in process against a real
// runtime on a temporary socket dir; the not-running error; --help on every subcommand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli } from '../main.js';
import type { CliIo } from '../io.js';
import { startRuntime } from '../../service/runtime.js';
import { cleanRequest } from '../../engine/testing.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out(t: string) { io.stdout += t; }, err(t: string) { io.stderr += t; }, readStdin: async () => Buffer.alloc(0) };
  return io;
}
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  const code = await runCli(args, io);
  return { code, out: io.stdout, err: io.stderr };
}

test('stats, events, scan, policy get/set against a running service', { timeout: 30_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'win11mon-cli-'));
  const dir = join(tmp, 's');
  const rt = await startRuntime({ socketDir: dir, dataDir: join(tmp, 'd'), scanIntervalMs: 0 });
  try {
    rt.driver.validate(cleanRequest(2, { processId: 77, ioRingHandle: 0x99n })); // unknown ring: Block
    const s = await cli(['stats', '--socket-dir', dir, '--json']);
    assert.equal(s.code, 0, s.err);
    const j = JSON.parse(s.out);
    assert.equal(j.stats.actions.Block, 1);
    assert.equal(j.stats.blockedByReason.InvalidHandle, 1);
    assert.equal(j.stats.extension.topTalkers[0].processId, 77);
    assert.equal(j.policy.version, 1);
    const human = await cli(['stats', '--socket-dir', dir]);
    assert.match(human.out, /Block\s+1/);
    assert.match(human.out, /InvalidHandle\s+1\s+1/);
    assert.match(human.out, /top talkers/);

    const ev = await cli(['events', '--socket-dir', dir, '--json']);
    assert.equal(ev.code, 0, ev.err);
    const lines = ev.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].type, 'InterceptDecision');
    assert.equal(lines[0].payload.reason, 'InvalidHandle');
    const ecs = JSON.parse((await cli(['events', '--socket-dir', dir, '--ecs'])).out.split('\n')[0]!);
    assert.equal(ecs.event.action, 'ioring-submission-blocked');
    const since = await cli(['events', '--socket-dir', dir, '--since', '2']);
    assert.equal(since.out, '');
    assert.match((await cli(['events', '--socket-dir', dir])).out, /InterceptDecision\s+pid 77/);

    const scan = await cli(['scan', '--socket-dir', dir, '--json']);
    assert.equal(scan.code, 0, scan.err);
    assert.deepEqual(JSON.parse(scan.out).scan, { ringsScanned: 0, newRings: 0, findings: 0 });

    const get = JSON.parse((await cli(['policy', 'get', '--socket-dir', dir])).out);
    assert.equal(get.version, 1);
    assert.match(get.hash, /^[0-9a-f]{64}$/);
    const bin = JSON.parse((await cli(['policy', 'get', '--binary', '--socket-dir', dir])).out);
    assert.equal(bin.enabled, true);

    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'mode: enforce\nlimits:\n  maxOperationsPerSubmit: -5\n');
    const refused = await cli(['policy', 'set', bad, '--socket-dir', dir]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /bad\.yaml:3:/);
    const good = join(tmp, 'audit.yaml');
    writeFileSync(good, 'auditMode: true\n');
    const set = await cli(['policy', 'set', good, '--socket-dir', dir, '--json']);
    assert.equal(set.code, 0, set.err);
    assert.equal(JSON.parse(set.out).version, 2);
  } finally {
    await rt.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('ring: shows the telemetry ring, --size sets the next start\'s size on admin.sock, bad sizes are refused', { timeout: 30_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'win11mon-cli-ring-'));
  const dir = join(tmp, 's');
  const rt = await startRuntime({ socketDir: dir, dataDir: join(tmp, 'd'), scanIntervalMs: 0 });
  try {
    const show = await cli(['ring', '--socket-dir', dir, '--json']);
    assert.equal(show.code, 0, show.err);
    assert.equal(JSON.parse(show.out).bufferSizeBytes, 1024 * 1024);
    assert.match((await cli(['ring', '--socket-dir', dir])).out, /^telemetry ring: 1,048,576 bytes \(4,096 events\)/);
    const set = await cli(['ring', '--size', '300000', '--socket-dir', dir, '--json']);
    assert.equal(set.code, 0, set.err);
    assert.deepEqual(JSON.parse(set.out), { nextStartBytes: 262_144, nextStartEvents: 1024 });
    assert.equal(rt.driver.pendingRingBytes, 262_144);
    const word = await cli(['ring', '--size', '1M', '--socket-dir', dir]);
    assert.equal(word.code, 2);
    assert.match(word.err, /--size must be a whole number of bytes/);
    const small = await cli(['ring', '--size', '1000', '--socket-dir', dir]);
    assert.equal(small.code, 2);
    assert.match(small.err, /WIN11MON_ERR_IOCTL_FAILED.*WIN11MON_ERR_RING_CONFIG_INVALID/s);
  } finally {
    await rt.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('commands that need the service say so when it is not running (exit 1)', async () => {
  const dir = join(tmpdir(), 'win11mon-nothing-here');
  for (const args of [['stats'], ['events'], ['events', '--follow'], ['scan'], ['ring'], ['policy', 'get']]) {
    const r = await cli([...args, '--socket-dir', dir]);
    assert.equal(r.code, 1, args.join(' '));
    assert.equal(r.err, `win11mon service not running at ${dir} (start it with \`win11mon serve\` or \`npm start\`)\n`);
  }
  assert.equal((await cli(['events', '--since', 'x', '--socket-dir', dir])).code, 2);
});

test('--help works on every subcommand (exit 0)', async () => {
  const top = await cli(['--help']);
  assert.equal(top.code, 0);
  for (const name of ['serve', 'start', 'validate', 'decode', 'policy', 'stats', 'events', 'scan', 'ring', 'offsets', 'demo', 'bench']) {
    assert.match(top.out, new RegExp(`\\n  ${name}\\b`), `--help lists ${name}`);
    const r = await cli([name, '--help']);
    assert.equal(r.code, 0, name);
    assert.match(r.out, new RegExp(`Usage: win11mon ${name}`));
  }
  for (const sub of ['get', 'set', 'check']) assert.equal((await cli(['policy', sub, '--help'])).code, 0);
});
