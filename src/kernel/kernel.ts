// The emulated Windows 11 IoRing kernel: one kernel address space with pools, processes with
// handle tables and tokens, the Nt* syscalls (NTSTATUS results), the IoRing engine, a
// vulnerable driver with a write-what-where primitive, kernel events and an emulated bugcheck.
import { openSync, constants as fsc, existsSync, statSync } from 'node:fs';
import { join, normalize, isAbsolute, sep } from 'node:path';
import { Win11MonError, isWin11MonError } from '../abi/errors.js';
import { NtStatus } from '../abi/ntstatus.js';
import { IoRingOp, IoRingVersion, IORING_FEATURE_SET_COMPLETION_EVENT, NT_IORING_OP_FLAGS_VALID } from '../abi/ioring.js';
import { hex64, hiOf, loOf, toBigInt } from '../abi/u64.js';
import { AddressSpace, MemoryView, PAGE_SIZE, type Region, type Section, pageNumber } from './memory.js';
import { PoolAllocator, PoolType, type FreeError, poolTagName, poolTag } from './pool.js';
import { resolveOffsets, loadOffsetsOverride, type IoRingOffsets, type OffsetsEntry, type OffsetsOverride } from './offsets.js';
import { EmulatedProcess, type CreateProcessOptions } from './process.js';
import {
  Access, OBJECT_TYPE_INDEX, destroyFileObject, objectKey, fileIo,
  type DiskFileObject, type EventObject, type FileObject, type IoRingObject, type KernelObject, type ObjectTypeName,
  type PipeEndObject, type ProcessObject, type TokenObject,
} from './objects.js';
import { IoRingEngine, IORING_MAX_CQ, IORING_MAX_SQ, createIoRingObject } from './ioring.js';
import {
  FileDisposition, NtCurrentProcess, SystemInformationClass, SYSTEM_HANDLE_ENTRY_SIZE, SYSTEM_HANDLE_INFO_HEADER,
  IoRingInfoClass, type NtApi, type NtFunctionName, type Ptr,
} from './ntapi.js';

/** The status every syscall returns once the emulated machine has bugchecked. */
export const KERNEL_CRASHED_STATUS = NtStatus.STATUS_UNSUCCESSFUL;

/**
 * _TOKEN offsets: Privileges (_SEP_TOKEN_PRIVILEGES {Present, Enabled, EnabledByDefault}) at +0x40,
 * unchanged from Windows 7 x64 to Windows 11 ([PDB] ntdiff/headers Win7/x64 ... _TOKEN.h; the
 * Windows 10/11 dumps in the same repository keep TokenSource@0, TokenId@0x10, Privileges@0x40).
 */
export const TokenOff = { TokenSource: 0x00, TokenId: 0x10, AuthenticationId: 0x18, Privileges: 0x40, Present: 0x40, Enabled: 0x48, EnabledByDefault: 0x50 } as const;
/** Emulated _TOKEN allocation size (the real object is about this size plus variable parts; emulator choice). */
export const TOKEN_OBJECT_SIZE = 0x498;
/** EPROCESS offsets used by the emulation (22H2 x64 values: UniqueProcessId 0x440, Token 0x4B8 as in S11, ImageFileName 0x5A8). */
export const EprocessOff = { UniqueProcessId: 0x440, Token: 0x4b8, ImageFileName: 0x5a8 } as const;
const EPROCESS_SIZE = 0xa40;
/** Privileges of a standard medium-integrity user token (SeShutdown, SeChangeNotify, SeUndock, SeIncreaseWorkingSet, SeTimeZone). */
export const DEFAULT_PRIVILEGES = { present: 0x0000000602880000n, enabled: 0x0000000000800000n, enabledByDefault: 0x0000000040800000n } as const;

/** System view space (MiMapViewInSystemSpace / MDL mappings) and the ntoskrnl image, emulator-chosen. */
const SYSTEM_VIEW_HI = 0xffffd084;
export const NTOSKRNL_BASE = 0xfffff80720000000n;
const NTOSKRNL_SIZE = 0x01000000;
/** Emulator-chosen location of the MC buffer entry list head (IopMcBufferEntries-like global) in the ntoskrnl image. */
const MC_LIST_HEAD = NTOSKRNL_BASE + 0xc00100n;

export interface BugcheckRecord {
  /** Bug check code, e.g. 0xC2 BAD_POOL_CALLER. */
  readonly code: number;
  readonly name: string;
  readonly parameters: readonly [bigint, bigint, bigint, bigint];
  readonly reason: string;
  /** Event sequence number when it happened. */
  readonly seq: number;
}

export type KernelEvent =
  | { type: 'process.create'; pid: number; imageName: string }
  | { type: 'process.terminate'; pid: number }
  | { type: 'handle.create'; pid: number; handle: number; typeName: ObjectTypeName; object: bigint }
  | { type: 'handle.close'; pid: number; handle: number; typeName: ObjectTypeName; object: bigint }
  | { type: 'ioring.create'; pid: number; handle: number; object: bigint; version: number; submissionQueueSize: number; completionQueueSize: number }
  | { type: 'ioring.submit'; pid: number; object: IoRingObject; entries: number; status: number }
  | { type: 'ioring.delete'; pid: number; object: bigint }
  | { type: 'driver.write'; pid: number; target: bigint; length: number; status: number }
  | { type: 'bugcheck'; bugcheck: BugcheckRecord };

export type KernelEventListener = (event: KernelEvent & { seq: number }) => void;

/** One row of SystemHandleInformation, decoded. */
export interface SystemHandleEntry {
  pid: number;
  handle: number;
  typeName: ObjectTypeName;
  objectTypeIndex: number;
  /** Object body address. */
  object: bigint;
  objectHi: number;
  objectLo: number;
  grantedAccess: number;
  attributes: number;
}

export interface EmulatedKernelOptions {
  /** Windows build number, e.g. 22621. */
  build: number;
  /** Directory real files live in (file names passed to NtCreateFile are relative to it). */
  dataDir: string;
  /** An override layout (or list), or a path to an override JSON file. */
  offsetsOverride?: OffsetsOverride | OffsetsEntry | ReadonlyArray<OffsetsOverride | OffsetsEntry> | string;
  /** IORING_OP_FLUSH / NtFlushBuffersFile call fsync (default true); benchmarks turn it off to measure the emulator, not the disk. */
  realFlush?: boolean;
}

/** Capabilities NtQueryIoRingCapabilities reports for the build. */
export interface KernelCapabilities {
  maxVersion: number;
  maxOpCode: number;
  featureFlags: number;
  maxSubmissionQueueSize: number;
  maxCompletionQueueSize: number;
}

/** HEVD-style vulnerable driver (an IOCTL reachable from any process with one arbitrary kernel write). */
export interface VulnerableDriver {
  /** Writes `bytes` at `target` in kernel mode in `process`'s context. Returns an NTSTATUS. */
  writeWhatWhere(process: EmulatedProcess, target: bigint, bytes: Uint8Array): number;
  /** How many times the primitive was used. */
  readonly uses: number;
}

/**
 * The emulated kernel.
 * @example
 * const k = new EmulatedKernel({ build: 22621, dataDir: tmp });
 * const p = k.createProcess({ imageName: 'app.exe' });
 * const ring = CreateIoRing(p, IoRingVersion.V3, 0, 32, 64);
 * k.close();
 */
export class EmulatedKernel {
  readonly build: number;
  readonly dataDir: string;
  /** The IORING_OBJECT layout in use (plan 5B). */
  readonly offsets: IoRingOffsets;
  readonly kernelSpace = new AddressSpace('kernel');
  /** Kernel-mode memory, not attached to any process (user addresses fault). */
  readonly memory: MemoryView;
  readonly pool: PoolAllocator;
  readonly processes = new Map<number, EmulatedProcess>();
  readonly bugchecks: BugcheckRecord[] = [];
  readonly capabilities: KernelCapabilities;
  readonly vulnerableDriver: VulnerableDriver;
  readonly engine: IoRingEngine;
  /** Changes whenever any handle table changes (insert or close), so pollers can skip unchanged scans. */
  handleGeneration = 0;
  crashed = false;
  closed = false;
  /** Whether flushes reach the disk (fsync). */
  readonly realFlush: boolean;
  private readonly objects = new Map<number, KernelObject>();
  private readonly pipes = new Map<string, PipeEndObject>();
  private readonly listeners: KernelEventListener[] = [];
  private seq = 0;
  private nextPid = 0x1000;
  private nextSystemView = 0x10000;

  constructor(opts: EmulatedKernelOptions) {
    this.build = opts.build;
    this.dataDir = opts.dataDir;
    this.realFlush = opts.realFlush ?? true;
    const ov = typeof opts.offsetsOverride === 'string' ? loadOffsetsOverride(opts.offsetsOverride) : opts.offsetsOverride;
    this.offsets = resolveOffsets(opts.build, ov);
    this.memory = new MemoryView(this.kernelSpace, undefined, true);
    this.pool = new PoolAllocator(this.kernelSpace, this.memory);
    const v = this.offsets.maxIoRingVersion;
    this.capabilities = Object.freeze({
      maxVersion: v,
      maxOpCode: v >= IoRingVersion.V4 ? IoRingOp.WRITE_GATHER : v >= IoRingVersion.V3 ? IoRingOp.FLUSH : IoRingOp.CANCEL,
      featureFlags: IORING_FEATURE_SET_COMPLETION_EVENT,
      maxSubmissionQueueSize: IORING_MAX_SQ,
      maxCompletionQueueSize: IORING_MAX_CQ,
    });
    const ntosFirst = pageNumber(hiOf(NTOSKRNL_BASE), loOf(NTOSKRNL_BASE));
    this.kernelSpace.map({ firstPage: ntosFirst, endPage: ntosFirst + NTOSKRNL_SIZE / PAGE_SIZE, tag: 'ntoskrnl.exe' });
    this.memory.writeU64(MC_LIST_HEAD, MC_LIST_HEAD);
    this.memory.writeU64(MC_LIST_HEAD + 8n, MC_LIST_HEAD);
    this.engine = new IoRingEngine(this);
    let uses = 0;
    this.vulnerableDriver = {
      writeWhatWhere: (process, target, bytes) => {
        uses++;
        const st = this.driverWrite(process, target, bytes);
        if (this.hasListeners) this.emit({ type: 'driver.write', pid: process.pid, target, length: bytes.length, status: st });
        return st;
      },
      get uses() { return uses; },
    };
  }

  // ---------------------------------------------------------------- events and bugchecks

  /** Subscribes to kernel events; returns the unsubscribe function. Costs nothing when nobody listens. */
  onEvent(listener: KernelEventListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }

  /**
   * Subscribes to bugchecks only; returns the unsubscribe function. Unlike onEvent this does not make
   * every syscall build event objects, so a monitor can watch for crashes at no cost to the hot path.
   */
  onBugcheck(listener: (rec: BugcheckRecord) => void): () => void {
    this.bugcheckListeners.push(listener);
    return () => {
      const i = this.bugcheckListeners.indexOf(listener);
      if (i >= 0) this.bugcheckListeners.splice(i, 1);
    };
  }

  private readonly bugcheckListeners: Array<(rec: BugcheckRecord) => void> = [];

  emit(event: KernelEvent): void {
    const e = { ...event, seq: ++this.seq };
    for (const l of [...this.listeners]) l(e);
  }

  /** KeBugCheckEx: records the crash, notifies listeners, and stops the machine (syscalls fail from now on). */
  bugcheck(code: number, name: string, parameters: [bigint, bigint, bigint, bigint], reason: string): BugcheckRecord {
    const rec: BugcheckRecord = Object.freeze({ code, name, parameters, reason, seq: this.seq + 1 });
    this.bugchecks.push(rec);
    this.crashed = true;
    if (this.hasListeners) this.emit({ type: 'bugcheck', bugcheck: rec });
    for (const l of [...this.bugcheckListeners]) l(rec);
    return rec;
  }

  /**
   * BAD_POOL_CALLER (0xC2). Parameter 1: 0x46 freeing an address that is not pool, 0x07 freeing a block
   * that is not allocated, 0x0A tag mismatch (values as Microsoft's bug check reference lists them; not
   * re-verified here). Parameter 2 is the address, parameter 4 the expected tag.
   */
  badPoolCaller(err: FreeError, hi: number, lo: number, tag: string, where: string): BugcheckRecord {
    const p1 = err === 'not-pool-address' ? 0x46n : err === 'not-allocated' ? 0x07n : 0x0an;
    return this.bugcheck(0xc2, 'BAD_POOL_CALLER', [p1, toBigInt(hi, lo), 0n, BigInt(poolTag(tag))], `${where}: ExFreePoolWithTag(${hex64(hi, lo)}, '${tag}') - ${err}`);
  }

  // ---------------------------------------------------------------- processes and handles

  /** Creates a process with its EPROCESS and a medium-integrity token in kernel pool. */
  createProcess(opts: CreateProcessOptions): EmulatedProcess {
    const pid = opts.pid ?? this.allocPid();
    if (this.processes.has(pid)) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `pid ${pid} already exists`, { field: 'pid', actual: pid });
    if (pid <= 0 || pid % 4 !== 0 || pid > 0xfffc) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `pid must be a positive multiple of 4 below 0x10000: ${pid}`, { field: 'pid', actual: pid });
    const p: EmulatedProcess = new EmulatedProcess(pid, opts.imageName, this.kernelSpace, this.makeApi((): EmulatedProcess => p));
    const m = this.memory;
    const tok = this.pool.allocate(PoolType.Paged, TOKEN_OBJECT_SIZE, 'Toke');
    m.writeBytes(toBigInt(tok.hi, tok.lo), new TextEncoder().encode('User32  '));
    m.writeU32(tok.hi, tok.lo + TokenOff.TokenId, 0x10000 + pid);
    m.writeU32(tok.hi, tok.lo + TokenOff.AuthenticationId, 0x3e7 + pid);
    p.token = toBigInt(tok.hi, tok.lo);
    m.writeU64(p.token + BigInt(TokenOff.Present), DEFAULT_PRIVILEGES.present);
    m.writeU64(p.token + BigInt(TokenOff.Enabled), DEFAULT_PRIVILEGES.enabled);
    m.writeU64(p.token + BigInt(TokenOff.EnabledByDefault), DEFAULT_PRIVILEGES.enabledByDefault);
    const ep = this.pool.allocate(PoolType.NonPaged, EPROCESS_SIZE, 'Proc');
    p.eprocess = toBigInt(ep.hi, ep.lo);
    m.writeU64(p.eprocess + BigInt(EprocessOff.UniqueProcessId), BigInt(pid));
    m.writeU64(p.eprocess + BigInt(EprocessOff.Token), p.token | 0x7n); // EX_FAST_REF: low 4 bits are a ref count
    m.writeBytes(p.eprocess + BigInt(EprocessOff.ImageFileName), new TextEncoder().encode(opts.imageName.slice(0, 14)));
    const tokenObj: TokenObject = { typeName: 'Token', hi: tok.hi, lo: tok.lo, refs: 1, deleted: false, pid };
    const procObj: ProcessObject = { typeName: 'Process', hi: ep.hi, lo: ep.lo, refs: 1, deleted: false, pid };
    this.registerObject(tokenObj);
    this.registerObject(procObj);
    this.processes.set(pid, p);
    if (this.hasListeners) this.emit({ type: 'process.create', pid, imageName: p.imageName });
    return p;
  }

  /** Ends a process: closes every handle (rings are torn down, which may bugcheck). */
  terminateProcess(pid: number): void {
    const p = this.processes.get(pid);
    if (!p || p.terminated) return;
    for (const h of [...p.handles.keys()]) {
      if (this.crashed) break;
      this.closeHandle(p, h);
    }
    p.terminated = true;
    if (this.hasListeners) this.emit({ type: 'process.terminate', pid });
  }

  process(pid: number): EmulatedProcess | undefined {
    return this.processes.get(pid);
  }

  /** Kernel-mode view attached to a process (KeStackAttachProcess). */
  attach(process: EmulatedProcess | number): MemoryView {
    const p = typeof process === 'number' ? this.processes.get(process) : process;
    if (!p) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', `no process ${String(process)}`, { field: 'pid', actual: String(process) });
    return p.kernelView;
  }

  /** @internal the kernel view used for a ring owner's buffers. */
  processView(pid: number): MemoryView {
    const p = this.processes.get(pid);
    return p ? p.kernelView : this.memory;
  }

  /** NtQuerySystemInformation(SystemHandleInformation), decoded: every handle of every live process. */
  querySystemHandles(): SystemHandleEntry[] {
    const out: SystemHandleEntry[] = [];
    for (const p of this.processes.values()) {
      if (p.terminated) continue;
      for (const e of p.handles.values()) {
        out.push({
          pid: p.pid, handle: e.value, typeName: e.object.typeName, objectTypeIndex: OBJECT_TYPE_INDEX[e.object.typeName],
          object: toBigInt(e.object.hi, e.object.lo), objectHi: e.object.hi, objectLo: e.object.lo,
          grantedAccess: e.grantedAccess, attributes: e.attributes,
        });
      }
    }
    return out;
  }

  /** The IORING_OBJECT behind (pid, handle), or undefined. */
  getIoRing(pid: number, handle: number): IoRingObject | undefined {
    const o = this.processes.get(pid)?.handles.get(handle)?.object;
    return o?.typeName === 'IoRing' ? o : undefined;
  }

  /** Kernel address of the IORING_OBJECT behind (pid, handle), or undefined. */
  getIoRingObjectAddress(pid: number, handle: number): bigint | undefined {
    const r = this.getIoRing(pid, handle);
    return r ? toBigInt(r.hi, r.lo) : undefined;
  }

  /** Every live IoRing object with its owner (cold path). */
  ioRings(): IoRingObject[] {
    const out: IoRingObject[] = [];
    for (const o of this.objects.values()) if (o.typeName === 'IoRing' && !o.deleted) out.push(o);
    return out;
  }

  /** The registered object at a kernel address (FILE_OBJECT pointers in RegFiles, events). */
  objectAt(hi: number, lo: number): KernelObject | undefined {
    return this.objects.get(objectKey(hi, lo));
  }

  /** Open disk-file descriptors (tests check nothing leaks). */
  openFileCount(): number {
    let n = 0;
    for (const o of this.objects.values()) if (o.typeName === 'File' && o.kind === 'disk' && o.fd >= 0) n++;
    return n;
  }

  /** Releases every file descriptor and stops the kernel; syscalls fail afterwards. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const o of this.objects.values()) if (o.typeName === 'File') destroyFileObject(o);
  }

  /** Direct syscall by name (never goes through a process's ntdll table). */
  syscall<N extends NtFunctionName>(process: EmulatedProcess, name: N, ...args: Parameters<NtApi[N]>): number {
    const f = process.syscall[name] as (...a: unknown[]) => number;
    return f(...args);
  }

  // ---------------------------------------------------------------- kernel internals used by the engine

  /** Maps section pages into system view space; returns the kernel VA. */
  mapSystemView(section: Section, firstSectionPage: number, pages: number, tag: string): { hi: number; lo: number; region: Region } {
    const lo = this.nextSystemView;
    this.nextSystemView += (pages + 1) * PAGE_SIZE; // one guard page between views
    const first = pageNumber(SYSTEM_VIEW_HI, lo);
    const region = this.kernelSpace.map({ firstPage: first, endPage: first + pages, tag, section, sectionFirst: firstSectionPage });
    return { hi: SYSTEM_VIEW_HI, lo, region };
  }

  /** InsertTailList on the global MC buffer entry list. */
  mcListInsert(hi: number, lo: number): void {
    const m = this.memory;
    const head = MC_LIST_HEAD;
    const blink = m.readU64(head + 8n);
    const entry = toBigInt(hi, lo);
    m.writeU64(entry, head);
    m.writeU64(entry + 8n, blink);
    m.writeU64(blink, entry);
    m.writeU64(head + 8n, entry);
  }

  /** RemoveEntryList on the global MC buffer entry list. */
  mcListRemove(hi: number, lo: number): void {
    const m = this.memory;
    const entry = toBigInt(hi, lo);
    const flink = m.readU64(entry);
    const blink = m.readU64(entry + 8n);
    if (flink === 0n || blink === 0n) return;
    m.writeU64(blink, flink);
    m.writeU64(flink + 8n, blink);
  }

  /** Address of the global MC entry list head (for monitors walking it). */
  get mcListHead(): bigint {
    return MC_LIST_HEAD;
  }

  /** Drops one reference; the object is deleted at zero (IopDeleteIoRing for rings). */
  releaseObject(obj: KernelObject): void {
    if (obj.deleted) return;
    obj.refs--;
    if (obj.refs > 0) return;
    obj.deleted = true;
    switch (obj.typeName) {
      case 'IoRing':
        this.deleteIoRing(obj);
        return;
      case 'File':
        if (obj.kind === 'pipe' && obj.server && this.pipes.get(obj.pipeName) === obj) this.pipes.delete(obj.pipeName);
        destroyFileObject(obj);
        break;
      default:
        break;
    }
    this.objects.delete(objectKey(obj.hi, obj.lo));
    this.pool.free(obj.hi, obj.lo);
  }

  private registerObject(o: KernelObject): void {
    this.objects.set(objectKey(o.hi, o.lo), o);
  }

  private insertHandle(p: EmulatedProcess, obj: KernelObject, access: number): number {
    const h = p.insertHandle(obj, access);
    this.handleGeneration++;
    if (this.hasListeners) this.emit({ type: 'handle.create', pid: p.pid, handle: h, typeName: obj.typeName, object: toBigInt(obj.hi, obj.lo) });
    return h;
  }

  private closeHandle(p: EmulatedProcess, h: number): number {
    const e = p.handles.get(h);
    if (!e) return NtStatus.STATUS_INVALID_HANDLE;
    p.handles.delete(h);
    this.handleGeneration++;
    if (this.hasListeners) this.emit({ type: 'handle.close', pid: p.pid, handle: h, typeName: e.object.typeName, object: toBigInt(e.object.hi, e.object.lo) });
    this.releaseObject(e.object);
    return this.crashed ? KERNEL_CRASHED_STATUS : NtStatus.STATUS_SUCCESS;
  }

  /** IopDeleteIoRing: RegBuffers cleanup (bugchecks on a non-pool array), RegFiles, views, section, object. */
  private deleteIoRing(ring: IoRingObject): void {
    if (!this.engine.cleanupRegBuffers(ring)) return;
    if (!this.engine.releaseRegFiles(ring)) return;
    const owner = this.processes.get(ring.ownerPid);
    if (owner) {
      owner.userSpace.unmap(ring.userRegion);
      owner.memory.invalidate();
      owner.kernelView.invalidate();
    }
    this.kernelSpace.unmap(ring.sqKernelRegion);
    this.kernelSpace.unmap(ring.cqKernelRegion);
    this.memory.invalidate();
    for (const p of this.processes.values()) p.kernelView.invalidate();
    this.pool.free(ring.sectionObjHi, ring.sectionObjLo, 'MmSt');
    this.pool.free(ring.mdlHi, ring.mdlLo, 'Mdl ');
    this.objects.delete(objectKey(ring.hi, ring.lo));
    this.pool.free(ring.hi, ring.lo, 'IoRg');
    if (this.hasListeners) this.emit({ type: 'ioring.delete', pid: ring.ownerPid, object: toBigInt(ring.hi, ring.lo) });
  }

  private allocPid(): number {
    while (this.processes.has(this.nextPid)) this.nextPid += 4;
    const pid = this.nextPid;
    this.nextPid += 4;
    return pid;
  }

  private driverWrite(p: EmulatedProcess, target: bigint, bytes: Uint8Array): number {
    if (this.crashed || this.closed) return KERNEL_CRASHED_STATUS;
    const view = p.kernelView;
    const hi = hiOf(target);
    const lo = loOf(target);
    if (!view.isAccessible(hi, lo, bytes.length)) {
      if (hi >= 0xffff8000) {
        // A kernel-mode write to an unmapped system address cannot be caught by __try.
        this.bugcheck(0x50, 'PAGE_FAULT_IN_NONPAGED_AREA', [target, 1n, 0n, 2n], `vulnerable driver wrote to unmapped ${hex64(hi, lo)}`);
        return KERNEL_CRASHED_STATUS;
      }
      return NtStatus.STATUS_ACCESS_VIOLATION;
    }
    view.writeFrom(hi, lo, bytes, 0, bytes.length);
    return NtStatus.STATUS_SUCCESS;
  }

  // ---------------------------------------------------------------- syscalls

  private makeApi(proc: () => EmulatedProcess): NtApi {
    const run = (f: (p: EmulatedProcess) => number): number => {
      if (this.crashed || this.closed) return KERNEL_CRASHED_STATUS;
      const p = proc();
      if (p.terminated) return NtStatus.STATUS_UNSUCCESSFUL;
      try {
        return f(p) >>> 0;
      } catch (e) {
        if (isWin11MonError(e)) return e.status >>> 0;
        throw e;
      }
    };
    return {
      NtCreateIoRing: (a, b, c, d, e) => run((p) => this.ntCreateIoRing(p, a, b, c, d, e)),
      NtSubmitIoRing: (h, f, w, t) => run((p) => this.ntSubmitIoRing(p, h, f, w, t)),
      NtQueryIoRingCapabilities: (l, c) => run((p) => this.ntQueryIoRingCapabilities(p, l, c)),
      NtSetInformationIoRing: (h, c, l, i) => run((p) => this.ntSetInformationIoRing(p, h, c, l, i)),
      NtClose: (h) => run((p) => this.closeHandle(p, h)),
      NtCreateFile: (fh, acc, name, iosb, disp, opt) => run((p) => this.ntCreateFile(p, fh, acc, name, iosb, disp, opt ?? 0)),
      NtReadFile: (h, ev, apc, ctx, iosb, buf, len, off, key) => run((p) => this.ntReadWriteFile(p, false, h, ev, apc, ctx, iosb, buf, len, off, key)),
      NtWriteFile: (h, ev, apc, ctx, iosb, buf, len, off, key) => run((p) => this.ntReadWriteFile(p, true, h, ev, apc, ctx, iosb, buf, len, off, key)),
      NtFlushBuffersFile: (h, iosb) => run((p) => this.ntFlushBuffersFile(p, h, iosb)),
      NtCreateNamedPipeFile: (fh, acc, name, iosb) => run((p) => this.ntCreateNamedPipeFile(p, fh, acc, name, iosb)),
      NtQuerySystemInformation: (c, b, l, r) => run((p) => this.ntQuerySystemInformation(p, c, b, l, r)),
      NtOpenProcessToken: (ph, acc, th) => run((p) => this.ntOpenProcessToken(p, ph, acc, th)),
      NtCreateEvent: (eh, acc, oa, type, init) => run((p) => this.ntCreateEvent(p, eh, acc, oa, type, init)),
      NtSetEvent: (h, prev) => run((p) => this.ntSetResetEvent(p, h, prev, 1)),
      NtResetEvent: (h, prev) => run((p) => this.ntSetResetEvent(p, h, prev, 0)),
      NtWaitForSingleObject: (h, al, t) => run((p) => this.ntWaitForSingleObject(p, h, al, t)),
    };
  }

  /** ObReferenceObjectByHandle: the entry, or an NTSTATUS. */
  private ref<T extends ObjectTypeName>(p: EmulatedProcess, h: number, type: T): Extract<KernelObject, { typeName: T }> | number {
    const e = p.handles.get(h);
    if (!e) return NtStatus.STATUS_INVALID_HANDLE;
    if (e.object.typeName !== type) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
    return e.object as Extract<KernelObject, { typeName: T }>;
  }

  private writeIosb(p: EmulatedProcess, iosb: Ptr, status: number, information: number): void {
    if (iosb === 0n) return;
    p.memory.writeU64(iosb, BigInt(status >>> 0));
    p.memory.writeU64(iosb + 8n, BigInt(information));
  }

  private ntCreateIoRing(p: EmulatedProcess, outHandle: Ptr, createLen: number, params: Ptr, outLen: number, outInfo: Ptr): number {
    // NT_IORING_STRUCTV1 is 0x14 bytes, NT_IORING_INFO 0x30 (reference §1.6).
    if (createLen < 0x14 || outLen < 0x30) return NtStatus.STATUS_INFO_LENGTH_MISMATCH;
    const m = p.memory;
    const version = m.readU32At(params);
    const sq = m.readU32At(params + 4n);
    const cq = m.readU32At(params + 8n);
    const req = m.readU32At(params + 0xcn);
    const adv = m.readU32At(params + 0x10n);
    if (![IoRingVersion.V1, IoRingVersion.V2, IoRingVersion.V3, IoRingVersion.V4].includes(version as 1) || version > this.capabilities.maxVersion) {
      return NtStatus.STATUS_IORING_VERSION_NOT_SUPPORTED;
    }
    if (req !== 0) return NtStatus.STATUS_IORING_REQUIRED_FLAGS_NOT_SUPPORTED;
    if (sq === 0 || cq === 0) return NtStatus.STATUS_INVALID_PARAMETER;
    if (sq > this.capabilities.maxSubmissionQueueSize) return NtStatus.STATUS_IORING_SUBMISSION_QUEUE_TOO_BIG;
    if (cq > this.capabilities.maxCompletionQueueSize) return NtStatus.STATUS_IORING_COMPLETION_QUEUE_TOO_BIG;
    if (!m.isAccessible(hiOf(outInfo), loOf(outInfo), 0x30) || !m.isAccessible(hiOf(outHandle), loOf(outHandle), 8)) return NtStatus.STATUS_ACCESS_VIOLATION;
    const ring = createIoRingObject(this, p, version, sq, cq, req, adv);
    this.registerObject(ring);
    const h = this.insertHandle(p, ring, Access.IORING_ALL_ACCESS);
    // NT_IORING_INFO as IopCreateIoRing returns it: UserInfo copied out.
    const info = this.memory.readBytes(toBigInt(ring.hi, ring.lo) + BigInt(this.offsets.off.UserInfo), 0x30);
    m.writeBytes(outInfo, info);
    m.writeU64(outHandle, BigInt(h));
    if (this.hasListeners) {
      this.emit({ type: 'ioring.create', pid: p.pid, handle: h, object: toBigInt(ring.hi, ring.lo), version, submissionQueueSize: m.readU32At(outInfo + 0xcn), completionQueueSize: m.readU32At(outInfo + 0x14n) });
    }
    return NtStatus.STATUS_SUCCESS;
  }

  private ntSubmitIoRing(p: EmulatedProcess, h: number, flags: number, wait: number, timeout: Ptr): number {
    const ring = this.ref(p, h, 'IoRing');
    if (typeof ring === 'number') return ring;
    if (flags !== 0) return NtStatus.STATUS_INVALID_PARAMETER;
    if (timeout !== 0n) p.memory.readU64(timeout); // probe the LARGE_INTEGER (faults -> STATUS_ACCESS_VIOLATION)
    const st = this.engine.submit(p, ring, wait);
    return this.crashed ? KERNEL_CRASHED_STATUS : st;
  }

  private ntQueryIoRingCapabilities(p: EmulatedProcess, len: number, out: Ptr): number {
    if (len < 0x14) return NtStatus.STATUS_INFO_LENGTH_MISMATCH;
    const c = this.capabilities;
    const m = p.memory;
    if (!m.isAccessible(hiOf(out), loOf(out), 0x14)) return NtStatus.STATUS_ACCESS_VIOLATION;
    m.writeU32At(out, c.maxVersion);
    m.writeU32At(out + 4n, c.maxOpCode);
    m.writeU32At(out + 8n, c.featureFlags);
    m.writeU32At(out + 0xcn, c.maxSubmissionQueueSize);
    m.writeU32At(out + 0x10n, c.maxCompletionQueueSize);
    return NtStatus.STATUS_SUCCESS;
  }

  private ntSetInformationIoRing(p: EmulatedProcess, h: number, cls: number, len: number, info: Ptr): number {
    const ring = this.ref(p, h, 'IoRing');
    if (typeof ring === 'number') return ring;
    if (cls !== IoRingInfoClass.IoRingRegisterUserCompletionEventClass) return NtStatus.STATUS_INVALID_INFO_CLASS;
    if (len !== 8) return NtStatus.STATUS_INFO_LENGTH_MISMATCH;
    const ev = Number(p.memory.readU64(info) & 0xffffffffn);
    const off = ring.lo + this.offsets.off.CompletionUserEvent;
    if (ev === 0) {
      this.memory.writeU64Parts(ring.hi, off, 0, 0);
      return NtStatus.STATUS_SUCCESS;
    }
    const e = this.ref(p, ev, 'Event');
    if (typeof e === 'number') return e;
    this.memory.writeU64Parts(ring.hi, off, e.hi, e.lo);
    return NtStatus.STATUS_SUCCESS;
  }

  private static pipeName(name: string): string | undefined {
    const m = /^(?:\\\\\.\\pipe\\|\\\\\?\\pipe\\|\\\?\?\\pipe\\|\\Device\\NamedPipe\\)(.+)$/i.exec(name);
    return m ? m[1]!.toLowerCase() : undefined;
  }

  private allocFileObject(): { hi: number; lo: number } {
    // sizeof(FILE_OBJECT) on x64 is 0xD8; pool tag 'File'.
    return this.pool.allocate(PoolType.NonPaged, 0xd8, 'File');
  }

  private ntCreateFile(p: EmulatedProcess, outHandle: Ptr, desired: number, name: string, iosb: Ptr, disposition: number, _options: number): number {
    if (!p.memory.isAccessible(hiOf(outHandle), loOf(outHandle), 8)) return NtStatus.STATUS_ACCESS_VIOLATION;
    let access = desired >>> 0;
    if (access & Access.GENERIC_ALL) access |= Access.FILE_ALL_ACCESS;
    if (access & Access.GENERIC_READ) access |= Access.FILE_GENERIC_READ;
    if (access & Access.GENERIC_WRITE) access |= Access.FILE_GENERIC_WRITE;
    access &= ~(Access.GENERIC_READ | Access.GENERIC_WRITE | Access.GENERIC_ALL);
    const pipe = EmulatedKernel.pipeName(name);
    if (pipe !== undefined) {
      const server = this.pipes.get(pipe);
      if (!server) return NtStatus.STATUS_OBJECT_NAME_NOT_FOUND;
      if (server.peer || server.peerClosed) return NtStatus.STATUS_PIPE_BUSY;
      const a = this.allocFileObject();
      const client: PipeEndObject = { typeName: 'File', kind: 'pipe', hi: a.hi, lo: a.lo, refs: 0, deleted: false, pipeName: pipe, server: false, peer: server, inbound: [], inboundBytes: 0, headOffset: 0, peerClosed: false };
      server.peer = client;
      this.registerObject(client);
      const h = this.insertHandle(p, client, access);
      p.memory.writeU64(outHandle, BigInt(h));
      this.writeIosb(p, iosb, 0, 1);
      return NtStatus.STATUS_SUCCESS;
    }
    const rel = name.replace(/^\\\?\?\\/, '').replace(/\\/g, '/');
    if (rel === '' || isAbsolute(rel) || /^[a-z]:/i.test(rel) || normalize(rel).split(/[\\/]/).includes('..')) return NtStatus.STATUS_OBJECT_NAME_INVALID;
    const path = join(this.dataDir, normalize(rel));
    if (!path.startsWith(this.dataDir + sep) && path !== this.dataDir) return NtStatus.STATUS_OBJECT_NAME_INVALID;
    const wantRead = (access & (Access.FILE_READ_DATA)) !== 0;
    const wantWrite = (access & (Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA)) !== 0;
    let flags = wantWrite ? (wantRead ? fsc.O_RDWR : fsc.O_WRONLY) : fsc.O_RDONLY;
    const existed = existsSync(path);
    switch (disposition) {
      case FileDisposition.FILE_SUPERSEDE: flags |= fsc.O_CREAT | fsc.O_TRUNC; break;
      case FileDisposition.FILE_OPEN: break;
      case FileDisposition.FILE_CREATE: flags |= fsc.O_CREAT | fsc.O_EXCL; break;
      case FileDisposition.FILE_OPEN_IF: flags |= fsc.O_CREAT; break;
      case FileDisposition.FILE_OVERWRITE: flags |= fsc.O_TRUNC; break;
      case FileDisposition.FILE_OVERWRITE_IF: flags |= fsc.O_CREAT | fsc.O_TRUNC; break;
      default: return NtStatus.STATUS_INVALID_PARAMETER;
    }
    if ((flags & fsc.O_TRUNC) && !wantWrite) flags = (flags & ~fsc.O_RDONLY) | fsc.O_RDWR;
    if (existed && statSync(path).isDirectory()) return NtStatus.STATUS_FILE_IS_A_DIRECTORY;
    let fd: number;
    try {
      fd = openSync(path, flags, 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return existsSync(join(path, '..')) ? NtStatus.STATUS_OBJECT_NAME_NOT_FOUND : NtStatus.STATUS_OBJECT_PATH_NOT_FOUND;
      if (code === 'EEXIST') return NtStatus.STATUS_OBJECT_NAME_COLLISION;
      if (code === 'EISDIR') return NtStatus.STATUS_FILE_IS_A_DIRECTORY;
      if (code === 'EACCES' || code === 'EPERM') return NtStatus.STATUS_ACCESS_DENIED;
      throw e;
    }
    const a = this.allocFileObject();
    const f: DiskFileObject = { typeName: 'File', kind: 'disk', hi: a.hi, lo: a.lo, refs: 0, deleted: false, path, fd, position: 0 };
    this.registerObject(f);
    const h = this.insertHandle(p, f, access);
    p.memory.writeU64(outHandle, BigInt(h));
    // IO_STATUS_BLOCK.Information: FILE_SUPERSEDED 0, FILE_OPENED 1, FILE_CREATED 2, FILE_OVERWRITTEN 3.
    const info = disposition === FileDisposition.FILE_SUPERSEDE ? 0 : !existed ? 2 : (flags & fsc.O_TRUNC) ? 3 : 1;
    this.writeIosb(p, iosb, 0, info);
    return NtStatus.STATUS_SUCCESS;
  }

  private ntCreateNamedPipeFile(p: EmulatedProcess, outHandle: Ptr, desired: number, name: string, iosb: Ptr): number {
    const pipe = EmulatedKernel.pipeName(name);
    if (pipe === undefined) return NtStatus.STATUS_OBJECT_NAME_INVALID;
    if (!p.memory.isAccessible(hiOf(outHandle), loOf(outHandle), 8)) return NtStatus.STATUS_ACCESS_VIOLATION;
    if (this.pipes.has(pipe)) return NtStatus.STATUS_OBJECT_NAME_COLLISION;
    const a = this.allocFileObject();
    const server: PipeEndObject = { typeName: 'File', kind: 'pipe', hi: a.hi, lo: a.lo, refs: 0, deleted: false, pipeName: pipe, server: true, peer: undefined, inbound: [], inboundBytes: 0, headOffset: 0, peerClosed: false };
    this.pipes.set(pipe, server);
    this.registerObject(server);
    let access = desired >>> 0;
    if (access & Access.GENERIC_READ) access |= Access.FILE_GENERIC_READ;
    if (access & Access.GENERIC_WRITE) access |= Access.FILE_GENERIC_WRITE;
    if (access & Access.GENERIC_ALL) access |= Access.FILE_ALL_ACCESS;
    const h = this.insertHandle(p, server, access & ~(Access.GENERIC_READ | Access.GENERIC_WRITE | Access.GENERIC_ALL));
    p.memory.writeU64(outHandle, BigInt(h));
    this.writeIosb(p, iosb, 0, 2);
    return NtStatus.STATUS_SUCCESS;
  }

  private ntReadWriteFile(p: EmulatedProcess, write: boolean, h: number, _ev: number, _apc: Ptr, _ctx: Ptr, iosb: Ptr, buf: Ptr, len: number, byteOffset: Ptr, _key: Ptr): number {
    const e = p.handles.get(h);
    if (!e) return NtStatus.STATUS_INVALID_HANDLE;
    if (e.object.typeName !== 'File') return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
    if ((e.grantedAccess & (write ? Access.FILE_WRITE_DATA | Access.FILE_APPEND_DATA : Access.FILE_READ_DATA)) === 0) return NtStatus.STATUS_ACCESS_DENIED;
    const f = e.object as FileObject;
    let offHi = 0xffffffff;
    let offLo = 0xfffffffe; // FILE_USE_FILE_POINTER_POSITION
    if (byteOffset !== 0n) {
      const r = p.memory.readU64Parts(hiOf(byteOffset), loOf(byteOffset));
      offHi = r.hi;
      offLo = r.lo;
    }
    // ProbeForRead/Write of the user buffer: user mode view, so kernel addresses fault.
    const n = this.engine.transfer(p.memory, f, write, hiOf(buf), loOf(buf), len, offHi, offLo);
    const st = n < 0 ? -n >>> 0 : NtStatus.STATUS_SUCCESS;
    this.writeIosb(p, iosb, st, n < 0 ? 0 : n);
    return st;
  }

  private ntFlushBuffersFile(p: EmulatedProcess, h: number, iosb: Ptr): number {
    const f = this.ref(p, h, 'File');
    if (typeof f === 'number') return f;
    if (f.kind === 'disk' && this.realFlush) fileIo.fsyncSync(f.fd);
    this.writeIosb(p, iosb, 0, 0);
    return NtStatus.STATUS_SUCCESS;
  }

  private ntQuerySystemInformation(p: EmulatedProcess, cls: number, buf: Ptr, len: number, retLen: Ptr): number {
    if (cls !== SystemInformationClass.SystemHandleInformation) return NtStatus.STATUS_INVALID_INFO_CLASS;
    const rows = this.querySystemHandles();
    const need = SYSTEM_HANDLE_INFO_HEADER + SYSTEM_HANDLE_ENTRY_SIZE * rows.length;
    if (retLen !== 0n) p.memory.writeU32At(retLen, need);
    if (len < need) return NtStatus.STATUS_INFO_LENGTH_MISMATCH;
    // SYSTEM_HANDLE_INFORMATION { ULONG NumberOfHandles; SYSTEM_HANDLE_TABLE_ENTRY_INFO Handles[]; } (phnt ntexapi.h):
    // UniqueProcessId USHORT@0, CreatorBackTraceIndex USHORT@2, ObjectTypeIndex UCHAR@4, HandleAttributes UCHAR@5,
    // HandleValue USHORT@6, Object PVOID@8, GrantedAccess ULONG@0x10.
    const out = new Uint8Array(need);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, rows.length, true);
    rows.forEach((r, i) => {
      const o = SYSTEM_HANDLE_INFO_HEADER + i * SYSTEM_HANDLE_ENTRY_SIZE;
      dv.setUint16(o, r.pid & 0xffff, true);
      dv.setUint8(o + 4, r.objectTypeIndex);
      dv.setUint8(o + 5, r.attributes);
      dv.setUint16(o + 6, r.handle & 0xffff, true);
      dv.setUint32(o + 8, r.objectLo, true);
      dv.setUint32(o + 12, r.objectHi, true);
      dv.setUint32(o + 16, r.grantedAccess, true);
    });
    p.memory.writeBytes(buf, out);
    return NtStatus.STATUS_SUCCESS;
  }

  private ntOpenProcessToken(p: EmulatedProcess, ph: number, access: number, out: Ptr): number {
    if (ph !== NtCurrentProcess) return NtStatus.STATUS_INVALID_HANDLE;
    if (!p.memory.isAccessible(hiOf(out), loOf(out), 8)) return NtStatus.STATUS_ACCESS_VIOLATION;
    const tok = this.objectAt(hiOf(p.token), loOf(p.token));
    if (!tok) return NtStatus.STATUS_INTERNAL_ERROR;
    const h = this.insertHandle(p, tok, access);
    p.memory.writeU64(out, BigInt(h));
    return NtStatus.STATUS_SUCCESS;
  }

  private ntCreateEvent(p: EmulatedProcess, out: Ptr, access: number, _oa: Ptr, type: number, initial: boolean): number {
    if (type !== 0 && type !== 1) return NtStatus.STATUS_INVALID_PARAMETER;
    if (!p.memory.isAccessible(hiOf(out), loOf(out), 8)) return NtStatus.STATUS_ACCESS_VIOLATION;
    const b = this.pool.allocate(PoolType.NonPaged, 0x18, 'Even');
    // KEVENT: DISPATCHER_HEADER Type@0 (EVENT_TYPE), Size@2 = 6 ULONGs, SignalState@4.
    this.memory.writeU8(b.hi, b.lo, type);
    this.memory.writeU8(b.hi, b.lo + 2, 6);
    this.memory.writeU32(b.hi, b.lo + 4, initial ? 1 : 0);
    const ev: EventObject = { typeName: 'Event', hi: b.hi, lo: b.lo, refs: 0, deleted: false };
    this.registerObject(ev);
    const h = this.insertHandle(p, ev, access || Access.EVENT_ALL_ACCESS);
    p.memory.writeU64(out, BigInt(h));
    return NtStatus.STATUS_SUCCESS;
  }

  private ntSetResetEvent(p: EmulatedProcess, h: number, prev: Ptr, state: number): number {
    const ev = this.ref(p, h, 'Event');
    if (typeof ev === 'number') return ev;
    const old = this.memory.readU32(ev.hi, ev.lo + 4);
    if (prev !== 0n) p.memory.writeU32At(prev, old);
    this.memory.writeU32(ev.hi, ev.lo + 4, state);
    return NtStatus.STATUS_SUCCESS;
  }

  private ntWaitForSingleObject(p: EmulatedProcess, h: number, _alertable: boolean, timeout: Ptr): number {
    const ev = this.ref(p, h, 'Event');
    if (typeof ev === 'number') return ev;
    if (timeout !== 0n) p.memory.readU64(timeout);
    const signaled = this.memory.readU32(ev.hi, ev.lo + 4) !== 0;
    if (!signaled) return NtStatus.STATUS_TIMEOUT;
    // A synchronization event is reset by a satisfied wait.
    if (this.memory.readU8(ev.hi, ev.lo) === 1) this.memory.writeU32(ev.hi, ev.lo + 4, 0);
    return NtStatus.STATUS_SUCCESS;
  }
}

/** Pool tag name of the block at a kernel address, or undefined (for monitors and tests). */
export function poolTagAt(k: EmulatedKernel, address: bigint): string | undefined {
  const b = k.pool.lookup(hiOf(address), loOf(address));
  return b ? poolTagName(b.tag) : undefined;
}

export { NT_IORING_OP_FLAGS_VALID };
