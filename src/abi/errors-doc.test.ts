// docs/errors.md must list exactly the codes of the ErrorCodes registry, each with its NTSTATUS.
// When this fails you added (or renamed) a code: add its row to docs/errors.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from './errors.js';
import { ntStatusName } from './ntstatus.js';

const DOC = fileURLToPath(new URL('../../docs/errors.md', import.meta.url));

function documented(): Map<string, { status: string; value: string; meaning: string }> {
  const rows = new Map<string, { status: string; value: string; meaning: string }>();
  for (const line of readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\| `(WIN11MON_ERR_[A-Z0-9_]+)` \| `([A-Z0-9_]+|0x[0-9a-f]+)` \| (0x[0-9A-F]{8}) \| (.+) \|$/.exec(line);
    if (m) {
      assert.ok(!rows.has(m[1]!), `docs/errors.md lists ${m[1]} twice`);
      rows.set(m[1]!, { status: m[2]!, value: m[3]!, meaning: m[4]!.trim() });
    }
  }
  return rows;
}

test('docs/errors.md lists exactly the codes in ErrorCodes (keep it updated when you add a code)', () => {
  const doc = documented();
  const reg = Object.keys(ErrorCodes);
  const missing = reg.filter((c) => !doc.has(c));
  const extra = [...doc.keys()].filter((c) => !(c in ErrorCodes));
  assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, 'docs/errors.md and src/abi/errors.ts differ: add/remove rows in docs/errors.md');
});

test('each documented code carries the registry NTSTATUS (name and value) and a meaning', () => {
  for (const [code, row] of documented()) {
    const e = ErrorCodes[code as keyof typeof ErrorCodes];
    if (!e) continue;
    assert.equal(row.status, ntStatusName(e.status), `${code}: NTSTATUS name`);
    assert.equal(row.value, `0x${e.status.toString(16).toUpperCase().padStart(8, '0')}`, `${code}: NTSTATUS value`);
    assert.ok(row.meaning.length > 10, `${code}: meaning is empty`);
  }
});
