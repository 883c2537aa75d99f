import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Win11MonError } from '../../abi/index.js';
import { readRingConfig, ringSlotsForBytes, writeRingConfig } from './ring-config.js';

test('ringSlotsForBytes: 0 is the default, the bounds are inclusive, sizes round down to a power of two of slots', () => {
  assert.equal(ringSlotsForBytes(0), 4096);
  assert.equal(ringSlotsForBytes(64 * 1024), 256);
  assert.equal(ringSlotsForBytes(16 * 1024 * 1024), 65536);
  assert.equal(ringSlotsForBytes(300_000), 1024);
  for (const bad of [64 * 1024 - 1, 16 * 1024 * 1024 + 1, 1.5 * 65536 + 0.5, -1, Number.NaN]) {
    assert.throws(() => ringSlotsForBytes(bad), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_RING_CONFIG_INVALID', String(bad));
  }
});

test('writeRingConfig round-trips through readRingConfig, and a write that fails says so and leaves no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-ringcfg-unit-'));
  try {
    assert.equal(readRingConfig(dir), null);
    writeRingConfig(dir, 131_072);
    assert.equal(readRingConfig(dir), 131_072);
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'ringbuf.json', 'x'), { recursive: true }); // the target is a non-empty directory: rename fails
    assert.throws(() => writeRingConfig(blocked, 131_072), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_RING_CONFIG_INVALID' && /cannot save the ring size/.test(e.message) && e.status === 0xc0000001);
    assert.deepEqual(readdirSync(blocked), ['ringbuf.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
