// Engine statistics: counters per action and per reason, a log2 latency histogram, and the
// IOCTL_MONITOR_INTERCEPT_GET_STATS payload (152-byte MON_INTERCEPT_STATS + win11mon extension).
// Latency is recorded by the caller (recordLatency): the engine reads no clock.
import { InterceptAction, InterceptReason, INTERCEPT_REASON_NAMES, MON_INTERCEPT_STATS_SIZE, type InterceptReasonName } from '../abi/monitor.js';
import { Win11MonError } from '../abi/errors.js';
import type { Decision } from './types.js';
import type { ProcessEntry } from './processes.js';

/** 'MSTX' little-endian: marks the win11mon extension after MON_INTERCEPT_STATS. */
export const MON_STATS_EXT_MAGIC = 0x5854534d;
export const MON_STATS_EXT_VERSION = 1;
/** Histogram bucket k counts latencies in [2^k, 2^(k+1)) ns (bucket 0 also holds 0 ns); the last bucket is open-ended. */
export const LATENCY_BUCKETS = 32;
/** Extension after the 152 bytes: 16-byte header, 6 u64, 12 u64 per reason, 32 u64 histogram (layout in docs/policy.md). */
export const STATS_EXT_FIXED_SIZE = 16 + 6 * 8 + 12 * 8 + LATENCY_BUCKETS * 8;
export const STATS_TOP_TALKER_SIZE = 48;
/** Size of the payload with `n` top talkers. */
export function statsPayloadSize(n: number): number {
  return MON_INTERCEPT_STATS_SIZE + STATS_EXT_FIXED_SIZE + n * STATS_TOP_TALKER_SIZE;
}

const REASON_COUNTER_OFFSET: Record<number, number> = {
  [InterceptReason.RegBuffersCorrupted]: 48,
  [InterceptReason.KernelAddressInBuffer]: 56,
  [InterceptReason.ExcessiveOperations]: 64,
  [InterceptReason.SuspiciousOpCode]: 72,
  [InterceptReason.ProcessBlacklisted]: 80,
  [InterceptReason.RateLimitExceeded]: 88,
  [InterceptReason.InvalidHandle]: 96,
  [InterceptReason.BufferSizeTooLarge]: 104,
  [InterceptReason.MalformedRequest]: 112,
};

function setU64(dv: DataView, off: number, v: number): void {
  const n = Math.max(0, Math.floor(v));
  dv.setUint32(off, n % 0x100000000, true);
  dv.setUint32(off + 4, Math.floor(n / 0x100000000), true);
}

export class EngineStats {
  requests = 0;
  operations = 0;
  allowed = 0;
  blocked = 0;
  logOnly = 0;
  /** Audit-mode decisions that would have blocked. */
  wouldHaveBlocked = 0;
  /** Block decisions by reason (MON_INTERCEPT_STATS Blocked*). */
  readonly blockedByReason = new Float64Array(12);
  /** All decisions by reason, whatever the action. */
  readonly decisionsByReason = new Float64Array(12);
  validationErrors = 0;
  contained = 0;
  latencySamples = 0;
  totalLatencyNs = 0;
  peakLatencyNs = 0;
  readonly histogram = new Float64Array(LATENCY_BUCKETS);

  /** Counts one decision (called by the engine). */
  record(d: Decision, ops: number): void {
    this.requests++;
    this.operations += ops;
    if (d.action === InterceptAction.Block) {
      this.blocked++;
      this.blockedByReason[d.reason] = (this.blockedByReason[d.reason] ?? 0) + 1;
    } else if (d.action === InterceptAction.LogOnly) {
      this.logOnly++;
    } else {
      this.allowed++;
    }
    if (d.wouldHaveBlocked) this.wouldHaveBlocked++;
    this.decisionsByReason[d.reason] = (this.decisionsByReason[d.reason] ?? 0) + 1;
    if (d.reason === InterceptReason.MalformedRequest || d.reason === InterceptReason.ValidationError) this.validationErrors++;
  }

  /** Records one validation latency measured by the caller (ns). */
  recordLatency(ns: number): void {
    const v = ns > 0 ? ns : 0;
    this.latencySamples++;
    this.totalLatencyNs += v;
    if (v > this.peakLatencyNs) this.peakLatencyNs = v;
    const k = v < 1 ? 0 : v >= 0x80000000 ? LATENCY_BUCKETS - 1 : 31 - Math.clz32(v);
    this.histogram[k < LATENCY_BUCKETS ? k : LATENCY_BUCKETS - 1]!++;
  }

  reset(): void {
    this.requests = this.operations = this.allowed = this.blocked = this.logOnly = this.wouldHaveBlocked = 0;
    this.validationErrors = this.contained = this.latencySamples = this.totalLatencyNs = this.peakLatencyNs = 0;
    this.blockedByReason.fill(0);
    this.decisionsByReason.fill(0);
    this.histogram.fill(0);
  }

  /**
   * The GET_STATS payload. `maxBytes` is the caller's output buffer size: below 152 ->
   * WIN11MON_ERR_TRUNCATED (STATUS_BUFFER_TOO_SMALL); 152 up to the fixed extension size -> the plain
   * MON_INTERCEPT_STATS; larger -> the extension with as many top talkers as fit.
   */
  encode(top: readonly ProcessEntry[], maxBytes = Infinity, table: { tracked: number; evictions: number } = { tracked: 0, evictions: 0 }): Uint8Array {
    if (maxBytes < MON_INTERCEPT_STATS_SIZE) {
      throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `MON_INTERCEPT_STATS needs ${MON_INTERCEPT_STATS_SIZE} bytes, the buffer has ${maxBytes}`, { struct: 'MON_INTERCEPT_STATS', field: 'Size', expected: MON_INTERCEPT_STATS_SIZE, actual: maxBytes });
    }
    const withExt = maxBytes >= statsPayloadSize(0);
    const nTop = withExt ? Math.min(top.length, Math.floor((maxBytes - statsPayloadSize(0)) / STATS_TOP_TALKER_SIZE)) : 0;
    const size = withExt ? statsPayloadSize(nTop) : MON_INTERCEPT_STATS_SIZE;
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, MON_INTERCEPT_STATS_SIZE, true);
    setU64(dv, 8, this.requests);
    setU64(dv, 16, this.operations);
    setU64(dv, 24, this.allowed);
    setU64(dv, 32, this.blocked);
    setU64(dv, 40, this.logOnly);
    for (const [reason, off] of Object.entries(REASON_COUNTER_OFFSET)) setU64(dv, off, this.blockedByReason[Number(reason)] ?? 0);
    setU64(dv, 120, this.totalLatencyNs);
    dv.setUint32(128, Math.min(0xffffffff, Math.floor(this.peakLatencyNs / 1000)), true);
    dv.setUint32(132, this.latencySamples === 0 ? 0 : Math.min(0xffffffff, Math.floor(this.totalLatencyNs / this.latencySamples / 1000)), true);
    setU64(dv, 136, this.validationErrors);
    setU64(dv, 144, this.contained);
    if (!withExt) return out;
    let o = MON_INTERCEPT_STATS_SIZE;
    dv.setUint32(o, MON_STATS_EXT_MAGIC, true);
    dv.setUint32(o + 4, MON_STATS_EXT_VERSION, true);
    dv.setUint32(o + 8, LATENCY_BUCKETS, true);
    dv.setUint32(o + 12, nTop, true);
    o += 16;
    setU64(dv, o, this.latencySamples);
    setU64(dv, o + 8, this.wouldHaveBlocked);
    setU64(dv, o + 16, this.peakLatencyNs);
    setU64(dv, o + 24, this.allowed + this.blocked + this.logOnly);
    setU64(dv, o + 32, table.tracked);
    setU64(dv, o + 40, table.evictions);
    o += 48;
    for (let r = 0; r < 12; r++) setU64(dv, o + r * 8, this.decisionsByReason[r] ?? 0);
    o += 96;
    for (let k = 0; k < LATENCY_BUCKETS; k++) setU64(dv, o + k * 8, this.histogram[k] ?? 0);
    o += LATENCY_BUCKETS * 8;
    for (let i = 0; i < nTop; i++) {
      const e = top[i]!;
      dv.setUint32(o, e.pid >>> 0, true);
      dv.setUint32(o + 4, e.profile.index, true);
      setU64(dv, o + 8, e.submissions);
      setU64(dv, o + 16, e.operations);
      setU64(dv, o + 24, e.blocked);
      setU64(dv, o + 32, e.logOnly);
      setU64(dv, o + 40, e.lastSeenNs);
      o += STATS_TOP_TALKER_SIZE;
    }
    return out;
  }

  /** Richer JSON form. */
  toJSON(top: readonly ProcessEntry[] = []): Record<string, unknown> {
    const byReason = (a: Float64Array) => Object.fromEntries(INTERCEPT_REASON_NAMES.map((n, i) => [n, a[i] ?? 0]).filter(([, v]) => v !== 0)) as Partial<Record<InterceptReasonName, number>>;
    return {
      requests: this.requests,
      operations: this.operations,
      actions: { Allow: this.allowed, Block: this.blocked, LogOnly: this.logOnly },
      wouldHaveBlocked: this.wouldHaveBlocked,
      blockedByReason: byReason(this.blockedByReason),
      decisionsByReason: byReason(this.decisionsByReason),
      validationErrors: this.validationErrors,
      containedExceptions: this.contained,
      latency: {
        samples: this.latencySamples,
        totalNs: this.totalLatencyNs,
        peakNs: this.peakLatencyNs,
        meanNs: this.latencySamples === 0 ? 0 : this.totalLatencyNs / this.latencySamples,
        histogram: Array.from(this.histogram, (count, k) => ({ fromNs: k === 0 ? 0 : 2 ** k, toNs: k === LATENCY_BUCKETS - 1 ? null : 2 ** (k + 1), count })).filter((b) => b.count > 0),
      },
      topTalkers: top.map((e) => ({ processId: e.pid, imageName: e.imageName, profile: e.profile.index, submissions: e.submissions, operations: e.operations, blocked: e.blocked, logOnly: e.logOnly })),
    };
  }
}

/** The decoded GET_STATS payload: MON_INTERCEPT_STATS counters and, when present, win11mon's extension. */
export interface DecodedStats {
  requests: number;
  operations: number;
  actions: { Allow: number; Block: number; LogOnly: number };
  /** Block decisions by reason name (MON_INTERCEPT_STATS Blocked*; zero counts omitted). */
  blockedByReason: Partial<Record<InterceptReasonName, number>>;
  totalValidationTimeNs: number;
  peakValidationTimeUs: number;
  averageValidationTimeUs: number;
  validationErrors: number;
  containedExceptions: number;
  /** null when the payload is the plain 152-byte MON_INTERCEPT_STATS. */
  extension: StatsExtension | null;
}

/** win11mon's stats extension (docs/policy.md "Statistics"). */
export interface StatsExtension {
  version: number;
  latencySamples: number;
  wouldHaveBlocked: number;
  peakLatencyNs: number;
  totalDecisions: number;
  trackedProcesses: number;
  processTableEvictions: number;
  /** Every decision by reason name, whatever the action (zero counts omitted). */
  decisionsByReason: Partial<Record<InterceptReasonName, number>>;
  /** Non-empty histogram buckets: [fromNs, toNs) (toNs null for the open-ended last bucket). */
  latencyHistogram: Array<{ fromNs: number; toNs: number | null; count: number }>;
  topTalkers: Array<{ processId: number; profileIndex: number; submissions: number; operations: number; blocked: number; logOnly: number; lastSeenNs: number }>;
}

function getU64(dv: DataView, off: number): number {
  return dv.getUint32(off + 4, true) * 0x100000000 + dv.getUint32(off, true);
}

/**
 * Decodes an IOCTL_MONITOR_INTERCEPT_GET_STATS payload (the inverse of EngineStats.encode): the
 * 152-byte MON_INTERCEPT_STATS, then the 'MSTX' extension if the bytes carry one. Throws
 * WIN11MON_ERR_TRUNCATED / WIN11MON_ERR_SIZE_MISMATCH for malformed input.
 *
 * @example
 * const { raw } = await client.getStats();
 * const s = decodeStatsExtension(raw);
 * console.log(s.actions.Block, s.extension?.latencyHistogram);
 */
export function decodeStatsExtension(bytes: Uint8Array): DecodedStats {
  if (bytes.byteLength < MON_INTERCEPT_STATS_SIZE) {
    throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `MON_INTERCEPT_STATS needs ${MON_INTERCEPT_STATS_SIZE} bytes, got ${bytes.byteLength}`, { struct: 'MON_INTERCEPT_STATS', expected: MON_INTERCEPT_STATS_SIZE, actual: bytes.byteLength });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = dv.getUint32(0, true);
  if (size !== MON_INTERCEPT_STATS_SIZE) {
    throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `MON_INTERCEPT_STATS.Size is ${size}`, { struct: 'MON_INTERCEPT_STATS', field: 'Size', offset: 0, expected: MON_INTERCEPT_STATS_SIZE, actual: size });
  }
  const byName = (get: (r: number) => number): Partial<Record<InterceptReasonName, number>> => {
    const out: Partial<Record<InterceptReasonName, number>> = {};
    INTERCEPT_REASON_NAMES.forEach((n, r) => { const v = get(r); if (v !== 0) out[n] = v; });
    return out;
  };
  const base: DecodedStats = {
    requests: getU64(dv, 8),
    operations: getU64(dv, 16),
    actions: { Allow: getU64(dv, 24), Block: getU64(dv, 32), LogOnly: getU64(dv, 40) },
    blockedByReason: byName((r) => (REASON_COUNTER_OFFSET[r] === undefined ? 0 : getU64(dv, REASON_COUNTER_OFFSET[r]!))),
    totalValidationTimeNs: getU64(dv, 120),
    peakValidationTimeUs: dv.getUint32(128, true),
    averageValidationTimeUs: dv.getUint32(132, true),
    validationErrors: getU64(dv, 136),
    containedExceptions: getU64(dv, 144),
    extension: null,
  };
  if (bytes.byteLength < statsPayloadSize(0)) return base;
  let o = MON_INTERCEPT_STATS_SIZE;
  const magic = dv.getUint32(o, true);
  if (magic !== MON_STATS_EXT_MAGIC) {
    throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `stats extension magic is 0x${magic.toString(16)}, not 'MSTX'`, { struct: 'MON_STATS_EXT', field: 'ExtMagic', offset: o, expected: MON_STATS_EXT_MAGIC, actual: magic });
  }
  const version = dv.getUint32(o + 4, true);
  const buckets = dv.getUint32(o + 8, true);
  const nTop = dv.getUint32(o + 12, true);
  if (buckets !== LATENCY_BUCKETS || bytes.byteLength < statsPayloadSize(nTop)) {
    throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `stats extension declares ${buckets} buckets and ${nTop} top talkers; the payload has ${bytes.byteLength} bytes`, { struct: 'MON_STATS_EXT', field: 'TopTalkerCount', offset: o + 12, expected: statsPayloadSize(nTop), actual: bytes.byteLength });
  }
  o += 16;
  const fixed = { latencySamples: getU64(dv, o), wouldHaveBlocked: getU64(dv, o + 8), peakLatencyNs: getU64(dv, o + 16), totalDecisions: getU64(dv, o + 24), trackedProcesses: getU64(dv, o + 32), processTableEvictions: getU64(dv, o + 40) };
  o += 48;
  const reasonsAt = o;
  const decisionsByReason = byName((r) => (r < 12 ? getU64(dv, reasonsAt + r * 8) : 0));
  o += 96;
  const latencyHistogram: StatsExtension['latencyHistogram'] = [];
  for (let k = 0; k < LATENCY_BUCKETS; k++) {
    const count = getU64(dv, o + k * 8);
    if (count > 0) latencyHistogram.push({ fromNs: k === 0 ? 0 : 2 ** k, toNs: k === LATENCY_BUCKETS - 1 ? null : 2 ** (k + 1), count });
  }
  o += LATENCY_BUCKETS * 8;
  const topTalkers: StatsExtension['topTalkers'] = [];
  for (let i = 0; i < nTop; i++, o += STATS_TOP_TALKER_SIZE) {
    topTalkers.push({
      processId: dv.getUint32(o, true), profileIndex: dv.getUint32(o + 4, true), submissions: getU64(dv, o + 8), operations: getU64(dv, o + 16),
      blocked: getU64(dv, o + 24), logOnly: getU64(dv, o + 32), lastSeenNs: getU64(dv, o + 40),
    });
  }
  base.extension = { version, ...fixed, decisionsByReason, latencyHistogram, topTalkers };
  return base;
}
