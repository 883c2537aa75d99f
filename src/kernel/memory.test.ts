import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressSpace, MemoryView, Section, pageNumber } from './memory.js';
import { PoolAllocator, PoolType, poolTag, poolTagName, NONPAGED_POOL_HI, PAGED_POOL_HI } from './pool.js';
import { isWin11MonError } from '../abi/errors.js';
import { NtStatus } from '../abi/ntstatus.js';

function spaces() {
  const kernel = new AddressSpace('kernel');
  const user = new AddressSpace('user');
  return { kernel, user, um: new MemoryView(kernel, user, false), km: new MemoryView(kernel, user, true), kd: new MemoryView(kernel, undefined, true) };
}

function faults(f: () => unknown): boolean {
  try { f(); return false; } catch (e) {
    assert.ok(isWin11MonError(e));
    assert.equal(e.code, 'WIN11MON_ERR_ACCESS_VIOLATION');
    assert.equal(e.status, NtStatus.STATUS_ACCESS_VIOLATION);
    return true;
  }
}

test('unmapped pages fault; regions are demand-zero and sparse', () => {
  const { user, um } = spaces();
  assert.ok(faults(() => um.readU32(0, 0x20000)));
  const first = pageNumber(0, 0x20000);
  user.map({ firstPage: first, endPage: first + 0x100000, tag: 't' }); // 4 GiB region, nothing allocated yet
  assert.equal(um.readU32(0, 0x20000), 0);
  um.writeU32(0, 0x20004, 0xdeadbeef);
  assert.equal(um.readU32(0, 0x20004), 0xdeadbeef);
  assert.ok(user.pages.size <= 2, 'only touched pages exist');
});

test('user mode cannot touch kernel addresses; kernel mode can; detached kernel view cannot see user space', () => {
  const { kernel, user, um, km, kd } = spaces();
  const kp = pageNumber(0xffffb081, 0x1000);
  kernel.map({ firstPage: kp, endPage: kp + 1, tag: 'k' });
  const up = pageNumber(0x1f6, 0);
  user.map({ firstPage: up, endPage: up + 1, tag: 'u' });
  assert.ok(faults(() => um.readU32(0xffffb081, 0x1000)));
  km.writeU32(0xffffb081, 0x1000, 7);
  assert.equal(km.readU32(0xffffb081, 0x1000), 7);
  km.writeU32(0x1f6, 0, 9);
  assert.equal(um.readU32(0x1f6, 0), 9);
  assert.ok(faults(() => kd.readU32(0x1f6, 0)));
  assert.ok(faults(() => km.readU32(0x00008000, 0))); // non-canonical
  assert.ok(faults(() => um.readU32(0x7fff, 0xffff0000))); // above MmHighestUserAddress
});

test('cross-page and 64-bit accesses on (hi, lo) halves, with carry across 2^32', () => {
  const { user, um } = spaces();
  const first = pageNumber(0x1, 0xfffff000);
  user.map({ firstPage: first, endPage: first + 2, tag: 't' });
  um.writeU64Parts(0x1, 0xfffffffc, 0x11223344, 0x55667788);
  assert.equal(um.readU32(0x1, 0xfffffffc), 0x55667788);
  assert.equal(um.readU32(0x2, 0), 0x11223344);
  const r = um.readU64Parts(0x1, 0xfffffffc);
  assert.deepEqual([r.hi, r.lo], [0x11223344, 0x55667788]);
  const bytes = new Uint8Array(0x20).map((_v, i) => i);
  um.writeBytes(0x1fffffff0n, bytes);
  assert.deepEqual(um.readBytes(0x1fffffff0n, 0x20), bytes);
});

test('a partially unmapped range faults before any byte is written', () => {
  const { user, um } = spaces();
  const first = pageNumber(0, 0x30000);
  user.map({ firstPage: first, endPage: first + 1, tag: 't' });
  assert.ok(faults(() => um.writeBytes(0x30ff0n, new Uint8Array(0x20).fill(1))));
  assert.equal(um.readU32(0, 0x30ff0), 0);
  assert.equal(um.isAccessible(0, 0x30ff0, 0x10), true);
  assert.equal(um.isAccessible(0, 0x30ff0, 0x20), false);
});

test('a section maps the same physical pages at two virtual addresses', () => {
  const { kernel, user, um, km } = spaces();
  const s = new Section(0x3000);
  const up = pageNumber(0x2, 0);
  user.map({ firstPage: up, endPage: up + 3, tag: 'sec', section: s, sectionFirst: 0 });
  const kp = pageNumber(0xffffd084, 0x10000);
  kernel.map({ firstPage: kp, endPage: kp + 2, tag: 'sec-k', section: s, sectionFirst: 1 });
  um.writeU32(0x2, 0x1010, 0xabcd);
  assert.equal(km.readU32(0xffffd084, 0x10010), 0xabcd);
  km.writeU32(0xffffd084, 0x11000, 0x1234);
  assert.equal(um.readU32(0x2, 0x2000), 0x1234);
});

test('pool: tags, POOL_HEADER, big-pool blocks, frees and their errors', () => {
  const kernel = new AddressSpace('kernel');
  const m = new MemoryView(kernel, undefined, true);
  const pool = new PoolAllocator(kernel, m);
  assert.equal(poolTag('IrRB'), 0x42527249);
  assert.equal(poolTagName(0x6542634d), 'McBe');
  const a = pool.allocate(PoolType.NonPaged, 0x80, 'McBe');
  assert.equal(a.hi, NONPAGED_POOL_HI);
  assert.equal(m.readU32(a.hi, a.lo - 0x10 + 4), poolTag('McBe'));
  const b = pool.allocate(PoolType.Paged, 0x2000, 'IrRB');
  assert.equal(b.hi, PAGED_POOL_HI);
  assert.equal(b.lo & 0xfff, 0);
  assert.equal(b.big, true);
  assert.equal(pool.lookup(a.hi, a.lo)?.size, 0x80);
  assert.equal(pool.free(a.hi, a.lo, 'IrRB'), 'tag-mismatch');
  assert.equal(pool.free(a.hi, a.lo, 'McBe'), undefined);
  assert.equal(pool.free(a.hi, a.lo, 'McBe'), 'not-allocated');
  assert.equal(pool.free(0, 0x1000000, 'IrRB'), 'not-pool-address');
  assert.equal(pool.liveCount('IrRB'), 1);
});

test('readInto / writeFrom copy any range, short or long, in one page or across pages (property)', () => {
  const { user, um } = spaces();
  const first = pageNumber(0, 0x40000);
  user.map({ firstPage: first, endPage: first + 4, tag: 't' }); // 16 KiB at 0x40000
  const ref = new Uint8Array(4 * 0x1000);
  fc.assert(fc.property(fc.nat(4 * 0x1000 - 1), fc.nat(3 * 0x1000), fc.nat(255), (off, want, seed) => {
    const len = Math.min(want, ref.length - off);
    const src = Uint8Array.from({ length: len + 8 }, (_, i) => (i * 31 + seed) & 0xff);
    um.writeFrom(0, 0x40000 + off, src, 3, len);
    ref.set(src.subarray(3, 3 + len), off);
    const back = new Uint8Array(len + 6).fill(0xee);
    um.readInto(0, 0x40000 + off, back, 5, len);
    assert.deepEqual([...back.subarray(5, 5 + len)], [...ref.subarray(off, off + len)]);
    assert.ok(back.subarray(0, 5).every((b) => b === 0xee) && back[5 + len] === 0xee, 'nothing written outside the destination range');
  }), { numRuns: 300, seed: 7 });
  const whole = new Uint8Array(ref.length);
  um.readInto(0, 0x40000, whole, 0, ref.length);
  assert.deepEqual([...whole], [...ref]);
});
