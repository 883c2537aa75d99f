// Compiles a normalized policy document into what the hot path reads: one Profile (all numbers,
// one shape) per effective configuration, the blacklist as a Set plus compiled patterns.
import { CHECK_IDS, CheckMode, type CheckId, type CheckModeName } from './types.js';
import { compileImagePattern, matchImage, type ImagePattern } from './glob.js';
import { policyHash, type PolicyDocument, type PolicyOverride } from './policy.js';

const modeOf = (m: CheckModeName): number => (m === 'block' ? CheckMode.Block : m === 'log' ? CheckMode.Log : CheckMode.Off);

function opMask(allowed: number[] | 'all'): number {
  if (allowed === 'all') return 0xffffffff;
  let m = 0;
  for (const op of allowed) m |= 1 << op;
  return m >>> 0;
}

/** The effective settings for one process: a class so every Profile has the same hidden class. */
export class Profile {
  audit = false;
  modeHandle = 0;
  modeBlacklist = 0;
  modeOperationLimit = 0;
  modeRegBuffers = 0;
  modeOpcodes = 0;
  modeBufferAddresses = 0;
  modeBufferSize = 0;
  modeRateLimit = 0;
  maxOps = 0;
  /** 0 = no limit. */
  maxBufferSize = 0;
  /** Bit N = opcode N allowed (opcodes 0..31). */
  allowedOpMask = 0;
  rejectReservedFlags = true;
  /** Tokens per ns and bucket sizes; opRate 0 = no operations limit. */
  subRatePerNs = 0;
  subBurst = 0;
  opRatePerNs = 0;
  opBurst = 0;
  /** Index in CompiledPolicy.profiles (0 = base). */
  index = 0;

  static from(doc: PolicyDocument, ov: PolicyOverride | null, index: number): Profile {
    const p = new Profile();
    const checks: Record<CheckId, CheckModeName> = { ...doc.checks, ...(ov?.checks ?? {}) };
    p.audit = ov?.auditMode ?? doc.auditMode;
    p.modeHandle = modeOf(checks.handle);
    p.modeBlacklist = modeOf(checks.blacklist);
    p.modeOperationLimit = modeOf(checks.operationLimit);
    p.modeRegBuffers = modeOf(checks.regBuffers);
    p.modeOpcodes = modeOf(checks.opcodes);
    p.modeBufferAddresses = modeOf(checks.bufferAddresses);
    p.modeBufferSize = modeOf(checks.bufferSize);
    p.modeRateLimit = modeOf(checks.rateLimit);
    const limits = { ...doc.limits, ...(ov?.limits ?? {}) };
    p.maxOps = limits.maxOperationsPerSubmit;
    p.maxBufferSize = limits.maxBufferSizeBytes;
    if (p.maxBufferSize === 0) p.modeBufferSize = CheckMode.Off;
    const ops = { ...doc.opcodes, ...(ov?.opcodes ?? {}) };
    p.allowedOpMask = opMask(ops.allowed);
    p.rejectReservedFlags = ops.rejectReservedFlags;
    const rate = { ...doc.rateLimit, ...(ov?.rateLimit ?? {}) };
    p.subRatePerNs = rate.submissionsPerSecond / 1e9;
    p.subBurst = rate.submissionBurst > 0 ? rate.submissionBurst : Math.max(1, rate.submissionsPerSecond);
    p.opRatePerNs = rate.operationsPerSecond / 1e9;
    p.opBurst = rate.operationsPerSecond === 0 ? 0 : rate.operationBurst > 0 ? rate.operationBurst : Math.max(1, rate.operationsPerSecond);
    p.index = index;
    return p;
  }

  /** Mode of a check by id (cold path: explain, docs). */
  modeOf(id: CheckId): number {
    switch (id) {
      case 'handle': return this.modeHandle;
      case 'blacklist': return this.modeBlacklist;
      case 'operationLimit': return this.modeOperationLimit;
      case 'regBuffers': return this.modeRegBuffers;
      case 'opcodes': return this.modeOpcodes;
      case 'bufferAddresses': return this.modeBufferAddresses;
      case 'bufferSize': return this.modeBufferSize;
      case 'rateLimit': return this.modeRateLimit;
    }
  }
}

interface CompiledOverride {
  pid: number; // 0 = any
  image: ImagePattern | null;
  profile: Profile;
}

export interface CompiledPattern {
  image: ImagePattern;
  reason: string;
}

/** A policy ready for the hot path. Immutable once built; hot reload swaps the whole object. */
export class CompiledPolicy {
  readonly doc: PolicyDocument;
  readonly version: number;
  readonly hash: string;
  readonly enabled: boolean;
  readonly base: Profile;
  readonly profiles: Profile[];
  readonly overrides: CompiledOverride[];
  readonly blacklistPids: Map<number, string>;
  readonly blacklistPatterns: CompiledPattern[];
  readonly maxTrackedProcesses: number;
  readonly idleNs: number;
  /** Changes with every compiled policy, so per-process caches know to re-resolve. */
  readonly generation: number;

  constructor(doc: PolicyDocument, generation: number) {
    this.doc = doc;
    this.version = doc.version >>> 0;
    this.hash = policyHash(doc);
    this.enabled = doc.enabled;
    this.base = Profile.from(doc, null, 0);
    this.profiles = [this.base];
    this.overrides = doc.overrides.map((ov, i) => {
      const profile = Profile.from(doc, ov, i + 1);
      this.profiles.push(profile);
      return { pid: ov.match.pid ?? 0, image: ov.match.image === undefined ? null : compileImagePattern(ov.match.image), profile };
    });
    this.blacklistPids = new Map();
    this.blacklistPatterns = [];
    for (const e of doc.blacklist) {
      if (e.pid !== undefined) this.blacklistPids.set(e.pid, e.reason);
      else if (e.image !== undefined) this.blacklistPatterns.push({ image: compileImagePattern(e.image), reason: e.reason });
    }
    this.maxTrackedProcesses = doc.rateLimit.maxTrackedProcesses;
    this.idleNs = doc.rateLimit.idleSeconds * 1e9;
    this.generation = generation;
  }

  /** The profile for a process: the first override whose match (pid and/or image) fits, else the base. */
  resolveProfile(pid: number, imageName: string, imagePath: string): Profile {
    for (const o of this.overrides) {
      if (o.pid !== 0 && o.pid !== pid) continue;
      if (o.image !== null && !matchImage(o.image, imageName, imagePath)) continue;
      return o.profile;
    }
    return this.base;
  }

  /** Index of the first blacklist pattern matching the image, or -1. */
  matchBlacklistPattern(imageName: string, imagePath: string): number {
    for (let i = 0; i < this.blacklistPatterns.length; i++) {
      if (matchImage(this.blacklistPatterns[i]!.image, imageName, imagePath)) return i;
    }
    return -1;
  }
}

export { CHECK_IDS };
