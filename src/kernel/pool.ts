// The emulated kernel pool: paged and non-paged arenas in system space, ExAllocatePool2 /
// ExFreePoolWithTag with 4-character tags ('IrRB' = 0x42527249 for the RegBuffers array, 'McBe'
// for IOP_MC_BUFFER_ENTRY; shared/reference/ioring-abi.md sections 2.6 and 3).
// Small blocks carry a 16-byte POOL_HEADER (PoolTag at +4) like the classic x64 pool; blocks of
// 0xFF0 bytes and more are page aligned and tracked in a big-pool table, as Windows does.
// Freed blocks are not reused (addresses stay unique, which keeps stale-pointer bugs visible).
import { AddressSpace, PAGE_SIZE, type Region, MemoryView, pageNumber } from './memory.js';

export const PoolType = { NonPaged: 0, Paged: 1 } as const;
export type PoolTypeValue = (typeof PoolType)[keyof typeof PoolType];

/** High halves of the arenas. Low 16 bits differ so (hi & 0xFFFF, lo) is a unique object key. */
export const NONPAGED_POOL_HI = 0xffffb081;
export const PAGED_POOL_HI = 0xffffc082;
export const POOL_HEADER_SIZE = 0x10;
const BIG_POOL_THRESHOLD = 0xff0;
const ARENA_LIMIT = 0xfff00000;

/** 'IrRB' -> 0x42527249: the tag as ExAllocatePool2 takes it (first character in the low byte). */
export function poolTag(tag: string): number {
  if (tag.length !== 4) throw new Error(`pool tag must be 4 characters: ${tag}`);
  return (tag.charCodeAt(0) | (tag.charCodeAt(1) << 8) | (tag.charCodeAt(2) << 16) | (tag.charCodeAt(3) << 24)) >>> 0;
}

export function poolTagName(tag: number): string {
  return String.fromCharCode(tag & 0xff, (tag >>> 8) & 0xff, (tag >>> 16) & 0xff, (tag >>> 24) & 0x7f);
}

export interface PoolBlock {
  readonly hi: number;
  readonly lo: number;
  readonly size: number;
  readonly tag: number;
  readonly type: PoolTypeValue;
  readonly big: boolean;
}

/** Why a free was refused; the kernel turns it into a BAD_POOL_CALLER bugcheck. */
export type FreeError = 'not-pool-address' | 'not-allocated' | 'tag-mismatch';

class Arena {
  readonly blocks = new Map<number, PoolBlock>();
  next = PAGE_SIZE;
  readonly region: Region;
  constructor(readonly hi: number, readonly type: PoolTypeValue, space: AddressSpace) {
    const first = pageNumber(hi, 0);
    this.region = space.map({ firstPage: first, endPage: first + 1, tag: type === PoolType.Paged ? 'PagedPool' : 'NonPagedPool' });
  }
}

export class PoolAllocator {
  private readonly arenas: [Arena, Arena];
  /** Bytes currently allocated, by tag name (for tests and the monitor's pool views). */
  readonly bytesByTag = new Map<string, number>();

  constructor(private readonly space: AddressSpace, private readonly memory: MemoryView) {
    this.arenas = [new Arena(NONPAGED_POOL_HI, PoolType.NonPaged, space), new Arena(PAGED_POOL_HI, PoolType.Paged, space)];
  }

  /** ExAllocatePool2: zeroed memory, returns the block (address in hi/lo). */
  allocate(type: PoolTypeValue, size: number, tag: string | number): PoolBlock {
    const a = this.arenas[type];
    const tagValue = typeof tag === 'number' ? tag >>> 0 : poolTag(tag);
    const big = size >= BIG_POOL_THRESHOLD;
    let lo: number;
    if (big) {
      a.next = Math.ceil(a.next / PAGE_SIZE) * PAGE_SIZE;
      lo = a.next;
      a.next += Math.ceil(size / PAGE_SIZE) * PAGE_SIZE;
    } else {
      const total = (POOL_HEADER_SIZE + size + 15) & ~15;
      // Keep small blocks inside one page, as the x64 small-pool allocator does.
      if ((a.next & 0xfff) + total > PAGE_SIZE) a.next = Math.ceil(a.next / PAGE_SIZE) * PAGE_SIZE;
      lo = a.next + POOL_HEADER_SIZE;
      a.next += total;
    }
    if (a.next > ARENA_LIMIT) throw new Error('emulated pool arena exhausted');
    this.space.extend(a.region, pageNumber(a.hi, 0) + Math.ceil(a.next / PAGE_SIZE));
    const block: PoolBlock = { hi: a.hi, lo, size, tag: tagValue, type, big };
    a.blocks.set(lo, block);
    this.memory.fill(a.hi, lo, size);
    if (!big) {
      // _POOL_HEADER: PreviousSize@0, PoolIndex@1, BlockSize@2 (16-byte units), PoolType@3 (type+1), PoolTag@4.
      const h = lo - POOL_HEADER_SIZE;
      this.memory.fill(a.hi, h, POOL_HEADER_SIZE);
      this.memory.writeU8(a.hi, h + 2, Math.min(255, (POOL_HEADER_SIZE + size + 15) >>> 4));
      this.memory.writeU8(a.hi, h + 3, type + 1);
      this.memory.writeU32(a.hi, h + 4, tagValue);
    }
    const name = poolTagName(tagValue);
    this.bytesByTag.set(name, (this.bytesByTag.get(name) ?? 0) + size);
    return block;
  }

  /** The live block starting at (hi, lo), if any. */
  lookup(hi: number, lo: number): PoolBlock | undefined {
    const a = this.arenaOf(hi);
    return a?.blocks.get(lo >>> 0);
  }

  /** True for an address inside either arena (allocated or not). */
  isPoolAddress(hi: number): boolean {
    return this.arenaOf(hi) !== undefined;
  }

  /** ExFreePoolWithTag; returns undefined on success or why Windows would bugcheck. */
  free(hi: number, lo: number, tag?: string): FreeError | undefined {
    const a = this.arenaOf(hi);
    if (!a) return 'not-pool-address';
    const b = a.blocks.get(lo >>> 0);
    if (!b) return 'not-allocated';
    if (tag !== undefined && poolTag(tag) !== b.tag) return 'tag-mismatch';
    a.blocks.delete(lo >>> 0);
    const name = poolTagName(b.tag);
    this.bytesByTag.set(name, (this.bytesByTag.get(name) ?? 0) - b.size);
    return undefined;
  }

  /** Every live block (cold path: big-pool style enumeration for tools and tests). */
  *blocks(): IterableIterator<PoolBlock> {
    for (const a of this.arenas) yield* a.blocks.values();
  }

  liveCount(tag: string): number {
    const t = poolTag(tag);
    let n = 0;
    for (const b of this.blocks()) if (b.tag === t) n++;
    return n;
  }

  private arenaOf(hi: number): Arena | undefined {
    hi >>>= 0;
    return hi === NONPAGED_POOL_HI ? this.arenas[0] : hi === PAGED_POOL_HI ? this.arenas[1] : undefined;
  }
}
