// A benign IoRing workload: ordinary applications that register files and buffers and run batches
// of reads, writes, NOPs and flushes against small real files, deterministic from a seed. Used by
// tests, the demo and the benchmarks; shaped to allocate nothing per operation.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IoRingVersion } from '../abi/ioring.js';
import type { EmulatedKernel } from './kernel.js';
import type { EmulatedProcess } from './process.js';
import { Access } from './objects.js';
import { FileDisposition } from './ntapi.js';
import {
  BuildIoRingFlushFile, BuildIoRingNop, BuildIoRingReadFile, BuildIoRingRegisterBuffers, BuildIoRingRegisterFileHandles, BuildIoRingWriteFile,
  CloseIoRing, CreateIoRing, INFINITE, IoRingBufferRefFromIndexAndOffset, IoRingBufferRefFromPointer, IoRingHandleRefFromHandle, IoRingHandleRefFromIndex,
  SubmitIoRing, openFile, popCompletionFast, type HIORING, type IoRingBufferRef, type IoRingHandleRef,
} from './kernelbase.js';

/** mulberry32: small, fast, deterministic. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface WorkloadOptions {
  /** PRNG seed (default 1). */
  seed?: number;
  /** Number of applications (processes with one ring each; default 3). */
  apps?: number;
  /** Files per application (default 3) and their size in bytes (default 64 KiB). */
  filesPerApp?: number;
  fileSize?: number;
  /** Registered buffers per application (default 4, 4 KiB each). */
  buffersPerApp?: number;
  /** Fraction of operations that are flushes (real fsync; default 0.002). */
  flushRatio?: number;
}

export interface WorkloadStats {
  operations: number;
  submits: number;
  completions: number;
  /** Completions whose ResultCode was not S_OK (none expected for the benign mix). */
  failures: number;
  reads: number;
  writes: number;
  nops: number;
  flushes: number;
  bytesTransferred: number;
  elapsedMs: number;
  opsPerSec: number;
}

interface App {
  process: EmulatedProcess;
  ring: HIORING;
  sqSize: number;
  rawFiles: IoRingHandleRef[];
  regFiles: IoRingHandleRef[];
  rawBufs: IoRingBufferRef[];
  regBufs: IoRingBufferRef[];
  fileHandles: number[];
}

const BUFFER_SIZE = 0x1000;

/** A set of applications ready to run batches. */
export class Workload {
  readonly apps: App[] = [];
  private readonly rnd: () => number;
  private readonly fileSize: number;
  private readonly flushRatio: number;
  private readonly canWrite: boolean;
  private readonly cqe = { userDataLo: 0, resultCode: 0, information: 0 };

  constructor(readonly kernel: EmulatedKernel, opts: WorkloadOptions = {}) {
    this.rnd = mulberry32(opts.seed ?? 1);
    this.fileSize = opts.fileSize ?? 0x10000;
    this.flushRatio = opts.flushRatio ?? 0.002;
    this.canWrite = kernel.capabilities.maxVersion >= IoRingVersion.V3;
    const nApps = opts.apps ?? 3;
    const nFiles = opts.filesPerApp ?? 3;
    const nBufs = opts.buffersPerApp ?? 4;
    const sizes = [32, 64, 128, 256, 512];
    for (let a = 0; a < nApps; a++) {
      const p = kernel.createProcess({ imageName: `app${a}.exe` });
      const sqSize = sizes[Math.floor(this.rnd() * sizes.length)]!;
      const c = CreateIoRing(p, Math.min(IoRingVersion.V3, kernel.capabilities.maxVersion), { required: 0, advisory: 0 }, sqSize, sqSize * 2);
      if (!c.ring) throw new Error(`workload: CreateIoRing failed 0x${c.hr.toString(16)}`);
      const ring = c.ring;
      const fileHandles: number[] = [];
      for (let f = 0; f < nFiles; f++) {
        const name = `wl-${p.pid}-${f}.dat`;
        const content = Buffer.alloc(this.fileSize);
        for (let i = 0; i < content.length; i += 4) content.writeUInt32LE((i * 2654435761 + f) >>> 0, i);
        writeFileSync(join(kernel.dataDir, name), content);
        const o = openFile(p, name, Access.FILE_GENERIC_READ | Access.FILE_GENERIC_WRITE, FileDisposition.FILE_OPEN);
        if (o.status !== 0) throw new Error(`workload: open ${name} failed 0x${o.status.toString(16)}`);
        fileHandles.push(o.handle);
      }
      const bufs: bigint[] = [];
      const bufArea = p.virtualAlloc(nBufs * BUFFER_SIZE * 2);
      for (let b = 0; b < nBufs * 2; b++) bufs.push(bufArea + BigInt(b * BUFFER_SIZE));
      // Register the first half of the buffers and all files through the ring, as apps do.
      const info = p.virtualAlloc(0x1000);
      for (let b = 0; b < nBufs; b++) {
        p.writeU64(info + BigInt(b * 16), bufs[b]!);
        p.writeU32(info + BigInt(b * 16 + 8), BUFFER_SIZE);
      }
      const harr = info + 0x800n;
      fileHandles.forEach((h, i) => p.writeU64(harr + BigInt(i * 8), BigInt(h)));
      BuildIoRingRegisterBuffers(ring, nBufs, info, 1);
      BuildIoRingRegisterFileHandles(ring, nFiles, harr, 2);
      SubmitIoRing(ring, 2, INFINITE);
      for (let i = 0; i < 2; i++) {
        if (!popCompletionFast(ring, this.cqe) || this.cqe.resultCode !== 0) throw new Error(`workload: registration failed 0x${this.cqe.resultCode.toString(16)}`);
      }
      this.apps.push({
        process: p, ring, sqSize, fileHandles,
        rawFiles: fileHandles.map((h) => IoRingHandleRefFromHandle(h)),
        regFiles: fileHandles.map((_h, i) => IoRingHandleRefFromIndex(i)),
        rawBufs: bufs.slice(nBufs).map((b) => IoRingBufferRefFromPointer(b)),
        regBufs: bufs.slice(0, nBufs).map((_b, i) => IoRingBufferRefFromIndexAndOffset(i, 0)),
      });
    }
  }

  /** Runs about `operations` operations in batches across the apps and returns what happened. */
  run(operations: number): WorkloadStats {
    const s: WorkloadStats = { operations: 0, submits: 0, completions: 0, failures: 0, reads: 0, writes: 0, nops: 0, flushes: 0, bytesTransferred: 0, elapsedMs: 0, opsPerSec: 0 };
    const rnd = this.rnd;
    const t0 = performance.now();
    let userData = 1;
    while (s.operations < operations) {
      const app = this.apps[Math.floor(rnd() * this.apps.length)]!;
      const ring = app.ring;
      const batch = Math.min(operations - s.operations, 1 + Math.floor(rnd() * app.sqSize));
      for (let i = 0; i < batch; i++) {
        const r = rnd();
        const fi = Math.floor(rnd() * app.rawFiles.length);
        const bi = Math.floor(rnd() * app.rawBufs.length);
        const reg = rnd() < 0.5;
        const len = 512 * (1 + Math.floor(rnd() * 8));
        const off = 512 * Math.floor(rnd() * ((this.fileSize - len) / 512));
        const file = reg ? app.regFiles[fi]! : app.rawFiles[fi]!;
        const buf = rnd() < 0.5 ? app.regBufs[bi]! : app.rawBufs[bi]!;
        if (r < this.flushRatio && this.canWrite) {
          BuildIoRingFlushFile(ring, file, 0, userData++);
          s.flushes++;
        } else if (r < 0.2) {
          BuildIoRingNop(ring, userData++);
          s.nops++;
        } else if (r < 0.6 || !this.canWrite) {
          BuildIoRingReadFile(ring, file, buf, len, off, userData++);
          s.reads++;
        } else {
          BuildIoRingWriteFile(ring, file, buf, len, off, 0, userData++);
          s.writes++;
        }
      }
      SubmitIoRing(ring, 0, 0);
      s.submits++;
      s.operations += batch;
      const cqe = this.cqe;
      while (popCompletionFast(ring, cqe)) {
        s.completions++;
        if (cqe.resultCode !== 0) s.failures++;
        else s.bytesTransferred += cqe.information;
      }
    }
    s.elapsedMs = performance.now() - t0;
    s.opsPerSec = s.elapsedMs > 0 ? Math.round((s.operations * 1000) / s.elapsedMs) : 0;
    return s;
  }

  /** Closes rings and files (no process is left with handles). */
  close(): void {
    for (const a of this.apps) {
      CloseIoRing(a.ring);
      for (const h of a.fileHandles) a.process.ntdll.NtClose(h);
    }
  }
}

/** Sets up a workload, runs `operations` and closes it. */
export function runWorkload(kernel: EmulatedKernel, operations: number, opts: WorkloadOptions = {}): WorkloadStats {
  const w = new Workload(kernel, opts);
  try {
    return w.run(operations);
  } finally {
    w.close();
  }
}
