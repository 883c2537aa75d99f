// The typed telemetry event model (MonitorEvent) and the binary codecs that write each event
// straight into a MON_RING_EVENT record: a 40-byte header, then a fixed per-type payload whose
// layout is the table below (the codec and docs/protocol.md are both generated from it).
import {
  MON_RING_EVENT_HEADER_SIZE, MON_RING_EVENT_MAGIC, MonEventType, type MonEventTypeName,
  INTERCEPT_ACTION_NAMES, INTERCEPT_REASON_NAMES, type InterceptActionName, type InterceptReasonName,
  Win11MonError, hex64,
} from '../../abi/index.js';

/** Slot size of the telemetry ring: one MON_RING_EVENT header (40) + up to 216 payload bytes. */
export const RING_SLOT_SIZE = 256;
/** The largest payload a record can carry (RING_SLOT_SIZE - MON_RING_EVENT_HEADER_SIZE). */
export const MAX_EVENT_PAYLOAD = RING_SLOT_SIZE - MON_RING_EVENT_HEADER_SIZE;

/** A 64-bit value as unsigned 32-bit halves (hot paths never build a BigInt). */
export interface U64 { hi: number; lo: number }

export const DECISION_LAYERS = ['hook', 'driver', 'integrity', 'enumeration'] as const;
export type DecisionLayer = (typeof DECISION_LAYERS)[number];
export const HOOK_METHODS = ['iat', 'inline'] as const;
export type HookMethod = (typeof HOOK_METHODS)[number];
export const DROP_POLICIES = ['overwrite-oldest', 'drop-newest'] as const;
export type DropPolicy = (typeof DROP_POLICIES)[number];

/** InterceptDecision (0x100): one MonInterceptValidateSubmission outcome. */
export interface DecisionPayload {
  action: InterceptActionName;
  reason: InterceptReasonName;
  /** Index of the first bad SQE, or 0xFFFFFFFF. */
  violatingOpIndex: number;
  policyVersion: number;
  ioRingHandle: U64;
  operationCount: number;
  violationFlags: number;
  layer: DecisionLayer;
  /** ATT&CK technique id, at most 16 ASCII characters. */
  technique: string;
  /** Short human explanation, truncated to 160 ASCII characters. */
  explanation: string;
}
/** RegBuffersViolation (9): an A2 integrity finding. */
export interface IntegrityPayload {
  objectAddress: U64;
  regBuffersAddress: U64;
  handle: U64;
  regBuffersCount: number;
  expectedCount: number;
  violationFlags: number;
  severity: number;
  technique: string;
}
/** PolicyChanged (0x101). */
export interface PolicyChangedPayload { version: number; previousVersion: number; hashPrefix: string; source: string }
/** HookInstalled (0x102) / HookRemoved (0x103). */
export interface HookPayload { targetPid: number; method: HookMethod; address: U64; symbol: string }
/** BypassSuspected (0x104): the kernel saw submissions the hook did not. */
export interface BypassPayload { ioRingHandle: U64; evidenceFlags: number; submitsSeenByKernel: number; submitsSeenByHook: number; technique: string; detail: string }
/** EventsDropped (0x105): events the ring refused (drop-newest) since the previous notice. */
export interface DropsPayload { count: U64; firstDropTime: U64; lastDropTime: U64; policy: DropPolicy }
/** Bugcheck (0x106): the emulated kernel stopped. */
export interface BugcheckPayload { code: number; p1: U64; p2: U64; p3: U64; p4: U64; message: string }
/** RingQuarantined (0x107). */
export interface QuarantinePayload { ioRingHandle: U64; objectAddress: U64; reason: InterceptReasonName; violationFlags: number; detail: string }
/** PostSubmit (0x108). */
export interface PostSubmitPayload { ioRingHandle: U64; operationCount: number; status: number; completions: number }
/** DriverUnreachable (0x109): the hook could not reach the driver and applied its fallback. */
export interface UnreachablePayload { status: number; fallbackAction: InterceptActionName; detail: string }
/** CallbackError (0x10a): a client validation callback threw. */
export interface CallbackErrorPayload { status: number; message: string }
/** Any other type (the C header's 1..8, 10): opaque bytes. */
export interface RawPayload { data: Uint8Array }

export interface PayloadByType {
  InterceptDecision: DecisionPayload;
  RegBuffersViolation: IntegrityPayload;
  PolicyChanged: PolicyChangedPayload;
  HookInstalled: HookPayload;
  HookRemoved: HookPayload;
  BypassSuspected: BypassPayload;
  EventsDropped: DropsPayload;
  Bugcheck: BugcheckPayload;
  RingQuarantined: QuarantinePayload;
  PostSubmit: PostSubmitPayload;
  DriverUnreachable: UnreachablePayload;
  CallbackError: CallbackErrorPayload;
}
export type TypedEventName = keyof PayloadByType;
export type RawEventName = Exclude<MonEventTypeName, TypedEventName>;

interface EventCommon {
  /** 64-bit sequence number (JS number, exact up to 2^53). */
  seq: number;
  /** FILETIME: 100 ns units since 1601-01-01 UTC. */
  timestamp: U64;
  pid: number;
  tid: number;
}
/** A decoded telemetry event. `type` names the MonEventType; `payload` is typed per type. */
export type MonitorEvent =
  | { [K in TypedEventName]: EventCommon & { type: K; payload: PayloadByType[K] } }[TypedEventName]
  | (EventCommon & { type: RawEventName | 'Unknown'; eventType: number; payload: RawPayload });

// ---- layout tables --------------------------------------------------------------------------

type FieldKind = 'u8' | 'u32' | 'u64' | 'char' | 'enum8' | 'enum32' | 'pad';
export interface PayloadField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly kind: FieldKind;
  readonly meaning: string;
  /** Value names of an enum field, by value. */
  readonly names?: readonly string[];
}
export interface PayloadLayout { readonly type: TypedEventName; readonly code: number; readonly size: number; readonly fields: readonly PayloadField[] }

type F = [name: string, offset: number, size: number, kind: FieldKind, meaning: string, names?: readonly string[]];
function layout(type: TypedEventName, size: number, fields: F[]): PayloadLayout {
  let end = 0;
  const defs = fields.map(([name, offset, fsize, kind, meaning, names]) => {
    if (offset !== end) throw new Error(`payload ${type}.${name} at ${offset}, expected ${end}`);
    if ((kind === 'u32' || kind === 'u64' || kind === 'enum32') && offset % 4 !== 0) throw new Error(`payload ${type}.${name} is not 4-aligned`);
    end = offset + fsize;
    return Object.freeze({ name, offset, size: fsize, kind, meaning, ...(names ? { names } : {}) });
  });
  if (end !== size || size > MAX_EVENT_PAYLOAD || size % 8 !== 0) throw new Error(`payload ${type} size ${end}/${size}`);
  return Object.freeze({ type, code: MonEventType[type], size, fields: Object.freeze(defs) });
}

const ACTIONS = INTERCEPT_ACTION_NAMES;
const REASONS = INTERCEPT_REASON_NAMES;
export const PAYLOAD_LAYOUTS: readonly PayloadLayout[] = [
  layout('InterceptDecision', 216, [
    ['action', 0, 4, 'enum32', 'MON_INTERCEPT_ACTION', ACTIONS],
    ['reason', 4, 4, 'enum32', 'MON_INTERCEPT_REASON', REASONS],
    ['violatingOpIndex', 8, 4, 'u32', 'first bad SQE or 0xFFFFFFFF'],
    ['policyVersion', 12, 4, 'u32', 'policy version that decided'],
    ['ioRingHandle', 16, 8, 'u64', 'IoRing handle submitted'],
    ['operationCount', 24, 4, 'u32', 'SQEs in the submission'],
    ['violationFlags', 28, 4, 'u32', 'MON_REGBUF_VF_*'],
    ['layer', 32, 1, 'enum8', 'which layer decided', DECISION_LAYERS],
    ['reserved', 33, 7, 'pad', 'zero'],
    ['technique', 40, 16, 'char', 'ATT&CK technique, NUL-padded ASCII'],
    ['explanation', 56, 160, 'char', 'explanation, truncated, NUL-padded ASCII'],
  ]),
  layout('RegBuffersViolation', 56, [
    ['objectAddress', 0, 8, 'u64', 'IORING_OBJECT address'],
    ['regBuffersAddress', 8, 8, 'u64', 'RegBuffers value seen'],
    ['handle', 16, 8, 'u64', 'IoRing handle'],
    ['regBuffersCount', 24, 4, 'u32', 'RegBuffersCount seen'],
    ['expectedCount', 28, 4, 'u32', 'count the registration implies'],
    ['violationFlags', 32, 4, 'u32', 'MON_REGBUF_VF_*'],
    ['severity', 36, 1, 'u8', '1..5'],
    ['reserved', 37, 3, 'pad', 'zero'],
    ['technique', 40, 16, 'char', 'ATT&CK technique'],
  ]),
  layout('PolicyChanged', 88, [
    ['version', 0, 4, 'u32', 'new policy version'],
    ['previousVersion', 4, 4, 'u32', 'version replaced'],
    ['hashPrefix', 8, 16, 'char', 'first 16 hex digits of the policy SHA-256'],
    ['source', 24, 64, 'char', 'where it came from (file, IOCTL, default)'],
  ]),
  layout('HookInstalled', 80, [
    ['targetPid', 0, 4, 'u32', 'hooked process'],
    ['method', 4, 4, 'enum32', 'hook method', HOOK_METHODS],
    ['address', 8, 8, 'u64', 'patched address'],
    ['symbol', 16, 64, 'char', 'hooked function, e.g. ntdll!NtSubmitIoRing'],
  ]),
  layout('HookRemoved', 80, [
    ['targetPid', 0, 4, 'u32', 'hooked process'],
    ['method', 4, 4, 'enum32', 'hook method', HOOK_METHODS],
    ['address', 8, 8, 'u64', 'restored address'],
    ['symbol', 16, 64, 'char', 'unhooked function'],
  ]),
  layout('BypassSuspected', 168, [
    ['ioRingHandle', 0, 8, 'u64', 'IoRing handle'],
    ['evidenceFlags', 8, 4, 'u32', 'what disagreed'],
    ['submitsSeenByKernel', 12, 4, 'u32', 'submissions the kernel saw'],
    ['submitsSeenByHook', 16, 4, 'u32', 'submissions the hook validated'],
    ['reserved', 20, 4, 'pad', 'zero'],
    ['technique', 24, 16, 'char', 'ATT&CK technique'],
    ['detail', 40, 128, 'char', 'explanation, truncated'],
  ]),
  layout('EventsDropped', 32, [
    ['count', 0, 8, 'u64', 'events dropped since the previous notice'],
    ['firstDropTime', 8, 8, 'u64', 'FILETIME of the first drop'],
    ['lastDropTime', 16, 8, 'u64', 'FILETIME of the last drop'],
    ['policy', 24, 4, 'enum32', 'ring policy', DROP_POLICIES],
    ['reserved', 28, 4, 'pad', 'zero'],
  ]),
  layout('Bugcheck', 104, [
    ['code', 0, 4, 'u32', 'bugcheck code'],
    ['reserved', 4, 4, 'pad', 'zero'],
    ['p1', 8, 8, 'u64', 'parameter 1'],
    ['p2', 16, 8, 'u64', 'parameter 2'],
    ['p3', 24, 8, 'u64', 'parameter 3'],
    ['p4', 32, 8, 'u64', 'parameter 4'],
    ['message', 40, 64, 'char', 'text, truncated'],
  ]),
  layout('RingQuarantined', 120, [
    ['ioRingHandle', 0, 8, 'u64', 'IoRing handle'],
    ['objectAddress', 8, 8, 'u64', 'IORING_OBJECT address'],
    ['reason', 16, 4, 'enum32', 'MON_INTERCEPT_REASON', REASONS],
    ['violationFlags', 20, 4, 'u32', 'MON_REGBUF_VF_*'],
    ['detail', 24, 96, 'char', 'explanation, truncated'],
  ]),
  layout('PostSubmit', 24, [
    ['ioRingHandle', 0, 8, 'u64', 'IoRing handle'],
    ['operationCount', 8, 4, 'u32', 'SQEs submitted'],
    ['status', 12, 4, 'u32', 'NtSubmitIoRing NTSTATUS'],
    ['completions', 16, 4, 'u32', 'CQEs produced'],
    ['reserved', 20, 4, 'pad', 'zero'],
  ]),
  layout('DriverUnreachable', 104, [
    ['status', 0, 4, 'u32', 'NTSTATUS of the failed call'],
    ['fallbackAction', 4, 4, 'enum32', 'what the hook did instead', ACTIONS],
    ['detail', 8, 96, 'char', 'explanation, truncated'],
  ]),
  layout('CallbackError', 136, [
    ['status', 0, 4, 'u32', 'NTSTATUS returned instead'],
    ['reserved', 4, 4, 'pad', 'zero'],
    ['message', 8, 128, 'char', 'error message, truncated'],
  ]),
];

// The typed-array fast paths write little-endian words in host order.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('win11mon telemetry needs a little-endian host');

const layoutByCode = new Map<number, PayloadLayout>(PAYLOAD_LAYOUTS.map((l) => [l.code, l]));
const nameByCode = new Map<number, MonEventTypeName>(
  (Object.entries(MonEventType) as [MonEventTypeName, number][]).map(([n, v]) => [v, n]),
);
const enumIndex = new Map<readonly string[], Map<string, number>>();
for (const l of PAYLOAD_LAYOUTS) for (const f of l.fields) if (f.names && !enumIndex.has(f.names)) enumIndex.set(f.names, new Map(f.names.map((n, i) => [n, i])));

/** The payload layout of a typed event, or undefined for raw types. */
export function payloadLayout(code: number): PayloadLayout | undefined {
  return layoutByCode.get(code);
}
/** The MonEventType name of a code, or undefined. */
export function eventTypeName(code: number): MonEventTypeName | undefined {
  return nameByCode.get(code);
}

// ---- encode (hot path: no allocation beyond what the caller passes) ---------------------------

function writeChars(bytes: Uint8Array, off: number, size: number, s: string): void {
  const n = s.length < size ? s.length : size;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    bytes[off + i] = c < 0x20 || c > 0x7e ? 0x3f : c; // printable ASCII only; '?' otherwise
  }
  for (; i < size; i++) bytes[off + i] = 0;
}

/**
 * Writes the payload of a typed event at byte `off` (4-aligned: the byte after a record header) and
 * returns its size. Fields are written straight into the target through a Uint32Array and a
 * Uint8Array over the same memory (DataView on a SharedArrayBuffer is not inlined by V8 and costs
 * several times more); every u32/u64 field is 4-aligned by the layout check. Nothing is allocated.
 */
export function writePayload(l: PayloadLayout, payload: object, u32: Uint32Array, bytes: Uint8Array, off: number): number {
  const p = payload as Record<string, unknown>;
  const fields = l.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const at = off + f.offset;
    switch (f.kind) {
      case 'u8': bytes[at] = (p[f.name] as number) & 0xff; break;
      case 'u32': u32[at >> 2] = (p[f.name] as number) >>> 0; break;
      case 'u64': {
        const v = p[f.name] as U64;
        u32[at >> 2] = v.lo >>> 0;
        u32[(at >> 2) + 1] = v.hi >>> 0;
        break;
      }
      case 'char': writeChars(bytes, at, f.size, (p[f.name] as string | undefined) ?? ''); break;
      case 'enum8':
      case 'enum32': {
        const idx = enumIndex.get(f.names!)!.get(p[f.name] as string);
        if (idx === undefined) throw new Win11MonError('WIN11MON_ERR_BAD_ENUM', `${l.type}.${f.name}: unknown value`, { struct: l.type, field: f.name, actual: String(p[f.name]) });
        if (f.kind === 'enum8') bytes[at] = idx; else u32[at >> 2] = idx;
        break;
      }
      case 'pad': bytes.fill(0, at, at + f.size); break;
    }
  }
  return l.size;
}

/** Record TotalSize for a payload: header + payload, padded to 8 bytes. */
export function recordSize(payloadSize: number): number {
  return MON_RING_EVENT_HEADER_SIZE + ((payloadSize + 7) & ~7);
}

/** Writes a MON_RING_EVENT header at byte `off` (4-aligned) through a Uint32Array view. */
export function writeHeader(u32: Uint32Array, off: number, eventType: number, payloadSize: number, tsHi: number, tsLo: number, pid: number, tid: number, seq: number): void {
  const w = off >> 2;
  u32[w] = MON_RING_EVENT_MAGIC;
  u32[w + 1] = recordSize(payloadSize);
  u32[w + 2] = payloadSize;
  u32[w + 3] = eventType;
  u32[w + 4] = tsLo >>> 0;
  u32[w + 5] = tsHi >>> 0;
  u32[w + 6] = pid >>> 0;
  u32[w + 7] = tid >>> 0;
  u32[w + 8] = seq >>> 0; // SequenceNumber: low 32 bits (the C header's ULONG)
  u32[w + 9] = 0;
}

/**
 * Encodes a whole event as a standalone MON_RING_EVENT record (cold path: tools, journal replays,
 * tests). The record's SequenceNumber carries the low 32 bits of `event.seq`.
 */
export function encodeEvent(event: MonitorEvent): Uint8Array {
  const code = 'eventType' in event ? event.eventType : MonEventType[event.type];
  const l = payloadLayout(code);
  const payloadSize = l ? l.size : (event.payload as RawPayload).data.byteLength;
  if (payloadSize > MAX_EVENT_PAYLOAD) throw new Win11MonError('WIN11MON_ERR_COUNT_OVERFLOW', `payload of ${payloadSize} bytes exceeds ${MAX_EVENT_PAYLOAD}`, { field: 'PayloadSize', expected: MAX_EVENT_PAYLOAD, actual: payloadSize });
  const out = new Uint8Array(recordSize(payloadSize));
  const u32 = new Uint32Array(out.buffer);
  writeHeader(u32, 0, code, payloadSize, event.timestamp.hi, event.timestamp.lo, event.pid, event.tid, event.seq);
  if (l) writePayload(l, event.payload, u32, out, MON_RING_EVENT_HEADER_SIZE);
  else out.set((event.payload as RawPayload).data, MON_RING_EVENT_HEADER_SIZE);
  return out;
}

// ---- decode (cold path) ----------------------------------------------------------------------

function readChars(bytes: Uint8Array, off: number, size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) {
    const c = bytes[off + i]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** Reads the fields of a typed payload into a plain object. */
export function readPayload(l: PayloadLayout, bytes: Uint8Array, off: number): Record<string, unknown> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Record<string, unknown> = {};
  for (const f of l.fields) {
    const at = off + f.offset;
    switch (f.kind) {
      case 'u8': out[f.name] = dv.getUint8(at); break;
      case 'u32': out[f.name] = dv.getUint32(at, true); break;
      case 'u64': out[f.name] = { hi: dv.getUint32(at + 4, true), lo: dv.getUint32(at, true) }; break;
      case 'char': out[f.name] = readChars(bytes, at, f.size); break;
      case 'enum8':
      case 'enum32': {
        const v = f.kind === 'enum8' ? dv.getUint8(at) : dv.getUint32(at, true);
        const name = f.names![v];
        if (name === undefined) throw new Win11MonError('WIN11MON_ERR_BAD_ENUM', `${l.type}.${f.name} = ${v} is out of range`, { struct: l.type, field: f.name, offset: at, actual: v, expected: `0..${f.names!.length - 1}` });
        out[f.name] = name;
        break;
      }
      case 'pad': break;
    }
  }
  return out;
}

/** The header fields of a record, validated. */
export interface RecordHeader { eventType: number; totalSize: number; payloadSize: number; tsHi: number; tsLo: number; pid: number; tid: number; seqLo: number }

/** Reads and validates a MON_RING_EVENT header at `off`; throws a typed Win11MonError when it is not one. */
export function readHeader(bytes: Uint8Array, off = 0, maxTotal = RING_SLOT_SIZE): RecordHeader {
  if (bytes.byteLength - off < MON_RING_EVENT_HEADER_SIZE) throw new Win11MonError('WIN11MON_ERR_TRUNCATED', 'record shorter than its 40-byte header', { struct: 'MON_RING_EVENT', offset: off, expected: MON_RING_EVENT_HEADER_SIZE, actual: bytes.byteLength - off });
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(off, true);
  if (magic !== MON_RING_EVENT_MAGIC) throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', 'record magic is not REVT', { struct: 'MON_RING_EVENT', field: 'Magic', offset: off, expected: MON_RING_EVENT_MAGIC, actual: magic });
  const totalSize = dv.getUint32(off + 4, true);
  const payloadSize = dv.getUint32(off + 8, true);
  if (payloadSize > MAX_EVENT_PAYLOAD || totalSize !== recordSize(payloadSize) || totalSize > maxTotal) {
    throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', 'record TotalSize/PayloadSize disagree', { struct: 'MON_RING_EVENT', field: 'TotalSize', offset: off + 4, expected: recordSize(Math.min(payloadSize, MAX_EVENT_PAYLOAD)), actual: totalSize });
  }
  if (bytes.byteLength - off < totalSize) throw new Win11MonError('WIN11MON_ERR_TRUNCATED', 'record extends past the buffer', { struct: 'MON_RING_EVENT', field: 'TotalSize', offset: off + 4, expected: totalSize, actual: bytes.byteLength - off });
  return {
    eventType: dv.getUint32(off + 12, true), totalSize, payloadSize,
    tsLo: dv.getUint32(off + 16, true), tsHi: dv.getUint32(off + 20, true),
    pid: dv.getUint32(off + 24, true), tid: dv.getUint32(off + 28, true), seqLo: dv.getUint32(off + 32, true),
  };
}

/**
 * Decodes one MON_RING_EVENT record at `off`. `seq` is the full 64-bit sequence when the caller
 * knows it (ring, journal); otherwise the record's 32-bit SequenceNumber is used.
 *
 * @example
 * const ev = decodeEvent(encodeEvent(someEvent));
 */
export function decodeEvent(bytes: Uint8Array, off = 0, seq?: number): MonitorEvent {
  const h = readHeader(bytes, off);
  const l = payloadLayout(h.eventType);
  const common = { seq: seq ?? h.seqLo, timestamp: { hi: h.tsHi, lo: h.tsLo }, pid: h.pid, tid: h.tid };
  const p = off + MON_RING_EVENT_HEADER_SIZE;
  if (l) {
    if (h.payloadSize < l.size) throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `${l.type} payload is ${h.payloadSize} bytes, needs ${l.size}`, { struct: l.type, field: 'PayloadSize', expected: l.size, actual: h.payloadSize });
    return { type: l.type, ...common, payload: readPayload(l, bytes, p) } as unknown as MonitorEvent;
  }
  const name = eventTypeName(h.eventType);
  // A copy through the constructor: `bytes` may be a Buffer (a journal file, a socket read), whose slice() does not copy.
  return { type: (name ?? 'Unknown') as RawEventName, eventType: h.eventType, ...common, payload: { data: new Uint8Array(bytes.subarray(p, p + h.payloadSize)) } };
}

/** FILETIME (100 ns since 1601) of a Unix time in milliseconds, as halves, computed exactly without BigInt. */
export function filetimeFromUnixMs(ms: number, out: U64): U64 {
  const whole = Math.floor(ms);
  const frac = Math.floor((ms - whole) * 10000); // 100 ns ticks inside the millisecond
  const t = whole + 11644473600000; // ms since 1601: < 2^53, exact
  const tHi = Math.floor(t / 0x100000000);
  const tLo = t - tHi * 0x100000000;
  const lo = tLo * 10000 + frac; // < 2^46: exact
  const carry = Math.floor(lo / 0x100000000);
  out.lo = lo - carry * 0x100000000;
  out.hi = (tHi * 10000 + carry) >>> 0;
  return out;
}

/** Unix milliseconds of a FILETIME (for display; loses sub-millisecond precision). */
export function unixMsFromFiletime(t: U64): number {
  return ((t.hi >>> 0) * 0x100000000 + (t.lo >>> 0)) / 10000 - 11644473600000;
}

/**
 * The JSON form of an event: 64-bit values as "0x..." hex, raw payloads as hex, plus an ISO time.
 * This is what `exportJsonLines` writes.
 */
export function eventToJson(ev: MonitorEvent): Record<string, unknown> {
  const conv = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
    if (v && typeof v === 'object' && 'hi' in v && 'lo' in v && Object.keys(v).length === 2) return hex64((v as U64).hi, (v as U64).lo);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, conv(x)]));
    return v;
  };
  const ms = unixMsFromFiletime(ev.timestamp);
  return { ...(conv(ev) as Record<string, unknown>), time: Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : null };
}

/** Markdown tables of the payload layouts (docs/protocol.md embeds this text; a test checks it). */
export function payloadLayoutsMarkdown(): string {
  const parts: string[] = [];
  for (const l of PAYLOAD_LAYOUTS) {
    parts.push(`#### ${l.type} (0x${l.code.toString(16)}), ${l.size} bytes\n`);
    parts.push('| Offset | Size | Field | Type | Meaning |', '|---|---|---|---|---|');
    for (const f of l.fields) {
      const type = f.kind === 'char' ? `CHAR[${f.size}]` : f.kind === 'enum8' || f.kind === 'enum32' ? `${f.kind === 'enum8' ? 'u8' : 'u32'} enum: ${f.names!.map((n, i) => `${i} ${n}`).join(', ')}` : f.kind === 'pad' ? 'padding' : f.kind;
      parts.push(`| ${f.offset} | ${f.size} | ${f.name} | ${type} | ${f.meaning} |`);
    }
    parts.push('');
  }
  return parts.join('\n');
}
