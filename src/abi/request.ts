// MON_INTERCEPT_REQUEST: the validation request a hook sends (32-byte header, then OperationCount
// MON_SERIALIZED_SQE of 88 bytes, then — win11mon only, flagged — extension records).
// `InterceptRequestView` is the reader the engine uses on the hot path: the request as 32-bit words
// (nothing allocated while the caller reuses its buffer), accessors by SQE index, 64-bit fields as
// (hi, lo) halves.
import { Win11MonError } from './errors.js';
import {
  MON_INTERCEPT_REQUEST_HEADER_SIZE as HDR,
  MON_SERIALIZED_SQE_SIZE as SQE,
  MON_INTERCEPT_REQUEST_VERSION,
  MON_INTERCEPT_MAX_OPS_PER_SUBMIT,
  MON_REQUEST_FLAG_EXTENSIONS,
  MON_REQUEST_FLAGS_VALID,
  MON_EXT_HEADER_SIZE,
  MonExtType,
  MON_SQE_EXT_MAGIC,
  MsqWord,
  MON_REQUEST_SQE_WORD,
  MON_SERIALIZED_SQE_WORDS,
} from './monitor.js';
import { NtStatus } from './ntstatus.js';

const S = 'MON_INTERCEPT_REQUEST';
// Word indexes for the accessors (module constants: the optimiser folds them).
const W0 = MON_REQUEST_SQE_WORD, SQW = MON_SERIALIZED_SQE_WORDS;
const W_OP = MsqWord.OpCode, W_FLAGS = MsqWord.Flags, W_FILE = MsqWord.FileRef, W_FOFF = MsqWord.FileOffset, W_BUF = MsqWord.BufferAddress;
const W_BSIZE = MsqWord.BufferSize, W_BOFF = MsqWord.BufferOffset, W_KEY = MsqWord.Key, W_RES1 = MsqWord.Reserved1, W_UDATA = MsqWord.UserData;
const W_MAGIC = MsqWord.ExtMagic, W_XSQEF = MsqWord.ExtSqeFlags, W_XOPF = MsqWord.ExtOpFlags, W_XCOUNT = MsqWord.ExtCount, W_XADV = MsqWord.ExtAdvisory, W_XARG = MsqWord.ExtArg;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Upper bound on a request: header + the header's absolute SQE cap + 4 MiB of extension records. */
export const MON_INTERCEPT_REQUEST_MAX_SIZE = HDR + MON_INTERCEPT_MAX_OPS_PER_SUBMIT * SQE + 4 * 1024 * 1024;

/**
 * A validated, read-only view over one request. `reset()` re-targets it at new bytes, so a
 * long-lived validator allocates nothing per request.
 */
export class InterceptRequestView {
  /** Byte length the request occupies (its Size field, checked against the bytes given). */
  size = 0;
  processId = 0;
  threadId = 0;
  ioRingHandleHi = 0;
  ioRingHandleLo = 0;
  operationCount = 0;
  flags = 0;
  /** Offset of the first extension record, or -1 when the request carries none. */
  extOffset = -1;
  /**
   * The header and SQE array as little-endian 32-bit words (word i = bytes 4i..4i+3): a view of the
   * caller's bytes when they are 4-aligned on a little-endian host (the hook's and the service's
   * buffers are), otherwise a decoded copy. The hot loops read fields here, cheaper than the DataView.
   */
  words: Uint32Array = new Uint32Array(HDR >>> 2);
  private copy: Uint32Array | null = null;
  /** True while `words` is (a view of) the decoded copy rather than a view of the caller's bytes. */
  private wordsCopied = false;
  private src: Uint8Array = new Uint8Array(HDR);
  private view: DataView | null = null;

  /**
   * A DataView over the request's bytes, made on first use (the hot loops and the field accessors
   * read `words`; extension records are read here). Kept while the caller reuses its buffer.
   */
  get dv(): DataView {
    let d = this.view;
    if (d === null) {
      const b = this.src;
      d = this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    return d;
  }

  /**
   * Points the view at `bytes` and checks the header; throws Win11MonError (code and NTSTATUS
   * name the field) for truncation, lying Size fields, bad Version, reserved flags, overflowing counts.
   * Nothing is allocated when the caller reuses its buffer (the hook does); a new buffer costs one
   * Uint32Array view when aligned (the service's frames are), else a DataView and a word copy.
   */
  reset(bytes: Uint8Array): this {
    if (bytes.byteLength < HDR) {
      throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `${S} needs at least ${HDR} bytes, got ${bytes.byteLength}`, { struct: S, field: 'Size', offset: 0, expected: HDR, actual: bytes.byteLength });
    }
    const same = this.src.buffer === bytes.buffer && this.src.byteOffset === bytes.byteOffset && this.src.byteLength === bytes.byteLength;
    let w: Uint32Array | null = null;
    let dv: DataView | null = null;
    let size: number, version: number, count: number, flags: number, pid: number, tid: number, hLo: number, hHi: number;
    if (LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0) {
      const c = this.words;
      w = same && !this.wordsCopied ? c : new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
      size = w[0]!; version = w[1]!; pid = w[2]!; tid = w[3]!; hLo = w[4]!; hHi = w[5]!; count = w[6]!; flags = w[7]!;
    } else {
      dv = same && this.view !== null ? this.view : new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      size = dv.getUint32(0, true); version = dv.getUint32(4, true); pid = dv.getUint32(8, true); tid = dv.getUint32(0xc, true);
      hLo = dv.getUint32(0x10, true); hHi = dv.getUint32(0x14, true); count = dv.getUint32(0x18, true); flags = dv.getUint32(0x1c, true);
    }
    if (version !== MON_INTERCEPT_REQUEST_VERSION) {
      throw new Win11MonError('WIN11MON_ERR_BAD_VERSION', `${S}.Version is ${version}; win11mon speaks version ${MON_INTERCEPT_REQUEST_VERSION}`, { struct: S, field: 'Version', offset: 4, expected: 1, actual: version });
    }
    if ((flags & ~MON_REQUEST_FLAGS_VALID) !== 0) {
      throw new Win11MonError('WIN11MON_ERR_RESERVED_NONZERO', `${S}.Flags has reserved bits set (0x${flags.toString(16)})`, { struct: S, field: 'Flags', offset: 0x1c, expected: '0 or 0x1', actual: `0x${flags.toString(16)}` });
    }
    if (count > MON_INTERCEPT_MAX_OPS_PER_SUBMIT) {
      throw new Win11MonError('WIN11MON_ERR_COUNT_OVERFLOW', `${S}.OperationCount ${count} exceeds the absolute maximum ${MON_INTERCEPT_MAX_OPS_PER_SUBMIT}`, { struct: S, field: 'OperationCount', offset: 0x18, expected: `<= ${MON_INTERCEPT_MAX_OPS_PER_SUBMIT}`, actual: count });
    }
    // count <= 4096, so HDR + count * SQE cannot overflow 32 bits here; the check above is the guard.
    const needed = HDR + count * SQE;
    if (size > bytes.byteLength) {
      throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `${S}.Size says ${size} bytes but only ${bytes.byteLength} were given`, { struct: S, field: 'Size', offset: 0, expected: `<= ${bytes.byteLength}`, actual: size }, { status: NtStatus.STATUS_BUFFER_TOO_SMALL });
    }
    const hasExt = (flags & MON_REQUEST_FLAG_EXTENSIONS) !== 0;
    if (hasExt ? size < needed : size !== needed) {
      throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `${S}.Size is ${size} but ${HDR} + OperationCount ${count} x ${SQE} = ${needed}${hasExt ? ' (plus extension records)' : ''}`, { struct: S, field: 'Size', offset: 0, expected: needed, actual: size });
    }
    if (!same) this.view = null;
    if (dv !== null) this.view = dv;
    this.src = bytes;
    this.size = size;
    this.processId = pid;
    this.threadId = tid;
    this.ioRingHandleLo = hLo;
    this.ioRingHandleHi = hHi;
    this.operationCount = count;
    this.flags = flags;
    this.extOffset = hasExt && size > needed ? needed : -1;
    this.wordsCopied = w === null;
    this.words = w ?? this.copyWords(dv!, needed);
    return this;
  }

  /** The decoded word copy of [0, needed) for unaligned bytes or a big-endian host. */
  private copyWords(dv: DataView, needed: number): Uint32Array {
    const n = needed >>> 2;
    let c = this.copy;
    if (c === null || c.length < n) c = this.copy = new Uint32Array(Math.max(n, 64));
    for (let i = 0; i < n; i++) c[i] = dv.getUint32(i * 4, true);
    // Exactly this request's words: an index past them reads undefined, never an earlier request's.
    return c.length === n ? c : c.subarray(0, n);
  }

  /** Byte offset of SQE `i` inside the buffer. */
  sqeOffset(i: number): number {
    return HDR + i * SQE;
  }
  // Field accessors for SQE i (i < operationCount), read from `words` like the hot loops: one typed
  // array load each, whatever the host or alignment (words is a decoded copy when it has to be).
  // Unchecked, for speed: past operationCount they read what lies there in the request's own bytes,
  // or undefined past them (never an earlier request's words).
  opCode(i: number): number { return this.words[W0 + i * SQW + W_OP]!; }
  sqeFlags(i: number): number { return this.words[W0 + i * SQW + W_FLAGS]!; }
  fileRefLo(i: number): number { return this.words[W0 + i * SQW + W_FILE]!; }
  fileRefHi(i: number): number { return this.words[W0 + i * SQW + W_FILE + 1]!; }
  fileOffsetLo(i: number): number { return this.words[W0 + i * SQW + W_FOFF]!; }
  fileOffsetHi(i: number): number { return this.words[W0 + i * SQW + W_FOFF + 1]!; }
  bufferAddressLo(i: number): number { return this.words[W0 + i * SQW + W_BUF]!; }
  bufferAddressHi(i: number): number { return this.words[W0 + i * SQW + W_BUF + 1]!; }
  bufferSize(i: number): number { return this.words[W0 + i * SQW + W_BSIZE]!; }
  bufferOffset(i: number): number { return this.words[W0 + i * SQW + W_BOFF]!; }
  key(i: number): number { return this.words[W0 + i * SQW + W_KEY]!; }
  reserved1(i: number): number { return this.words[W0 + i * SQW + W_RES1]!; }
  userDataLo(i: number): number { return this.words[W0 + i * SQW + W_UDATA]!; }
  userDataHi(i: number): number { return this.words[W0 + i * SQW + W_UDATA + 1]!; }
  /** True when SQE `i` was written by win11mon's serializer (the Ext* words are meaningful). */
  hasExt(i: number): boolean { return this.words[W0 + i * SQW + W_MAGIC] === MON_SQE_EXT_MAGIC; }
  extSqeFlags(i: number): number { return this.words[W0 + i * SQW + W_XSQEF]!; }
  extOpFlags(i: number): number { return this.words[W0 + i * SQW + W_XOPF]!; }
  extCount(i: number): number { return this.words[W0 + i * SQW + W_XCOUNT]!; }
  extAdvisory(i: number): number { return this.words[W0 + i * SQW + W_XADV]!; }
  extArgLo(i: number): number { return this.words[W0 + i * SQW + W_XARG]!; }
  extArgHi(i: number): number { return this.words[W0 + i * SQW + W_XARG + 1]!; }
}

/** One extension record found after the SQE array. */
export interface RequestExtension {
  type: number;
  /** Offset of the payload (after the 8-byte record header) in the request buffer. */
  payloadOffset: number;
  length: number;
}

/**
 * Walks the extension records of a request (cold path: only when the view says there are any).
 * Each record: u32 Type, u32 Length, Length payload bytes, padded to 8. Throws
 * WIN11MON_ERR_BAD_EXTENSION naming the offset for a record that runs past Size or has an unknown type.
 */
export function readExtensions(view: InterceptRequestView): RequestExtension[] {
  const out: RequestExtension[] = [];
  if (view.extOffset < 0) return out;
  let off = view.extOffset;
  const end = view.size;
  const dv = view.dv;
  while (off < end) {
    if (end - off < MON_EXT_HEADER_SIZE) {
      throw new Win11MonError('WIN11MON_ERR_BAD_EXTENSION', `extension record header at offset ${off} is cut off by Size ${end}`, { struct: S, field: 'Extension.Type', offset: off });
    }
    const type = dv.getUint32(off, true);
    const length = dv.getUint32(off + 4, true);
    if (type !== MonExtType.BufferInfoArray && type !== MonExtType.FileHandleArray && type !== MonExtType.RegBuffersSnapshot) {
      throw new Win11MonError('WIN11MON_ERR_BAD_EXTENSION', `extension record at offset ${off} has unknown Type ${type}`, { struct: S, field: 'Extension.Type', offset: off, actual: type });
    }
    const padded = (length + 7) & ~7;
    if (length > end - off - MON_EXT_HEADER_SIZE || padded > end - off - MON_EXT_HEADER_SIZE) {
      throw new Win11MonError('WIN11MON_ERR_BAD_EXTENSION', `extension record at offset ${off} declares Length ${length}, past the end of the request`, { struct: S, field: 'Extension.Length', offset: off + 4, expected: `<= ${end - off - MON_EXT_HEADER_SIZE}`, actual: length });
    }
    const minLen = type === MonExtType.RegBuffersSnapshot ? 16 : 8;
    if (length < minLen) {
      throw new Win11MonError('WIN11MON_ERR_BAD_EXTENSION', `extension record at offset ${off} (Type ${type}) is ${length} bytes; it needs at least ${minLen}`, { struct: S, field: 'Extension.Length', offset: off + 4, expected: `>= ${minLen}`, actual: length });
    }
    const count = dv.getUint32(off + MON_EXT_HEADER_SIZE + (type === MonExtType.RegBuffersSnapshot ? 0 : 4), true);
    const elem = type === MonExtType.FileHandleArray ? 8 : 16;
    const expectLen = minLen + count * elem;
    if (expectLen !== length) {
      throw new Win11MonError('WIN11MON_ERR_BAD_EXTENSION', `extension record at offset ${off} (Type ${type}) has Count ${count}, which needs Length ${expectLen}, not ${length}`, { struct: S, field: 'Extension.Count', offset: off + 8, expected: expectLen, actual: length });
    }
    out.push({ type, payloadOffset: off + MON_EXT_HEADER_SIZE, length });
    off += MON_EXT_HEADER_SIZE + padded;
  }
  return out;
}
