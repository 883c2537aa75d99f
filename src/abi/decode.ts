// Plain-object decoders for tools and tests: a bare native NT_IORING_SQE (with its per-opcode
// payload) and a whole MON_INTERCEPT_REQUEST (header, every MON_SERIALIZED_SQE with its meaning,
// extension records). Cold path; the engine uses InterceptRequestView. 64-bit values are hex strings.
import { Win11MonError, type ErrorCode } from './errors.js';
import { hex64 } from './u64.js';
import { classifyAddress, ADDRESS_CLASS_NAMES } from './address.js';
import {
  IoRingOp, IORING_OP_MAX_KNOWN, opCodeName, NT_IORING_SQE_SIZE, SqeOff, NT_IORING_OP_FLAGS_VALID, NT_IORING_SQE_FLAGS_VALID,
  NT_IORING_OP_FLAG_REGISTERED_FILE, NT_IORING_OP_FLAG_REGISTERED_BUFFER, NT_IORING_SQE_FLAG_DRAIN_PRECEDING_OPS, NT_WRITE_FLAG_WRITE_THROUGH,
  IORING_BUFFER_INFO_SIZE,
} from './ioring.js';
import {
  MsqOff, MonExtType, MON_SQE_EXT_VERSION,
  MON_SQE_FLAG_PREREGISTERED_FILE, MON_SQE_FLAG_PREREGISTERED_BUFFER, MON_REQUEST_FLAG_EXTENSIONS,
} from './monitor.js';
import { InterceptRequestView, readExtensions } from './request.js';
import { toU64Input } from './codec.js';

export interface DecodeOptions {
  /** Strict (default for native SQEs): unknown opcodes and reserved bits throw. Otherwise they are reported in `anomalies`. */
  strict?: boolean;
}

/** A problem found in non-strict mode: what strict mode would have thrown. */
export interface Anomaly {
  code: ErrorCode;
  field: string;
  offset: number;
  message: string;
}

export type HandleRef = { kind: 'raw'; handle: string } | { kind: 'registered'; index: number };
export type BufferRef = { kind: 'raw'; address: string; addressClass: string } | { kind: 'registered'; index: number; offset: number };

/** The per-opcode payload of a native SQE (the NT_IORING_OP_* union member the opcode selects). */
export type NativeSqeOp =
  | { kind: 'NOP' }
  | { kind: 'READ'; commonOpFlags: number; padding: number; file: HandleRef; buffer: BufferRef; fileOffset: string; length: number; key: number }
  | { kind: 'WRITE'; commonOpFlags: number; writeFlags: number; writeFlagNames: string[]; file: HandleRef; buffer: BufferRef; fileOffset: string; length: number; key: number }
  | { kind: 'FLUSH'; commonOpFlags: number; flushMode: number; file: HandleRef }
  | { kind: 'CANCEL'; commonOpFlags: number; file: HandleRef; cancelId: string }
  | { kind: 'REGISTER_FILES'; commonOpFlags: number; requiredFlags: number; advisoryFlags: number; count: number; handles: string }
  | { kind: 'REGISTER_BUFFERS'; commonOpFlags: number; requiredFlags: number; advisoryFlags: number; count: number; buffers: string }
  | { kind: 'READ_SCATTER'; commonOpFlags: number; padding: number; file: HandleRef; segmentCount: number; segmentArray: string; fileOffset: string; length: number; key: number }
  | { kind: 'WRITE_GATHER'; commonOpFlags: number; writeFlags: number; writeFlagNames: string[]; file: HandleRef; segmentCount: number; segmentArray: string; fileOffset: string; length: number; key: number }
  | { kind: 'UNKNOWN'; raw: string };

export interface NativeSqeDecoded {
  offset: number;
  opCode: number;
  opName: string;
  flags: number;
  flagNames: string[];
  userData: string;
  commonOpFlagNames: string[];
  op: NativeSqeOp;
  anomalies: Anomaly[];
}

function u32(dv: DataView, o: number): number { return dv.getUint32(o, true); }
function h64(dv: DataView, o: number): string { return hex64(dv.getUint32(o + 4, true), dv.getUint32(o, true)); }

/** Names of the bits in NT_IORING_SQE.Flags; unknown bits as "0x...". */
export function sqeFlagNames(flags: number): string[] {
  return bitNames(flags, [[NT_IORING_SQE_FLAG_DRAIN_PRECEDING_OPS, 'NT_IORING_SQE_FLAG_DRAIN_PRECEDING_OPS']]);
}
/** Names of the bits in CommonOpFlags (native) / MON_SERIALIZED_SQE.Flags. */
export function commonOpFlagNames(flags: number): string[] {
  return bitNames(flags, [[NT_IORING_OP_FLAG_REGISTERED_FILE, 'NT_IORING_OP_FLAG_REGISTERED_FILE'], [NT_IORING_OP_FLAG_REGISTERED_BUFFER, 'NT_IORING_OP_FLAG_REGISTERED_BUFFER']]);
}
function monFlagNames(flags: number): string[] {
  return bitNames(flags, [[MON_SQE_FLAG_PREREGISTERED_FILE, 'MON_SQE_FLAG_PREREGISTERED_FILE'], [MON_SQE_FLAG_PREREGISTERED_BUFFER, 'MON_SQE_FLAG_PREREGISTERED_BUFFER']]);
}
function bitNames(flags: number, known: readonly (readonly [number, string])[]): string[] {
  const out: string[] = [];
  let rest = flags >>> 0;
  for (const [bit, name] of known) {
    if ((rest & bit) !== 0) { out.push(name); rest = (rest & ~bit) >>> 0; }
  }
  for (let b = 0; b < 32; b++) if ((rest >>> b) & 1) out.push(`0x${((1 << b) >>> 0).toString(16)}`);
  return out;
}

function handleRef(dv: DataView, o: number, registered: boolean): HandleRef {
  return registered ? { kind: 'registered', index: u32(dv, o) } : { kind: 'raw', handle: h64(dv, o) };
}
function bufferRef(dv: DataView, o: number, registered: boolean): BufferRef {
  if (registered) return { kind: 'registered', index: u32(dv, o), offset: u32(dv, o + 4) };
  const hi = u32(dv, o + 4), lo = u32(dv, o);
  return { kind: 'raw', address: hex64(hi, lo), addressClass: ADDRESS_CLASS_NAMES[classifyAddress(hi, lo)] };
}

function report(strict: boolean, anomalies: Anomaly[], code: ErrorCode, field: string, offset: number, message: string, actual: string | number): void {
  if (strict) throw new Win11MonError(code, message, { struct: 'NT_IORING_SQE', field, offset, actual });
  anomalies.push({ code, field, offset, message });
}

/**
 * Decodes the bare 64-byte NT_IORING_SQE at `bytes[off..off+64)`. Strict by default: an opcode
 * Windows does not define throws WIN11MON_ERR_UNKNOWN_OPCODE, reserved bits in Flags or
 * CommonOpFlags throw WIN11MON_ERR_RESERVED_NONZERO (field and absolute offset in `detail`).
 * @example decodeNativeSqe(buf, 0).op // { kind: 'WRITE', buffer: { kind: 'registered', index: 0, offset: 0 }, ... }
 */
export function decodeNativeSqe(bytes: Uint8Array, off = 0, opts: DecodeOptions = {}): NativeSqeDecoded {
  const strict = opts.strict ?? true;
  if (!Number.isInteger(off) || off < 0 || bytes.byteLength - off < NT_IORING_SQE_SIZE) {
    throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `NT_IORING_SQE at offset ${off} needs ${NT_IORING_SQE_SIZE} bytes, ${Math.max(0, bytes.byteLength - off)} given`, { struct: 'NT_IORING_SQE', field: 'OpCode', offset: off, expected: NT_IORING_SQE_SIZE, actual: Math.max(0, bytes.byteLength - off) });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const anomalies: Anomaly[] = [];
  const opCode = u32(dv, off + SqeOff.OpCode);
  const flags = u32(dv, off + SqeOff.Flags);
  if ((flags & ~NT_IORING_SQE_FLAGS_VALID) !== 0) {
    report(strict, anomalies, 'WIN11MON_ERR_RESERVED_NONZERO', 'Flags', off + SqeOff.Flags, `NT_IORING_SQE.Flags at offset ${off + SqeOff.Flags} has reserved bits 0x${((flags & ~NT_IORING_SQE_FLAGS_VALID) >>> 0).toString(16)}`, `0x${flags.toString(16)}`);
  }
  if (opCode > IORING_OP_MAX_KNOWN) {
    report(strict, anomalies, 'WIN11MON_ERR_UNKNOWN_OPCODE', 'OpCode', off + SqeOff.OpCode, `NT_IORING_SQE.OpCode at offset ${off} is ${opCode}, which Windows does not define (known: 0..${IORING_OP_MAX_KNOWN})`, opCode);
  }
  const common = u32(dv, off + SqeOff.CommonOpFlags);
  if (opCode !== IoRingOp.NOP && opCode <= IORING_OP_MAX_KNOWN && (common & ~NT_IORING_OP_FLAGS_VALID) !== 0) {
    report(strict, anomalies, 'WIN11MON_ERR_RESERVED_NONZERO', 'CommonOpFlags', off + SqeOff.CommonOpFlags, `CommonOpFlags at offset ${off + SqeOff.CommonOpFlags} has reserved bits 0x${((common & ~NT_IORING_OP_FLAGS_VALID) >>> 0).toString(16)} (the kernel returns STATUS_IORING_REQUIRED_FLAGS_NOT_SUPPORTED)`, `0x${common.toString(16)}`);
  }
  const regFile = (common & NT_IORING_OP_FLAG_REGISTERED_FILE) !== 0;
  const regBuf = (common & NT_IORING_OP_FLAG_REGISTERED_BUFFER) !== 0;
  const b = off;
  let op: NativeSqeOp;
  switch (opCode) {
    case IoRingOp.NOP: op = { kind: 'NOP' }; break;
    case IoRingOp.READ:
      op = { kind: 'READ', commonOpFlags: common, padding: u32(dv, b + 0x14), file: handleRef(dv, b + SqeOff.File, regFile), buffer: bufferRef(dv, b + SqeOff.Buffer, regBuf), fileOffset: h64(dv, b + SqeOff.Offset), length: u32(dv, b + SqeOff.Length), key: u32(dv, b + SqeOff.Key) };
      break;
    case IoRingOp.WRITE: {
      const wf = u32(dv, b + SqeOff.OpFlags);
      op = { kind: 'WRITE', commonOpFlags: common, writeFlags: wf, writeFlagNames: bitNames(wf, [[NT_WRITE_FLAG_WRITE_THROUGH, 'NT_WRITE_FLAG_WRITE_THROUGH']]), file: handleRef(dv, b + SqeOff.File, regFile), buffer: bufferRef(dv, b + SqeOff.Buffer, regBuf), fileOffset: h64(dv, b + SqeOff.Offset), length: u32(dv, b + SqeOff.Length), key: u32(dv, b + SqeOff.Key) };
      break;
    }
    case IoRingOp.FLUSH:
      op = { kind: 'FLUSH', commonOpFlags: common, flushMode: u32(dv, b + SqeOff.OpFlags), file: handleRef(dv, b + SqeOff.File, regFile) };
      break;
    case IoRingOp.CANCEL:
      op = { kind: 'CANCEL', commonOpFlags: common, file: handleRef(dv, b + SqeOff.File, regFile), cancelId: h64(dv, b + SqeOff.CancelId) };
      break;
    case IoRingOp.REGISTER_FILES:
    case IoRingOp.REGISTER_BUFFERS: {
      const base = { commonOpFlags: common, requiredFlags: u32(dv, b + SqeOff.OpFlags), advisoryFlags: u32(dv, b + SqeOff.RegAdvisory), count: u32(dv, b + SqeOff.RegCount) };
      op = opCode === IoRingOp.REGISTER_FILES ? { kind: 'REGISTER_FILES', ...base, handles: h64(dv, b + SqeOff.RegArray) } : { kind: 'REGISTER_BUFFERS', ...base, buffers: h64(dv, b + SqeOff.RegArray) };
      break;
    }
    case IoRingOp.READ_SCATTER:
    case IoRingOp.WRITE_GATHER: {
      const word = u32(dv, b + SqeOff.OpFlags);
      const rest = { file: handleRef(dv, b + SqeOff.File, regFile), segmentCount: u32(dv, b + SqeOff.SegmentCount), segmentArray: h64(dv, b + SqeOff.SegmentArray), fileOffset: h64(dv, b + SqeOff.SgOffset), length: u32(dv, b + SqeOff.SgLength), key: u32(dv, b + SqeOff.SgKey) };
      op = opCode === IoRingOp.READ_SCATTER
        ? { kind: 'READ_SCATTER', commonOpFlags: common, padding: word, ...rest }
        : { kind: 'WRITE_GATHER', commonOpFlags: common, writeFlags: word, writeFlagNames: bitNames(word, [[NT_WRITE_FLAG_WRITE_THROUGH, 'NT_WRITE_FLAG_WRITE_THROUGH']]), ...rest };
      break;
    }
    default: {
      let raw = '';
      for (let k = 0x10; k < 0x40; k++) raw += dv.getUint8(b + k).toString(16).padStart(2, '0');
      op = { kind: 'UNKNOWN', raw };
    }
  }
  return {
    offset: off, opCode, opName: opCodeName(opCode), flags, flagNames: sqeFlagNames(flags), userData: h64(dv, b + SqeOff.UserData),
    commonOpFlagNames: opCode === IoRingOp.NOP ? [] : commonOpFlagNames(common), op, anomalies,
  };
}

/** Decodes `bytes` as back-to-back NT_IORING_SQE (its length must be a multiple of 64). */
export function decodeNativeSqeArray(bytes: Uint8Array, opts: DecodeOptions = {}): NativeSqeDecoded[] {
  if (bytes.byteLength % NT_IORING_SQE_SIZE !== 0) {
    const cut = bytes.byteLength - (bytes.byteLength % NT_IORING_SQE_SIZE);
    throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `${bytes.byteLength} bytes is not a whole number of 64-byte NT_IORING_SQE; the SQE at offset ${cut} is cut off`, { struct: 'NT_IORING_SQE', field: 'OpCode', offset: cut, expected: NT_IORING_SQE_SIZE, actual: bytes.byteLength - cut });
  }
  const out: NativeSqeDecoded[] = [];
  for (let off = 0; off < bytes.byteLength; off += NT_IORING_SQE_SIZE) out.push(decodeNativeSqe(bytes, off, opts));
  return out;
}

// ------------------------------------------------------------------------------------- encoding

type U64In = bigint | string | number;
export type HandleRefInit = { kind: 'raw'; handle: U64In } | { kind: 'registered'; index: number };
export type BufferRefInit = { kind: 'raw'; address: U64In; addressClass?: string } | { kind: 'registered'; index: number; offset?: number };

/** What encodeNativeSqe takes: the decoded shape (opName/flagNames/anomalies ignored), with loose 64-bit inputs. */
export interface NativeSqeInit {
  opCode: number;
  flags?: number;
  userData?: U64In;
  op?: Record<string, unknown> & { kind?: string };
}

function argErr(field: string, msg: string, v: unknown): Win11MonError {
  return new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `NT_IORING_SQE.${field}: ${msg} (got ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v)})`, { struct: 'NT_IORING_SQE', field, actual: String(v) });
}
function setU32(dv: DataView, o: number, v: unknown, field: string): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw argErr(field, 'expected a u32', v);
  dv.setUint32(o, v, true);
}
function setU64(dv: DataView, o: number, v: unknown, field: string): void {
  if (v === undefined) return;
  const b = toU64Input(v);
  if (b === undefined) throw argErr(field, 'expected a 64-bit value', v);
  dv.setUint32(o, Number(b & 0xffffffffn), true);
  dv.setUint32(o + 4, Number(b >> 32n), true);
}
function setHandle(dv: DataView, o: number, r: unknown): number {
  if (r === undefined) return 0;
  const ref = r as HandleRefInit;
  if (ref.kind === 'registered') { setU32(dv, o, ref.index, 'File.HandleIndex'); return NT_IORING_OP_FLAG_REGISTERED_FILE; }
  if (ref.kind === 'raw') { setU64(dv, o, ref.handle, 'File.Handle'); return 0; }
  throw argErr('File', "expected { kind: 'raw', handle } or { kind: 'registered', index }", r);
}
function setBuffer(dv: DataView, o: number, r: unknown): number {
  if (r === undefined) return 0;
  const ref = r as BufferRefInit;
  if (ref.kind === 'registered') { setU32(dv, o, ref.index, 'Buffer.BufferIndex'); setU32(dv, o + 4, ref.offset ?? 0, 'Buffer.Offset'); return NT_IORING_OP_FLAG_REGISTERED_BUFFER; }
  if (ref.kind === 'raw') { setU64(dv, o, ref.address, 'Buffer.Address'); return 0; }
  throw argErr('Buffer', "expected { kind: 'raw', address } or { kind: 'registered', index, offset }", r);
}

/**
 * Builds a 64-byte native NT_IORING_SQE (for tests and vector tools). CommonOpFlags defaults to
 * the bits the file/buffer references imply; an explicit `op.commonOpFlags` wins.
 * @example encodeNativeSqe({ opCode: IoRingOp.WRITE, op: { file: { kind: 'raw', handle: 0x124n }, buffer: { kind: 'registered', index: 0 }, length: 0x40 } })
 */
export function encodeNativeSqe(init: NativeSqeInit): Uint8Array {
  const out = new Uint8Array(NT_IORING_SQE_SIZE);
  const dv = new DataView(out.buffer);
  setU32(dv, SqeOff.OpCode, init.opCode, 'OpCode');
  setU32(dv, SqeOff.Flags, init.flags ?? 0, 'Flags');
  setU64(dv, SqeOff.UserData, init.userData ?? 0n, 'UserData');
  const op = init.op ?? {};
  let implied = 0;
  switch (init.opCode) {
    case IoRingOp.NOP: return out;
    case IoRingOp.READ: case IoRingOp.WRITE:
      setU32(dv, SqeOff.OpFlags, init.opCode === IoRingOp.READ ? op.padding : op.writeFlags, init.opCode === IoRingOp.READ ? 'Read.Padding' : 'Write.Flags');
      implied |= setHandle(dv, SqeOff.File, op.file) | setBuffer(dv, SqeOff.Buffer, op.buffer);
      setU64(dv, SqeOff.Offset, op.fileOffset, 'Offset');
      setU32(dv, SqeOff.Length, op.length, 'Length');
      setU32(dv, SqeOff.Key, op.key, 'Key');
      break;
    case IoRingOp.FLUSH:
      setU32(dv, SqeOff.OpFlags, op.flushMode, 'Flush.Flags');
      implied |= setHandle(dv, SqeOff.File, op.file);
      break;
    case IoRingOp.CANCEL:
      implied |= setHandle(dv, SqeOff.File, op.file);
      setU64(dv, SqeOff.CancelId, op.cancelId, 'Cancel.CancelId');
      break;
    case IoRingOp.REGISTER_FILES: case IoRingOp.REGISTER_BUFFERS:
      setU32(dv, SqeOff.OpFlags, op.requiredFlags, 'Flags.Required');
      setU32(dv, SqeOff.RegAdvisory, op.advisoryFlags, 'Flags.Advisory');
      setU32(dv, SqeOff.RegCount, op.count, 'Count');
      setU64(dv, SqeOff.RegArray, init.opCode === IoRingOp.REGISTER_FILES ? op.handles : op.buffers, init.opCode === IoRingOp.REGISTER_FILES ? 'Handles' : 'Buffers');
      break;
    case IoRingOp.READ_SCATTER: case IoRingOp.WRITE_GATHER:
      setU32(dv, SqeOff.OpFlags, init.opCode === IoRingOp.READ_SCATTER ? op.padding : op.writeFlags, init.opCode === IoRingOp.READ_SCATTER ? 'ReadScatter.Padding' : 'WriteGather.Flags');
      implied |= setHandle(dv, SqeOff.File, op.file);
      setU32(dv, SqeOff.SegmentCount, op.segmentCount, 'SegmentCount');
      setU64(dv, SqeOff.SegmentArray, op.segmentArray, 'SegmentArray');
      setU64(dv, SqeOff.SgOffset, op.fileOffset, 'Offset');
      setU32(dv, SqeOff.SgLength, op.length, 'Length');
      setU32(dv, SqeOff.SgKey, op.key, 'Key');
      break;
    default: {
      const raw = op.raw;
      if (raw !== undefined) {
        if (typeof raw !== 'string' || !/^[0-9a-fA-F]{96}$/.test(raw)) throw argErr('Op', 'expected 96 hex digits for an unknown opcode payload', raw);
        for (let k = 0; k < 0x30; k++) out[0x10 + k] = parseInt(raw.slice(2 * k, 2 * k + 2), 16);
      }
      return out;
    }
  }
  setU32(dv, SqeOff.CommonOpFlags, op.commonOpFlags ?? implied, 'CommonOpFlags');
  return out;
}

// ------------------------------------------------------------------- MON_INTERCEPT_REQUEST decode

/** What a MON_SERIALIZED_SQE means for its opcode (after win11mon's mapping, docs/abi.md). */
export type SerializedSqeMeaning =
  | { kind: 'NOP' }
  | { kind: 'READ' | 'WRITE'; file: HandleRef; buffer: BufferRef; length: number; fileOffset: string; key: number; writeThrough?: boolean }
  | { kind: 'FLUSH'; file: HandleRef; flushMode: number | null }
  | { kind: 'CANCEL'; file: HandleRef; cancelId: string | null }
  | { kind: 'REGISTER_FILES' | 'REGISTER_BUFFERS'; array: string; arrayBytes: number; count: number | null }
  | { kind: 'READ_SCATTER' | 'WRITE_GATHER'; file: HandleRef; segmentArray: string; segmentCount: number | null; length: number; fileOffset: string; key: number }
  | { kind: 'UNKNOWN'; file: string; buffer: string; length: number };

export interface SerializedSqeDecoded {
  index: number;
  offset: number;
  opCode: number;
  opName: string;
  flags: number;
  flagNames: string[];
  fileRef: string;
  fileOffset: string;
  bufferAddress: string;
  bufferSize: number;
  bufferOffset: number;
  key: number;
  reserved1: number;
  userData: string;
  /** win11mon's extension words (Padding[4]); null when ExtMagic is absent (a plain C client). */
  ext: { sqeFlags: number; sqeFlagNames: string[]; opFlags: number; count: number; advisory: number; arg: string; version: number } | null;
  /** The raw Padding[4] words, always. */
  padding: [string, string, string, string];
  meaning: SerializedSqeMeaning;
}

export interface ExtensionDecoded {
  type: number;
  typeName: string;
  /** Offset of the record header in the request. */
  offset: number;
  length: number;
  sqeIndex?: number;
  count: number;
  flags?: number;
  arrayAddress?: string;
  buffers?: { address: string; addressClass: string; length: number }[];
  handles?: string[];
}

export interface InterceptRequestDecoded {
  header: { size: number; version: number; processId: number; threadId: number; ioRingHandle: string; operationCount: number; flags: number; flagNames: string[] };
  sqes: SerializedSqeDecoded[];
  extensions: ExtensionDecoded[];
  anomalies: Anomaly[];
}

const EXT_NAMES: Record<number, string> = { [MonExtType.BufferInfoArray]: 'BufferInfoArray', [MonExtType.FileHandleArray]: 'FileHandleArray', [MonExtType.RegBuffersSnapshot]: 'RegBuffersSnapshot' };

function meaningOf(dv: DataView, o: number, op: number, flags: number, hasExt: boolean): SerializedSqeMeaning {
  const file = (): HandleRef => handleRef(dv, o + MsqOff.FileRef, (flags & MON_SQE_FLAG_PREREGISTERED_FILE) !== 0);
  switch (op) {
    case IoRingOp.NOP: return { kind: 'NOP' };
    case IoRingOp.READ: case IoRingOp.WRITE: {
      const reg = (flags & MON_SQE_FLAG_PREREGISTERED_BUFFER) !== 0;
      const buffer: BufferRef = reg ? { kind: 'registered', index: u32(dv, o + MsqOff.BufferAddress), offset: u32(dv, o + MsqOff.BufferOffset) } : bufferRef(dv, o + MsqOff.BufferAddress, false);
      const m: SerializedSqeMeaning = { kind: op === IoRingOp.READ ? 'READ' : 'WRITE', file: file(), buffer, length: u32(dv, o + MsqOff.BufferSize), fileOffset: h64(dv, o + MsqOff.FileOffset), key: u32(dv, o + MsqOff.Key) };
      if (op === IoRingOp.WRITE && hasExt) m.writeThrough = (u32(dv, o + MsqOff.ExtOpFlags) & NT_WRITE_FLAG_WRITE_THROUGH) !== 0;
      return m;
    }
    case IoRingOp.FLUSH: return { kind: 'FLUSH', file: file(), flushMode: hasExt ? u32(dv, o + MsqOff.ExtOpFlags) : null };
    case IoRingOp.CANCEL: return { kind: 'CANCEL', file: file(), cancelId: hasExt ? h64(dv, o + MsqOff.ExtArg) : null };
    case IoRingOp.REGISTER_FILES: case IoRingOp.REGISTER_BUFFERS:
      return { kind: op === IoRingOp.REGISTER_FILES ? 'REGISTER_FILES' : 'REGISTER_BUFFERS', array: h64(dv, o + MsqOff.BufferAddress), arrayBytes: u32(dv, o + MsqOff.BufferSize), count: hasExt ? u32(dv, o + MsqOff.ExtCount) : null };
    case IoRingOp.READ_SCATTER: case IoRingOp.WRITE_GATHER:
      return { kind: op === IoRingOp.READ_SCATTER ? 'READ_SCATTER' : 'WRITE_GATHER', file: file(), segmentArray: h64(dv, o + MsqOff.BufferAddress), segmentCount: hasExt ? u32(dv, o + MsqOff.ExtCount) : null, length: u32(dv, o + MsqOff.BufferSize), fileOffset: h64(dv, o + MsqOff.FileOffset), key: u32(dv, o + MsqOff.Key) };
    default: return { kind: 'UNKNOWN', file: h64(dv, o + MsqOff.FileRef), buffer: h64(dv, o + MsqOff.BufferAddress), length: u32(dv, o + MsqOff.BufferSize) };
  }
}

/**
 * Decodes a whole MON_INTERCEPT_REQUEST into a plain object. The header is checked as the driver
 * checks it (InterceptRequestView.reset: truncation, lying Size, OperationCount overflow, Version,
 * reserved Flags), extension records as readExtensions does, plus: each record's SqeIndex must name
 * an SQE of the request. An unknown opcode or reserved SQE bits are a policy matter, not a framing
 * error: reported in `anomalies`, or thrown with `strict: true`.
 */
export function decodeInterceptRequest(bytes: Uint8Array, opts: DecodeOptions = {}): InterceptRequestDecoded {
  const strict = opts.strict ?? false;
  const v = new InterceptRequestView().reset(bytes);
  const dv = v.dv;
  const anomalies: Anomaly[] = [];
  const flag = (code: ErrorCode, field: string, offset: number, message: string, actual: string | number): void => {
    if (strict) throw new Win11MonError(code, message, { struct: 'MON_SERIALIZED_SQE', field, offset, actual });
    anomalies.push({ code, field, offset, message });
  };
  const sqes: SerializedSqeDecoded[] = [];
  for (let i = 0; i < v.operationCount; i++) {
    const o = v.sqeOffset(i);
    const op = v.opCode(i);
    const flags = v.sqeFlags(i);
    const hasExt = v.hasExt(i);
    if (op > IORING_OP_MAX_KNOWN) flag('WIN11MON_ERR_UNKNOWN_OPCODE', `Sqe[${i}].OpCode`, o, `SQE ${i} (offset ${o}) has OpCode ${op}, which Windows does not define`, op);
    if ((flags & ~NT_IORING_OP_FLAGS_VALID) !== 0) flag('WIN11MON_ERR_RESERVED_NONZERO', `Sqe[${i}].Flags`, o + MsqOff.Flags, `SQE ${i} Flags 0x${flags.toString(16)} has bits beyond PREREGISTERED_FILE|PREREGISTERED_BUFFER`, `0x${flags.toString(16)}`);
    if (v.reserved1(i) !== 0) flag('WIN11MON_ERR_RESERVED_NONZERO', `Sqe[${i}].Reserved1`, o + MsqOff.Reserved1, `SQE ${i} Reserved1 is 0x${v.reserved1(i).toString(16)}`, v.reserved1(i));
    if (hasExt) {
      const ver = u32(dv, o + MsqOff.ExtVersion);
      if (ver !== MON_SQE_EXT_VERSION) flag('WIN11MON_ERR_BAD_VERSION', `Sqe[${i}].ExtVersion`, o + MsqOff.ExtVersion, `SQE ${i} ExtVersion is ${ver}, expected ${MON_SQE_EXT_VERSION}`, ver);
      const sf = v.extSqeFlags(i);
      if ((sf & ~NT_IORING_SQE_FLAGS_VALID) !== 0) flag('WIN11MON_ERR_RESERVED_NONZERO', `Sqe[${i}].ExtSqeFlags`, o + MsqOff.ExtSqeFlags, `SQE ${i} native SQE Flags 0x${sf.toString(16)} has reserved bits`, `0x${sf.toString(16)}`);
    }
    sqes.push({
      index: i, offset: o, opCode: op, opName: opCodeName(op), flags, flagNames: monFlagNames(flags),
      fileRef: h64(dv, o + MsqOff.FileRef), fileOffset: h64(dv, o + MsqOff.FileOffset), bufferAddress: h64(dv, o + MsqOff.BufferAddress),
      bufferSize: v.bufferSize(i), bufferOffset: v.bufferOffset(i), key: v.key(i), reserved1: v.reserved1(i), userData: h64(dv, o + MsqOff.UserData),
      ext: hasExt ? { sqeFlags: v.extSqeFlags(i), sqeFlagNames: sqeFlagNames(v.extSqeFlags(i)), opFlags: v.extOpFlags(i), count: v.extCount(i), advisory: v.extAdvisory(i), arg: h64(dv, o + MsqOff.ExtArg), version: u32(dv, o + MsqOff.ExtVersion) } : null,
      padding: [h64(dv, o + 0x38), h64(dv, o + 0x40), h64(dv, o + 0x48), h64(dv, o + 0x50)],
      meaning: meaningOf(dv, o, op, flags, hasExt),
    });
  }
  const extensions: ExtensionDecoded[] = [];
  for (const rec of readExtensions(v)) {
    const p = rec.payloadOffset;
    const off = p - 8;
    const e: ExtensionDecoded = { type: rec.type, typeName: EXT_NAMES[rec.type] ?? String(rec.type), offset: off, length: rec.length, count: 0 };
    let first = p + 8;
    if (rec.type === MonExtType.RegBuffersSnapshot) {
      e.count = u32(dv, p);
      e.flags = u32(dv, p + 4);
      e.arrayAddress = h64(dv, p + 8);
      first = p + 16;
    } else {
      e.sqeIndex = u32(dv, p);
      e.count = u32(dv, p + 4);
      if (e.sqeIndex >= v.operationCount) {
        throw new Win11MonError('WIN11MON_ERR_BAD_EXTENSION', `extension record at offset ${off} names SqeIndex ${e.sqeIndex}, but the request has ${v.operationCount} SQEs`, { struct: 'MON_INTERCEPT_REQUEST', field: 'Extension.SqeIndex', offset: p, expected: `< ${v.operationCount}`, actual: e.sqeIndex });
      }
    }
    if (rec.type === MonExtType.FileHandleArray) {
      e.handles = [];
      for (let k = 0; k < e.count; k++) e.handles.push(h64(dv, first + 8 * k));
    } else {
      e.buffers = [];
      for (let k = 0; k < e.count; k++) {
        const q = first + IORING_BUFFER_INFO_SIZE * k;
        const hi = u32(dv, q + 4), lo = u32(dv, q);
        e.buffers.push({ address: hex64(hi, lo), addressClass: ADDRESS_CLASS_NAMES[classifyAddress(hi, lo)], length: u32(dv, q + 8) });
      }
    }
    extensions.push(e);
  }
  return {
    header: {
      size: v.size, version: u32(dv, 4), processId: v.processId, threadId: v.threadId, ioRingHandle: hex64(v.ioRingHandleHi, v.ioRingHandleLo),
      operationCount: v.operationCount, flags: v.flags, flagNames: bitNames(v.flags, [[MON_REQUEST_FLAG_EXTENSIONS, 'MON_REQUEST_FLAG_EXTENSIONS']]),
    },
    sqes, extensions, anomalies,
  };
}
