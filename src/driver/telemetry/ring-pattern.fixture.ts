// The payload pattern the ring concurrency test writes and checks: length and bytes derive from
// the sequence number, so a torn or misplaced record cannot pass.
import { MonEventType } from '../../abi/index.js';

export const PATTERN_EVENT_TYPE = MonEventType.Anomaly;

export function patternLength(seq: number): number {
  return 8 + (seq % 201); // 8..208 bytes: records of every size
}

export function fillPattern(out: Uint8Array, seq: number): Uint8Array {
  const n = patternLength(seq);
  for (let i = 0; i < n; i++) out[i] = (seq * 7 + i * 13) & 0xff;
  return out.subarray(0, n);
}

/** True when `rec` is the complete record the producer wrote for `seq`. */
export function expectedPattern(rec: Uint8Array, seq: number): boolean {
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const n = patternLength(seq);
  if (dv.getUint32(0, true) !== 0x54564552 || dv.getUint32(8, true) !== n || dv.getUint32(12, true) !== PATTERN_EVENT_TYPE) return false;
  if (dv.getUint32(32, true) !== seq >>> 0 || dv.getUint32(24, true) !== (seq % 65536) || dv.getUint32(4, true) !== 40 + ((n + 7) & ~7)) return false;
  for (let i = 0; i < n; i++) if (rec[40 + i] !== ((seq * 7 + i * 13) & 0xff)) return false;
  return true;
}
