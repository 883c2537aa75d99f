// The 5A telemetry ring: fixed-size MON_RING_EVENT slots in a SharedArrayBuffer, written by one
// producer (the driver) without ever blocking, read through sequence-number cursors from any
// thread (a worker can attach to `ring.buffer`). Loss is never silent: readers learn how many
// events they missed, and drop-newest emits an EventsDropped record when space returns.
import { MON_RING_EVENT_HEADER_SIZE, MonEventType, Win11MonError } from '../../abi/index.js';
import {
  RING_SLOT_SIZE, MAX_EVENT_PAYLOAD, type DropPolicy, type MonitorEvent, type PayloadByType, type TypedEventName, type U64,
  payloadLayout, writeHeader, writePayload, decodeEvent, filetimeFromUnixMs, DROP_POLICIES,
} from './events.js';

/*
 * Shared memory layout (all little-endian, Int32 words):
 *
 *   control  64 bytes  [0] magic 'RNG1' [1] slotCount [2] slotSize [3] policy [4] guard bytes
 *                      [5..7]  head  cell: version, lo, hi  (next sequence to assign; written by the producer)
 *                      [8..10] tail  cell: version, lo, hi  (consumer's committed cursor; written by the consumer)
 *                      [11..13] floor cell: version, lo, hi (sequence below which events were cleared; producer)
 *                      [14] dropped (low 32 bits, mirror for other threads) [15] reserved
 *   meta     16 bytes per slot: [0] seqlock version (odd while being written) [1] seq lo [2] seq hi [3] 0
 *   slots    (guard + slotSize + guard) bytes per slot; guards are canary bytes the ring never writes.
 *
 * Why a seqlock per slot rather than publish-after-write: with overwrite-oldest the producer reuses
 * the slot a slow reader may be copying at that moment, and it must not wait for the reader.
 * Publishing a sequence after the write tells a reader a record is complete, but not that it was
 * not overwritten while being copied; the slot version read before and after the copy does
 * (odd = write in progress; a changed value = overwritten), so a torn copy is discarded and counted
 * as missed instead of being returned.
 *
 * Memory ordering: the producer writes the record with plain typed-array stores (the hot path writes
 * fields straight into the slot) between Atomics.store(version, odd) and Atomics.store(version,
 * even). The odd store is followed by an Atomics.load so that the record stores cannot become
 * visible before it: V8 compiles SeqCst Atomics.store to xchg on x64 (a full fence) and to stlr on
 * arm64, where a later plain store may pass a lone stlr but not the following ldar. The even store
 * (a release) orders the record stores before it. The reader copies the record with Atomics.load
 * word by word (each load is ordered, so the final version load cannot be satisfied before the
 * copy). ECMAScript gives racy plain stores no tearing guarantee beyond "some written value", which
 * is exactly what the version check tolerates.
 *
 * 64-bit counters (head, tail, floor) are JS numbers below 2^53 stored as lo/hi words in a cell with
 * its own version: the writer stores only lo until lo wraps, and bumps the version around the rare
 * hi change, so a reader never combines a new hi with an old lo.
 */

const MAGIC = 0x31474e52; // 'RNG1'
const CONTROL_BYTES = 64;
const META_WORDS = 4;
const C_SLOTS = 1, C_SLOT_SIZE = 2, C_POLICY = 3, C_GUARD = 4, C_HEAD = 5, C_TAIL = 8, C_FLOOR = 11, C_DROPPED = 14;
/** Canary byte pattern in guard regions. */
export const RING_CANARY = 0xa5;
const TWO32 = 0x100000000;

/** Options of a telemetry ring. */
export interface TelemetryRingOptions {
  /** Number of slots, a power of two (default 1024: 256 KiB of records). */
  slotCount?: number;
  /** 'overwrite-oldest' (default) or 'drop-newest'. */
  policy?: DropPolicy;
  /** Unix milliseconds (may be fractional); injected so tests are deterministic. Default Date.now. */
  clock?: () => number;
  /** Canary bytes before and after each slot (default 0); the concurrency test uses them. */
  guardBytes?: number;
}

/** What `read` returns. */
export interface RingReadResult {
  events: MonitorEvent[];
  /** Cursor to pass to the next read (the sequence after the last event returned or skipped). */
  nextCursor: number;
  /** Events lost between the cursor and what was returned (overwritten before being read). */
  missed: number;
  /** Sequence the producer will assign next (events exist below it). */
  head: number;
}

/** Counters for MON_RINGBUF_STATS_OUTPUT. */
export interface RingStats {
  bufferSizeBytes: number;
  usedBytes: number;
  freeBytes: number;
  eventCount: number;
  totalEventsWritten: number;
  eventsOverwritten: number;
  eventsDropped: number;
  wrapCount: number;
  oldestTimestamp: U64;
  newestTimestamp: U64;
  oldestSeq: number;
  head: number;
  policy: DropPolicy;
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function read64(i32: Int32Array, cell: number): number {
  for (;;) {
    const v1 = Atomics.load(i32, cell);
    const lo = Atomics.load(i32, cell + 1) >>> 0;
    const hi = Atomics.load(i32, cell + 2) >>> 0;
    if ((v1 & 1) === 0 && Atomics.load(i32, cell) === v1) return hi * TWO32 + lo;
  }
}

/** Single-writer 64-bit cell store; `prevHi` is the writer's own copy of the current hi word. */
function write64(i32: Int32Array, cell: number, value: number, prevHi: number): number {
  const hi = Math.floor(value / TWO32);
  const lo = value - hi * TWO32;
  if (hi === prevHi) {
    Atomics.store(i32, cell + 1, lo | 0);
  } else {
    const v = Atomics.load(i32, cell);
    Atomics.store(i32, cell, (v + 1) | 0);
    Atomics.store(i32, cell + 1, lo | 0);
    Atomics.store(i32, cell + 2, hi | 0);
    Atomics.store(i32, cell, (v + 2) | 0);
  }
  return hi;
}

/**
 * Read side of a ring: attaches to the SharedArrayBuffer (in this thread or a worker) and reads
 * through cursors. Several readers may read at once; only one should `commit` (the consumer that
 * frees space for drop-newest).
 *
 * @example
 * // in a worker: const r = new RingReader(workerData.buffer); let c = 1;
 * const { events, nextCursor, missed } = r.read(c, 100); c = nextCursor;
 */
export class RingReader {
  readonly buffer: SharedArrayBuffer;
  readonly slotCount: number;
  readonly slotSize: number;
  readonly guardBytes: number;
  readonly policy: DropPolicy;
  protected readonly i32: Int32Array;
  protected readonly bytes: Uint8Array;
  protected readonly metaBase: number; // word index
  protected readonly slotBase: number; // byte offset
  protected readonly stride: number;
  private readonly copy = new Int32Array(RING_SLOT_SIZE / 4);
  private readonly copyBytes = new Uint8Array(this.copy.buffer);
  private tailHi = 0;

  constructor(buffer: SharedArrayBuffer) {
    this.buffer = buffer;
    this.i32 = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
    if (this.i32[0] !== MAGIC) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', 'not a telemetry ring buffer', { field: 'magic', expected: MAGIC, actual: this.i32[0] });
    this.slotCount = this.i32[C_SLOTS]!;
    this.slotSize = this.i32[C_SLOT_SIZE]!;
    this.policy = DROP_POLICIES[this.i32[C_POLICY]!]!;
    this.guardBytes = this.i32[C_GUARD]!;
    this.metaBase = CONTROL_BYTES / 4;
    this.slotBase = CONTROL_BYTES + this.slotCount * META_WORDS * 4;
    this.stride = this.slotSize + 2 * this.guardBytes;
  }

  /** Bytes a ring of `slotCount` slots needs. */
  static byteLength(slotCount: number, guardBytes = 0): number {
    return CONTROL_BYTES + slotCount * (META_WORDS * 4 + RING_SLOT_SIZE + 2 * guardBytes);
  }

  /** The sequence the producer assigns next; events `oldest()..head()-1` may be read. */
  head(): number {
    return read64(this.i32, C_HEAD);
  }

  /** The oldest sequence still held (1 for a fresh ring). */
  oldest(): number {
    const head = this.head();
    return Math.max(1, head - this.slotCount, read64(this.i32, C_FLOOR));
  }

  /** Byte offset of slot `index`'s record (after its leading guard). */
  slotOffset(index: number): number {
    return this.slotBase + index * this.stride + this.guardBytes;
  }

  /** Events dropped (drop-newest), low 32 bits, as the producer last published. */
  droppedLow(): number {
    return Atomics.load(this.i32, C_DROPPED) >>> 0;
  }

  /**
   * Copies the record of sequence `seq` into a private buffer if it is intact and still there.
   * Returns the private copy (valid until the next call) or undefined when it was overwritten.
   */
  protected copyRecord(seq: number): Uint8Array | undefined {
    const idx = seq % this.slotCount;
    const m = this.metaBase + idx * META_WORDS;
    const v1 = Atomics.load(this.i32, m);
    if (v1 & 1) return undefined; // being overwritten right now
    const sLo = Atomics.load(this.i32, m + 1) >>> 0;
    const sHi = Atomics.load(this.i32, m + 2) >>> 0;
    if (sHi * TWO32 + sLo !== seq) return undefined;
    const w0 = this.slotOffset(idx) >> 2;
    // TotalSize is read through the copy: copy the header first, then the rest it announces.
    const headerWords = MON_RING_EVENT_HEADER_SIZE >> 2;
    for (let i = 0; i < headerWords; i++) this.copy[i] = Atomics.load(this.i32, w0 + i);
    let total = this.copy[1]! >>> 0;
    if (total > this.slotSize || total < MON_RING_EVENT_HEADER_SIZE) total = MON_RING_EVENT_HEADER_SIZE; // torn; the version check below rejects it
    for (let i = headerWords; i < total >> 2; i++) this.copy[i] = Atomics.load(this.i32, w0 + i);
    if (Atomics.load(this.i32, m) !== v1) return undefined;
    return this.copyBytes.subarray(0, total);
  }

  /**
   * Visits up to `max` intact records from `cursor` (raw bytes, valid only during the callback).
   * The callback may return false to stop before the record is consumed (e.g. no room left).
   */
  readRecords(cursor: number, max: number, visit: (record: Uint8Array, seq: number) => boolean | void): { nextCursor: number; missed: number; head: number; count: number } {
    let c = Math.max(1, Math.floor(cursor));
    let missed = 0, count = 0;
    let head = this.head();
    const floor = read64(this.i32, C_FLOOR);
    // A cursor beyond the head waits there: nothing is read and nothing is missed. (A client that
    // reconnects to a restarted service detects the new ring from its stats and starts over at 1.)
    if (c > head) return { nextCursor: c, missed: 0, head, count: 0 };
    let oldest = Math.max(1, head - this.slotCount, floor);
    if (c < oldest) { missed += oldest - c; c = oldest; }
    while (c < head && count < max) {
      const rec = this.copyRecord(c);
      if (rec === undefined) {
        // Overwritten under us: everything below the new oldest is gone. Count it exactly.
        head = this.head();
        oldest = Math.max(1, head - this.slotCount, floor);
        const to = Math.max(c + 1, oldest);
        missed += to - c;
        c = to;
        continue;
      }
      if (visit(rec, c) === false) break;
      count++;
      c++;
    }
    return { nextCursor: c, missed, head, count };
  }

  /** Reads up to `max` decoded events from `cursor`. */
  read(cursor: number, max = 256): RingReadResult {
    const events: MonitorEvent[] = [];
    const r = this.readRecords(cursor, max, (rec, seq) => { events.push(decodeEvent(rec, 0, seq)); });
    return { events, nextCursor: r.nextCursor, missed: r.missed, head: r.head };
  }

  /**
   * Marks everything below `cursor` consumed: with drop-newest this is what frees space. Only one
   * reader (the consumer) may commit; cursors never move backwards.
   */
  commit(cursor: number): void {
    const cur = read64(this.i32, C_TAIL);
    if (cursor > cur) this.tailHi = write64(this.i32, C_TAIL, Math.min(cursor, this.head()), this.tailHi);
  }

  /** The consumer's committed cursor. */
  committed(): number {
    return read64(this.i32, C_TAIL);
  }
}

type EmitPayload<K extends TypedEventName> = PayloadByType[K];

const POST_SUBMIT_CODE = MonEventType.PostSubmit;
const POST_SUBMIT_SIZE = 24;
/** Marks an append whose payload is the ring's postFields (emitPostSubmit). */
const POST_SUBMIT_FIELDS = Object.freeze({});
{
  // The fast path's word offsets are the layout's (events.ts): checked once at load.
  const l = payloadLayout(POST_SUBMIT_CODE);
  const at = (n: string): number => l?.fields.find((f) => f.name === n)?.offset ?? -1;
  if (!l || l.size !== POST_SUBMIT_SIZE || at('ioRingHandle') !== 0 || at('operationCount') !== 8 || at('status') !== 12 || at('completions') !== 16 || at('reserved') !== 20) {
    throw new Error('ring: the PostSubmit fast path disagrees with the event layout');
  }
}

/**
 * The producer side of the telemetry ring (it is also a reader). One producer thread; `emit`
 * never blocks and never allocates: fields go straight into the slot.
 *
 * @example
 * const ring = new TelemetryRing({ slotCount: 1024, policy: 'overwrite-oldest' });
 * ring.emit('PolicyChanged', { version: 2, previousVersion: 1, hashPrefix: 'ab12', source: 'ioctl' }, 4242, 7);
 * const { events, nextCursor } = ring.read(1, 100);
 */
export class TelemetryRing extends RingReader {
  private readonly u32: Uint32Array;
  private readonly clock: () => number;
  private readonly ts: U64 = { hi: 0, lo: 0 };
  private nextSeq = 1;
  private headHi = 0;
  private floorHi = 0;
  private floorSeq = 0;
  // Lifetime counters (JS numbers, exact to 2^53).
  private written = 0;
  private overwritten = 0;
  private dropped = 0;
  private pendingDrops = 0;
  private readonly firstDrop: U64 = { hi: 0, lo: 0 };
  private readonly lastDrop: U64 = { hi: 0, lo: 0 };
  private readonly dropNotice = { count: { hi: 0, lo: 0 }, firstDropTime: this.firstDrop, lastDropTime: this.lastDrop, policy: 'drop-newest' as DropPolicy };

  constructor(opts: TelemetryRingOptions = {}) {
    const slotCount = opts.slotCount ?? 1024;
    if (!isPow2(slotCount) || slotCount < 2 || slotCount > 1 << 20) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', 'slotCount must be a power of two in 2..2^20', { field: 'slotCount', actual: slotCount });
    const guard = opts.guardBytes ?? 0;
    if (!Number.isInteger(guard) || guard < 0 || guard % 8 !== 0 || guard > 64) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', 'guardBytes must be a multiple of 8 in 0..64', { field: 'guardBytes', actual: guard });
    const policy = opts.policy ?? 'overwrite-oldest';
    const pi = DROP_POLICIES.indexOf(policy);
    if (pi < 0) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `unknown ring policy ${String(policy)}`, { field: 'policy', actual: String(policy) });
    const sab = new SharedArrayBuffer(RingReader.byteLength(slotCount, guard));
    const i32 = new Int32Array(sab);
    i32[0] = MAGIC; i32[C_SLOTS] = slotCount; i32[C_SLOT_SIZE] = RING_SLOT_SIZE; i32[C_POLICY] = pi; i32[C_GUARD] = guard;
    i32[C_HEAD + 1] = 1; // head = 1: sequences start at 1
    if (guard > 0) {
      const b = new Uint8Array(sab);
      const base = CONTROL_BYTES + slotCount * META_WORDS * 4;
      for (let s = 0; s < slotCount; s++) {
        const o = base + s * (RING_SLOT_SIZE + 2 * guard);
        b.fill(RING_CANARY, o, o + guard);
        b.fill(RING_CANARY, o + guard + RING_SLOT_SIZE, o + 2 * guard + RING_SLOT_SIZE);
      }
    }
    super(sab);
    this.u32 = new Uint32Array(sab);
    this.clock = opts.clock ?? Date.now;
    this.dropNotice.policy = policy;
  }

  /**
   * Appends a typed event. Returns its sequence number, or 0 when the ring was full under
   * drop-newest (the drop is counted and reported by the next EventsDropped record).
   */
  emit<K extends TypedEventName>(type: K, payload: EmitPayload<K>, pid = 0, tid = 0): number {
    const l = payloadLayout(MonEventType[type])!;
    return this.append(l.code, pid, tid, l.size, payload, undefined);
  }

  /**
   * emit('PostSubmit', …) without the layout walk: every hooked submission emits one, so it is the
   * ring's hot event. Writes the same record bytes (ring.test.ts compares the two).
   */
  emitPostSubmit(handleHi: number, handleLo: number, operationCount: number, status: number, completions: number, pid = 0, tid = 0): number {
    const q = this.postFields;
    q[0] = handleLo; q[1] = handleHi; q[2] = operationCount; q[3] = status; q[4] = completions;
    return this.append(POST_SUBMIT_CODE, pid, tid, POST_SUBMIT_SIZE, POST_SUBMIT_FIELDS, undefined);
  }

  /** The PostSubmit payload words of the event being appended (see emitPostSubmit). */
  private readonly postFields = new Uint32Array(5);

  /** Appends an event of a raw type (the C header's 1..8, 10) with opaque payload bytes (≤ 216). */
  emitRaw(eventType: number, data: Uint8Array, pid = 0, tid = 0): number {
    if (data.byteLength > MAX_EVENT_PAYLOAD) throw new Win11MonError('WIN11MON_ERR_COUNT_OVERFLOW', `payload of ${data.byteLength} bytes exceeds ${MAX_EVENT_PAYLOAD}`, { field: 'PayloadSize', expected: MAX_EVENT_PAYLOAD, actual: data.byteLength });
    if (payloadLayout(eventType)) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', 'typed event types go through emit()', { field: 'EventType', actual: eventType });
    return this.append(eventType >>> 0, pid, tid, data.byteLength, undefined, data);
  }

  private freeSlots(): number {
    const consumed = Math.max(this.committed(), this.floorSeq, 1);
    return this.slotCount - (this.nextSeq - consumed);
  }

  private append(code: number, pid: number, tid: number, payloadSize: number, payload: object | undefined, raw: Uint8Array | undefined): number {
    filetimeFromUnixMs(this.clock(), this.ts);
    if (this.dropNotice.policy === 'drop-newest') {
      if (this.pendingDrops > 0 && this.freeSlots() > 0) {
        const n = this.pendingDrops;
        this.dropNotice.count.hi = Math.floor(n / TWO32);
        this.dropNotice.count.lo = n >>> 0;
        this.pendingDrops = 0;
        this.write(MonEventType.EventsDropped, 0, 0, 32, this.dropNotice, undefined);
      }
      if (this.freeSlots() <= 0) {
        if (this.pendingDrops === 0) { this.firstDrop.hi = this.ts.hi; this.firstDrop.lo = this.ts.lo; }
        this.lastDrop.hi = this.ts.hi; this.lastDrop.lo = this.ts.lo;
        this.pendingDrops++;
        this.dropped++;
        Atomics.store(this.i32, C_DROPPED, this.dropped | 0);
        return 0;
      }
    }
    return this.write(code, pid, tid, payloadSize, payload, raw);
  }

  private write(code: number, pid: number, tid: number, payloadSize: number, payload: object | undefined, raw: Uint8Array | undefined): number {
    const seq = this.nextSeq;
    const idx = seq % this.slotCount;
    const m = this.metaBase + idx * META_WORDS;
    if (seq > this.slotCount) {
      const evicted = seq - this.slotCount;
      if (evicted >= this.committed() && evicted >= this.floorSeq) this.overwritten++;
    }
    const v = Atomics.load(this.i32, m);
    Atomics.store(this.i32, m, (v + 1) | 0); // odd: write in progress
    Atomics.load(this.i32, m); // orders the record stores after the odd version (see the header comment)
    const off = this.slotOffset(idx);
    writeHeader(this.u32, off, code, payloadSize, this.ts.hi, this.ts.lo, pid, tid, seq);
    if (payload === POST_SUBMIT_FIELDS) {
      // PostSubmit (24 bytes): IoRingHandle lo/hi, OperationCount, Status, Completions, Reserved.
      const w = (off + MON_RING_EVENT_HEADER_SIZE) >> 2;
      const q = this.postFields;
      this.u32[w] = q[0]!; this.u32[w + 1] = q[1]!; this.u32[w + 2] = q[2]!; this.u32[w + 3] = q[3]!; this.u32[w + 4] = q[4]!; this.u32[w + 5] = 0;
    } else if (payload !== undefined) writePayload(payloadLayout(code)!, payload, this.u32, this.bytes, off + MON_RING_EVENT_HEADER_SIZE);
    else if (raw !== undefined) this.bytes.set(raw, off + MON_RING_EVENT_HEADER_SIZE);
    const pad = ((payloadSize + 7) & ~7) - payloadSize;
    if (pad) this.bytes.fill(0, off + MON_RING_EVENT_HEADER_SIZE + payloadSize, off + MON_RING_EVENT_HEADER_SIZE + payloadSize + pad);
    Atomics.store(this.i32, m + 1, seq | 0);
    Atomics.store(this.i32, m + 2, Math.floor(seq / TWO32) | 0);
    Atomics.store(this.i32, m, (v + 2) | 0); // even: published
    this.nextSeq = seq + 1;
    this.headHi = write64(this.i32, C_HEAD, this.nextSeq, this.headHi);
    this.written++;
    return seq;
  }

  /**
   * Emits a pending EventsDropped notice if there is room now (emit does this itself; call it from
   * a timer so a notice is not held back until the next event).
   */
  poll(): boolean {
    if (this.pendingDrops === 0 || this.freeSlots() <= 0) return false;
    const n = this.pendingDrops;
    this.dropNotice.count.hi = Math.floor(n / TWO32);
    this.dropNotice.count.lo = n >>> 0;
    this.pendingDrops = 0;
    filetimeFromUnixMs(this.clock(), this.ts);
    this.write(MonEventType.EventsDropped, 0, 0, 32, this.dropNotice, undefined);
    return true;
  }

  /** Forgets every held event (IOCTL_MONITOR_RINGBUF_CLEAR). Sequences keep increasing. */
  clear(): void {
    this.floorSeq = this.nextSeq;
    this.floorHi = write64(this.i32, C_FLOOR, this.floorSeq, this.floorHi);
  }

  /** Drops not yet reported by an EventsDropped record. */
  get pendingDropCount(): number {
    return this.pendingDrops;
  }

  private slotTimestamp(seq: number): U64 {
    const rec = this.copyRecord(seq);
    if (!rec) return { hi: 0, lo: 0 };
    const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
    return { hi: dv.getUint32(20, true), lo: dv.getUint32(16, true) };
  }

  /** Counters for MON_RINGBUF_STATS_OUTPUT (cold path). */
  stats(): RingStats {
    const head = this.nextSeq;
    const oldest = this.oldest();
    const count = head - oldest;
    return {
      bufferSizeBytes: this.slotCount * this.slotSize,
      usedBytes: count * this.slotSize,
      freeBytes: (this.slotCount - count) * this.slotSize,
      eventCount: count,
      totalEventsWritten: this.written,
      eventsOverwritten: this.overwritten,
      eventsDropped: this.dropped,
      wrapCount: Math.floor((head - 1) / this.slotCount),
      oldestTimestamp: count > 0 ? this.slotTimestamp(oldest) : { hi: 0, lo: 0 },
      newestTimestamp: count > 0 ? this.slotTimestamp(head - 1) : { hi: 0, lo: 0 },
      oldestSeq: oldest,
      head,
      policy: this.dropNotice.policy,
    };
  }
}
