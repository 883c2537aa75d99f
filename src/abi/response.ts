// MON_INTERCEPT_RESPONSE (48 bytes): the decision sent back to the hook.
import { MON_INTERCEPT_RESPONSE_SIZE, INTERCEPT_ACTION_NAMES, INTERCEPT_REASON_NAMES, type InterceptActionName, type InterceptReasonName } from './monitor.js';
import { Win11MonError } from './errors.js';
import { writeU32LE } from './bytes.js';

export interface InterceptResponse {
  action: number;
  reason: number;
  violatingOpIndex: number;
  violationFlags: number;
  /** win11mon: the policy version that decided (the header's Reserved field). */
  policyVersion: number;
  validationTimeNs: number;
  mitreTechnique: string;
}

/** Writes a response into `out` at `off` (48 bytes). No allocation. */
export function writeInterceptResponse(dv: DataView, off: number, r: InterceptResponse): void {
  dv.setUint32(off, MON_INTERCEPT_RESPONSE_SIZE, true);
  dv.setUint32(off + 4, r.action, true);
  dv.setUint32(off + 8, r.reason, true);
  dv.setUint32(off + 12, r.violatingOpIndex >>> 0, true);
  dv.setUint32(off + 16, r.violationFlags >>> 0, true);
  dv.setUint32(off + 20, r.policyVersion >>> 0, true);
  const ns = Math.max(0, Math.floor(r.validationTimeNs));
  dv.setUint32(off + 24, ns % 0x100000000, true);
  dv.setUint32(off + 28, Math.floor(ns / 0x100000000), true);
  const t = bytesOfTechnique(r.mitreTechnique);
  for (let k = 0; k < 16; k++) dv.setUint8(off + 32 + k, t[k]!);
}

/** MitreTechnique as its CHAR[16]: ASCII, NUL-padded, at most 15 characters (cached: a handful of constants). */
const techniqueBytes = new Map<string, Uint8Array>();
function bytesOfTechnique(t: string): Uint8Array {
  let b = techniqueBytes.get(t);
  if (b === undefined) {
    b = new Uint8Array(16);
    for (let k = 0; k < 15 && k < t.length; k++) b[k] = t.charCodeAt(k) & 0x7f;
    if (techniqueBytes.size < 256) techniqueBytes.set(t, b);
  }
  return b;
}

/**
 * writeInterceptResponse with the fields as arguments into a 48-byte array at offset 0 (the driver's hot
 * path: no object literal, and byte stores, so a small on-heap array never needs an ArrayBuffer).
 */
export function writeInterceptResponseBytes(out: Uint8Array, action: number, reason: number, violatingOpIndex: number, violationFlags: number, policyVersion: number, validationTimeNs: number, mitreTechnique: string): void {
  writeU32LE(out, 0, MON_INTERCEPT_RESPONSE_SIZE);
  writeU32LE(out, 4, action);
  writeU32LE(out, 8, reason);
  writeU32LE(out, 12, violatingOpIndex >>> 0);
  writeU32LE(out, 16, violationFlags >>> 0);
  writeU32LE(out, 20, policyVersion >>> 0);
  const ns = validationTimeNs > 0 ? Math.floor(validationTimeNs) : 0;
  writeU32LE(out, 24, ns % 0x100000000);
  writeU32LE(out, 28, Math.floor(ns / 0x100000000));
  const t = bytesOfTechnique(mitreTechnique);
  for (let k = 0; k < 16; k++) out[32 + k] = t[k]!;
}

export function encodeInterceptResponse(r: InterceptResponse): Uint8Array {
  const out = new Uint8Array(MON_INTERCEPT_RESPONSE_SIZE);
  writeInterceptResponse(new DataView(out.buffer), 0, r);
  return out;
}

export function decodeInterceptResponse(bytes: Uint8Array): InterceptResponse & { actionName: InterceptActionName | string; reasonName: InterceptReasonName | string } {
  if (bytes.byteLength < MON_INTERCEPT_RESPONSE_SIZE) {
    throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `MON_INTERCEPT_RESPONSE needs ${MON_INTERCEPT_RESPONSE_SIZE} bytes, got ${bytes.byteLength}`, { struct: 'MON_INTERCEPT_RESPONSE', field: 'Size', offset: 0, expected: MON_INTERCEPT_RESPONSE_SIZE, actual: bytes.byteLength });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = dv.getUint32(0, true);
  if (size !== MON_INTERCEPT_RESPONSE_SIZE) {
    throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `MON_INTERCEPT_RESPONSE.Size is ${size}, expected ${MON_INTERCEPT_RESPONSE_SIZE}`, { struct: 'MON_INTERCEPT_RESPONSE', field: 'Size', offset: 0, expected: MON_INTERCEPT_RESPONSE_SIZE, actual: size });
  }
  let tech = '';
  for (let k = 32; k < 48; k++) {
    const c = dv.getUint8(k);
    if (c === 0) break;
    tech += String.fromCharCode(c);
  }
  const action = dv.getUint32(4, true);
  const reason = dv.getUint32(8, true);
  return {
    action,
    reason,
    actionName: INTERCEPT_ACTION_NAMES[action] ?? `Unknown(${action})`,
    reasonName: INTERCEPT_REASON_NAMES[reason] ?? `Unknown(${reason})`,
    violatingOpIndex: dv.getUint32(12, true),
    violationFlags: dv.getUint32(16, true),
    policyVersion: dv.getUint32(20, true),
    validationTimeNs: dv.getUint32(28, true) * 0x100000000 + dv.getUint32(24, true),
    mitreTechnique: tech,
  };
}
