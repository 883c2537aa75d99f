// An emulated process: pid, image name, its own user address space (VirtualAlloc-like), a handle
// table, a token object in kernel pool, and its ntdll: a mutable table of Nt* functions (hookable)
// next to an immutable direct-syscall table (Hell's Gate style, never hookable).
import { Win11MonError } from '../abi/errors.js';
import { MM_HIGHEST_USER_ADDRESS, MM_LOWEST_USER_ADDRESS } from '../abi/address.js';
import { hex64, hiOf, loOf } from '../abi/u64.js';
import { AddressSpace, MemoryView, PAGE_SIZE, type Region, type Section, pageNumber } from './memory.js';
import type { NtApi } from './ntapi.js';
import type { HandleEntry, KernelObject } from './objects.js';

/** VirtualAlloc allocation granularity (64 KiB). */
export const ALLOCATION_GRANULARITY = 0x10000;
/** Where bottom-up allocations without an address start (a typical x64 heap-range address, cf. reference §4 step 4). */
const FIRST_FREE_USER_ADDRESS = 0x000001f600000000n;

export interface CreateProcessOptions {
  imageName: string;
  pid?: number;
}

export class EmulatedProcess {
  readonly pid: number;
  readonly imageName: string;
  /** The user half of this process's address space. */
  readonly userSpace: AddressSpace;
  /** User-mode view: kernel addresses fault. */
  readonly memory: MemoryView;
  /** Kernel-mode view attached to this process (what the kernel uses for this process's buffers). */
  readonly kernelView: MemoryView;
  readonly handles = new Map<number, HandleEntry>();
  /**
   * The process's ntdll export table. Mutable: replace an entry to hook it (IAT/inline hook
   * equivalent). KernelBase-layer functions call through this table at call time.
   * @example const orig = p.ntdll.NtSubmitIoRing; p.ntdll.NtSubmitIoRing = (h, f, w, t) => orig(h, f, w, t);
   */
  ntdll: NtApi;
  /** Direct syscalls (frozen): what a Hell's Gate-style caller reaches; hooks cannot change it. */
  readonly syscall: Readonly<NtApi>;
  /** Kernel address of the _TOKEN object (privileges at +0x40). */
  token = 0n;
  /** Kernel address of the EPROCESS object. */
  eprocess = 0n;
  terminated = false;
  private nextHandle = 4;
  private nextFree = FIRST_FREE_USER_ADDRESS;

  constructor(pid: number, imageName: string, kernelSpace: AddressSpace, api: NtApi) {
    this.pid = pid;
    this.imageName = imageName;
    this.userSpace = new AddressSpace(`user:${pid}`);
    this.memory = new MemoryView(kernelSpace, this.userSpace, false);
    this.kernelView = new MemoryView(kernelSpace, this.userSpace, true);
    this.syscall = Object.freeze({ ...api });
    this.ntdll = { ...api };
  }

  /**
   * VirtualAlloc(MEM_RESERVE|MEM_COMMIT): demand-zero pages at `address` (rounded down to 64 KiB) or at
   * the next free range. Throws WIN11MON_ERR_BAD_ARGUMENT for a range outside user space or overlapping.
   */
  virtualAlloc(size: number, address?: bigint): bigint {
    return this.reserve(size, 'VirtualAlloc', undefined, 0, address);
  }

  /** VirtualFree(MEM_RELEASE) of a region base. Returns false when no region starts there. */
  virtualFree(address: bigint): boolean {
    const r = this.regionAt(address);
    if (!r || pageNumber(hiOf(address), loOf(address)) !== r.firstPage) return false;
    this.userSpace.unmap(r);
    this.memory.invalidate();
    this.kernelView.invalidate();
    return true;
  }

  /** Maps a demand-zero or section-backed region; used by VirtualAlloc and the IoRing section. */
  reserve(size: number, tag: string, section?: Section, sectionFirst = 0, address?: bigint): bigint {
    if (!Number.isInteger(size) || size <= 0) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `allocation size must be positive: ${size}`, { field: 'size', actual: size });
    const bytes = BigInt(Math.ceil(size / PAGE_SIZE) * PAGE_SIZE);
    let base: bigint;
    if (address !== undefined && address !== 0n) {
      base = address & ~BigInt(ALLOCATION_GRANULARITY - 1);
    } else {
      base = this.nextFree;
      while (this.userSpace.overlaps(this.pageOf(base), this.pageOf(base + bytes))) base += BigInt(ALLOCATION_GRANULARITY);
      this.nextFree = base + ((bytes + BigInt(ALLOCATION_GRANULARITY - 1)) & ~BigInt(ALLOCATION_GRANULARITY - 1));
    }
    if (base < MM_LOWEST_USER_ADDRESS || base + bytes - 1n > MM_HIGHEST_USER_ADDRESS) {
      throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `allocation at ${hex64(hiOf(base), loOf(base))} is outside user space`, { field: 'address', actual: hex64(hiOf(base), loOf(base)) });
    }
    const first = this.pageOf(base);
    const end = this.pageOf(base + bytes);
    if (this.userSpace.overlaps(first, end)) {
      throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `allocation at ${hex64(hiOf(base), loOf(base))} overlaps an existing region`, { field: 'address', actual: hex64(hiOf(base), loOf(base)) }, { status: 0xc0000018 });
    }
    const region: Region = { firstPage: first, endPage: end, tag };
    if (section) {
      region.section = section;
      region.sectionFirst = sectionFirst;
    }
    this.userSpace.map(region);
    return base;
  }

  regionAt(address: bigint): Region | undefined {
    return this.userSpace.regionOf(this.pageOf(address));
  }

  /** Convenience: writes bytes at a user address (user-mode access; faults throw). */
  write(address: bigint, bytes: Uint8Array): void {
    this.memory.writeBytes(address, bytes);
  }

  read(address: bigint, length: number): Uint8Array {
    return this.memory.readBytes(address, length);
  }

  writeU64(address: bigint, v: bigint): void {
    this.memory.writeU64(address, v);
  }

  readU64(address: bigint): bigint {
    return this.memory.readU64(address);
  }

  writeU32(address: bigint, v: number): void {
    this.memory.writeU32At(address, v);
  }

  readU32(address: bigint): number {
    return this.memory.readU32At(address);
  }

  /** Inserts a handle (ObpCreateHandle). Kernel-internal: use the Nt* functions from app code. */
  insertHandle(object: KernelObject, grantedAccess: number): number {
    const value = this.nextHandle;
    this.nextHandle += 4;
    object.refs++;
    this.handles.set(value, { value, object, grantedAccess: grantedAccess >>> 0, attributes: 0 });
    return value;
  }

  private pageOf(a: bigint): number {
    return pageNumber(hiOf(a), loOf(a));
  }
}
