// A recording sink for the check modules' unit tests.
import type { CheckId, ViolationSink } from '../types.js';

export interface Hit { check: CheckId; mode: number; reason: number; opIndex: number; entryIndex: number; flags: number; addrHi: number; addrLo: number; value: number; limit: number }

export class RecordingSink implements ViolationSink {
  hits: Hit[] = [];
  constructor(private readonly stopOnHit = false) {}
  hit(check: CheckId, mode: number, reason: number, opIndex: number, entryIndex: number, flags: number, addrHi: number, addrLo: number, value: number, limit: number): boolean {
    this.hits.push({ check, mode, reason, opIndex, entryIndex, flags, addrHi, addrLo, value, limit });
    return this.stopOnHit;
  }
}
