// docs/abi.md is generated from the layout tables; the committed file must match the generator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderAbiDoc, ABI_DOC_PATH } from '../../scripts/gen-abi-doc.js';
import { ALL_STRUCTS } from './codec.js';

test('docs/abi.md matches scripts/gen-abi-doc.ts output (run npx tsx scripts/gen-abi-doc.ts)', () => {
  assert.equal(readFileSync(ABI_DOC_PATH, 'utf8'), renderAbiDoc());
});

test('docs/abi.md has a table for every structure', () => {
  const doc = renderAbiDoc();
  for (const d of ALL_STRUCTS) assert.ok(doc.includes(`### ${d.name} (${d.size} bytes`), d.name);
});
