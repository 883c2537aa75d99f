import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli } from '../main.js';
import type { CliIo } from '../io.js';
import { Journal, TelemetryRing } from '../../driver/telemetry/index.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out(t: string) { io.stdout += t; }, err(t: string) { io.stderr += t; }, readStdin: async () => Buffer.alloc(0) };
  return io;
}

test('events --journal DIR reads the forensic journal offline (JSON lines from --since); a missing journal is exit 2; --follow is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-jrn-cli-'));
  try {
    const ring = new TelemetryRing({ slotCount: 16 });
    for (let i = 1; i <= 5; i++) ring.emit('PolicyChanged', { version: i, previousVersion: i - 1, hashPrefix: 'ab', source: 'test' });
    const j = Journal.open({ dir });
    for (const ev of ring.read(1, 16).events) j.appendEvent(ev);
    j.close();
    const io = capture();
    assert.equal(await runCli(['events', '--journal', dir, '--json', '--since', '3'], io), 0, io.stderr);
    const lines = io.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string });
    assert.deepEqual(lines.map((l) => [l.seq, l.type]), [[3, 'PolicyChanged'], [4, 'PolicyChanged'], [5, 'PolicyChanged']]);
    const missing = capture();
    assert.equal(await runCli(['events', '--journal', join(dir, 'nope')], missing), 2);
    assert.match(missing.stderr, /no journal at/);
    const follow = capture();
    assert.equal(await runCli(['events', '--journal', dir, '--follow'], follow), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
