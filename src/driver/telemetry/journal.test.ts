import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readdirSync, appendFileSync, truncateSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Win11MonError } from '../../abi/index.js';
import { Journal, readJournal, exportJsonLines, journalFileName, JOURNAL_FILE_HEADER_SIZE } from './journal.js';
import { type MonitorEvent } from './events.js';

const ev = (seq: number): MonitorEvent => ({ type: 'PolicyChanged', seq, timestamp: { hi: 0x01dc0000, lo: seq }, pid: 1, tid: 2, payload: { version: seq, previousVersion: seq - 1, hashPrefix: 'deadbeef', source: `test ${seq}` } });
const tmp = () => mkdtempSync(join(tmpdir(), 'win11mon-journal-'));

test('JRN-01 records round-trip, files rotate by size and only keepFiles are kept; JSON lines export', () => {
  const dir = tmp();
  try {
    const j = Journal.open({ dir, maxFileBytes: 4096, keepFiles: 3, fsyncIntervalMs: 0 });
    for (let s = 1; s <= 100; s++) j.appendEvent(ev(s));
    j.close();
    const files = readdirSync(dir).sort();
    assert.equal(files.length, 3);
    assert.ok(files.every((f) => statSync(join(dir, f)).size <= 4096));
    const seqs = [...readJournal(dir)].map((e) => e.seq);
    assert.equal(seqs[seqs.length - 1], 100);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => 101 - seqs.length + i)); // gapless tail
    const lines = [...exportJsonLines(dir, 95)];
    assert.equal(lines.length, 6);
    const first = JSON.parse(lines[0]!) as { seq: number; type: string; timestamp: string; payload: { source: string } };
    assert.deepEqual([first.seq, first.type, first.timestamp, first.payload.source], [95, 'PolicyChanged', '0x01dc00000000005f', 'test 95']);
    const again = Journal.open({ dir, maxFileBytes: 4096, keepFiles: 3, fsyncIntervalMs: 0 });
    assert.equal(again.lastSeq, 100);
    assert.equal(again.recovery.tornTail, undefined);
    again.close();
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('JRN-02 a torn tail is reported (file, offset, bytes dropped) and truncated before appending again', () => {
  const dir = tmp();
  try {
    const j = Journal.open({ dir, fsyncIntervalMs: 0 });
    for (let s = 1; s <= 10; s++) j.appendEvent(ev(s));
    j.close();
    const file = join(dir, journalFileName(1));
    const good = statSync(file).size;
    truncateSync(file, good - 30); // record 10 cut in half
    appendFileSync(file, Buffer.from([1, 2, 3]));
    const r = Journal.open({ dir, fsyncIntervalMs: 0 });
    const recSize = (good - JOURNAL_FILE_HEADER_SIZE) / 10;
    assert.deepEqual(r.recovery.tornTail, { file: journalFileName(1), offset: good - recSize, bytesDropped: recSize - 30 + 3, reason: 'record payload incomplete' });
    assert.equal(r.lastSeq, 9);
    r.appendEvent(ev(10));
    r.close();
    assert.deepEqual([...readJournal(dir)].map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // a checksum failure in a sealed file is corruption, not a torn tail
    const j2 = Journal.open({ dir, maxFileBytes: good, fsyncIntervalMs: 0 });
    j2.appendEvent(ev(11)); j2.close(); // rotates: file 1 is now sealed
    const buf = readFileSync(file); buf[JOURNAL_FILE_HEADER_SIZE + 20] = buf[JOURNAL_FILE_HEADER_SIZE + 20]! ^ 0xff; writeFileSync(file, buf);
    assert.throws(() => [...readJournal(dir)], (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_JOURNAL_CORRUPT');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});


test('JRN-03 SIGKILL of a writing child mid-stream: recovery keeps a gapless 1..N with N >= the last fsync it reported', async () => {
  const dir = tmp();
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('./journal-writer.fixture.ts', import.meta.url).pathname, dir, '65536'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let reported = 0, buf = '', err = '';
    child.stderr.on('data', (c) => (err += c));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`writer too slow: ${err}`)), 20_000);
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        const lines = buf.split('\n'); buf = lines.pop()!;
        for (const l of lines) reported = Math.max(reported, Number(l));
        if (reported >= 3000) { clearTimeout(t); child.kill('SIGKILL'); resolve(); }
      });
      child.once('exit', () => { clearTimeout(t); reject(new Error(`writer exited early: ${err}`)); });
    });
    await new Promise((r) => child.once('close', r));
    assert.ok(readdirSync(dir).length > 1, 'the writer rotated files');
    const j = Journal.open({ dir, maxFileBytes: 65536, keepFiles: 10_000, fsyncIntervalMs: 0 });
    const n = j.lastSeq;
    j.close();
    assert.ok(n >= reported, `recovered ${n} < reported ${reported}`);
    const seqs = [...readJournal(dir)].map((e) => e.seq);
    assert.equal(seqs.length, n);
    assert.ok(seqs.every((s, i) => s === i + 1), 'gapless from 1');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('JRN-04 property: the active file cut anywhere, extended with garbage or with one byte changed recovers the records before the damage, gapless, reports what it dropped, and appends after them', async () => {
  const { default: fc } = await import('fast-check');
  const damage = fc.oneof(
    fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), garbage: fc.uint8Array({ maxLength: 40 }) }),
    fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), xor: fc.integer({ min: 1, max: 255 }) }),
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), damage, (n, d) => {
    const dir = tmp();
    try {
      const j = Journal.open({ dir, fsyncIntervalMs: 0 });
      for (let s = 1; s <= n; s++) j.appendEvent(ev(s));
      j.close();
      const file = join(dir, journalFileName(1));
      const size = statSync(file).size;
      const rec = (size - JOURNAL_FILE_HEADER_SIZE) / n;
      const at = Math.min(size - 1, Math.floor(d.at * size));
      const before = readFileSync(file);
      if (d.kind === 'cut') {
        truncateSync(file, at);
        if (d.garbage.length > 0) appendFileSync(file, d.garbage);
      } else {
        const b = readFileSync(file); b[at] = b[at]! ^ d.xor; writeFileSync(file, b);
      }
      // What the damage changed. A file cut inside its header, or with its magic or version (bytes
      // 0-11) changed, is dropped whole; its file index (bytes 12-15) does not matter, the name orders
      // the files. Past the header, records wholly before the first changed byte survive (a shorter
      // file changes where it ends; garbage equal to the bytes it replaced changes nothing); the one
      // holding it and all after it do not.
      const after = readFileSync(file);
      let headerTorn = after.length < JOURNAL_FILE_HEADER_SIZE;
      for (let i = 0; i < 12 && !headerTorn; i++) if (after[i] !== before[i]) headerTorn = true;
      let diff = JOURNAL_FILE_HEADER_SIZE;
      while (diff < before.length && diff < after.length && before[diff] === after[diff]) diff++;
      const intact = headerTorn ? 0 : Math.min(n, Math.floor((diff - JOURNAL_FILE_HEADER_SIZE) / rec));
      const goodEnd = headerTorn ? 0 : JOURNAL_FILE_HEADER_SIZE + intact * rec;
      const r = Journal.open({ dir, fsyncIntervalMs: 0 });
      assert.equal(r.lastSeq, intact, `damage ${d.kind} at ${at} of ${size} (first changed byte ${diff})`);
      assert.equal(statSync(file).size, Math.max(JOURNAL_FILE_HEADER_SIZE, goodEnd), 'the file is truncated to its good end');
      assert.equal(r.recovery.tornTail !== undefined, after.length > goodEnd, 'a loss is reported exactly when bytes were dropped');
      r.appendEvent(ev(intact + 1));
      r.close();
      assert.deepEqual([...readJournal(dir)].map((e) => e.seq), Array.from({ length: intact + 1 }, (_, i) => i + 1));
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }), { numRuns: Number(process.env.WIN11MON_FUZZ_RUNS ?? 150) });
});
