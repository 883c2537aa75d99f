// Table-driven codecs for every binary structure in the layout tables (ioring.ts, monitor.ts):
// bytes <-> plain objects for tools, tests and the CLI. Cold path: the engine reads requests
// through InterceptRequestView instead.
import type { FieldDef, StructDef } from './layout.js';
import { Win11MonError } from './errors.js';
import { hex64 } from './u64.js';
import * as ioring from './ioring.js';
import { ALL_MONITOR_STRUCTS } from './monitor.js';

/** A decoded field value: u8..i32 as numbers, 64-bit as "0x%016x", char/wchar as strings, bool8 as booleans, bytes as a hex string. */
export type FieldValue = number | string | boolean;
export type DecodedStruct = Record<string, FieldValue>;
/** What encodeStruct accepts: the decoded form, plus bigint or number for 64-bit fields. */
export type StructInit = Record<string, FieldValue | bigint | undefined>;

/** Every layout table win11mon has, Windows ones first. The C check and docs/abi.md iterate this list. */
export const ALL_IORING_STRUCTS: readonly StructDef[] = [
  ioring.NT_IORING_SQE, ioring.NT_IORING_OP_READ, ioring.NT_IORING_OP_WRITE, ioring.NT_IORING_OP_FLUSH,
  ioring.NT_IORING_OP_CANCEL, ioring.NT_IORING_OP_REGISTER_FILES, ioring.NT_IORING_OP_REGISTER_BUFFERS,
  ioring.NT_IORING_OP_READ_SCATTER, ioring.NT_IORING_SUBMISSION_QUEUE, ioring.NT_IORING_COMPLETION_QUEUE,
  ioring.NT_IORING_CQE, ioring.NT_IORING_INFO, ioring.NT_IORING_STRUCTV1, ioring.NT_IORING_CAPABILITIES,
  ioring.IORING_INFO, ioring.IORING_CAPABILITIES, ioring.IORING_CQE, ioring.IORING_BUFFER_INFO,
  ioring.IORING_REGISTERED_BUFFER, ioring.IORING_HANDLE_REF, ioring.IORING_BUFFER_REF, ioring.IOP_MC_BUFFER_ENTRY,
];
export const ALL_STRUCTS: readonly StructDef[] = [...ALL_IORING_STRUCTS, ...ALL_MONITOR_STRUCTS];

/** The layout table named `name` (e.g. "MON_INTERCEPT_POLICY"), or undefined. */
export function structByName(name: string): StructDef | undefined {
  return ALL_STRUCTS.find((d) => d.name === name);
}

function viewOf(bytes: Uint8Array): DataView {
  // Node Buffers below 4 KiB are slices of a shared pool: always honour byteOffset/byteLength.
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function hexBytes(dv: DataView, off: number, n: number): string {
  let s = '';
  for (let k = 0; k < n; k++) s += dv.getUint8(off + k).toString(16).padStart(2, '0');
  return s;
}

function readField(dv: DataView, base: number, f: FieldDef): FieldValue {
  const o = base + f.offset;
  switch (f.type) {
    case 'u8': return dv.getUint8(o);
    case 'i8': return dv.getInt8(o);
    case 'u16': return dv.getUint16(o, true);
    case 'i16': return dv.getInt16(o, true);
    case 'u32': return dv.getUint32(o, true);
    case 'i32': return dv.getInt32(o, true);
    case 'u64':
    case 'i64':
    case 'ptr': return hex64(dv.getUint32(o + 4, true), dv.getUint32(o, true));
    case 'bool8': return dv.getUint8(o) !== 0;
    case 'char': {
      let s = '';
      for (let k = 0; k < f.size; k++) {
        const c = dv.getUint8(o + k);
        if (c === 0) break;
        s += String.fromCharCode(c);
      }
      return s;
    }
    case 'wchar': {
      let s = '';
      for (let k = 0; k + 1 < f.size; k += 2) {
        const c = dv.getUint16(o + k, true);
        if (c === 0) break;
        s += String.fromCharCode(c);
      }
      return s;
    }
    case 'bytes':
    case 'struct': return hexBytes(dv, o, f.size);
  }
}

/**
 * Decodes one structure from `bytes` at `offset` into a plain object keyed by the table's field
 * names. Throws WIN11MON_ERR_TRUNCATED naming the first field that does not fit.
 * @example decodeStruct(MON_INTERCEPT_POLICY, buf).MaxOperationsPerSubmit // 1024
 */
export function decodeStruct(def: StructDef, bytes: Uint8Array, offset = 0): DecodedStruct {
  if (!Number.isInteger(offset) || offset < 0) {
    throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `offset ${offset} is not a non-negative integer`, { struct: def.name });
  }
  const avail = bytes.byteLength - offset;
  if (avail < def.size) {
    const f = def.fields.find((x) => x.offset + x.size > avail) ?? def.fields[0];
    throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `${def.name} needs ${def.size} bytes at offset ${offset}, only ${Math.max(0, avail)} given (${f?.name ?? 'start'} is cut off)`, { struct: def.name, field: f?.name, offset: offset + (f?.offset ?? 0), expected: def.size, actual: Math.max(0, avail) });
  }
  const dv = viewOf(bytes);
  const out: DecodedStruct = {};
  for (const f of def.fields) out[f.name] = readField(dv, offset, f);
  return out;
}

function bad(def: StructDef, f: FieldDef, what: string, v: unknown): Win11MonError {
  return new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `${def.name}.${f.name}: ${what} (got ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)})`, { struct: def.name, field: f.name, offset: f.offset, actual: String(v) });
}

/** A 64-bit input (bigint, "0x..." hex or decimal string, safe integer) as a bigint; undefined if not one. */
export function toU64Input(v: unknown, signed = false): bigint | undefined {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^(0x[0-9a-fA-F]{1,16}|-?[0-9]{1,20})$/.test(v.trim())) b = BigInt(v.trim());
  else return undefined;
  if (signed && b < 0n && b >= -(1n << 63n)) b += 1n << 64n;
  return b >= 0n && b <= 0xffffffffffffffffn ? b : undefined;
}

const INT_RANGE: Record<string, readonly [number, number]> = {
  u8: [0, 0xff], i8: [-0x80, 0x7f], u16: [0, 0xffff], i16: [-0x8000, 0x7fff], u32: [0, 0xffffffff], i32: [-0x80000000, 0x7fffffff],
};

function writeField(def: StructDef, dv: DataView, base: number, f: FieldDef, v: unknown): void {
  const o = base + f.offset;
  switch (f.type) {
    case 'u8': case 'i8': case 'u16': case 'i16': case 'u32': case 'i32': {
      const [lo, hi] = INT_RANGE[f.type]!;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw bad(def, f, `expected an integer in [${lo}, ${hi}]`, v);
      if (f.type === 'u8' || f.type === 'i8') dv.setUint8(o, v & 0xff);
      else if (f.type === 'u16' || f.type === 'i16') dv.setUint16(o, v & 0xffff, true);
      else dv.setUint32(o, v >>> 0, true);
      return;
    }
    case 'u64': case 'i64': case 'ptr': {
      const b = toU64Input(v, f.type === 'i64');
      if (b === undefined) throw bad(def, f, 'expected a 64-bit value (bigint, "0x..." string or safe integer)', v);
      dv.setUint32(o, Number(b & 0xffffffffn), true);
      dv.setUint32(o + 4, Number(b >> 32n), true);
      return;
    }
    case 'bool8':
      if (typeof v !== 'boolean') throw bad(def, f, 'expected a boolean', v);
      dv.setUint8(o, v ? 1 : 0);
      return;
    case 'char': case 'wchar': {
      const unit = f.type === 'char' ? 1 : 2;
      if (typeof v !== 'string' || v.length * unit > f.size) throw bad(def, f, `expected a string of at most ${f.size / unit} characters`, v);
      for (let k = 0; k < v.length; k++) {
        const c = v.charCodeAt(k);
        if (c === 0 || (unit === 1 && c > 0xff)) throw bad(def, f, 'characters must be 1..0xff (char) or non-NUL (wchar)', v);
        if (unit === 1) dv.setUint8(o + k, c);
        else dv.setUint16(o + 2 * k, c, true);
      }
      return;
    }
    case 'bytes': case 'struct': {
      if (typeof v !== 'string' || v.length !== f.size * 2 || !/^[0-9a-fA-F]*$/.test(v)) throw bad(def, f, `expected ${f.size * 2} hex digits`, v);
      for (let k = 0; k < f.size; k++) dv.setUint8(o + k, parseInt(v.slice(2 * k, 2 * k + 2), 16));
      return;
    }
  }
}

/** Writes `obj` as structure `def` into `dv` at `off` (missing fields are zero). */
export function encodeStructInto(def: StructDef, obj: StructInit, dv: DataView, off: number): void {
  if (off < 0 || off + def.size > dv.byteLength) {
    throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `${def.name} needs ${def.size} bytes at offset ${off}, the target has ${dv.byteLength}`, { struct: def.name, offset: off, expected: def.size, actual: dv.byteLength - off });
  }
  for (let k = 0; k < def.size; k++) dv.setUint8(off + k, 0);
  const known = new Set(def.fields.map((f) => f.name));
  for (const key of Object.keys(obj)) {
    if (!known.has(key)) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `${def.name} has no field ${key}`, { struct: def.name, field: key });
  }
  for (const f of def.fields) {
    const v = obj[f.name];
    if (v !== undefined) writeField(def, dv, off, f, v);
  }
}

/**
 * The inverse of decodeStruct: a fresh `def.size`-byte array. 64-bit fields take bigint, hex string or number.
 * @example encodeStruct(MON_INTERCEPT_POLICY, { Size: 28, Enabled: true, MaxOperationsPerSubmit: 1024 })
 */
export function encodeStruct(def: StructDef, obj: StructInit): Uint8Array {
  const out = new Uint8Array(def.size);
  encodeStructInto(def, obj, new DataView(out.buffer), 0);
  return out;
}
