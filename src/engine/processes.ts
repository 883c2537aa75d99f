// The bounded per-process table: rate buckets, the resolved profile and blacklist-pattern match
// (cached until the policy or the process identity changes), and per-process counters for top talkers.
// Bound: CompiledPolicy.maxTrackedProcesses entries (default 4096). When a new process arrives and
// the table is full, entries idle longer than idleSeconds are swept; if none are, the oldest-inserted
// entry is evicted (its buckets start full again if it comes back).
import type { CompiledPolicy, Profile } from './compile.js';
import type { RateBuckets } from './checks/ratelimit.js';

export class ProcessEntry implements RateBuckets {
  pid: number;
  imageName = '';
  imagePath = '';
  generation = -1;
  profile: Profile;
  /** Index of the first matching blacklist pattern, or -1. */
  patternIndex = -1;
  subTokens = 0;
  opTokens = 0;
  refillNs = -1;
  lastSeenNs = 0;
  submissions = 0;
  operations = 0;
  blocked = 0;
  logOnly = 0;

  constructor(pid: number, profile: Profile) {
    this.pid = pid;
    this.profile = profile;
  }
}

export class ProcessTable {
  private readonly map = new Map<number, ProcessEntry>();
  evictions = 0;

  get size(): number {
    return this.map.size;
  }

  /** The entry for this submission's process, created (and the table bounded) on first sight. */
  lookup(pid: number, imageName: string, imagePath: string, nowNs: number, pol: CompiledPolicy): ProcessEntry {
    let e = this.map.get(pid);
    if (e === undefined) {
      if (this.map.size >= pol.maxTrackedProcesses) this.makeRoom(nowNs, pol);
      e = new ProcessEntry(pid, pol.base);
      this.map.set(pid, e);
    }
    if (e.generation !== pol.generation || e.imageName !== imageName || e.imagePath !== imagePath) {
      e.imageName = imageName;
      e.imagePath = imagePath;
      e.generation = pol.generation;
      e.profile = pol.resolveProfile(pid, imageName, imagePath);
      e.patternIndex = pol.matchBlacklistPattern(imageName, imagePath);
      // A new policy may shrink the burst: never carry more tokens than the new bucket holds.
      if (e.refillNs >= 0) {
        if (e.subTokens > e.profile.subBurst) e.subTokens = e.profile.subBurst;
        if (e.opTokens > e.profile.opBurst) e.opTokens = e.profile.opBurst;
      }
    }
    e.lastSeenNs = nowNs;
    return e;
  }

  /** A detached copy of the entry (or a fresh one) with the profile resolved: for explain(), which changes nothing. */
  peekEntry(pid: number, imageName: string, imagePath: string, pol: CompiledPolicy): ProcessEntry {
    const cur = this.map.get(pid);
    const e = new ProcessEntry(pid, pol.resolveProfile(pid, imageName, imagePath));
    e.imageName = imageName;
    e.imagePath = imagePath;
    e.generation = pol.generation;
    e.patternIndex = pol.matchBlacklistPattern(imageName, imagePath);
    if (cur !== undefined) {
      e.subTokens = cur.subTokens;
      e.opTokens = cur.opTokens;
      e.refillNs = cur.refillNs;
    }
    return e;
  }

  private makeRoom(nowNs: number, pol: CompiledPolicy): void {
    for (const [pid, e] of this.map) {
      if (nowNs - e.lastSeenNs > pol.idleNs) {
        this.map.delete(pid);
        this.evictions++;
      }
    }
    while (this.map.size >= pol.maxTrackedProcesses) {
      const first = this.map.keys().next();
      if (first.done) break;
      this.map.delete(first.value);
      this.evictions++;
    }
  }

  /** Up to `n` entries by submissions, descending (cold path). */
  top(n: number): ProcessEntry[] {
    return [...this.map.values()].sort((a, b) => b.submissions - a.submissions || a.pid - b.pid).slice(0, n);
  }

  clear(): void {
    this.map.clear();
  }

  resetCounters(): void {
    for (const e of this.map.values()) {
      e.submissions = 0;
      e.operations = 0;
      e.blocked = 0;
      e.logOnly = 0;
    }
  }
}
