// Binary payloads of the IOCTLs the C header leaves unspecified, and of win11mon's own IOCTLs.
// Layouts are documented in docs/protocol.md ("IOCTLs"); every decoder checks sizes first.
import { Win11MonError } from '../abi/index.js';

export const MON_VERSION_OUTPUT_SIZE = 16;
export const MON_SCAN_OUTPUT_SIZE = 16;
export const MON_IORING_HANDLES_HEADER_SIZE = 16;
export const MON_POST_SUBMIT_INPUT_SIZE = 40;
export const MON_HOOK_NOTIFY_INPUT_SIZE = 32;
export const MON_CLIENT_EVENT_HEADER_SIZE = 16;

/** win11mon's capability bits, with the header's WIN11MON_CAP_* values. */
export const WIN11MON_CAPS =
  0x4 /* TELEMETRY */ | 0x8 /* RATE_LIMIT */ | 0x20 /* IORING_ENUM */ | 0x40 /* REGBUF_INTEGRITY */ | 0x400 /* PERPROC_RATELIMIT */ |
  0x800 /* RUNTIME_OFFSETS */ | 0x1000 /* ATTACK_TAGGING */ | 0x2000 /* RING_BUFFER */ | 0x4000 /* IORING_INTERCEPT */;

function need(input: Uint8Array, size: number, struct: string, exact = true): DataView {
  if (exact ? input.byteLength !== size : input.byteLength < size) {
    throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `${struct} is ${size} bytes; the input has ${input.byteLength}`, { struct, field: 'Size', offset: 0, expected: size, actual: input.byteLength });
  }
  return new DataView(input.buffer, input.byteOffset, input.byteLength);
}

/**
 * MON_POST_SUBMIT_INPUT: u32 Size, u32 ProcessId, u32 ThreadId, u32 OperationCount, u64 IoRingHandle,
 * u32 Status, u32 Completions (entries the kernel consumed), u32 Flags (bit0 = blocked before the
 * kernel), u32 AllowedOperations (entries of this submission the driver's validations allowed; the
 * driver's bypass evidence counts AllowedOperations − Completions of them as never run; 0 = none).
 */
export interface PostSubmitInput { processId: number; threadId: number; operationCount: number; handleHi: number; handleLo: number; status: number; completions: number; flags: number; allowedOperations?: number }
export function encodePostSubmit(p: PostSubmitInput): Uint8Array {
  const b = new Uint8Array(MON_POST_SUBMIT_INPUT_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, MON_POST_SUBMIT_INPUT_SIZE, true);
  dv.setUint32(4, p.processId, true);
  dv.setUint32(8, p.threadId, true);
  dv.setUint32(12, p.operationCount, true);
  dv.setUint32(16, p.handleLo, true);
  dv.setUint32(20, p.handleHi, true);
  dv.setUint32(24, p.status >>> 0, true);
  dv.setUint32(28, p.completions, true);
  dv.setUint32(32, p.flags, true);
  dv.setUint32(36, p.allowedOperations ?? 0, true);
  return b;
}
export function decodePostSubmit(input: Uint8Array): PostSubmitInput {
  const dv = need(input, MON_POST_SUBMIT_INPUT_SIZE, 'MON_POST_SUBMIT_INPUT');
  if (dv.getUint32(0, true) !== MON_POST_SUBMIT_INPUT_SIZE) throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', 'MON_POST_SUBMIT_INPUT.Size must be 40', { struct: 'MON_POST_SUBMIT_INPUT', field: 'Size', offset: 0, expected: 40, actual: dv.getUint32(0, true) });
  return {
    processId: dv.getUint32(4, true), threadId: dv.getUint32(8, true), operationCount: dv.getUint32(12, true),
    handleLo: dv.getUint32(16, true), handleHi: dv.getUint32(20, true), status: dv.getUint32(24, true),
    completions: dv.getUint32(28, true), flags: dv.getUint32(32, true), allowedOperations: dv.getUint32(36, true),
  };
}

/** MON_HOOK_NOTIFY_INPUT: u32 Size, u32 Event (1 installed, 2 removed), u32 TargetPid, u32 Method (0 iat, 1 inline), u64 Address, u64 Reserved. */
export interface HookNotifyInput { event: 1 | 2; targetPid: number; method: 0 | 1; addressHi: number; addressLo: number }
export function encodeHookNotify(p: HookNotifyInput): Uint8Array {
  const b = new Uint8Array(MON_HOOK_NOTIFY_INPUT_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, MON_HOOK_NOTIFY_INPUT_SIZE, true);
  dv.setUint32(4, p.event, true);
  dv.setUint32(8, p.targetPid, true);
  dv.setUint32(12, p.method, true);
  dv.setUint32(16, p.addressLo, true);
  dv.setUint32(20, p.addressHi, true);
  return b;
}
export function decodeHookNotify(input: Uint8Array): HookNotifyInput {
  const dv = need(input, MON_HOOK_NOTIFY_INPUT_SIZE, 'MON_HOOK_NOTIFY_INPUT');
  const event = dv.getUint32(4, true);
  const method = dv.getUint32(12, true);
  if (event !== 1 && event !== 2) throw new Win11MonError('WIN11MON_ERR_BAD_ENUM', `MON_HOOK_NOTIFY_INPUT.Event is ${event}; 1 (installed) or 2 (removed)`, { struct: 'MON_HOOK_NOTIFY_INPUT', field: 'Event', offset: 4, actual: event });
  if (method !== 0 && method !== 1) throw new Win11MonError('WIN11MON_ERR_BAD_ENUM', `MON_HOOK_NOTIFY_INPUT.Method is ${method}; 0 (iat) or 1 (inline)`, { struct: 'MON_HOOK_NOTIFY_INPUT', field: 'Method', offset: 12, actual: method });
  return { event, targetPid: dv.getUint32(8, true), method, addressLo: dv.getUint32(16, true), addressHi: dv.getUint32(20, true) };
}

/** MON_CLIENT_EVENT_INPUT: u32 Size, u32 Kind (1 DriverUnreachable + fail-open, 2 CallbackError, 3 DriverUnreachable + fail-closed), u32 ProcessId, u32 Status, then UTF-8 text (≤ 160 bytes). */
export interface ClientEventInput { kind: 1 | 2 | 3; processId: number; status: number; text: string }
export function encodeClientEvent(p: ClientEventInput): Uint8Array {
  const text = Buffer.from(p.text.slice(0, 160), 'utf8').subarray(0, 160);
  const b = new Uint8Array(MON_CLIENT_EVENT_HEADER_SIZE + text.byteLength);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, b.byteLength, true);
  dv.setUint32(4, p.kind, true);
  dv.setUint32(8, p.processId, true);
  dv.setUint32(12, p.status >>> 0, true);
  b.set(text, MON_CLIENT_EVENT_HEADER_SIZE);
  return b;
}
export function decodeClientEvent(input: Uint8Array): ClientEventInput {
  const dv = need(input, MON_CLIENT_EVENT_HEADER_SIZE, 'MON_CLIENT_EVENT_INPUT', false);
  const size = dv.getUint32(0, true);
  if (size !== input.byteLength || size > MON_CLIENT_EVENT_HEADER_SIZE + 160) throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `MON_CLIENT_EVENT_INPUT.Size is ${size}; the input has ${input.byteLength} (at most ${MON_CLIENT_EVENT_HEADER_SIZE + 160})`, { struct: 'MON_CLIENT_EVENT_INPUT', field: 'Size', offset: 0, expected: input.byteLength, actual: size });
  const kind = dv.getUint32(4, true);
  if (kind !== 1 && kind !== 2 && kind !== 3) throw new Win11MonError('WIN11MON_ERR_BAD_ENUM', `MON_CLIENT_EVENT_INPUT.Kind is ${kind}; 1, 2 or 3`, { struct: 'MON_CLIENT_EVENT_INPUT', field: 'Kind', offset: 4, actual: kind });
  return { kind, processId: dv.getUint32(8, true), status: dv.getUint32(12, true), text: Buffer.from(input.subarray(MON_CLIENT_EVENT_HEADER_SIZE)).toString('utf8') };
}

/** MON_SCAN_OUTPUT: u32 Size, u32 RingsScanned, u32 NewRings, u32 Findings. */
export function encodeScanOutput(scanned: number, added: number, findings: number): Uint8Array {
  const b = new Uint8Array(MON_SCAN_OUTPUT_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, MON_SCAN_OUTPUT_SIZE, true);
  dv.setUint32(4, scanned, true);
  dv.setUint32(8, added, true);
  dv.setUint32(12, findings, true);
  return b;
}
export function decodeScanOutput(b: Uint8Array): { ringsScanned: number; newRings: number; findings: number } {
  const dv = need(b, MON_SCAN_OUTPUT_SIZE, 'MON_SCAN_OUTPUT');
  return { ringsScanned: dv.getUint32(4, true), newRings: dv.getUint32(8, true), findings: dv.getUint32(12, true) };
}
