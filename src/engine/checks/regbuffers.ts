// RegBuffers integrity (A2's rules): the ring's registered-buffer array as the driver read it from
// kernel memory, or as a RegBuffersSnapshot extension describes it, and each SQE's reference into it.
// The C driver declares this check (MonValidateIoRingRegBuffers) but its submission path never calls it.
import { AddressClass, classifyAddress, isKernelAddress, isUserRange, rangeWraps } from '../../abi/address.js';
import { IOP_MC_BUFFER_ENTRY_TYPE } from '../../abi/ioring.js';
import { InterceptReason, MON_NO_OP_INDEX, MonExtType } from '../../abi/monitor.js';
import type { InterceptRequestView, RequestExtension } from '../../abi/request.js';
import { ViolationFlags as VF, type RegBufferEntryState, type RegBufferState, type ViolationSink } from '../types.js';

/** FoxTwo_'s plausibility bound on RegBuffersCount (a larger count is COUNT_MISMATCH on its own). */
export const REGBUF_MAX_PLAUSIBLE_COUNT = 0x10000;
const KERNEL_MODE = 0;
const USER_MODE = 1;

/** Expected IOP_MC_BUFFER_ENTRY.Size for a buffer: 0x20 * (pages + 3) (IopMcCreateBufferEntry). */
export function expectedMcEntrySize(addressLo: number, length: number): number {
  const pages = Math.floor(((addressLo & 0xfff) + length + 0xfff) / 0x1000);
  return 0x20 * (pages + 3);
}

/**
 * ViolationFlags for one entry (0 when it is sound). `ownerUserMode`: the ring's owner is a user-mode
 * process, so a KernelMode entry cannot have come from its registrations (AccessMode is the
 * registering thread's PreviousMode): REGBUF_INVALID_STRUCTURE, and its buffer is held to the user
 * rules (an attacker who rewrites a pool entry's Address and AccessMode is caught here).
 */
export function checkRegBufferEntry(e: RegBufferEntryState, format: RegBufferState['format'], ownerUserMode = false): number {
  let f = 0;
  if (format === 'mc-entry') {
    if (e.entryAddressHi === 0 && e.entryAddressLo === 0) return 0; // empty slot
    if (!isKernelAddress(e.entryAddressHi, e.entryAddressLo)) f |= VF.REGBUF_ENTRY_USERMODE;
    if (!e.readable) return f | VF.REGBUF_ACCESS_VIOLATION;
    if (e.type !== IOP_MC_BUFFER_ENTRY_TYPE || e.referenceCount < 1 || e.size !== expectedMcEntrySize(e.addressLo, e.length)) f |= VF.REGBUF_INVALID_STRUCTURE;
    if (e.accessMode === USER_MODE) {
      f |= userBufferFlags(e.addressHi, e.addressLo, e.length);
    } else if (e.accessMode === KERNEL_MODE && ownerUserMode) {
      f |= VF.REGBUF_INVALID_STRUCTURE | userBufferFlags(e.addressHi, e.addressLo, e.length);
    } else if (e.accessMode === KERNEL_MODE) {
      if (rangeWraps(e.addressHi, e.addressLo, e.length)) f |= VF.REGBUF_BUFFER_RANGE;
    } else {
      f |= VF.REGBUF_INVALID_STRUCTURE; // KPROCESSOR_MODE is 0 or 1
    }
    return f;
  }
  if (!e.readable) return VF.REGBUF_ACCESS_VIOLATION;
  return userBufferFlags(e.addressHi, e.addressLo, e.length);
}

function userBufferFlags(hi: number, lo: number, length: number): number {
  const c = classifyAddress(hi, lo);
  if (c === AddressClass.Null) return length === 0 ? 0 : VF.REGBUF_BUFFER_RANGE;
  if (c === AddressClass.Kernel || c === AddressClass.UserGuard || c === AddressClass.NonCanonical) return VF.REGBUF_KERNEL_BUFFER;
  if (c === AddressClass.LowReserved) return VF.REGBUF_BUFFER_RANGE;
  return isUserRange(hi, lo, length) ? 0 : VF.REGBUF_BUFFER_RANGE;
}

/**
 * The ring-level rules. Reports one violation carrying every flag found (entryIndex = the first bad
 * entry, address = the array pointer when the array itself is bad, else that entry's pointer/address).
 * Returns the sink's "stop".
 *  - RegBuffers != NULL must lie in kernel space (source 'kernel' only: a snapshot's array is the
 *    caller's user-mode copy) -> REGBUF_USERMODE_PTR, the public exploit's signature;
 *  - NULL <=> count 0; count == expectedCount when known; count <= 0x10000 -> REGBUF_COUNT_MISMATCH;
 *  - every entry: see checkRegBufferEntry.
 */
export function checkRegBufferState(s: RegBufferState, mode: number, sink: ViolationSink): boolean {
  let flags = 0;
  const isNull = s.arrayAddressHi === 0 && s.arrayAddressLo === 0;
  if (!isNull && s.source === 'kernel' && !isKernelAddress(s.arrayAddressHi, s.arrayAddressLo)) flags |= VF.REGBUF_USERMODE_PTR;
  if (isNull !== (s.count === 0)) flags |= VF.REGBUF_COUNT_MISMATCH;
  if (s.expectedCount >= 0 && s.count !== s.expectedCount) flags |= VF.REGBUF_COUNT_MISMATCH;
  if (s.count > REGBUF_MAX_PLAUSIBLE_COUNT) flags |= VF.REGBUF_COUNT_MISMATCH;
  let firstBad = -1;
  let badHi = 0;
  let badLo = 0;
  const entries = s.entries;
  const n = entries.length < s.count ? entries.length : s.count;
  for (let i = 0, all = n + s.farCount; i < all; i++) {
    const far = i >= n;
    if (far && s.farIndex[i - n]! >= s.count) continue;
    const e = far ? s.far[i - n]! : entries[i]!;
    const ef = checkRegBufferEntry(e, s.format, s.ownerUserMode);
    if (ef !== 0) {
      flags |= ef;
      if (firstBad < 0) {
        firstBad = far ? s.farIndex[i - n]! : i;
        const useEntryPtr = (ef & (VF.REGBUF_ENTRY_USERMODE | VF.REGBUF_ACCESS_VIOLATION)) !== 0;
        badHi = useEntryPtr ? e.entryAddressHi : e.addressHi;
        badLo = useEntryPtr ? e.entryAddressLo : e.addressLo;
      }
    }
  }
  if (flags === 0) return false;
  const arrayLevel = (flags & (VF.REGBUF_USERMODE_PTR | VF.REGBUF_COUNT_MISMATCH)) !== 0 || firstBad < 0;
  return sink.hit('regBuffers', mode, InterceptReason.RegBuffersCorrupted, MON_NO_OP_INDEX, firstBad, flags,
    arrayLevel ? s.arrayAddressHi : badHi, arrayLevel ? s.arrayAddressLo : badLo, s.count, s.expectedCount);
}

/**
 * An SQE's registered-buffer reference (READ/WRITE with CommonOpFlags & 0x2: BufferAddress low =
 * index, BufferOffset = offset, BufferSize = length): index < RegBuffersCount, and offset + length
 * within the entry's Length when the entry was read.
 */
export function checkRegisteredRef(index: number, offset: number, length: number, s: RegBufferState, opIndex: number, mode: number, sink: ViolationSink): boolean {
  if (index >= s.count) {
    return sink.hit('regBuffers', mode, InterceptReason.RegBuffersCorrupted, opIndex, index, VF.REGBUF_INDEX_OUT_OF_RANGE, 0, 0, index, s.count);
  }
  const e = index < s.entries.length ? s.entries[index]! : farEntry(s, index);
  if (e === undefined && s.source === 'submission') return false; // registered from probed user buffers: the kernel checks the length
  if (e === undefined) {
    // The state does not hold the entry the kernel will dereference (a reader that did not read it):
    // what cannot be verified is treated as unreadable, never as sound.
    return sink.hit('regBuffers', mode, InterceptReason.RegBuffersCorrupted, opIndex, index, VF.REGBUF_ACCESS_VIOLATION, s.arrayAddressHi, s.arrayAddressLo, index, s.count);
  }
  if (e.readable && offset + length > e.length) {
    return sink.hit('regBuffers', mode, InterceptReason.RegBuffersCorrupted, opIndex, index, VF.REGBUF_OFFSET_OUT_OF_RANGE, e.addressHi, e.addressLo, offset + length, e.length);
  }
  return false;
}

/** The entry at `index` among the state's far entries (binary search: farIndex is ascending), or undefined. */
function farEntry(s: RegBufferState, index: number): RegBufferEntryState | undefined {
  let lo = 0;
  let hi = s.farCount - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = s.farIndex[mid]!;
    if (at === index) return s.far[mid];
    if (at < index) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * The registration a REGISTER_BUFFERS entry at `opIndex` leaves for the later entries of the same
 * submission: the kernel processes entries in order and a registration replaces what was there, so
 * a READ after it names the new buffers, not the ring's current ones (an application that registers
 * and uses its buffers in one submission is correct). From its BufferInfoArray extension when the
 * request carries one (count and lengths; the addresses are checked by checkBufferInfoArrays), else
 * the SQE's count alone. Whether the kernel accepts the registration does not matter for safety:
 * if it refuses it, the current entries stay, and the driver read and checked every entry any SQE
 * references. Cold path: only submissions that register buffers.
 */
export function registrationBySqe(view: InterceptRequestView, exts: readonly RequestExtension[] | null, opIndex: number): RegBufferState {
  const dv = view.dv;
  const entries: RegBufferEntryState[] = [];
  // The SQE's Count is what the kernel registers; the extension's entries, as many as its length holds.
  let count = view.hasExt(opIndex) ? view.extCount(opIndex) : -1;
  for (const x of exts ?? []) {
    if (x.type !== MonExtType.BufferInfoArray || x.length < 8 || dv.getUint32(x.payloadOffset, true) !== opIndex) continue;
    if (count < 0) count = dv.getUint32(x.payloadOffset + 4, true);
    const n = Math.min(count, dv.getUint32(x.payloadOffset + 4, true), Math.floor((x.length - 8) / 16));
    for (let i = 0; i < n; i++) {
      const o = x.payloadOffset + 8 + i * 16;
      entries.push({
        entryAddressHi: 0, entryAddressLo: 0, readable: true, type: 0, size: 0, referenceCount: 0, accessMode: USER_MODE,
        addressLo: dv.getUint32(o, true), addressHi: dv.getUint32(o + 4, true), length: dv.getUint32(o + 8, true),
      });
    }
    break;
  }
  if (count < 0) count = REGBUF_MAX_PLAUSIBLE_COUNT; // neither the SQE's words nor an extension say: the kernel checks the index
  return {
    source: 'submission', objectAddressHi: 0, objectAddressLo: 0, arrayAddressHi: 0, arrayAddressLo: 0,
    count, expectedCount: -1, format: 'buffer-info', ownerUserMode: true, entries, entriesTruncated: false, far: [], farIndex: [], farCount: 0,
  };
}

/**
 * The RegBuffersSnapshot extension (u32 Count, u32 Flags, u64 ArrayAddress, Count x IORING_BUFFER_INFO)
 * as a RegBufferState (source 'snapshot', format 'buffer-info'). Flags is reserved and ignored.
 * Cold path: only requests that carry the extension allocate this.
 */
export function regBufferStateFromSnapshot(view: InterceptRequestView, payloadOffset: number): RegBufferState {
  const dv = view.dv;
  const count = dv.getUint32(payloadOffset, true);
  const entries: RegBufferEntryState[] = [];
  for (let i = 0; i < count; i++) {
    const o = payloadOffset + 16 + i * 16;
    entries.push({
      entryAddressHi: 0, entryAddressLo: 0, readable: true, type: 0, size: 0, referenceCount: 0, accessMode: USER_MODE,
      addressLo: dv.getUint32(o, true), addressHi: dv.getUint32(o + 4, true), length: dv.getUint32(o + 8, true),
    });
  }
  return {
    source: 'snapshot', objectAddressHi: 0, objectAddressLo: 0,
    arrayAddressLo: dv.getUint32(payloadOffset + 8, true), arrayAddressHi: dv.getUint32(payloadOffset + 12, true),
    count, expectedCount: -1, format: 'buffer-info', ownerUserMode: true, entries, entriesTruncated: false, far: [], farIndex: [], farCount: 0,
  };
}
