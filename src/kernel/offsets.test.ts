import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { OFFSETS_TABLE, SUPPORTED_BUILDS, IORING_OBJECT_FIELD_NAMES, resolveOffsets, validateOffsetsOverride, loadOffsetsOverride, offsetsToJson } from './offsets.js';
import { isWin11MonError } from '../abi/errors.js';

test('every supported build resolves with all 20 fields; 22H2/23H2/24H2 RegBuffers at 0xB8, count at 0xB0', () => {
  assert.deepEqual([...SUPPORTED_BUILDS], [22000, 22621, 22631, 26100]);
  for (const b of SUPPORTED_BUILDS) {
    const o = resolveOffsets(b);
    assert.equal(o.fields.length, IORING_OBJECT_FIELD_NAMES.length);
    assert.equal(o.off.RegBuffersCount, 0xb0);
    assert.equal(o.off.RegBuffers, 0xb8);
    assert.equal(o.off.RegFiles, 0xc8);
    assert.equal(o.objectSize, 0xd0);
  }
  assert.equal(resolveOffsets(22621).regBuffersFormat, 'mc-entry-pointers');
  assert.equal(resolveOffsets(26100).regBuffersFormat, 'mc-entry-pointers');
  assert.equal(resolveOffsets(22000).regBuffersFormat, 'buffer-info-array');
});

test('build ranges share a layout: 22621-22635', () => {
  assert.equal(resolveOffsets(22624).release, '22H2');
  assert.equal(resolveOffsets(22635).release, '23H2');
  assert.equal(resolveOffsets(22631).off.CompletionUserEvent, 0xa8);
});

test('the contested 21H2 layout records both sources and says which it uses', () => {
  const e = OFFSETS_TABLE.find((x) => x.build === 22000)!;
  assert.equal(e.confidence, 'contested');
  assert.equal(e.alternatives?.length, 1);
  const alt = e.alternatives![0]!;
  assert.equal(alt.objectSize, 0xc0);
  assert.equal(alt.fields.find((f) => f.name === 'RegBuffers')?.offset, 0xa8);
  assert.equal(alt.fields.find((f) => f.name === 'RegBuffers')?.sourceName, 'BufferArray');
  assert.match(alt.why, /decompiled/);
  const j = offsetsToJson(e) as { alternatives: unknown[]; fields: Array<{ name: string; offset: number }> };
  assert.equal(j.alternatives.length, 1);
  assert.equal(j.fields.find((f) => f.name === 'RegBuffers')?.offset, 0xb8);
});

test('unknown build -> WIN11MON_ERR_UNKNOWN_BUILD', () => {
  assert.throws(() => resolveOffsets(19045), (e: unknown) => isWin11MonError(e) && e.code === 'WIN11MON_ERR_UNKNOWN_BUILD' && e.detail.actual === 19045);
  assert.throws(() => resolveOffsets(27000), (e: unknown) => isWin11MonError(e) && e.code === 'WIN11MON_ERR_UNKNOWN_BUILD');
});

function layoutJson(build: number) {
  return { build, objectSize: 0xd0, fields: resolveOffsets(22621).fields.map((f) => ({ name: f.name, offset: f.offset, size: f.size })) };
}

test('override: a valid file adds a new build and wins over the table', () => {
  const ov = validateOffsetsOverride({ ...layoutJson(27100), release: 'canary' });
  assert.equal(resolveOffsets(27100, ov).release, 'canary');
  const moved = layoutJson(22621);
  moved.objectSize = 0xe0;
  moved.fields = moved.fields.map((f) => (f.name === 'RegBuffers' ? { ...f, offset: 0xd8 } : f));
  assert.equal(resolveOffsets(22621, moved).off.RegBuffers, 0xd8);
  assert.equal(resolveOffsets(22621).off.RegBuffers, 0xb8);
});

test('override validation names the bad field (WIN11MON_ERR_OFFSETS_INVALID)', () => {
  const bad = (mut: (o: ReturnType<typeof layoutJson>) => unknown, field: RegExp) => {
    const o = layoutJson(27100);
    const r = mut(o) ?? o;
    assert.throws(() => validateOffsetsOverride(r), (e: unknown) => isWin11MonError(e) && e.code === 'WIN11MON_ERR_OFFSETS_INVALID' && field.test(String(e.detail.field)), String(field));
  };
  bad((o) => { o.fields = o.fields.filter((f) => f.name !== 'RegBuffers'); }, /fields\.RegBuffers/);
  bad((o) => { o.fields[17] = { name: 'RegBuffers', offset: 0xb4, size: 8 }; }, /RegBuffers\.offset/);
  bad((o) => { o.fields[17] = { name: 'RegBuffers', offset: 0xb8, size: 4 }; }, /RegBuffers\.size/);
  bad((o) => { o.fields[17] = { name: 'RegBuffers', offset: 0x200, size: 8 }; }, /RegBuffers\.offset/);
  bad((o) => { o.fields[0] = { name: 'Bogus', offset: 0, size: 2 }; }, /fields\[0\]\.name/);
  bad((o) => { o.fields[16] = { name: 'RegBuffersCount', offset: 0xb8, size: 4 }; }, /RegBuffers/);
  bad((o) => ({ ...o, build: 'x' }), /build/);
  bad((o) => ({ ...o, objectSize: -1 }), /objectSize/);
  bad((o) => ({ ...o, regBuffersFormat: 'weird' }), /regBuffersFormat/);
  assert.throws(() => validateOffsetsOverride([1]), (e: unknown) => isWin11MonError(e) && e.code === 'WIN11MON_ERR_OFFSETS_INVALID');
});

test('loadOffsetsOverride reads JSON files and reports bad JSON and missing files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'w11-off-'));
  try {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify([layoutJson(27100)]));
    assert.equal(loadOffsetsOverride(good)[0]!.firstBuild, 27100);
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{ nope');
    assert.throws(() => loadOffsetsOverride(badJson), (e: unknown) => isWin11MonError(e) && e.code === 'WIN11MON_ERR_OFFSETS_INVALID' && e.detail.field === '(json)');
    assert.throws(() => loadOffsetsOverride(join(dir, 'missing.json')), (e: unknown) => isWin11MonError(e) && e.code === 'WIN11MON_ERR_OFFSETS_INVALID' && e.detail.field === 'path');
    const badField = join(dir, 'badfield.json');
    writeFileSync(badField, JSON.stringify([layoutJson(27100), { ...layoutJson(27200), objectSize: 0 }]));
    assert.throws(() => loadOffsetsOverride(badField), (e: unknown) => isWin11MonError(e) && e.detail.field === '[1].objectSize');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
