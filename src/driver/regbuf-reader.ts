// A2, the read side: a ring's registered-buffer state read from (emulated) kernel memory through
// the build's IORING_OBJECT offsets (plan 5B), as the engine's RegBufferState. Every read is
// guarded the way the C driver guards them with SEH: a fault marks the entry unreadable and the
// scan goes on, it never throws.
import { IOP_MC_BUFFER_ENTRY, offsetOf } from '../abi/index.js';
import type { RegBufferEntryState, RegBufferState } from '../engine/index.js';
import { REGBUF_MAX_PLAUSIBLE_COUNT } from '../engine/checks/regbuffers.js';
import { addHi, addLo, type EmulatedKernel, type IoRingObject, type MemoryView } from '../kernel/index.js';

/** The System process's id on Windows: the only owner whose rings may hold KernelMode registrations. */
const SYSTEM_PID = 4;

/** How many RegBuffers entries A2 reads per ring (the C driver's cap is similar: a bounded scan). */
export const REGBUF_SCAN_MAX_ENTRIES = 64;

const MC = {
  Type: offsetOf(IOP_MC_BUFFER_ENTRY, 'Type'),
  Size: offsetOf(IOP_MC_BUFFER_ENTRY, 'Size'),
  ReferenceCount: offsetOf(IOP_MC_BUFFER_ENTRY, 'ReferenceCount'),
  Address: offsetOf(IOP_MC_BUFFER_ENTRY, 'Address'),
  Length: offsetOf(IOP_MC_BUFFER_ENTRY, 'Length'),
  AccessMode: offsetOf(IOP_MC_BUFFER_ENTRY, 'AccessMode'),
} as const;

function emptyEntry(): RegBufferEntryState {
  return { entryAddressHi: 0, entryAddressLo: 0, readable: false, type: 0, size: 0, referenceCount: 0, accessMode: 0, addressHi: 0, addressLo: 0, length: 0 };
}

/** Entry `i` of a reused array, reset, or a new one (a module function: no closure per call). */
function takeEntry(entries: RegBufferEntryState[], i: number): RegBufferEntryState {
  let e = entries[i];
  if (e === undefined) {
    e = emptyEntry();
    entries[i] = e;
  } else {
    e.entryAddressHi = 0; e.entryAddressLo = 0; e.readable = false; e.type = 0; e.size = 0;
    e.referenceCount = 0; e.accessMode = 0; e.addressHi = 0; e.addressLo = 0; e.length = 0;
  }
  return e;
}

/** Reads one MC entry at (hi, lo); unreadable entries keep readable = false. */
function readMcEntry(m: MemoryView, hi: number, lo: number, e: RegBufferEntryState): void {
  e.entryAddressHi = hi;
  e.entryAddressLo = lo;
  if (hi === 0 && lo === 0) { e.readable = true; return; }
  try {
    e.type = m.readU16(hi, lo + MC.Type);
    e.size = m.readU32(hi, lo + MC.Size);
    e.referenceCount = m.readU32(hi, lo + MC.ReferenceCount) | 0;
    const a = m.readU64Parts(hi, lo + MC.Address);
    e.addressHi = a.hi;
    e.addressLo = a.lo;
    e.length = m.readU32(hi, lo + MC.Length);
    e.accessMode = m.readU8(hi, lo + MC.AccessMode);
    e.readable = true;
  } catch {
    e.readable = false;
  }
}

/**
 * Which RegBuffers entries one submission references (the driver fills one per validation, reused):
 * the kernel dereferences exactly these, so they are the ones A2 must read, wherever they lie.
 */
export interface ReferencedEntries {
  /** 0/1 by index below REGBUF_SCAN_MAX_ENTRIES; null = read all of them (the A2 poll). */
  near: Uint8Array | null;
  /** Distinct indexes at or past the scan cap, ascending; [0, farCount) is meaningful. */
  far: Int32Array;
  farCount: number;
  /**
   * Every entry below the count (up to REGBUF_MAX_PLAUSIBLE_COUNT) is read into `far`, whatever
   * `far` says: for a submission whose entries are unknown (a header-only request for a ring the
   * hook cannot read the queue of), any registered entry may be the one the kernel dereferences.
   */
  all: boolean;
}

/**
 * The RegBuffers state of `ring` as the kernel holds it now. `expectedCount` is what the monitor
 * saw legitimately registered (-1 when unknown). Reads in the owner's context (KeStackAttachProcess
 * in a real driver), since a forged array lives in the owner's user space. `reuse` (the previous
 * state of the same ring) is refilled in place, entry objects included: a validation allocates nothing.
 * The first min(count, maxEntries) entries form `entries`; `refs.near` limits their full reads to the
 * ones a submission references (the others are left as empty, sound slots), and every entry in
 * `refs.far` below the count is read into `far` — a submission's references past the cap, or the
 * poll's rotating window. Without `refs` all of `entries` are read and `far` is empty. The array
 * pointer and count are always read. `ownerView` is the ring owner's kernel view when the caller
 * holds it already (saves a lookup).
 */
export function readRegBufferState(kernel: EmulatedKernel, ring: IoRingObject, expectedCount: number, maxEntries = REGBUF_SCAN_MAX_ENTRIES, reuse?: RegBufferState, refs?: ReferencedEntries, ownerView?: MemoryView): RegBufferState {
  const off = kernel.offsets.off;
  const format = kernel.offsets.regBuffersFormat === 'mc-entry-pointers' ? 'mc-entry' : 'buffer-info';
  const state: RegBufferState = reuse ?? {
    source: 'kernel', objectAddressHi: 0, objectAddressLo: 0, arrayAddressHi: 0, arrayAddressLo: 0,
    count: 0, expectedCount: -1, format, ownerUserMode: true, entries: [], entriesTruncated: false, far: [], farIndex: [], farCount: 0,
  };
  const entries = state.entries;
  let used = 0;
  state.objectAddressHi = ring.hi;
  state.objectAddressLo = ring.lo;
  state.arrayAddressHi = 0;
  state.arrayAddressLo = 0;
  state.count = 0;
  state.expectedCount = expectedCount;
  state.format = format;
  state.ownerUserMode = ring.ownerPid !== SYSTEM_PID;
  state.entriesTruncated = false;
  state.farCount = 0;
  let m: MemoryView;
  if (ownerView !== undefined) {
    m = ownerView;
  } else {
    try {
      m = kernel.attach(ring.ownerPid);
    } catch {
      m = kernel.memory;
    }
  }
  try {
    state.count = kernel.memory.readU32(ring.hi, ring.lo + off.RegBuffersCount);
    const arr = kernel.memory.readU64Parts(ring.hi, ring.lo + off.RegBuffers);
    state.arrayAddressHi = arr.hi;
    state.arrayAddressLo = arr.lo;
  } catch {
    // The object itself is unreadable: report an unreadable first entry so the check flags it.
    const e = takeEntry(entries, used++);
    e.entryAddressHi = ring.hi;
    e.entryAddressLo = ring.lo;
    state.count = 1;
    entries.length = used;
    return state;
  }
  if (state.arrayAddressHi !== 0 || state.arrayAddressLo !== 0) {
    const n = Math.min(state.count, maxEntries);
    state.entriesTruncated = state.count > maxEntries;
    const near = refs?.near ?? null;
    for (let i = 0; i < n; i++) {
      const e = takeEntry(entries, used++);
      if (near !== null && near[i] !== 1) {
        e.readable = true; // not referenced by this submission: an empty slot, not read
        continue;
      }
      readEntryAt(m, state, i, e);
    }
    if (refs !== undefined && refs.all) {
      // A count past the plausible bound is a finding by itself: reading 64 Ki entries adds nothing.
      for (let i = n, end = state.count > REGBUF_MAX_PLAUSIBLE_COUNT ? 0 : state.count; i < end; i++) {
        const k = state.farCount++;
        state.farIndex[k] = i;
        readEntryAt(m, state, i, takeEntry(state.far, k));
      }
    } else if (refs !== undefined) {
      for (let j = 0; j < refs.farCount; j++) {
        const i = refs.far[j]!;
        if (i < n) continue;
        if (i >= state.count) break; // ascending: the rest lie past the count (the engine flags those references)
        const k = state.farCount++;
        state.farIndex[k] = i;
        readEntryAt(m, state, i, takeEntry(state.far, k));
      }
    }
  }
  entries.length = used;
  return state;
}

/** Reads RegBuffers[i] (the MC entry it points to, or the flat IORING_BUFFER_INFO) into `e`. */
function readEntryAt(m: MemoryView, state: RegBufferState, i: number, e: RegBufferEntryState): void {
  const stride = state.format === 'mc-entry' ? 8 : 16;
  const hi = addHi(state.arrayAddressHi, state.arrayAddressLo, i * stride);
  const lo = addLo(state.arrayAddressLo, i * stride);
  try {
    if (state.format === 'mc-entry') {
      const p = m.readU64Parts(hi, lo);
      readMcEntry(m, p.hi, p.lo, e);
    } else {
      e.entryAddressHi = hi;
      e.entryAddressLo = lo;
      const a = m.readU64Parts(hi, lo);
      e.addressHi = a.hi;
      e.addressLo = a.lo;
      e.length = m.readU32(hi, lo + 8);
      e.accessMode = 1;
      e.readable = true;
    }
  } catch {
    e.entryAddressHi = hi;
    e.entryAddressLo = lo;
    e.readable = false;
  }
}

/** Writes RegBuffers = NULL, RegBuffersCount = 0 (the safe state teardown accepts); returns what was there. */
export function neutralizeRegBuffers(kernel: EmulatedKernel, ring: IoRingObject): { count: number; arrayHi: number; arrayLo: number } {
  const off = kernel.offsets.off;
  const count = kernel.memory.readU32(ring.hi, ring.lo + off.RegBuffersCount);
  const arr = kernel.memory.readU64Parts(ring.hi, ring.lo + off.RegBuffers);
  kernel.memory.writeU64Parts(ring.hi, ring.lo + off.RegBuffers, 0, 0);
  kernel.memory.writeU32(ring.hi, ring.lo + off.RegBuffersCount, 0);
  return { count, arrayHi: arr.hi, arrayLo: arr.lo };
}
