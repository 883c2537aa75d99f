// SerializeSubmissionQueue (plan 4.2): reads the entries pending between Head and Tail of a ring's
// user-mapped submission queue out of the calling process's memory and turns them into one
// MON_INTERCEPT_REQUEST, with the IORING_BUFFER_INFO / HANDLE arrays REGISTER_BUFFERS / REGISTER_FILES
// point to as extension records. One serializer per hook; its buffers grow on demand and are reused,
// so a steady-state submission allocates nothing but the request's subarray view.
import {
  IoRingOp, NT_IORING_SQE_SIZE, NT_IORING_SQ_HEADER_SIZE, IORING_BUFFER_INFO_SIZE, SqeOff as SqeOff_, serializeSqe, NtStatus, MonExtType,
  MON_INTERCEPT_REQUEST_HEADER_SIZE, MON_SERIALIZED_SQE_SIZE, MON_INTERCEPT_REQUEST_VERSION, MON_REQUEST_FLAG_EXTENSIONS, MON_EXT_HEADER_SIZE,
  MON_INTERCEPT_MAX_OPS_PER_SUBMIT, MsqWord, MON_SERIALIZED_SQE_WORDS, MON_SQE_EXT_MAGIC, MON_SQE_EXT_VERSION, NT_IORING_OP_FLAG_REGISTERED_BUFFER, isWin11MonError,
} from '../abi/index.js';
import { addHi, addLo, type MemoryView } from '../kernel/memory.js';

// Module-local copies: imported bindings go through live-binding getters under tsx (see kernelbase.ts).
const SqeOff = { ...SqeOff_ };
const HDR = MON_INTERCEPT_REQUEST_HEADER_SIZE;
const MSQ = MON_SERIALIZED_SQE_SIZE;
const NSQE = NT_IORING_SQE_SIZE;

/** A REGISTER_* array longer than this travels without its extension record (the SQE still carries Count). */
export const MAX_EXTENSION_ELEMENTS = 0x10000;
/** Extension bytes one request may carry (the driver's request cap is 4 MiB of extensions). */
export const MAX_EXTENSION_BYTES = 2 * 1024 * 1024;

/** Where a ring's submission queue is mapped in the caller's address space (from NT_IORING_INFO). */
export interface RingQueueInfo {
  handle: number;
  sqHi: number;
  sqLo: number;
  /** SubmissionQueueSize (entries) and its mask, as NtCreateIoRing returned them. */
  sqSize: number;
  sqMask: number;
}

/**
 * Captures a ring's pending SQEs. Usage: `capture()` once per submission (reads Head/Tail and the raw
 * entries), then `build()` for each chunk of at most 4096 entries (the request format's cap).
 * @example
 * const s = new SubmissionQueueSerializer();
 * if (s.capture(process.memory, ring) === 0) { const req = s.build(pid, tid, ring.handle, 0, s.pending); ... }
 */
export class SubmissionQueueSerializer {
  /** Raw NT_IORING_SQEs copied out of the queue (pending x 64 bytes). */
  private native = new Uint8Array(0);
  private nativeDv = new DataView(this.native.buffer);
  private native32 = new Uint32Array(this.native.buffer);
  /** The MON_INTERCEPT_REQUEST being built. */
  private req = new Uint8Array(0);
  private reqDv = new DataView(this.req.buffer);
  private req32 = new Uint32Array(this.req.buffer);
  /** Head and Tail read by the last capture(). */
  head = 0;
  tail = 0;
  /** Entries pending by the last capture(). */
  pending = 0;
  /** REGISTER_* arrays that were too large to carry (counted, never silently dropped). */
  oversizeArrays = 0;

  /**
   * Reads Head/Tail and copies the pending raw SQEs (ring mask applied; a wrap is two reads). Returns
   * an NTSTATUS: STATUS_SUCCESS; STATUS_IORING_CORRUPT when Tail - Head exceeds the queue size (a lying
   * tail is refused, never clamped: the kernel refuses the same queue, and validating a clamped subset
   * would validate something other than what the kernel sees); STATUS_ACCESS_VIOLATION when the queue
   * cannot be read.
   */
  capture(mem: MemoryView, ring: RingQueueInfo): number {
    try {
      const hi = ring.sqHi;
      const lo = ring.sqLo;
      const head = mem.readU32(hi, lo);
      const tail = mem.readU32(hi, addLo(lo, 4));
      const pending = (tail - head) >>> 0;
      this.head = head;
      this.tail = tail;
      this.pending = 0;
      if (pending > ring.sqSize) return NtStatus.STATUS_IORING_CORRUPT;
      if (pending === 0) return NtStatus.STATUS_SUCCESS;
      const bytes = pending * NSQE;
      if (this.native.byteLength < bytes) this.growNative(bytes);
      const first = (head & ring.sqMask) >>> 0;
      const run1 = Math.min(pending, ring.sqSize - first);
      const off1 = NT_IORING_SQ_HEADER_SIZE + first * NSQE;
      mem.readInto(addHi(hi, lo, off1), addLo(lo, off1), this.native, 0, run1 * NSQE);
      if (run1 < pending) {
        mem.readInto(addHi(hi, lo, NT_IORING_SQ_HEADER_SIZE), addLo(lo, NT_IORING_SQ_HEADER_SIZE), this.native, run1 * NSQE, (pending - run1) * NSQE);
      }
      this.pending = pending;
      return NtStatus.STATUS_SUCCESS;
    } catch (e) {
      if (isWin11MonError(e) && e.code === 'WIN11MON_ERR_ACCESS_VIOLATION') return NtStatus.STATUS_ACCESS_VIOLATION;
      throw e;
    }
  }

  /**
   * Builds the request for captured entries [first, first + count) (count <= 4096). REGISTER_BUFFERS /
   * REGISTER_FILES get BufferInfoArray / FileHandleArray extension records read from `mem`. Returns the
   * request bytes (a view of the reused buffer, valid until the next build), or a number: the NTSTATUS
   * of a fault reading an array (STATUS_ACCESS_VIOLATION).
   */
  build(mem: MemoryView, processId: number, threadId: number, handle: number, first: number, count: number): Uint8Array | number {
    if (count > MON_INTERCEPT_MAX_OPS_PER_SUBMIT) count = MON_INTERCEPT_MAX_OPS_PER_SUBMIT;
    const src = this.nativeDv;
    let size = HDR + count * MSQ;
    if (this.req.byteLength < size) this.growReq(size, 0);
    // The SQEs first (runs of NOP/READ/WRITE/FLUSH on 32-bit words; anything else through serializeSqe),
    // noting whether a REGISTER_* entry needs an extension record: benign hot paths rarely submit one.
    let registers = false;
    for (let i = 0; i < count;) {
      i += LITTLE_ENDIAN ? serializeCommonSqes(this.native32, ((first + i) * NSQE) >>> 2, this.req32, (HDR + i * MSQ) >>> 2, count - i) : 0;
      if (i >= count) break;
      const so = (first + i) * NSQE;
      const op = src.getUint32(so + SqeOff.OpCode, true);
      if (op === IoRingOp.REGISTER_BUFFERS || op === IoRingOp.REGISTER_FILES) registers = true;
      serializeSqe(src, so, this.reqDv, HDR + i * MSQ);
      i++;
    }
    let extBytes = 0;
    if (registers) {
      for (let i = 0; i < count; i++) {
        const so = (first + i) * NSQE;
        const op = src.getUint32(so + SqeOff.OpCode, true);
        if (op === IoRingOp.REGISTER_BUFFERS || op === IoRingOp.REGISTER_FILES) extBytes += this.extLength(src, so, op, extBytes);
      }
      if (this.req.byteLength < size + extBytes) this.growReq(size + extBytes, size);
      size += extBytes;
    }
    const dv = this.reqDv;
    dv.setUint32(0x00, size, true);
    dv.setUint32(0x04, MON_INTERCEPT_REQUEST_VERSION, true);
    dv.setUint32(0x08, processId >>> 0, true);
    dv.setUint32(0x0c, threadId >>> 0, true);
    dv.setUint32(0x10, handle >>> 0, true);
    dv.setUint32(0x14, 0, true);
    dv.setUint32(0x18, count, true);
    dv.setUint32(0x1c, extBytes > 0 ? MON_REQUEST_FLAG_EXTENSIONS : 0, true);
    if (extBytes > 0) {
      let off = HDR + count * MSQ;
      let used = 0;
      for (let i = 0; i < count; i++) {
        const so = (first + i) * NSQE;
        const op = src.getUint32(so + SqeOff.OpCode, true);
        if (op !== IoRingOp.REGISTER_BUFFERS && op !== IoRingOp.REGISTER_FILES) continue;
        const len = this.extLength(src, so, op, used);
        if (len === 0) continue;
        used += len;
        const n = src.getUint32(so + SqeOff.RegCount, true);
        const elem = op === IoRingOp.REGISTER_BUFFERS ? IORING_BUFFER_INFO_SIZE : 8;
        dv.setUint32(off, op === IoRingOp.REGISTER_BUFFERS ? MonExtType.BufferInfoArray : MonExtType.FileHandleArray, true);
        dv.setUint32(off + 4, len - MON_EXT_HEADER_SIZE, true);
        dv.setUint32(off + 8, i, true);
        dv.setUint32(off + 12, n, true);
        const aLo = src.getUint32(so + SqeOff.RegArray, true);
        const aHi = src.getUint32(so + SqeOff.RegArray + 4, true);
        try {
          mem.readInto(aHi, aLo, this.req, off + 16, n * elem);
        } catch (e) {
          if (isWin11MonError(e) && e.code === 'WIN11MON_ERR_ACCESS_VIOLATION') return NtStatus.STATUS_ACCESS_VIOLATION;
          throw e;
        }
        off += len;
      }
    }
    return this.req.subarray(0, size);
  }

  /** Bytes of the extension record an SQE gets (0 = none: empty or oversize array). */
  private extLength(src: DataView, so: number, op: number, usedSoFar: number): number {
    const n = src.getUint32(so + SqeOff.RegCount, true);
    if (n === 0) return 0;
    const elem = op === IoRingOp.REGISTER_BUFFERS ? IORING_BUFFER_INFO_SIZE : 8;
    const len = MON_EXT_HEADER_SIZE + 8 + n * elem; // 8-aligned: elem is 8 or 16
    if (n > MAX_EXTENSION_ELEMENTS || usedSoFar + len > MAX_EXTENSION_BYTES) {
      this.oversizeArrays++;
      return 0;
    }
    return len;
  }

  /** Bytes currently held by this serializer's buffers (for the memory benchmark and INT-I05). */
  get retainedBytes(): number {
    return this.native.byteLength + this.req.byteLength;
  }

  /** Drops the buffers (hook removal). */
  release(): void {
    this.native = new Uint8Array(0);
    this.nativeDv = new DataView(this.native.buffer);
    this.native32 = new Uint32Array(this.native.buffer);
    this.req = new Uint8Array(0);
    this.reqDv = new DataView(this.req.buffer);
    this.req32 = new Uint32Array(this.req.buffer);
    this.pending = 0;
  }

  private growNative(bytes: number): void {
    this.native = new Uint8Array(pow2(bytes, 16 * NSQE));
    this.nativeDv = new DataView(this.native.buffer);
    this.native32 = new Uint32Array(this.native.buffer);
  }

  /** Grows the request buffer, keeping its first `keep` bytes (SQEs already serialized). */
  private growReq(bytes: number, keep: number): void {
    const old = this.req;
    this.req = new Uint8Array(pow2(bytes, HDR + 16 * MSQ));
    if (keep > 0) this.req.set(old.subarray(0, keep));
    this.reqDv = new DataView(this.req.buffer);
    this.req32 = new Uint32Array(this.req.buffer);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
// Opcodes, flags and word indexes as literals: the loop below runs per SQE on every submission. They are
// checked once, here, against the ABI tables (abi/ioring.ts SqeOff, abi/monitor.ts MsqOff).
const OP_NOP = 0, OP_READ = 1, OP_WRITE = 5, OP_FLUSH = 6, REG_FLAG = 0x2, MAGIC = 0x5145534d, EXT_VERSION = 1;
const NATIVE_WORDS: Record<string, number> = { OpCode: 0, Flags: 1, UserData: 2, CommonOpFlags: 4, OpFlags: 5, File: 6, Buffer: 8, Offset: 10, Length: 12, Key: 13 };
const MSQ_WORDS: Record<string, number> = {
  OpCode: 0, Flags: 1, FileRef: 2, FileOffset: 4, BufferAddress: 6, BufferSize: 8, BufferOffset: 9, Key: 10, Reserved1: 11,
  UserData: 12, ExtSqeFlags: 14, ExtOpFlags: 15, ExtCount: 16, ExtAdvisory: 17, ExtArg: 18, ExtMagic: 20, ExtVersion: 21,
}; // = abi MsqWord
if (OP_NOP !== IoRingOp.NOP || OP_READ !== IoRingOp.READ || OP_WRITE !== IoRingOp.WRITE || OP_FLUSH !== IoRingOp.FLUSH
  || REG_FLAG !== NT_IORING_OP_FLAG_REGISTERED_BUFFER || MAGIC !== MON_SQE_EXT_MAGIC || EXT_VERSION !== MON_SQE_EXT_VERSION
  || NSQE !== 64 || MSQ !== 88
  || Object.entries(NATIVE_WORDS).some(([k, w]) => (SqeOff as Record<string, number>)[k] !== w * 4)
  || Object.entries(MSQ_WORDS).some(([k, w]) => (MsqWord as Record<string, number>)[k] !== w) || MON_SERIALIZED_SQE_WORDS !== 22) {
  throw new Error('serialize-queue: word layout literals disagree with the ABI tables');
}

/**
 * serializeSqe for a run of NOP / READ / WRITE / FLUSH entries (what benign hot paths submit) on 32-bit
 * words: the same bytes as the DataView version (a property test checks it), about 5x faster. Converts
 * up to `max` consecutive native SQEs (word index `s`, 16 words each) into MON_SERIALIZED_SQEs (word
 * index `d`, 22 words each) and returns how many it converted: it stops before the first other opcode,
 * which the caller passes to serializeSqe. Every destination word is stored exactly once. Both arrays
 * are the serializer's own buffers (4-aligned); only used on little-endian hosts (word order = wire order).
 */
export function serializeCommonSqes(n: Uint32Array, s: number, r: Uint32Array, d: number, max: number): number {
  let i = 0;
  for (; i < max; i++, s += 16, d += 22) {
    const op = n[s]!; // OpCode
    if (op === OP_READ || op === OP_WRITE) {
      const common = n[s + 4]!; // CommonOpFlags
      const bufHi = n[s + 9]!;
      const reg = (common & REG_FLAG) !== 0;
      r[d] = op;
      r[d + 1] = common; // Flags
      r[d + 2] = n[s + 6]!; // FileRef <- File
      r[d + 3] = n[s + 7]!;
      r[d + 4] = n[s + 10]!; // FileOffset <- Offset
      r[d + 5] = n[s + 11]!;
      r[d + 6] = n[s + 8]!; // BufferAddress <- Buffer (or the registered index)
      r[d + 7] = reg ? 0 : bufHi;
      r[d + 8] = n[s + 12]!; // BufferSize <- Length
      r[d + 9] = reg ? bufHi : 0; // BufferOffset <- the registered offset
      r[d + 10] = n[s + 13]!; // Key
      r[d + 15] = n[s + 5]!; // ExtOpFlags <- OpFlags
    } else if (op === OP_NOP) {
      r[d] = 0; r[d + 1] = 0; r[d + 2] = 0; r[d + 3] = 0; r[d + 4] = 0; r[d + 5] = 0;
      r[d + 6] = 0; r[d + 7] = 0; r[d + 8] = 0; r[d + 9] = 0; r[d + 10] = 0; r[d + 15] = 0;
    } else if (op === OP_FLUSH) {
      r[d] = op;
      r[d + 1] = n[s + 4]!;
      r[d + 2] = n[s + 6]!;
      r[d + 3] = n[s + 7]!;
      r[d + 4] = 0; r[d + 5] = 0; r[d + 6] = 0; r[d + 7] = 0; r[d + 8] = 0; r[d + 9] = 0; r[d + 10] = 0;
      r[d + 15] = n[s + 5]!;
    } else {
      break;
    }
    r[d + 11] = 0; // Reserved1
    r[d + 12] = n[s + 2]!; // UserData
    r[d + 13] = n[s + 3]!;
    r[d + 14] = n[s + 1]!; // ExtSqeFlags <- Flags
    r[d + 16] = 0; // ExtCount
    r[d + 17] = 0; // ExtAdvisory
    r[d + 18] = 0; // ExtArg
    r[d + 19] = 0;
    r[d + 20] = MAGIC;
    r[d + 21] = EXT_VERSION;
  }
  return i;
}

function pow2(n: number, min: number): number {
  let s = min;
  while (s < n) s *= 2;
  return s;
}
