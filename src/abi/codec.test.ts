// decodeStruct/encodeStruct over every layout table: round trips, pooled Buffer slices, truncation,
// bad values, and canaries proving nothing outside the given bytes is read or written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ALL_STRUCTS, decodeStruct, encodeStruct, structByName, type StructInit } from './codec.js';
import type { FieldDef, StructDef } from './layout.js';
import { Win11MonError } from './errors.js';
import { MON_INTERCEPT_POLICY, MON_BLACKLIST_ENTRY, MON_INTERCEPT_STATS } from './monitor.js';

const SEED = 0x5eed;
const hex64 = (b: bigint): string => '0x' + b.toString(16).padStart(16, '0');

function fieldArb(f: FieldDef): fc.Arbitrary<unknown> {
  switch (f.type) {
    case 'u8': return fc.integer({ min: 0, max: 0xff });
    case 'i8': return fc.integer({ min: -0x80, max: 0x7f });
    case 'u16': return fc.integer({ min: 0, max: 0xffff });
    case 'i16': return fc.integer({ min: -0x8000, max: 0x7fff });
    case 'u32': return fc.integer({ min: 0, max: 0xffffffff });
    case 'i32': return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'u64': case 'i64': case 'ptr': return fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(hex64);
    case 'bool8': return fc.boolean();
    case 'char': return fc.array(fc.integer({ min: 1, max: 0xff }), { maxLength: f.size }).map((a) => String.fromCharCode(...a));
    case 'wchar': return fc.array(fc.integer({ min: 1, max: 0xffff }), { maxLength: f.size / 2 }).map((a) => String.fromCharCode(...a));
    case 'bytes': case 'struct': return fc.uint8Array({ minLength: f.size, maxLength: f.size }).map((a) => Buffer.from(a).toString('hex'));
  }
}

function structArb(def: StructDef): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(def.fields.map((f) => [f.name, fieldArb(f)])));
}

test('encode -> decode round-trips every layout table (property)', () => {
  for (const def of ALL_STRUCTS) {
    fc.assert(fc.property(structArb(def), (obj) => {
      const bytes = encodeStruct(def, obj as StructInit);
      assert.equal(bytes.byteLength, def.size);
      assert.deepEqual(decodeStruct(def, bytes), { ...obj }, def.name);
    }), { seed: SEED, numRuns: 60 });
  }
});

test('decode -> encode -> decode is stable for random bytes of every table (property)', () => {
  for (const def of ALL_STRUCTS) {
    fc.assert(fc.property(fc.uint8Array({ minLength: def.size, maxLength: def.size }), (b) => {
      const d = decodeStruct(def, b);
      assert.deepEqual(decodeStruct(def, encodeStruct(def, d)), d, def.name);
    }), { seed: SEED, numRuns: 40 });
  }
});

test('64-bit fields accept bigint, hex string and safe integers; i64 accepts negatives', () => {
  const a = encodeStruct(MON_INTERCEPT_STATS, { Size: 152, TotalBlocked: 5n, TotalAllowed: '0x10', TotalLogOnly: 7, ValidationErrors: -1n });
  const d = decodeStruct(MON_INTERCEPT_STATS, a);
  assert.equal(d.TotalBlocked, '0x0000000000000005');
  assert.equal(d.TotalAllowed, '0x0000000000000010');
  assert.equal(d.TotalLogOnly, '0x0000000000000007');
  assert.equal(d.ValidationErrors, '0xffffffffffffffff');
});

test('decode honours byteOffset of pooled Buffer slices and an explicit offset', () => {
  const policy = encodeStruct(MON_INTERCEPT_POLICY, { Size: 28, Enabled: true, BlockKernelAddresses: true, MaxOperationsPerSubmit: 1024, AllowedOpCodeMask: 0x1ff });
  const pooled = Buffer.from(policy); // small Buffers come from the shared pool: byteOffset != 0
  assert.ok(pooled.byteOffset > 0 || pooled.buffer.byteLength > pooled.byteLength);
  assert.deepEqual(decodeStruct(MON_INTERCEPT_POLICY, pooled), decodeStruct(MON_INTERCEPT_POLICY, policy));
  const padded = new Uint8Array(28 + 13);
  padded.set(policy, 13);
  assert.equal(decodeStruct(MON_INTERCEPT_POLICY, padded, 13).MaxOperationsPerSubmit, 1024);
  assert.equal(decodeStruct(MON_BLACKLIST_ENTRY, encodeStruct(MON_BLACKLIST_ENTRY, { ProcessId: 4, ProcessName: 'évil.exe', Reason: 'T1068' })).ProcessName, 'évil.exe');
});

test('truncated input is WIN11MON_ERR_TRUNCATED naming the first field cut off', () => {
  assert.throws(() => decodeStruct(MON_INTERCEPT_POLICY, new Uint8Array(14)), (e: unknown) =>
    e instanceof Win11MonError && e.code === 'WIN11MON_ERR_TRUNCATED' && e.detail.field === 'MaxOperationsPerSubmit' && e.detail.offset === 12 && e.statusName === 'STATUS_BUFFER_TOO_SMALL');
  assert.throws(() => decodeStruct(MON_INTERCEPT_POLICY, new Uint8Array(40), 20), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_TRUNCATED' && e.detail.field === 'MaxSubmitsPerSecond' && e.detail.offset === 40);
});

test('encode rejects out-of-range and unknown fields with WIN11MON_ERR_BAD_ARGUMENT naming the field', () => {
  const bad: [StructInit, string][] = [
    [{ Size: -1 }, 'Size'], [{ Size: 2 ** 32 }, 'Size'], [{ Enabled: 1 }, 'Enabled'], [{ Nope: 1 }, 'Nope'],
  ];
  for (const [obj, field] of bad) {
    assert.throws(() => encodeStruct(MON_INTERCEPT_POLICY, obj), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_BAD_ARGUMENT' && e.detail.field === field);
  }
  assert.throws(() => encodeStruct(MON_BLACKLIST_ENTRY, { Reason: 'x'.repeat(65) }), (e: unknown) => e instanceof Win11MonError && e.detail.field === 'Reason');
  assert.throws(() => encodeStruct(MON_INTERCEPT_STATS, { TotalBlocked: '0x1ffffffffffffffff' }), (e: unknown) => e instanceof Win11MonError && e.detail.field === 'TotalBlocked');
});

test('canaries: decoding a slice of a larger ArrayBuffer reads nothing outside it (property)', () => {
  fc.assert(fc.property(fc.constantFrom(...ALL_STRUCTS), fc.integer({ min: 0, max: 64 }), fc.uint8Array({ minLength: 0, maxLength: 300 }), (def, pre, body) => {
    const run = (canary: number): unknown => {
      const ab = new ArrayBuffer(pre + body.byteLength + 64);
      new Uint8Array(ab).fill(canary);
      const slice = new Uint8Array(ab, pre, body.byteLength);
      slice.set(body);
      try {
        return decodeStruct(def, slice);
      } catch (e) {
        assert.ok(e instanceof Win11MonError, `only Win11MonError may escape, got ${String(e)}`);
        return e.code;
      } finally {
        const all = new Uint8Array(ab);
        for (let k = 0; k < pre; k++) assert.equal(all[k], canary);
        for (let k = pre + body.byteLength; k < all.length; k++) assert.equal(all[k], canary);
      }
    };
    assert.deepEqual(run(0xa5), run(0x5a));
  }), { seed: SEED, numRuns: 300 });
});

test('structByName finds every table', () => {
  for (const d of ALL_STRUCTS) assert.equal(structByName(d.name), d);
  assert.equal(new Set(ALL_STRUCTS.map((d) => d.name)).size, ALL_STRUCTS.length);
});
