// Per-process rate limit: two token buckets (submissions/s and operations/s, each with a burst),
// refilled from ctx.nowNs. The buckets live in a bounded ProcessTable (see processes.ts).
import { InterceptReason, MON_NO_OP_INDEX } from '../../abi/monitor.js';
import { ViolationFlags as VF, type ViolationSink } from '../types.js';
import type { Profile } from '../compile.js';

/** The bucket fields a process entry carries (kept on the entry so there is one object per process). */
export interface RateBuckets {
  subTokens: number;
  opTokens: number;
  /** Time of the last refill (ns); -1 before the first submission. */
  refillNs: number;
}

/**
 * Refills and, unless `peek`, takes 1 submission token and `ops` operation tokens. Nothing is taken
 * when either bucket is short (a refused submission does not cost the process budget).
 * Returns RATE_* flags (0 = within the limit).
 */
export function takeTokens(b: RateBuckets, p: Profile, nowNs: number, ops: number, peek: boolean): number {
  let sub = b.subTokens;
  let opt = b.opTokens;
  if (b.refillNs < 0) {
    sub = p.subBurst;
    opt = p.opBurst;
  } else {
    const dt = nowNs > b.refillNs ? nowNs - b.refillNs : 0; // a clock that steps back refills nothing
    sub = Math.min(p.subBurst, sub + dt * p.subRatePerNs);
    opt = Math.min(p.opBurst, opt + dt * p.opRatePerNs);
  }
  let f = 0;
  if (sub < 1) f |= VF.RATE_SUBMISSIONS;
  if (p.opRatePerNs > 0 && opt < ops) f |= VF.RATE_OPERATIONS;
  if (!peek) {
    if (f === 0) {
      sub -= 1;
      if (p.opRatePerNs > 0) opt -= ops;
    }
    b.subTokens = sub;
    b.opTokens = opt;
    b.refillNs = b.refillNs < 0 || nowNs > b.refillNs ? nowNs : b.refillNs;
  }
  return f;
}

/** The rate-limit check: reports RateLimitExceeded with the bucket that ran dry. */
export function checkRateLimit(b: RateBuckets, p: Profile, nowNs: number, ops: number, peek: boolean, mode: number, sink: ViolationSink): boolean {
  const f = takeTokens(b, p, nowNs, ops, peek);
  if (f === 0) return false;
  const subs = (f & VF.RATE_SUBMISSIONS) !== 0;
  return sink.hit('rateLimit', mode, InterceptReason.RateLimitExceeded, MON_NO_OP_INDEX, -1, f, 0, 0,
    subs ? Math.floor(b.subTokens) : ops, subs ? p.subRatePerNs * 1e9 : p.opRatePerNs * 1e9);
}
