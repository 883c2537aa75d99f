// A1, IoRing handle enumeration: every IoRing handle in every process, from the system handle table
// (NtQuerySystemInformation(SystemHandleInformation) filtered to the "IoRing" type, as the C driver
// does: ObRegisterCallbacks cannot cover the IoRing object type). The registry remembers what it has
// seen per ring: when it appeared, what was legitimately registered, findings, quarantine.
import type { EmulatedKernel, EmulatedProcess, IoRingObject } from '../kernel/index.js';
import type { RegBufferState } from '../engine/index.js';

/** What the monitor knows about one (process, handle) → IORING_OBJECT. */
export interface RingRecord {
  pid: number;
  handle: number;
  objectHi: number;
  objectLo: number;
  grantedAccess: number;
  firstSeenMs: number;
  /** RegBuffersCount last seen in a sound state (a legitimate registration), or -1. */
  expectedCount: number;
  /** ViolationFlags of the last A2 finding (0 = sound), to report each new finding once. */
  lastFlags: number;
  /** Operations the hook validated and allowed on this ring and the kernel consumed (for bypass evidence). */
  opsValidated: number;
  /** Set once the driver neutralized a corrupted ring: every later submission is refused. */
  quarantined: boolean;
  quarantineDetail: string;
  /** Kernel SubmitCount at the last BypassSuspected report (so each new gap is reported once). */
  bypassReportedAt: number;
  /**
   * Kernel SubmitCount when the owner announced its hook (entries processed before the hook
   * existed are not a bypass); 0 for rings created after the hook was installed.
   */
  submitBaseline: number;
  /** True while the handle is still open. */
  live: boolean;
  /** The RegBuffers state read at the last validation, reused so a validation allocates nothing. */
  regState: RegBufferState | undefined;
  /**
   * Where the A2 poll's window over the entries past the scan cap starts next (each poll reads the
   * first 64 entries and 64 more from here, so a ring with N registered buffers is covered whole
   * within ceil((N - 64) / 64) polls).
   */
  scanCursor: number;
  /** Flags of the standing A2 finding in each window past the first 64 entries, by window start (absent: sound). */
  farFlags: Map<number, number> | undefined;
  /**
   * The kernel object and its owner as `lookup` last confirmed them, and the kernel's handle
   * generation then: while no handle anywhere was created or closed, (pid, handle) still names them.
   */
  object: IoRingObject | undefined;
  owner: EmulatedProcess | undefined;
  confirmedGeneration: number;
}

/** A Map key for (pid, handle): exact as a number while pid < 2^21 (the usual case), else a string. */
export function ringKey(pid: number, handle: number): number | string {
  return pid < 0x200000 ? pid * 0x100000000 + handle : `${pid}:${handle}`;
}

export class RingRegistry {
  readonly rings = new Map<number | string, RingRecord>();
  private generation = -1;

  constructor(private readonly kernel: EmulatedKernel, private readonly nowMs: () => number = Date.now) {}

  get(pid: number, handle: number): RingRecord | undefined {
    return this.rings.get(ringKey(pid, handle));
  }

  /**
   * The record for (pid, handle), creating it from the process's handle table when the ring is not
   * known yet — one handle lookup, never a system-wide enumeration (the validation hot path uses
   * this; refresh() is for the poller). `onAdded` is called for a ring seen for the first time.
   */
  lookup(pid: number, handle: number, onAdded: (rec: RingRecord) => void): RingRecord | undefined {
    const key = ringKey(pid, handle);
    const old = this.rings.get(key);
    const gen = this.kernel.handleGeneration;
    // Every submission names the same few rings: while no handle changed anywhere, the handle
    // table lookups below would give the same answer (one compare instead of three Map lookups).
    if (old !== undefined && old.confirmedGeneration === gen && old.object !== undefined) return old;
    const owner = this.kernel.process(pid);
    const entry = owner?.handles.get(handle);
    const obj = entry?.object.typeName === 'IoRing' ? (entry.object as IoRingObject) : undefined;
    if (obj === undefined) {
      if (old) { old.live = false; this.rings.delete(key); }
      return undefined;
    }
    if (old && old.objectHi === obj.hi && old.objectLo === obj.lo) {
      old.object = obj;
      old.owner = owner;
      old.confirmedGeneration = gen;
      return old;
    }
    const rec = this.newRecord(pid, handle, obj.hi, obj.lo, entry!.grantedAccess);
    rec.object = obj;
    rec.owner = owner;
    rec.confirmedGeneration = gen;
    this.rings.set(key, rec);
    onAdded(rec);
    return rec;
  }

  private newRecord(pid: number, handle: number, objectHi: number, objectLo: number, grantedAccess: number): RingRecord {
    return {
      pid, handle, objectHi, objectLo, grantedAccess, firstSeenMs: this.nowMs(), expectedCount: -1, lastFlags: 0, opsValidated: 0,
      quarantined: false, quarantineDetail: '', bypassReportedAt: 0, submitBaseline: 0, live: true, regState: undefined, scanCursor: 0, farFlags: undefined,
      object: undefined, owner: undefined, confirmedGeneration: -1,
    };
  }

  /** The kernel object behind a record, or undefined once closed. */
  object(rec: RingRecord): IoRingObject | undefined {
    return this.kernel.getIoRing(rec.pid, rec.handle);
  }

  /**
   * Re-enumerates when the kernel's handle tables changed since the last call (cheap otherwise).
   * Returns the rings that appeared; closed ones are marked not live and dropped.
   */
  refresh(force = false): RingRecord[] {
    const gen = this.kernel.handleGeneration;
    if (!force && gen === this.generation) return [];
    this.generation = gen;
    const seen = new Set<number | string>();
    const added: RingRecord[] = [];
    for (const h of this.kernel.querySystemHandles()) {
      if (h.typeName !== 'IoRing') continue;
      const key = ringKey(h.pid, h.handle);
      seen.add(key);
      const old = this.rings.get(key);
      if (old && old.objectHi === h.objectHi && old.objectLo === h.objectLo) continue;
      const rec = this.newRecord(h.pid, h.handle, h.objectHi, h.objectLo, h.grantedAccess);
      this.rings.set(key, rec);
      added.push(rec);
    }
    for (const [key, rec] of this.rings) {
      if (!seen.has(key)) {
        rec.live = false;
        this.rings.delete(key);
      }
    }
    return added;
  }
}
