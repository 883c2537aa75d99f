// Runs every *.test.ts under src/ and test/ with node:test (through tsx) and ends with the plain
// `N passed, N failed` line that CI reads. Extra arguments narrow the files (substring match).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

function walk(dir, out) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = [...walk('src', []), ...walk('test', [])]
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'win11mon-tests-'));
const tap = join(dir, 'result.tap');
const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-concurrency=2',
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`,
  ...files,
], { stdio: 'inherit' });
let pass = 0, fail = 0, skipped = 0;
const skipNotes = [];
try {
  const text = readFileSync(tap, 'utf8');
  // A skipped test says why (e.g. the ABI compile check without its compiler): the reasons are
  // repeated here, next to the count, so a skip is never mistaken for a pass.
  for (const m of text.matchAll(/^\s*ok \d+ - (.*?) # SKIP ?(.*)$/gm)) skipNotes.push(`skipped: ${m[1]}: ${m[2] || '(no reason given)'}`);
  pass = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
  fail = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0);
  skipped = Number(/^# skipped (\d+)/m.exec(text)?.[1] ?? 0);
} catch {
  fail = Math.max(fail, 1);
}
rmSync(dir, { recursive: true, force: true });
if (r.status !== 0 && fail === 0) fail = 1;
for (const n of new Set(skipNotes)) console.log(n);
console.log(`${pass} passed, ${fail} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(fail === 0 && r.status === 0 ? 0 : 1);
