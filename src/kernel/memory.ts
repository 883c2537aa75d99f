// Emulated x64 virtual memory: sparse 4 KiB pages allocated on demand, per-process user spaces and
// one shared kernel space, reads/writes by (hi, lo) address halves with access faults.
// Boundaries are Windows 8.1+ x64 (shared/reference/ioring-abi.md section 4.1): user space
// 0x10000 .. MmHighestUserAddress 0x7FFF`FFFEFFFF, system space from 0xFFFF8000`00000000.
import { Win11MonError } from '../abi/errors.js';
import { SYSTEM_START_HI, HIGHEST_USER_HI, HIGHEST_USER_LO } from '../abi/address.js';
import { NtStatus } from '../abi/ntstatus.js';
import { hex64, hiOf, loOf, toBigInt } from '../abi/u64.js';

export const PAGE_SIZE = 0x1000;
const PAGE_SHIFT = 12;
/** 2^20: pages per 2^32 bytes, so a page number is hi * 2^20 + (lo >>> 12) (exact below 2^53). */
const PAGES_PER_HI = 0x100000;
const TWO32 = 0x100000000;
/**
 * Copies up to this many bytes within one page go byte by byte; longer ones use subarray + set.
 * Measured on the 2-core bench VM: both cost ~125 ns at 64 bytes; at 4 KiB the loop takes ~7 µs
 * and set ~0.3 µs (the hook's queue capture copies up to a page of SQEs this way).
 */
const SHORT_COPY = 64;

/** One physical page. Shared sections hand the same Page to two address spaces (two VAs, one frame). */
export class Page {
  readonly u8 = new Uint8Array(PAGE_SIZE);
  readonly dv = new DataView(this.u8.buffer, 0, PAGE_SIZE);
}

/** Physical pages backing a section object (NtCreateSection-like), materialised on first touch. */
export class Section {
  readonly pages: Array<Page | undefined>;
  constructor(readonly byteSize: number) {
    this.pages = new Array<Page | undefined>(Math.ceil(byteSize / PAGE_SIZE));
  }
  page(i: number): Page {
    let p = this.pages[i];
    if (p === undefined) {
      p = new Page();
      this.pages[i] = p;
    }
    return p;
  }
}

/** A reserved+committed range of one address space, [firstPage, endPage), demand-zero or section-backed. */
export interface Region {
  firstPage: number;
  endPage: number;
  tag: string;
  section?: Section;
  /** Page index in `section` that `firstPage` maps. */
  sectionFirst?: number;
}

/** The page table of one address space (a process's user half, or the kernel half). */
export class AddressSpace {
  readonly pages = new Map<number, Page>();
  readonly regions: Region[] = [];

  constructor(readonly name: string) {}

  /** The page at `pageNo`, materialising it when it lies in a region; undefined when unmapped. */
  lookup(pageNo: number): Page | undefined {
    const p = this.pages.get(pageNo);
    if (p !== undefined) return p;
    for (let i = 0; i < this.regions.length; i++) {
      const r = this.regions[i]!;
      if (pageNo >= r.firstPage && pageNo < r.endPage) {
        const np = r.section ? r.section.page((r.sectionFirst ?? 0) + pageNo - r.firstPage) : new Page();
        this.pages.set(pageNo, np);
        return np;
      }
    }
    return undefined;
  }

  isMapped(pageNo: number): boolean {
    if (this.pages.has(pageNo)) return true;
    return this.regionOf(pageNo) !== undefined;
  }

  regionOf(pageNo: number): Region | undefined {
    for (const r of this.regions) if (pageNo >= r.firstPage && pageNo < r.endPage) return r;
    return undefined;
  }

  overlaps(firstPage: number, endPage: number): boolean {
    for (const r of this.regions) if (firstPage < r.endPage && endPage > r.firstPage) return true;
    return false;
  }

  map(region: Region): Region {
    this.regions.push(region);
    return region;
  }

  /** Removes a region and its materialised pages (VirtualFree / MmUnmapViewOfSection). */
  unmap(region: Region): void {
    const i = this.regions.indexOf(region);
    if (i < 0) return;
    this.regions.splice(i, 1);
    for (let p = region.firstPage; p < region.endPage; p++) this.pages.delete(p);
  }

  /** Grows a region in place (the pool arenas grow as they allocate). */
  extend(region: Region, endPage: number): void {
    if (endPage > region.endPage) region.endPage = endPage;
  }
}

/** Page number of (hi, lo). */
export function pageNumber(hi: number, lo: number): number {
  return (hi >>> 0) * PAGES_PER_HI + ((lo >>> 0) >>> PAGE_SHIFT);
}

/** (hi, lo) of the first byte of page `pageNo`, as a bigint (cold paths). */
export function pageAddress(pageNo: number): bigint {
  return BigInt(pageNo) << 12n;
}

/** Raised (thrown) by a faulting access; syscalls catch it and return STATUS_ACCESS_VIOLATION. */
export function accessViolation(hi: number, lo: number, write: boolean, why: string): Win11MonError {
  return new Win11MonError('WIN11MON_ERR_ACCESS_VIOLATION', `${write ? 'write to' : 'read of'} ${hex64(hi, lo)}: ${why}`, {
    field: 'address',
    actual: hex64(hi, lo),
    expected: why,
  }, { status: NtStatus.STATUS_ACCESS_VIOLATION });
}

/**
 * A view of memory as one processor mode sees it: user mode sees only its process's user half;
 * kernel mode sees the kernel half plus the user half of the process it runs in (the attached
 * process, like KeStackAttachProcess), or no user half at all when detached.
 * All accessors take (hi, lo) and throw WIN11MON_ERR_ACCESS_VIOLATION for unmapped or forbidden pages.
 * A one-entry page cache makes sequential access (SQEs, CQEs, object fields) cost one Map lookup per page.
 */
export class MemoryView {
  private cacheNo = -1;
  private cachePage: Page | undefined;
  /** Scratch for readU64Parts: { hi, lo } of the last 64-bit read. Valid until the next call. */
  readonly u64 = { hi: 0, lo: 0 };

  constructor(
    readonly kernel: AddressSpace,
    readonly user: AddressSpace | undefined,
    readonly kernelMode: boolean,
  ) {}

  /** A kernel-mode view of the same kernel space attached to another process's user space. */
  attachedTo(user: AddressSpace | undefined): MemoryView {
    return new MemoryView(this.kernel, user, true);
  }

  /** Drops the page cache (after an unmap). */
  invalidate(): void {
    this.cacheNo = -1;
    this.cachePage = undefined;
  }

  /** The page holding (hi, lo) or a thrown access violation. */
  page(hi: number, lo: number, write: boolean): Page {
    hi >>>= 0;
    const no = hi * PAGES_PER_HI + ((lo >>> 0) >>> PAGE_SHIFT);
    if (no === this.cacheNo && this.cachePage !== undefined) {
      // The cache is only filled for pages still mapped; unmap paths call invalidate().
      return this.cachePage;
    }
    let p: Page | undefined;
    if (hi >= SYSTEM_START_HI) {
      if (!this.kernelMode) throw accessViolation(hi, lo, write, 'user mode cannot touch kernel addresses');
      p = this.kernel.lookup(no);
      if (p === undefined) throw accessViolation(hi, lo, write, 'kernel page not mapped');
    } else {
      if (hi > HIGHEST_USER_HI || (hi === HIGHEST_USER_HI && lo >>> 0 > HIGHEST_USER_LO)) {
        throw accessViolation(hi, lo, write, 'address is above MmHighestUserAddress and below MmSystemRangeStart');
      }
      if (this.user === undefined) throw accessViolation(hi, lo, write, 'no process attached for a user address');
      p = this.user.lookup(no);
      if (p === undefined) throw accessViolation(hi, lo, write, 'user page not mapped');
    }
    this.cacheNo = no;
    this.cachePage = p;
    return p;
  }

  /** True when every page of [addr, addr+len) is accessible in this mode (a non-throwing probe). */
  isAccessible(hi: number, lo: number, len: number): boolean {
    if (len <= 0) len = 1;
    try {
      let h = hi >>> 0;
      let l = lo >>> 0;
      let left = len + (l & 0xfff);
      l = (l & ~0xfff) >>> 0;
      while (left > 0) {
        this.page(h, l, false);
        left -= PAGE_SIZE;
        l += PAGE_SIZE;
        if (l >= TWO32) { l -= TWO32; h = (h + 1) >>> 0; }
      }
      return true;
    } catch {
      return false;
    }
  }

  readU8(hi: number, lo: number): number {
    return this.page(hi, lo, false).u8[(lo >>> 0) & 0xfff]!;
  }

  writeU8(hi: number, lo: number, v: number): void {
    this.page(hi, lo, true).u8[(lo >>> 0) & 0xfff] = v;
  }

  readU16(hi: number, lo: number): number {
    const off = (lo >>> 0) & 0xfff;
    if (off <= PAGE_SIZE - 2) return this.page(hi, lo, false).dv.getUint16(off, true);
    return this.readU8(hi, lo) | (this.readU8(...add(hi, lo, 1)) << 8);
  }

  writeU16(hi: number, lo: number, v: number): void {
    const off = (lo >>> 0) & 0xfff;
    if (off <= PAGE_SIZE - 2) { this.page(hi, lo, true).dv.setUint16(off, v, true); return; }
    this.writeU8(hi, lo, v & 0xff);
    const [h, l] = add(hi, lo, 1);
    this.writeU8(h, l, (v >>> 8) & 0xff);
  }

  readU32(hi: number, lo: number): number {
    const off = (lo >>> 0) & 0xfff;
    if (off <= PAGE_SIZE - 4) return this.page(hi, lo, false).dv.getUint32(off, true);
    let v = 0;
    for (let i = 3; i >= 0; i--) {
      const [h, l] = add(hi, lo, i);
      v = (v * 256) + this.readU8(h, l);
    }
    return v >>> 0;
  }

  writeU32(hi: number, lo: number, v: number): void {
    const off = (lo >>> 0) & 0xfff;
    if (off <= PAGE_SIZE - 4) { this.page(hi, lo, true).dv.setUint32(off, v >>> 0, true); return; }
    for (let i = 0; i < 4; i++) {
      const [h, l] = add(hi, lo, i);
      this.writeU8(h, l, (v >>> (8 * i)) & 0xff);
    }
  }

  /** Reads a u64 into `this.u64` ({ hi, lo }) and returns that scratch object (no allocation). */
  readU64Parts(hi: number, lo: number): { hi: number; lo: number } {
    const off = (lo >>> 0) & 0xfff;
    if (off <= PAGE_SIZE - 8) {
      const dv = this.page(hi, lo, false).dv;
      this.u64.lo = dv.getUint32(off, true);
      this.u64.hi = dv.getUint32(off + 4, true);
    } else {
      const l = this.readU32(hi, lo);
      const [h2, l2] = add(hi, lo, 4);
      this.u64.hi = this.readU32(h2, l2);
      this.u64.lo = l;
    }
    return this.u64;
  }

  writeU64Parts(hi: number, lo: number, vHi: number, vLo: number): void {
    const off = (lo >>> 0) & 0xfff;
    if (off <= PAGE_SIZE - 8) {
      const dv = this.page(hi, lo, true).dv;
      dv.setUint32(off, vLo >>> 0, true);
      dv.setUint32(off + 4, vHi >>> 0, true);
      return;
    }
    this.writeU32(hi, lo, vLo);
    const [h2, l2] = add(hi, lo, 4);
    this.writeU32(h2, l2, vHi);
  }

  /** Copies len bytes at (hi, lo) into dst[dstOff..]; checks every page first so nothing is half-done. */
  readInto(hi: number, lo: number, dst: Uint8Array, dstOff: number, len: number): void {
    let h = hi >>> 0;
    let l = lo >>> 0;
    const off = l & 0xfff;
    if (off + len <= PAGE_SIZE) {
      const u8 = this.page(h, l, false).u8;
      if (len <= SHORT_COPY) for (let i = 0; i < len; i++) dst[dstOff + i] = u8[off + i]!;
      else dst.set(u8.subarray(off, off + len), dstOff);
      return;
    }
    if (!this.isAccessible(h, l, len)) this.page(...this.firstBad(h, l, len), false);
    while (len > 0) {
      const o = l & 0xfff;
      const n = Math.min(len, PAGE_SIZE - o);
      const u8 = this.page(h, l, false).u8;
      dst.set(u8.subarray(o, o + n), dstOff);
      dstOff += n;
      len -= n;
      l += n;
      if (l >= TWO32) { l -= TWO32; h = (h + 1) >>> 0; }
    }
  }

  /** Copies src[srcOff..srcOff+len) to (hi, lo); checks every page first. */
  writeFrom(hi: number, lo: number, src: Uint8Array, srcOff: number, len: number): void {
    let h = hi >>> 0;
    let l = lo >>> 0;
    const off = l & 0xfff;
    if (off + len <= PAGE_SIZE) {
      const u8 = this.page(h, l, true).u8;
      if (len <= SHORT_COPY) for (let i = 0; i < len; i++) u8[off + i] = src[srcOff + i]!;
      else u8.set(src.subarray(srcOff, srcOff + len), off);
      return;
    }
    if (!this.isAccessible(h, l, len)) this.page(...this.firstBad(h, l, len), true);
    while (len > 0) {
      const o = l & 0xfff;
      const n = Math.min(len, PAGE_SIZE - o);
      this.page(h, l, true).u8.set(src.subarray(srcOff, srcOff + n), o);
      srcOff += n;
      len -= n;
      l += n;
      if (l >= TWO32) { l -= TWO32; h = (h + 1) >>> 0; }
    }
  }

  /** Zero-fills len bytes. */
  fill(hi: number, lo: number, len: number, value = 0): void {
    let h = hi >>> 0;
    let l = lo >>> 0;
    if (!this.isAccessible(h, l, len)) this.page(...this.firstBad(h, l, len), true);
    while (len > 0) {
      const o = l & 0xfff;
      const n = Math.min(len, PAGE_SIZE - o);
      this.page(h, l, true).u8.fill(value, o, o + n);
      len -= n;
      l += n;
      if (l >= TWO32) { l -= TWO32; h = (h + 1) >>> 0; }
    }
  }

  private firstBad(h: number, l: number, len: number): [number, number] {
    let left = len + (l & 0xfff);
    let ch = h;
    let cl = (l & ~0xfff) >>> 0;
    while (left > 0) {
      if (!this.isAccessible(ch, cl, 1)) return [ch, ch === h && cl === ((l & ~0xfff) >>> 0) ? l : cl];
      left -= PAGE_SIZE;
      cl += PAGE_SIZE;
      if (cl >= TWO32) { cl -= TWO32; ch = (ch + 1) >>> 0; }
    }
    return [h, l];
  }

  // ---- BigInt conveniences (edges, tests, tools) ----

  readBytes(addr: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.readInto(hiOf(addr), loOf(addr), out, 0, len);
    return out;
  }

  writeBytes(addr: bigint, bytes: Uint8Array): void {
    this.writeFrom(hiOf(addr), loOf(addr), bytes, 0, bytes.length);
  }

  readU64(addr: bigint): bigint {
    const r = this.readU64Parts(hiOf(addr), loOf(addr));
    return toBigInt(r.hi, r.lo);
  }

  writeU64(addr: bigint, v: bigint): void {
    this.writeU64Parts(hiOf(addr), loOf(addr), hiOf(v), loOf(v));
  }

  readU32At(addr: bigint): number {
    return this.readU32(hiOf(addr), loOf(addr));
  }

  writeU32At(addr: bigint, v: number): void {
    this.writeU32(hiOf(addr), loOf(addr), v);
  }
}

/** (hi, lo) + n with carry, for n < 2^32. */
export function add(hi: number, lo: number, n: number): [number, number] {
  const s = (lo >>> 0) + n;
  return s >= TWO32 ? [((hi >>> 0) + 1) >>> 0, s - TWO32] : [hi >>> 0, s];
}

/** Low half of (hi, lo) + n (callers handle hi through addHi). */
export function addLo(lo: number, n: number): number {
  return ((lo >>> 0) + n) >>> 0;
}

/** High half of (hi, lo) + n. */
export function addHi(hi: number, lo: number, n: number): number {
  return (lo >>> 0) + n >= TWO32 ? ((hi >>> 0) + 1) >>> 0 : hi >>> 0;
}
