// The kernel side of IoRings: NtCreateIoRing's object and shared section, NtSubmitIoRing's
// processing loop (IopProcessIoRingEntry and the IopIoRingDispatch* routines), registration and
// IopDeleteIoRing teardown. Everything the monitor can see is read from emulated memory at the
// build's offsets on every use, as the decompiled kernel does (shared/reference/ioring-abi.md §3),
// so writes through the exploit's primitive take effect exactly as on Windows.
import { NtStatus as NtStatus_, hresultFromNt as hresultFromNt_ } from '../abi/ntstatus.js';
import { isWin11MonError } from '../abi/errors.js';
import {
  IoRingOp, IoRingVersion, NT_IORING_OP_FLAGS_VALID, NT_IORING_OP_FLAG_REGISTERED_BUFFER, NT_IORING_OP_FLAG_REGISTERED_FILE,
  NT_IORING_SQE_FLAGS_VALID, NT_IORING_SQE_SIZE, NT_IORING_CQE_SIZE, NT_IORING_SQ_HEADER_SIZE, NT_IORING_CQ_HEADER_SIZE,
  IOP_MC_BUFFER_ENTRY_TYPE, IORING_SUBMIT_WAIT_ALL, SqeOff as SqeOff_,
} from '../abi/ioring.js';
import { isUserRange as isUserRange_ } from '../abi/address.js';
import { MemoryView, PAGE_SIZE, Section, addHi as addHi_, addLo as addLo_, pageNumber } from './memory.js';
import { PoolType } from './pool.js';
import { Access as Access_, fileIo as fileIo_, objectKey, pipeRead, pipeWrite, type FileObject, type IoRingObject } from './objects.js';
import type { EmulatedKernel } from './kernel.js';
import type { EmulatedProcess } from './process.js';

// Hot-path bindings copied into module-local constants once: under the tsx loader imported
// bindings are accessed through getters, which cost ~13% of the workload's time in a profile.
const NtStatus = { ...NtStatus_ };
const SqeOff = { ...SqeOff_ };
const Access = { ...Access_ };
const fileIo = { ...fileIo_ };
const hresultFromNt = hresultFromNt_;
const isUserRange = isUserRange_;
const addHi = addHi_;
const addLo = addLo_;
const TWO32 = 0x100000000;
/** FILE_USE_FILE_POINTER_POSITION as the (hi, lo) of a LARGE_INTEGER ByteOffset (-2). */
const USE_FILE_POINTER_HI = 0xffffffff;
const USE_FILE_POINTER_LO = 0xfffffffe;

/** _IOP_MC_BUFFER_ENTRY offsets ([PDB] ntdiff/headers Win11_2209_22H2/x64 _IOP_MC_BUFFER_ENTRY.h, reference §2.6). */
export const McEntryOff = {
  Type: 0x00, Reserved: 0x02, Size: 0x04, ReferenceCount: 0x08, Flags: 0x0c, GlobalDataLink: 0x10,
  Address: 0x20, Length: 0x28, AccessMode: 0x2c, MdlRef: 0x30, Mdl: 0x38, MdlRundownEvent: 0x40, PfnArray: 0x58, PageNodes: 0x60,
} as const;
/** IORING_BUFFER_INFO {void* Address; UINT32 Length;}: 16 bytes on x64 ([SDK] ioringapi.h). */
export const BUFFER_INFO_SIZE = 0x10;

/** Queue limits the emulation reports in NT_IORING_CAPABILITIES. Inferred: the PoC creates (0x10000, 0x20000). */
export const IORING_MAX_SQ = 0x10000;
export const IORING_MAX_CQ = 0x20000;

function roundPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Result of one entry: the kernel writes these into the CQE. Reused, never allocated per op. */
interface OpResult { status: number; infoLo: number; infoHi: number }

/**
 * Allocates the IORING_OBJECT in pool at the build's offsets, the shared section and its two
 * mappings (user VA for the process, system VA for the kernel's SubmissionQueue / CompletionQueue).
 */
export function createIoRingObject(k: EmulatedKernel, p: EmulatedProcess, version: number, sqReq: number, cqReq: number, requiredFlags: number, advisoryFlags: number): IoRingObject {
  const o = k.offsets.off;
  const sqSize = roundPow2(sqReq);
  const cqSize = Math.max(roundPow2(cqReq), sqSize);
  const sqBytes = NT_IORING_SQ_HEADER_SIZE + NT_IORING_SQE_SIZE * sqSize;
  const cqOffset = Math.ceil(sqBytes / PAGE_SIZE) * PAGE_SIZE;
  const cqBytes = NT_IORING_CQ_HEADER_SIZE + NT_IORING_CQE_SIZE * cqSize;
  const viewSize = cqOffset + Math.ceil(cqBytes / PAGE_SIZE) * PAGE_SIZE;
  const section = new Section(viewSize);
  const userBase = p.reserve(viewSize, 'IoRingSection', section, 0);
  const sqPages = cqOffset / PAGE_SIZE;
  const sqK = k.mapSystemView(section, 0, sqPages, 'IoRing SQ (MiMapViewInSystemSpace)');
  const cqK = k.mapSystemView(section, sqPages, viewSize / PAGE_SIZE - sqPages, 'IoRing CQ (MDL mapping)');
  const obj = k.pool.allocate(PoolType.NonPaged, k.offsets.objectSize, 'IoRg');
  const secObj = k.pool.allocate(PoolType.NonPaged, 0x30, 'MmSt');
  const mdl = k.pool.allocate(PoolType.NonPaged, 0x30 + 8 * (viewSize / PAGE_SIZE - sqPages), 'Mdl ');
  const m = k.memory;
  const H = obj.hi;
  const L = obj.lo;
  // Type is not known from symbols (the field exists, its value does not appear in any source): 0.
  m.writeU16(H, L + o.Type, 0);
  m.writeU16(H, L + o.Size, k.offsets.objectSize);
  const ui = L + o.UserInfo;
  m.writeU32(H, ui + 0x00, version);
  m.writeU32(H, ui + 0x04, requiredFlags);
  m.writeU32(H, ui + 0x08, advisoryFlags);
  m.writeU32(H, ui + 0x0c, sqSize);
  m.writeU32(H, ui + 0x10, sqSize - 1);
  m.writeU32(H, ui + 0x14, cqSize);
  m.writeU32(H, ui + 0x18, cqSize - 1);
  const sqUserHi = Number(userBase >> 32n);
  const sqUserLo = Number(userBase & 0xffffffffn);
  const cqUserHi = addHi(sqUserHi, sqUserLo, cqOffset);
  const cqUserLo = addLo(sqUserLo, cqOffset);
  m.writeU64Parts(H, ui + 0x20, sqUserHi, sqUserLo);
  m.writeU64Parts(H, ui + 0x28, cqUserHi, cqUserLo);
  m.writeU64Parts(H, L + o.Section, secObj.hi, secObj.lo);
  m.writeU64Parts(H, L + o.SubmissionQueue, sqK.hi, sqK.lo);
  m.writeU64Parts(H, L + o.CompletionQueueMdl, mdl.hi, mdl.lo);
  m.writeU64Parts(H, L + o.CompletionQueue, cqK.hi, cqK.lo);
  m.writeU64Parts(H, L + o.ViewSize, 0, viewSize);
  // KEVENT: DISPATCHER_HEADER Type 0 (NotificationEvent), Size 6 (in ULONGs), SignalState 0.
  m.writeU8(H, L + o.CompletionEvent, 0);
  m.writeU8(H, L + o.CompletionEvent + 2, 6);
  const ring: IoRingObject = {
    typeName: 'IoRing', hi: H, lo: L, refs: 0, deleted: false, ownerPid: p.pid, version, section,
    userRegion: p.regionAt(userBase)!, sqKernelRegion: sqK.region, cqKernelRegion: cqK.region,
    sqUserHi, sqUserLo, cqUserHi, cqUserLo, sectionObjHi: secObj.hi, sectionObjLo: secObj.lo, mdlHi: mdl.hi, mdlLo: mdl.lo,
  };
  return ring;
}

/** Per-kernel IoRing processing state (scratch buffers reused across submissions). */
export class IoRingEngine {
  private readonly sqe = new Uint8Array(NT_IORING_SQE_SIZE);
  private readonly sqeDv = new DataView(this.sqe.buffer);
  private readonly res: OpResult = { status: 0, infoLo: 0, infoHi: 0 };
  /** Buffer VA resolved by getBuffer. */
  private bufHi = 0;
  private bufLo = 0;
  /** File object resolved by referenceFile. */
  private file: FileObject | undefined;
  /** Total entries processed (for benchmarks). */
  processed = 0;

  constructor(private readonly k: EmulatedKernel) {}

  /**
   * NtSubmitIoRing after handle validation: consume SQ Head..Tail, process each entry, write a CQE,
   * advance Head. Stops early when the CQ is full (sets SQ Flags bit 0, as IopCompleteIoRingEntry does).
   */
  submit(p: EmulatedProcess, ring: IoRingObject, waitOperations: number): number {
    const k = this.k;
    const o = k.offsets.off;
    const m = k.memory;
    const H = ring.hi;
    const L = ring.lo;
    if (m.readU32(H, L + o.InSubmit) !== 0) return NtStatus.STATUS_IORING_SUBMIT_IN_PROGRESS;
    m.writeU32(H, L + o.InSubmit, 1);
    const view = p.kernelView;
    let completed = 0;
    let status: number = NtStatus.STATUS_SUCCESS;
    try {
      const sq = m.readU64Parts(H, L + o.SubmissionQueue);
      const sqHi = sq.hi;
      const sqLo = sq.lo;
      const cq = m.readU64Parts(H, L + o.CompletionQueue);
      const cqHi = cq.hi;
      const cqLo = cq.lo;
      const sqSize = m.readU32(H, L + o.UserInfo + 0x0c);
      const sqMask = m.readU32(H, L + o.UserInfo + 0x10);
      const cqSize = m.readU32(H, L + o.UserInfo + 0x14);
      const cqMask = m.readU32(H, L + o.UserInfo + 0x18);
      let head = m.readU32(sqHi, sqLo);
      const tail = m.readU32(sqHi, sqLo + 4);
      const pending = (tail - head) >>> 0;
      if (pending > sqSize) return (status = NtStatus.STATUS_IORING_CORRUPT);
      for (let i = 0; i < pending; i++) {
        const cqHead = m.readU32(cqHi, cqLo);
        const cqTail = m.readU32(cqHi, cqLo + 4);
        if (((cqTail - cqHead) >>> 0) >= cqSize) {
          m.writeU32(sqHi, sqLo + 8, m.readU32(sqHi, sqLo + 8) | 1);
          break;
        }
        const off = NT_IORING_SQ_HEADER_SIZE + ((head & sqMask) >>> 0) * NT_IORING_SQE_SIZE;
        m.readInto(addHi(sqHi, sqLo, off), addLo(sqLo, off), this.sqe, 0, NT_IORING_SQE_SIZE);
        this.processEntry(p, ring, view);
        // CQE: UserData, IO_STATUS_BLOCK {Status as HRESULT_FROM_NT (the Win32 ResultCode), Information}.
        const coff = NT_IORING_CQ_HEADER_SIZE + ((cqTail & cqMask) >>> 0) * NT_IORING_CQE_SIZE;
        const eh = addHi(cqHi, cqLo, coff);
        const el = addLo(cqLo, coff);
        const dv = this.sqeDv;
        m.writeU64Parts(eh, el, dv.getUint32(SqeOff.UserData + 4, true), dv.getUint32(SqeOff.UserData, true));
        m.writeU64Parts(eh, el + 8, 0, hresultFromNt(this.res.status));
        m.writeU64Parts(eh, el + 16, this.res.infoHi, this.res.infoLo);
        m.writeU32(cqHi, cqLo + 4, (cqTail + 1) >>> 0);
        head = (head + 1) >>> 0;
        m.writeU32(sqHi, sqLo, head);
        completed++;
      }
      if (completed > 0) {
        const sc = m.readU64Parts(H, L + o.SubmitCount);
        m.writeU64Parts(H, L + o.SubmitCount, addHi(sc.hi, sc.lo, completed), addLo(sc.lo, completed));
        const cc = m.readU64Parts(H, L + o.CompletionCount);
        m.writeU64Parts(H, L + o.CompletionCount, addHi(cc.hi, cc.lo, completed), addLo(cc.lo, completed));
        m.writeU32(H, L + o.CompletionEvent + 4, 1);
        const ue = m.readU64Parts(H, L + o.CompletionUserEvent);
        if (ue.hi !== 0 || ue.lo !== 0) m.writeU32(ue.hi, ue.lo + 4, 1);
        this.processed += completed;
      }
      if (waitOperations !== 0) {
        const target = waitOperations === IORING_SUBMIT_WAIT_ALL ? pending : waitOperations;
        const inCq = (m.readU32(cqHi, cqLo + 4) - m.readU32(cqHi, cqLo)) >>> 0;
        // The emulated kernel never blocks: everything completes inline, so an unmet wait times out.
        if (completed < target && inCq < target) status = NtStatus.STATUS_TIMEOUT;
      }
    } finally {
      m.writeU32(H, L + o.InSubmit, 0);
    }
    if (k.hasListeners) k.emit({ type: 'ioring.submit', pid: p.pid, object: ring, entries: completed, status });
    return status;
  }

  /** IopProcessIoRingEntry: validate the SQE, dispatch by opcode, leave the result in this.res. */
  private processEntry(p: EmulatedProcess, ring: IoRingObject, view: MemoryView): void {
    const dv = this.sqeDv;
    const res = this.res;
    res.status = NtStatus.STATUS_SUCCESS;
    res.infoLo = 0;
    res.infoHi = 0;
    const op = dv.getUint32(SqeOff.OpCode, true);
    const sqeFlags = dv.getUint32(SqeOff.Flags, true);
    if ((sqeFlags & ~NT_IORING_SQE_FLAGS_VALID) !== 0) { res.status = NtStatus.STATUS_INVALID_PARAMETER; return; }
    if (op > IoRingOp.WRITE_GATHER) { res.status = NtStatus.STATUS_INVALID_PARAMETER; return; }
    // WRITE/FLUSH arrived with IORING_VERSION_3, scatter/gather with IORING_VERSION_4 (reference §1.1).
    const needs = op === IoRingOp.WRITE || op === IoRingOp.FLUSH ? IoRingVersion.V3 : op >= IoRingOp.READ_SCATTER ? IoRingVersion.V4 : 0;
    if (ring.version < needs) { res.status = NtStatus.STATUS_NOT_SUPPORTED; return; }
    const commonOpFlags = dv.getUint32(SqeOff.CommonOpFlags, true);
    if (op !== IoRingOp.NOP && (commonOpFlags & ~NT_IORING_OP_FLAGS_VALID) !== 0) {
      res.status = NtStatus.STATUS_IORING_REQUIRED_FLAGS_NOT_SUPPORTED;
      return;
    }
    try {
      switch (op) {
        case IoRingOp.NOP: return;
        case IoRingOp.READ: return this.readWrite(p, ring, view, commonOpFlags, false);
        case IoRingOp.WRITE: return this.readWrite(p, ring, view, commonOpFlags, true);
        case IoRingOp.FLUSH: return this.flush(p, ring, commonOpFlags);
        case IoRingOp.CANCEL: return this.cancel(p, ring, commonOpFlags);
        case IoRingOp.REGISTER_FILES: return this.registerFiles(p, ring, view, commonOpFlags);
        case IoRingOp.REGISTER_BUFFERS: return this.registerBuffers(p, ring, view, commonOpFlags);
        case IoRingOp.READ_SCATTER: return this.scatterGather(p, ring, view, commonOpFlags, false);
        case IoRingOp.WRITE_GATHER: return this.scatterGather(p, ring, view, commonOpFlags, true);
      }
    } catch (e) {
      // The dispatchers run under __try; a fault on a buffer completes the entry with the exception code.
      if (isWin11MonError(e) && e.code === 'WIN11MON_ERR_ACCESS_VIOLATION') { res.status = NtStatus.STATUS_ACCESS_VIOLATION; return; }
      throw e;
    }
  }

  /** IopIoRingReferenceFileObject: a registered index into RegFiles or a raw handle; leaves this.file. */
  private referenceFile(p: EmulatedProcess, ring: IoRingObject, registered: boolean, access: number): number {
    const dv = this.sqeDv;
    const k = this.k;
    this.file = undefined;
    if (registered) {
      const idx = dv.getUint32(SqeOff.File, true);
      const o = k.offsets.off;
      const count = k.memory.readU32(ring.hi, ring.lo + o.RegFilesCount);
      // Inference: the registered-file path uses the same index check as IopIoRingGetBuffer (0xC00004D1).
      if (idx >= count) return NtStatus.STATUS_INVALID_INDEX;
      const arr = k.memory.readU64Parts(ring.hi, ring.lo + o.RegFiles);
      const ah = arr.hi;
      const al = arr.lo;
      const e = k.memory.readU64Parts(addHi(ah, al, idx * 8), addLo(al, idx * 8));
      if (e.hi === 0 && e.lo === 0) return NtStatus.STATUS_INVALID_HANDLE;
      const obj = k.objectAt(e.hi, e.lo);
      if (obj === undefined || obj.typeName !== 'File') return NtStatus.STATUS_INVALID_HANDLE;
      this.file = obj;
      return NtStatus.STATUS_SUCCESS;
    }
    const h = dv.getUint32(SqeOff.File, true);
    const entry = p.handles.get(h);
    if (entry === undefined || dv.getUint32(SqeOff.File + 4, true) !== 0) return NtStatus.STATUS_INVALID_HANDLE;
    if (entry.object.typeName !== 'File') return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
    if (access !== 0 && (entry.grantedAccess & access) === 0) return NtStatus.STATUS_ACCESS_DENIED;
    this.file = entry.object as FileObject;
    return NtStatus.STATUS_SUCCESS;
  }

  /**
   * IopIoRingGetBuffer ([DECOMP] reference §3). Registered: index < RegBuffersCount (else
   * 0xC00004D1), entry = RegBuffers[index] read from kernel memory NOW, NULL -> STATUS_INVALID_USER_BUFFER,
   * offset + length > entry->Length -> STATUS_INVALID_BUFFER_SIZE, VA = entry->Address + offset, used in
   * kernel mode WITHOUT a probe. Raw: ProbeForWrite (user range) for a user-mode caller.
   */
  private getBuffer(ring: IoRingObject, registered: boolean, refOff: number, length: number): number {
    const dv = this.sqeDv;
    const k = this.k;
    const m = k.memory;
    const a = dv.getUint32(refOff, true);
    const b = dv.getUint32(refOff + 4, true);
    if (!registered) {
      if (length !== 0 && !isUserRange(b, a, length)) return NtStatus.STATUS_ACCESS_VIOLATION;
      this.bufHi = b;
      this.bufLo = a;
      return NtStatus.STATUS_SUCCESS;
    }
    const o = k.offsets.off;
    const index = a;
    const offset = b;
    const count = m.readU32(ring.hi, ring.lo + o.RegBuffersCount);
    if (index >= count) return NtStatus.STATUS_INVALID_INDEX;
    const rb = m.readU64Parts(ring.hi, ring.lo + o.RegBuffers);
    const rh = rb.hi;
    const rl = rb.lo;
    // RegBuffers and the entries are read in kernel mode in the caller's context: a user-mode
    // RegBuffers (the exploit's fake array) is read just like a pool one.
    const view = this.k.processView(ring.ownerPid);
    let entryHi: number;
    let entryLo: number;
    let addrHi: number;
    let addrLo: number;
    let entryLen: number;
    if (k.offsets.regBuffersFormat === 'mc-entry-pointers') {
      const e = view.readU64Parts(addHi(rh, rl, index * 8), addLo(rl, index * 8));
      entryHi = e.hi;
      entryLo = e.lo;
      if (entryHi === 0 && entryLo === 0) return NtStatus.STATUS_INVALID_USER_BUFFER;
      // IopMcGetBuffer: STATUS_INVALID_BUFFER_SIZE when offset + length > entry->Length (+0x28).
      entryLen = view.readU32(entryHi, addLo(entryLo, McEntryOff.Length));
      const ad = view.readU64Parts(addHi(entryHi, entryLo, McEntryOff.Address), addLo(entryLo, McEntryOff.Address));
      addrHi = ad.hi;
      addrLo = ad.lo;
    } else {
      // Pre-22610: RegBuffers is a flat IORING_BUFFER_INFO array (reference §2.5).
      const eoff = index * BUFFER_INFO_SIZE;
      entryHi = addHi(rh, rl, eoff);
      entryLo = addLo(rl, eoff);
      const ad = view.readU64Parts(entryHi, entryLo);
      addrHi = ad.hi;
      addrLo = ad.lo;
      if (addrHi === 0 && addrLo === 0) return NtStatus.STATUS_INVALID_USER_BUFFER;
      entryLen = view.readU32(entryHi, addLo(entryLo, 8));
    }
    if (offset + length > TWO32 - 1) return NtStatus.STATUS_INVALID_PARAMETER;
    if (offset + length > entryLen) return NtStatus.STATUS_INVALID_BUFFER_SIZE;
    this.bufHi = addHi(addrHi, addrLo, offset);
    this.bufLo = addLo(addrLo, offset);
    return NtStatus.STATUS_SUCCESS;
  }

  /** IopIoRingDispatchRead / IopIoRingDispatchWrite. */
  private readWrite(p: EmulatedProcess, ring: IoRingObject, _view: MemoryView, flags: number, write: boolean): void {
    const dv = this.sqeDv;
    const res = this.res;
    let st = this.referenceFile(p, ring, (flags & NT_IORING_OP_FLAG_REGISTERED_FILE) !== 0, write ? Access.FILE_WRITE_DATA : Access.FILE_READ_DATA);
    if (st !== 0) { res.status = st; return; }
    const length = dv.getUint32(SqeOff.Length, true);
    st = this.getBuffer(ring, (flags & NT_IORING_OP_FLAG_REGISTERED_BUFFER) !== 0, SqeOff.Buffer, length);
    if (st !== 0) { res.status = st; return; }
    const offLo = dv.getUint32(SqeOff.Offset, true);
    const offHi = dv.getUint32(SqeOff.Offset + 4, true);
    // The buffer is accessed in kernel mode in the submitting process's context (registered buffers
    // are never re-probed, so a kernel VA in a forged entry is read or written here).
    const view = this.k.processView(ring.ownerPid);
    const n = this.transfer(view, this.file!, write, this.bufHi, this.bufLo, length, offHi, offLo);
    if (n < 0) { res.status = -n >>> 0; return; }
    res.infoLo = n;
  }

  /**
   * Moves `length` bytes between emulated memory and a file or pipe. Returns the byte count, or the
   * negated NTSTATUS on failure. Disk files use fs.readSync/writeSync straight into page buffers.
   */
  transfer(view: MemoryView, f: FileObject, write: boolean, hi: number, lo: number, length: number, offHi: number, offLo: number): number {
    if (length === 0) return 0;
    if (!view.isAccessible(hi, lo, length)) return -NtStatus.STATUS_ACCESS_VIOLATION;
    if (f.kind === 'pipe') {
      if (write) {
        if (!f.peer) return -NtStatus.STATUS_PIPE_BROKEN;
        const bytes = new Uint8Array(length);
        view.readInto(hi, lo, bytes, 0, length);
        pipeWrite(f, bytes);
        return length;
      }
      if (f.inboundBytes === 0) return -(f.peerClosed ? NtStatus.STATUS_PIPE_BROKEN : NtStatus.STATUS_PIPE_EMPTY);
      const take = Math.min(length, f.inboundBytes);
      const tmp = new Uint8Array(take);
      pipeRead(f, tmp, 0, take);
      view.writeFrom(hi, lo, tmp, 0, take);
      return take;
    }
    if (f.fd < 0) return -NtStatus.STATUS_INVALID_HANDLE;
    let pos = offHi === USE_FILE_POINTER_HI && offLo === USE_FILE_POINTER_LO ? f.position : offHi * TWO32 + offLo;
    if (pos > Number.MAX_SAFE_INTEGER) return -NtStatus.STATUS_INVALID_PARAMETER;
    let done = 0;
    let h = hi >>> 0;
    let l = lo >>> 0;
    while (done < length) {
      const po = l & 0xfff;
      const chunk = Math.min(length - done, PAGE_SIZE - po);
      const page = view.page(h, l, !write);
      const n = write ? fileIo.writeSync(f.fd, page.u8, po, chunk, pos) : fileIo.readSync(f.fd, page.u8, po, chunk, pos);
      done += n;
      pos += n;
      if (n < chunk) break;
      l += chunk;
      if (l >= TWO32) { l -= TWO32; h = (h + 1) >>> 0; }
    }
    f.position = pos;
    // Synchronous reads at or beyond end of file complete with STATUS_END_OF_FILE.
    if (!write && done === 0) return -NtStatus.STATUS_END_OF_FILE;
    return done;
  }

  /** IORING_OP_FLUSH: FlushFileBuffers on the file (a real fsync). */
  private flush(p: EmulatedProcess, ring: IoRingObject, flags: number): void {
    const st = this.referenceFile(p, ring, (flags & NT_IORING_OP_FLAG_REGISTERED_FILE) !== 0, Access.FILE_WRITE_DATA);
    if (st !== 0) { this.res.status = st; return; }
    const f = this.file!;
    if (f.kind === 'disk' && this.k.realFlush) fileIo.fsyncSync(f.fd);
  }

  /** IORING_OP_CANCEL: every emulated operation completes inline, so nothing is ever found. */
  private cancel(p: EmulatedProcess, ring: IoRingObject, flags: number): void {
    const st = this.referenceFile(p, ring, (flags & NT_IORING_OP_FLAG_REGISTERED_FILE) !== 0, 0);
    this.res.status = st !== 0 ? st : NtStatus.STATUS_NOT_FOUND;
  }

  /**
   * The checks both registration dispatchers start with: no CommonOpFlags or Flags.Required
   * (0xC0460001 otherwise), Count <= 0x10000, and the user array [Handles|Buffers, Count x elem)
   * inside user space. Sets res.status and returns false when the SQE is refused.
   */
  private checkRegisterSqe(flags: number, elemSize: number): boolean {
    const dv = this.sqeDv;
    if (flags !== 0 || dv.getUint32(SqeOff.OpFlags, true) !== 0) { this.res.status = NtStatus.STATUS_IORING_REQUIRED_FLAGS_NOT_SUPPORTED; return false; }
    const count = dv.getUint32(SqeOff.RegCount, true);
    if (count > 0x10000) { this.res.status = NtStatus.STATUS_INVALID_PARAMETER; return false; }
    if (count !== 0 && !isUserRange(dv.getUint32(SqeOff.RegArray + 4, true), dv.getUint32(SqeOff.RegArray, true), count * elemSize)) { this.res.status = NtStatus.STATUS_ACCESS_VIOLATION; return false; }
    return true;
  }

  /** IopIoRingDispatchRegisterFiles: an 'IrRF' paged-pool array of referenced FILE_OBJECT pointers. */
  private registerFiles(p: EmulatedProcess, ring: IoRingObject, view: MemoryView, flags: number): void {
    const dv = this.sqeDv;
    const k = this.k;
    const o = k.offsets.off;
    const m = k.memory;
    if (!this.checkRegisterSqe(flags, 8)) return;
    const count = dv.getUint32(SqeOff.RegCount, true);
    const arrLo = dv.getUint32(SqeOff.RegArray, true);
    const arrHi = dv.getUint32(SqeOff.RegArray + 4, true);
    const files: FileObject[] = [];
    for (let i = 0; i < count; i++) {
      const hv = view.readU64Parts(addHi(arrHi, arrLo, i * 8), addLo(arrLo, i * 8));
      const hl = hv.lo;
      if (hv.hi !== 0) { this.res.status = NtStatus.STATUS_INVALID_HANDLE; return; }
      const e = p.handles.get(hl);
      if (!e) { this.res.status = NtStatus.STATUS_INVALID_HANDLE; return; }
      if (e.object.typeName !== 'File') { this.res.status = NtStatus.STATUS_OBJECT_TYPE_MISMATCH; return; }
      files.push(e.object);
    }
    this.releaseRegFiles(ring);
    if (count === 0) return;
    const arr = k.pool.allocate(PoolType.Paged, 8 * count, 'IrRF');
    for (let i = 0; i < count; i++) {
      const f = files[i]!;
      f.refs++;
      m.writeU64Parts(arr.hi, arr.lo + i * 8, f.hi, f.lo);
    }
    m.writeU32(ring.hi, ring.lo + o.RegFilesCount, count);
    m.writeU64Parts(ring.hi, ring.lo + o.RegFiles, arr.hi, arr.lo);
  }

  /** Drops the RegFiles array and its references. Returns false when the kernel bugchecked. */
  releaseRegFiles(ring: IoRingObject): boolean {
    const k = this.k;
    const o = k.offsets.off;
    const m = k.memory;
    const count = m.readU32(ring.hi, ring.lo + o.RegFilesCount);
    const a = m.readU64Parts(ring.hi, ring.lo + o.RegFiles);
    const ah = a.hi;
    const al = a.lo;
    m.writeU32(ring.hi, ring.lo + o.RegFilesCount, 0);
    m.writeU64Parts(ring.hi, ring.lo + o.RegFiles, 0, 0);
    if (ah === 0 && al === 0) return true;
    if (k.pool.lookup(ah, al)) {
      for (let i = 0; i < count; i++) {
        const e = m.readU64Parts(ah, al + i * 8);
        const obj = k.objectAt(e.hi, e.lo);
        if (obj) k.releaseObject(obj);
      }
    }
    const err = k.pool.free(ah, al, 'IrRF');
    if (err) { k.badPoolCaller(err, ah, al, 'IrRF', 'IopDeleteIoRing (RegFiles)'); return false; }
    return true;
  }

  /**
   * IopIoRingDispatchRegisterBuffers ([DECOMP] reference §3): zero RegBuffersCount/RegBuffers,
   * ProbeForWrite each user buffer, then (>= 22610) an 'IrRB' paged array of pointers to 'McBe'
   * IOP_MC_BUFFER_ENTRY blocks, or (older) a flat IORING_BUFFER_INFO copy; store count and array.
   */
  private registerBuffers(_p: EmulatedProcess, ring: IoRingObject, view: MemoryView, flags: number): void {
    const dv = this.sqeDv;
    const k = this.k;
    const o = k.offsets.off;
    const m = k.memory;
    if (!this.checkRegisterSqe(flags, BUFFER_INFO_SIZE)) return;
    const count = dv.getUint32(SqeOff.RegCount, true);
    const arrLo = dv.getUint32(SqeOff.RegArray, true);
    const arrHi = dv.getUint32(SqeOff.RegArray + 4, true);
    const infos: number[] = [];
    for (let i = 0; i < count; i++) {
      const eo = i * BUFFER_INFO_SIZE;
      const ad = view.readU64Parts(addHi(arrHi, arrLo, eo), addLo(arrLo, eo));
      const ah = ad.hi;
      const al = ad.lo;
      const len = view.readU32(addHi(arrHi, arrLo, eo + 8), addLo(arrLo, eo + 8));
      // ProbeForWrite(Address, Length, 1) for a user-mode caller.
      if (len !== 0 && !isUserRange(ah, al, len)) { this.res.status = NtStatus.STATUS_ACCESS_VIOLATION; return; }
      infos.push(ah, al, len);
    }
    if (!this.cleanupRegBuffers(ring)) return;
    if (count === 0) return;
    if (k.offsets.regBuffersFormat === 'buffer-info-array') {
      const arr = k.pool.allocate(PoolType.Paged, count * BUFFER_INFO_SIZE, 'IrRB');
      for (let i = 0; i < count; i++) {
        m.writeU64Parts(arr.hi, arr.lo + i * BUFFER_INFO_SIZE, infos[3 * i]!, infos[3 * i + 1]!);
        m.writeU32(arr.hi, arr.lo + i * BUFFER_INFO_SIZE + 8, infos[3 * i + 2]!);
      }
      m.writeU32(ring.hi, ring.lo + o.RegBuffersCount, count);
      m.writeU64Parts(ring.hi, ring.lo + o.RegBuffers, arr.hi, arr.lo);
      return;
    }
    const arr = k.pool.allocate(PoolType.Paged, 8 * count, 'IrRB');
    for (let i = 0; i < count; i++) {
      const e = this.createMcEntry(infos[3 * i]!, infos[3 * i + 1]!, infos[3 * i + 2]!);
      m.writeU64Parts(arr.hi, arr.lo + i * 8, e.hi, e.lo);
    }
    m.writeU32(ring.hi, ring.lo + o.RegBuffersCount, count);
    m.writeU64Parts(ring.hi, ring.lo + o.RegBuffers, arr.hi, arr.lo);
  }

  /** IopMcCreateBufferEntry ([DECOMP] reference §2.6): 'McBe' non-paged, Type 0x0C02, Size 0x20*(pages+3). */
  private createMcEntry(ah: number, al: number, len: number): { hi: number; lo: number } {
    const k = this.k;
    const m = k.memory;
    const pages = Math.floor(((al & 0xfff) + len + 0xfff) / PAGE_SIZE);
    const size = 0x20 * (pages + 3);
    const b = k.pool.allocate(PoolType.NonPaged, size, 'McBe');
    const H = b.hi;
    const L = b.lo;
    m.writeU16(H, L + McEntryOff.Type, IOP_MC_BUFFER_ENTRY_TYPE);
    m.writeU32(H, L + McEntryOff.Size, size);
    m.writeU32(H, L + McEntryOff.ReferenceCount, 1);
    m.writeU64Parts(H, L + McEntryOff.Address, ah, al);
    m.writeU32(H, L + McEntryOff.Length, len);
    m.writeU8(H, L + McEntryOff.AccessMode, 1); // PreviousMode = UserMode
    m.writeU8(H, L + McEntryOff.MdlRundownEvent + 2, 6); // KEVENT Size
    for (let i = 0; i < pages; i++) m.writeU32(H, L + McEntryOff.PageNodes + 0x20 * i + 0x18, 0xffffffff);
    k.mcListInsert(H, L + McEntryOff.GlobalDataLink);
    return b;
  }

  /**
   * IopIoRingCleanupRegBufferArray + ExFreePoolWithTag(RegBuffers, 'IrRB'). A RegBuffers or entry that is
   * not a live pool block of the right tag (a user-mode fake) is a BAD_POOL_CALLER bugcheck, as on
   * Windows (reference §3, S14 "When your process terminates you will bluescreen"). Returns false then.
   */
  cleanupRegBuffers(ring: IoRingObject): boolean {
    const k = this.k;
    const o = k.offsets.off;
    const m = k.memory;
    const count = m.readU32(ring.hi, ring.lo + o.RegBuffersCount);
    const a = m.readU64Parts(ring.hi, ring.lo + o.RegBuffers);
    const ah = a.hi;
    const al = a.lo;
    if (ah === 0 && al === 0) {
      m.writeU32(ring.hi, ring.lo + o.RegBuffersCount, 0);
      return true;
    }
    if (k.offsets.regBuffersFormat === 'mc-entry-pointers') {
      const view = k.processView(ring.ownerPid);
      for (let i = 0; i < count; i++) {
        let eh: number;
        let el: number;
        try {
          const e = view.readU64Parts(addHi(ah, al, i * 8), addLo(al, i * 8));
          eh = e.hi;
          el = e.lo;
        } catch {
          k.bugcheck(0x50, 'PAGE_FAULT_IN_NONPAGED_AREA', [BigInt(ah) << 32n | BigInt(al >>> 0), 0n, 0n, 2n], 'IopIoRingCleanupRegBufferArray read an unmapped RegBuffers');
          return false;
        }
        if (eh === 0 && el === 0) continue;
        const err = k.pool.free(eh, el, 'McBe');
        if (err) { k.badPoolCaller(err, eh, el, 'McBe', 'IopMcWaitAndCleanupBufferEntry'); return false; }
        k.mcListRemove(eh, el + McEntryOff.GlobalDataLink);
      }
    }
    const err = k.pool.free(ah, al, 'IrRB');
    if (err) { k.badPoolCaller(err, ah, al, 'IrRB', 'IopDeleteIoRing (RegBuffers)'); return false; }
    m.writeU32(ring.hi, ring.lo + o.RegBuffersCount, 0);
    m.writeU64Parts(ring.hi, ring.lo + o.RegBuffers, 0, 0);
    return true;
  }

  /** IORING_OP_READ_SCATTER / WRITE_GATHER (24H2): one page per FILE_SEGMENT_ELEMENT. */
  private scatterGather(p: EmulatedProcess, ring: IoRingObject, view: MemoryView, flags: number, write: boolean): void {
    const dv = this.sqeDv;
    const res = this.res;
    if ((flags & NT_IORING_OP_FLAG_REGISTERED_BUFFER) !== 0) { res.status = NtStatus.STATUS_INVALID_PARAMETER; return; }
    const st = this.referenceFile(p, ring, (flags & NT_IORING_OP_FLAG_REGISTERED_FILE) !== 0, write ? Access.FILE_WRITE_DATA : Access.FILE_READ_DATA);
    if (st !== 0) { res.status = st; return; }
    const segCount = dv.getUint32(SqeOff.SegmentCount, true);
    const segLo = dv.getUint32(SqeOff.SegmentArray, true);
    const segHi = dv.getUint32(SqeOff.SegmentArray + 4, true);
    const offLo = dv.getUint32(SqeOff.SgOffset, true);
    const offHi = dv.getUint32(SqeOff.SgOffset + 4, true);
    const length = dv.getUint32(SqeOff.SgLength, true);
    if (segCount === 0 || length > segCount * PAGE_SIZE) { res.status = NtStatus.STATUS_INVALID_PARAMETER; return; }
    if (!isUserRange(segHi, segLo, segCount * 8)) { res.status = NtStatus.STATUS_ACCESS_VIOLATION; return; }
    let done = 0;
    let pos = offHi * TWO32 + offLo;
    for (let i = 0; i < segCount && done < length; i++) {
      const s = view.readU64Parts(addHi(segHi, segLo, i * 8), addLo(segLo, i * 8));
      const sh = s.hi;
      const sl = s.lo;
      const n = Math.min(PAGE_SIZE, length - done);
      if ((sl & 0xfff) !== 0) { res.status = NtStatus.STATUS_INVALID_PARAMETER; return; }
      if (!isUserRange(sh, sl, n)) { res.status = NtStatus.STATUS_ACCESS_VIOLATION; return; }
      const got = this.transfer(view, this.file!, write, sh, sl, n, Math.floor(pos / TWO32), pos >>> 0);
      if (got < 0) { if (done === 0) { res.status = -got >>> 0; return; } break; }
      done += got;
      pos += got;
      if (got < n) break;
    }
    res.infoLo = done;
  }
}

/** Page count of a region (for tests). */
export function regionPages(r: { firstPage: number; endPage: number }): number {
  return r.endPage - r.firstPage;
}

export { pageNumber, objectKey };
