import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRegBufferEntry, checkRegBufferState, checkRegisteredRef, expectedMcEntrySize, regBufferStateFromSnapshot } from './regbuffers.js';
import { RecordingSink } from './testsink.js';
import { ViolationFlags as VF } from '../types.js';
import { InterceptReason as R } from '../../abi/monitor.js';
import { InterceptRequestView } from '../../abi/request.js';
import { exploitRegBuffers, legitRegBuffers, mcEntry, USER_BUF, KERNEL_ADDR, buildRequest, readRaw, regBuffersSnapshotExt } from '../testing.js';

test('a sound kernel RegBuffers state passes', () => {
  const s = new RecordingSink();
  assert.equal(checkRegBufferState(legitRegBuffers(3), 2, s), false);
  assert.equal(checkRegBufferState(legitRegBuffers(0), 2, s), false);
  assert.equal(s.hits.length, 0);
});

test('the exploit state sets USERMODE_PTR, COUNT_MISMATCH, ENTRY_USERMODE and KERNEL_BUFFER', () => {
  const s = new RecordingSink(true);
  assert.equal(checkRegBufferState(exploitRegBuffers(), 2, s), true);
  const h = s.hits[0]!;
  assert.equal(h.reason, R.RegBuffersCorrupted);
  assert.equal(h.flags, VF.REGBUF_USERMODE_PTR | VF.REGBUF_COUNT_MISMATCH | VF.REGBUF_ENTRY_USERMODE | VF.REGBUF_KERNEL_BUFFER);
  assert.equal(h.entryIndex, 0);
  assert.equal(h.addrLo, 0x01000000);
});

test('NULL pointer <=> count 0, and count must match what was registered', () => {
  const st = legitRegBuffers(2);
  const s = new RecordingSink();
  checkRegBufferState({ ...st, arrayAddressHi: 0, arrayAddressLo: 0 }, 2, s); // cleanup leaves count, nulls the pointer
  checkRegBufferState({ ...st, expectedCount: 1 }, 2, s);
  checkRegBufferState({ ...legitRegBuffers(0), arrayAddressHi: 0xffffa000, arrayAddressLo: 0x1000 }, 2, s);
  assert.deepEqual(s.hits.map((h) => h.flags & VF.REGBUF_COUNT_MISMATCH), [VF.REGBUF_COUNT_MISMATCH, VF.REGBUF_COUNT_MISMATCH, VF.REGBUF_COUNT_MISMATCH]);
});

test('MC entry structure: Type, Size = 0x20*(pages+3), ReferenceCount, readability', () => {
  assert.equal(expectedMcEntrySize(0, 0x1000), 0x80);
  assert.equal(expectedMcEntrySize(0x800, 0x1000), 0xa0);
  const k = 0xffffa00000001000n;
  assert.equal(checkRegBufferEntry(mcEntry(k, USER_BUF, 0x1000), 'mc-entry'), 0);
  assert.equal(checkRegBufferEntry(mcEntry(k, USER_BUF, 0x1000, { type: 0x4d43 }), 'mc-entry'), VF.REGBUF_INVALID_STRUCTURE);
  assert.equal(checkRegBufferEntry(mcEntry(k, USER_BUF, 0x3000, { size: 0x80 }), 'mc-entry'), VF.REGBUF_INVALID_STRUCTURE);
  assert.equal(checkRegBufferEntry(mcEntry(k, USER_BUF, 0x1000, { referenceCount: 0 }), 'mc-entry'), VF.REGBUF_INVALID_STRUCTURE);
  assert.equal(checkRegBufferEntry(mcEntry(k, USER_BUF, 0x1000, { readable: false }), 'mc-entry'), VF.REGBUF_ACCESS_VIOLATION);
  assert.equal(checkRegBufferEntry(mcEntry(k, 0x00007fffffe00000n, 0x300000), 'mc-entry'), VF.REGBUF_BUFFER_RANGE);
  assert.equal(checkRegBufferEntry(mcEntry(k, KERNEL_ADDR, 0x1000, { accessMode: 0 }), 'mc-entry'), 0); // kernel-mode entries may describe kernel buffers
  // ... but not in a user-mode process's ring, whose registrations all came from user mode: a pool
  // entry rewritten to {AccessMode KernelMode, Address kernel} is the forgery.
  assert.equal(checkRegBufferEntry(mcEntry(k, KERNEL_ADDR, 0x1000, { accessMode: 0 }), 'mc-entry', true), VF.REGBUF_INVALID_STRUCTURE | VF.REGBUF_KERNEL_BUFFER);
  assert.equal(checkRegBufferEntry(mcEntry(k, USER_BUF, 0x1000, { accessMode: 0 }), 'mc-entry', true), VF.REGBUF_INVALID_STRUCTURE);
  assert.equal(checkRegBufferEntry(mcEntry(k, USER_BUF, 0x1000), 'mc-entry', true), 0);
  assert.equal(checkRegBufferEntry(mcEntry(0n, 0n, 0), 'mc-entry'), 0); // empty slot
  assert.equal(checkRegBufferEntry(mcEntry(0n, KERNEL_ADDR, 0x1000), 'buffer-info'), VF.REGBUF_KERNEL_BUFFER);
});

test('an SQE registered-buffer index beyond the count, or offset+length beyond the entry, is flagged', () => {
  const st = legitRegBuffers(2);
  const s = new RecordingSink();
  assert.equal(checkRegisteredRef(1, 0, 0x1000, st, 0, 2, s), false);
  checkRegisteredRef(2, 0, 0x10, st, 3, 2, s);
  checkRegisteredRef(0, 0x800, 0x1000, st, 4, 2, s);
  assert.deepEqual(s.hits.map((h) => [h.opIndex, h.flags]), [[3, VF.REGBUF_INDEX_OUT_OF_RANGE], [4, VF.REGBUF_OFFSET_OUT_OF_RANGE]]);
});

test('a RegBuffersSnapshot extension decodes to a snapshot state (user-mode array allowed)', () => {
  const req = buildRequest([readRaw()], { extensions: [regBuffersSnapshotExt(USER_BUF, [{ address: USER_BUF, length: 0x100 }])] });
  const v = new InterceptRequestView().reset(req);
  const st = regBufferStateFromSnapshot(v, v.extOffset + 8);
  assert.equal(st.source, 'snapshot');
  assert.equal(st.count, 1);
  assert.equal(st.entries[0]!.length, 0x100);
  assert.equal(checkRegBufferState(st, 2, new RecordingSink()), false);
});

test('entries past the scan cap: a far entry is checked like any other, and a reference the state does not hold is unverifiable, never sound', () => {
  // 100 registered, the first 64 in `entries`, entries 70 and 90 read into `far` (what a submission references).
  const st = legitRegBuffers(100);
  const all = st.entries;
  const far = { ...st, entries: all.slice(0, 64), entriesTruncated: true, far: [all[70]!, mcEntry(0xffffa0000000f000n, KERNEL_ADDR, 0x1000)], farIndex: [70, 90], farCount: 2 };
  let s = new RecordingSink(true);
  assert.equal(checkRegBufferState(far, 2, s), true, 'the corrupted far entry 90 is a state finding');
  assert.equal(s.hits[0]!.entryIndex, 90);
  assert.equal(s.hits[0]!.flags, VF.REGBUF_KERNEL_BUFFER);
  const sound = { ...far, far: [all[70]!, all[90]!] };
  s = new RecordingSink(true);
  assert.equal(checkRegBufferState(sound, 2, s), false);
  assert.equal(checkRegisteredRef(70, 0, 0x1000, sound, 0, 2, s), false, 'a far reference within its entry');
  assert.equal(checkRegisteredRef(90, 0x800, 0x1000, sound, 1, 2, s), true, 'a far reference past its entry');
  assert.equal(s.hits[0]!.flags, VF.REGBUF_OFFSET_OUT_OF_RANGE);
  s = new RecordingSink(true);
  assert.equal(checkRegisteredRef(80, 0, 0x10, sound, 2, 2, s), true, 'entry 80 was never read');
  assert.equal(s.hits[0]!.flags, VF.REGBUF_ACCESS_VIOLATION);
  assert.equal(s.hits[0]!.entryIndex, 80);
  // farCount bounds the reused arrays: a stale slot past it is not consulted.
  s = new RecordingSink(true);
  assert.equal(checkRegisteredRef(90, 0, 0x10, { ...sound, farCount: 1 }, 3, 2, s), true);
  assert.equal(s.hits[0]!.flags, VF.REGBUF_ACCESS_VIOLATION);
});
