// Wire forms of the ring for IOCTLs: MON_RINGBUF_SNAPSHOT_OUTPUT (48-byte header, then the event
// records exactly as the ring holds them) and MON_RINGBUF_STATS_OUTPUT (56 bytes), with decoders.
import { MON_RINGBUF_SNAPSHOT_OUTPUT, MON_RINGBUF_STATS_OUTPUT, Win11MonError } from '../../abi/index.js';
import { type MonitorEvent, type U64, decodeEvent, readHeader, filetimeFromUnixMs } from './events.js';
import type { RingReader, RingStats } from './ring.js';

export const SNAPSHOT_HEADER_SIZE = MON_RINGBUF_SNAPSHOT_OUTPUT.size; // 48
export const RING_STATS_SIZE = MON_RINGBUF_STATS_OUTPUT.size; // 56
/** Snapshot Flags (win11mon): more events follow LastSequence. */
export const SNAPSHOT_FLAG_MORE = 0x1;
/** Snapshot Flags (win11mon): events between the request cursor and FirstSequence were lost. */
export const SNAPSHOT_FLAG_MISSED = 0x2;
const TWO32 = 0x100000000;

/** The result of encodeSnapshot. */
export interface EncodedSnapshot {
  bytes: Uint8Array;
  /** Cursor for the next snapshot request. */
  nextCursor: number;
  eventCount: number;
  /** Events lost between the request cursor and the first record. */
  missed: number;
  more: boolean;
}

/**
 * Encodes events from `cursor` into at most `maxBytes` (the caller's output length) as
 * MON_RINGBUF_SNAPSHOT_OUTPUT. FirstSequence is the low 32 bits of the first record's sequence (or of
 * nextCursor when there is none); LastSequence is the low 32 bits of nextCursor - 1.
 * Throws WIN11MON_ERR_TRUNCATED (STATUS_BUFFER_TOO_SMALL, expected 48) when maxBytes < 48.
 *
 * @example
 * const { bytes, nextCursor } = encodeSnapshot(ring, cursor, 64 * 1024);
 */
export function encodeSnapshot(ring: RingReader, cursor: number, maxBytes: number, nowMs: number = Date.now()): EncodedSnapshot {
  if (maxBytes < SNAPSHOT_HEADER_SIZE) throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `snapshot output needs at least ${SNAPSHOT_HEADER_SIZE} bytes`, { struct: 'MON_RINGBUF_SNAPSHOT_OUTPUT', expected: SNAPSHOT_HEADER_SIZE, actual: maxBytes });
  const cap = Math.min(maxBytes, SNAPSHOT_HEADER_SIZE + ring.slotCount * ring.slotSize);
  const out = new Uint8Array(cap);
  const dv = new DataView(out.buffer);
  let off = SNAPSHOT_HEADER_SIZE;
  let firstSeq = -1;
  let oldestHi = 0, oldestLo = 0, newestHi = 0, newestLo = 0;
  let stoppedForRoom = false;
  const r = ring.readRecords(cursor, Number.MAX_SAFE_INTEGER, (rec, seq) => {
    if (off + rec.byteLength > cap) { stoppedForRoom = true; return false; }
    out.set(rec, off);
    const tsLo = dv.getUint32(off + 16, true), tsHi = dv.getUint32(off + 20, true);
    if (firstSeq < 0) { firstSeq = seq; oldestHi = tsHi; oldestLo = tsLo; }
    newestHi = tsHi; newestLo = tsLo;
    off += rec.byteLength;
    return true;
  });
  const more = stoppedForRoom || r.nextCursor < ring.head();
  const ts: U64 = filetimeFromUnixMs(nowMs, { hi: 0, lo: 0 });
  dv.setUint32(0, SNAPSHOT_HEADER_SIZE, true);
  dv.setUint32(4, r.count, true);
  dv.setUint32(8, off, true);
  dv.setUint32(12, (more ? SNAPSHOT_FLAG_MORE : 0) | (r.missed > 0 ? SNAPSHOT_FLAG_MISSED : 0), true);
  dv.setUint32(16, ts.lo, true); dv.setUint32(20, ts.hi, true);
  dv.setUint32(24, oldestLo, true); dv.setUint32(28, oldestHi, true);
  dv.setUint32(32, newestLo, true); dv.setUint32(36, newestHi, true);
  dv.setUint32(40, (firstSeq < 0 ? r.nextCursor : firstSeq) >>> 0, true);
  dv.setUint32(44, (r.nextCursor - 1) >>> 0, true);
  return { bytes: out.subarray(0, off), nextCursor: r.nextCursor, eventCount: r.count, missed: r.missed, more };
}

/** The smallest sequence >= base whose low 32 bits are `low` (sequences advance < 2^32 per snapshot). */
export function widenSequence(low: number, base: number): number {
  const b = Math.max(0, base);
  let s = b - (b % TWO32) + (low >>> 0);
  if (s < b) s += TWO32;
  return s;
}

/** A decoded snapshot. */
export interface DecodedSnapshot {
  events: MonitorEvent[];
  nextCursor: number;
  missed: number;
  more: boolean;
  snapshotTime: U64;
}

/**
 * Decodes MON_RINGBUF_SNAPSHOT_OUTPUT bytes (client side). `fromCursor` is the cursor the request
 * was made with; it lets the decoder widen the 32-bit sequence numbers back to 64 bits.
 * Throws a typed Win11MonError (TRUNCATED / SIZE_MISMATCH / BAD_ENUM) for malformed input.
 */
export function decodeSnapshot(bytes: Uint8Array, fromCursor: number): DecodedSnapshot {
  if (bytes.byteLength < SNAPSHOT_HEADER_SIZE) throw new Win11MonError('WIN11MON_ERR_TRUNCATED', 'snapshot shorter than its header', { struct: 'MON_RINGBUF_SNAPSHOT_OUTPUT', expected: SNAPSHOT_HEADER_SIZE, actual: bytes.byteLength });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = dv.getUint32(0, true), count = dv.getUint32(4, true), total = dv.getUint32(8, true), flags = dv.getUint32(12, true);
  if (size !== SNAPSHOT_HEADER_SIZE) throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', 'snapshot Size is not 48', { struct: 'MON_RINGBUF_SNAPSHOT_OUTPUT', field: 'Size', offset: 0, expected: 48, actual: size });
  if (total !== bytes.byteLength) throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', 'snapshot TotalBytes disagrees with the bytes given', { struct: 'MON_RINGBUF_SNAPSHOT_OUTPUT', field: 'TotalBytes', offset: 8, expected: bytes.byteLength, actual: total });
  const from = Math.max(1, Math.floor(fromCursor));
  const first = widenSequence(dv.getUint32(40, true), from);
  const events: MonitorEvent[] = [];
  let off = SNAPSHOT_HEADER_SIZE;
  let seq = first;
  for (let i = 0; i < count; i++) {
    const h = readHeader(bytes, off);
    seq = i === 0 ? first : widenSequence(h.seqLo, seq + 1);
    events.push(decodeEvent(bytes, off, seq));
    off += h.totalSize;
  }
  if (off !== total) throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', 'snapshot records do not fill TotalBytes', { struct: 'MON_RINGBUF_SNAPSHOT_OUTPUT', field: 'EventCount', expected: off, actual: total });
  const nextCursor = widenSequence((dv.getUint32(44, true) + 1) >>> 0, count > 0 ? seq : first);
  return { events, nextCursor, missed: first - from, more: (flags & SNAPSHOT_FLAG_MORE) !== 0, snapshotTime: { hi: dv.getUint32(20, true), lo: dv.getUint32(16, true) } };
}

const clamp32 = (n: number): number => (n > 0xffffffff ? 0xffffffff : n) >>> 0;

/** MON_RINGBUF_STATS_OUTPUT (56 bytes). 64-bit counters are reported saturated to 32 bits. */
export function encodeRingStats(s: RingStats): Uint8Array {
  const out = new Uint8Array(RING_STATS_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, RING_STATS_SIZE, true);
  dv.setUint32(4, clamp32(s.bufferSizeBytes), true);
  dv.setUint32(8, clamp32(s.usedBytes), true);
  dv.setUint32(12, clamp32(s.freeBytes), true);
  dv.setUint32(16, clamp32(s.eventCount), true);
  dv.setUint32(20, clamp32(s.totalEventsWritten), true);
  dv.setUint32(24, clamp32(s.eventsOverwritten), true);
  dv.setUint32(28, clamp32(s.eventsDropped), true);
  dv.setUint32(32, clamp32(s.wrapCount), true);
  dv.setUint32(40, s.oldestTimestamp.lo, true); dv.setUint32(44, s.oldestTimestamp.hi, true);
  dv.setUint32(48, s.newestTimestamp.lo, true); dv.setUint32(52, s.newestTimestamp.hi, true);
  return out;
}

/** Decodes MON_RINGBUF_STATS_OUTPUT. */
export function decodeRingStats(bytes: Uint8Array): Omit<RingStats, 'oldestSeq' | 'head' | 'policy'> {
  if (bytes.byteLength < RING_STATS_SIZE) throw new Win11MonError('WIN11MON_ERR_TRUNCATED', 'ring stats shorter than 56 bytes', { struct: 'MON_RINGBUF_STATS_OUTPUT', expected: RING_STATS_SIZE, actual: bytes.byteLength });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== RING_STATS_SIZE) throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', 'ring stats Size is not 56', { struct: 'MON_RINGBUF_STATS_OUTPUT', field: 'Size', offset: 0, expected: 56, actual: dv.getUint32(0, true) });
  return {
    bufferSizeBytes: dv.getUint32(4, true), usedBytes: dv.getUint32(8, true), freeBytes: dv.getUint32(12, true),
    eventCount: dv.getUint32(16, true), totalEventsWritten: dv.getUint32(20, true), eventsOverwritten: dv.getUint32(24, true),
    eventsDropped: dv.getUint32(28, true), wrapCount: dv.getUint32(32, true),
    oldestTimestamp: { hi: dv.getUint32(44, true), lo: dv.getUint32(40, true) },
    newestTimestamp: { hi: dv.getUint32(52, true), lo: dv.getUint32(48, true) },
  };
}
