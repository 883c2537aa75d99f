// As a new user would: pack the package, install the tarball into a fresh directory, and run the
// README's commands through the installed `win11mon` bin (which runs dist/, built by `prepare`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

test('pack, install into a fresh directory, run the README commands (--help, demo, serve + stats + events)', { timeout: 150_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'win11mon-pack-'));
  try {
    const pack = run(npm, ['pack', '--silent', '--pack-destination', tmp], ROOT);
    assert.equal(pack.status, 0, pack.stderr);
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    assert.ok(tgz, 'npm pack wrote a tarball');
    const app = join(tmp, 'app');
    run('mkdir', ['-p', app], tmp);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'win11mon-pack-test', version: '1.0.0', private: true }));
    const inst = run(npm, ['install', join(tmp, tgz), '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'], app);
    assert.equal(inst.status, 0, inst.stderr);
    const bin = join(app, 'node_modules', '.bin', 'win11mon');
    assert.ok(existsSync(bin), 'the win11mon bin is installed');
    assert.ok(existsSync(join(app, 'node_modules', 'win11mon', 'dist', 'cli', 'main.js')), 'dist/ is in the package');

    const help = run(bin, ['--help'], app);
    assert.equal(help.status, 0, help.stderr);
    for (const c of ['serve', 'start', 'stats', 'events', 'demo', 'policy']) assert.match(help.stdout, new RegExp(`\\b${c}\\b`));

    const demo = run(bin, ['demo', '--mode', 'off', '--json'], app);
    assert.equal(demo.status, 0, demo.stderr);
    assert.doesNotThrow(() => JSON.parse(demo.stdout));

    const env = { WIN11MON_SOCKET_DIR: join(tmp, 'sock'), WIN11MON_DATA_DIR: join(tmp, 'data') };
    const notRunning = run(bin, ['stats'], app, env);
    assert.equal(notRunning.status, 1);
    assert.match(notRunning.stderr, /win11mon service not running at .*sock \(start it with `win11mon serve` or `npm start`\)/);

    const svc = spawn(bin, ['serve', '--workload', '--scan-interval', '50'], { cwd: app, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    svc.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<number | null>((resolve) => svc.once('exit', resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        svc.stdout.on('data', (b: Buffer) => { out += b.toString(); if (out.includes('stop with')) resolve(); });
        svc.once('exit', (c) => reject(new Error(`serve exited ${c}: ${err}`)));
      });
      assert.match(out, /device \(read\):\s+.*sock\/device\.sock/);
      assert.match(out, /win11mon events --follow/);
      await new Promise((r) => setTimeout(r, 600)); // a few polling rounds: A1 finds the workload's rings
      const stats = run(bin, ['stats'], app, env);
      assert.equal(stats.status, 0, stats.stderr);
      assert.match(stats.stdout, /decisions/);
      assert.match(stats.stdout, /telemetry ring/);
      const statsJson = run(bin, ['stats', '--json'], app, env);
      assert.equal(JSON.parse(statsJson.stdout).policy.version, 1);
      const events = run(bin, ['events', '--json'], app, env);
      assert.equal(events.status, 0, events.stderr);
      const lines = events.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      assert.ok(lines.some((l) => l.type === 'IoRingHandleCreated'), events.stdout);
    } finally {
      svc.kill('SIGTERM');
      assert.equal(await exited, 0, err);
    }
    assert.match(err, /journal flushed/);
    assert.ok(!existsSync(join(tmp, 'sock', 'device.sock')));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
