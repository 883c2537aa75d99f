// INT-I01 as a property: random correct IoRing programs (buffers and files registered and used, in
// separate submissions or the same one, raw and registered references, reads, writes, NOPs,
// flushes) give the same completions and the same file contents with the hook as without it, under
// the embedded default policy. A program the kernel runs without a single failed entry must never
// be blocked: a difference is a false positive of the monitor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { IoRingVersion } from '../abi/index.js';
import {
  EmulatedKernel, CreateIoRing, BuildIoRingRegisterBuffers, BuildIoRingRegisterFileHandles, BuildIoRingReadFile, BuildIoRingWriteFile, BuildIoRingNop, BuildIoRingFlushFile,
  SubmitIoRing, INFINITE, openFile, Access, FileDisposition, IoRingHandleRefFromHandle, IoRingHandleRefFromIndex, IoRingBufferRefFromIndexAndOffset, IoRingBufferRefFromPointer,
  popCompletionFast,
} from '../kernel/index.js';
import { MonitorDriver } from '../driver/driver.js';
import { installIntercept } from './intercept.js';

const BUFS = 8;
const BUF = 0x1000;

type Op =
  | { kind: 'register-buffers'; count: number }
  | { kind: 'register-files' }
  | { kind: 'io'; write: boolean; regFile: boolean; file: number; regBuf: boolean; buf: number; offset: number; length: number; at: number }
  | { kind: 'nop' }
  | { kind: 'flush'; file: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('register-buffers' as const), count: fc.integer({ min: 1, max: BUFS }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('register-files' as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('io' as const), write: fc.boolean(), regFile: fc.boolean(), file: fc.nat(2), regBuf: fc.boolean(), buf: fc.nat(BUFS - 1),
      offset: fc.constantFrom(0, 0x10, 0x200, 0x800), length: fc.constantFrom(1, 0x10, 0x200, 0x800), at: fc.nat(15),
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ kind: fc.constant('nop' as const) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('flush' as const), file: fc.nat(2) }), weight: 1 },
);
const program = fc.array(fc.array(op, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 });

/**
 * Runs a program; references are made valid against what the program registered before them (in
 * program order, as the kernel runs them), so every entry is correct. Returns the completions of
 * each submission and a digest of the files, or null when the program cannot be made valid.
 */
function run(prog: Op[][], hooked: boolean): { subs: string[]; files: number[]; blocked: number } | null {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-benign-'));
  const kernel = new EmulatedKernel({ build: 22621, dataDir: dir, realFlush: false });
  const driver = new MonitorDriver({ kernel }); // the embedded default policy
  try {
    const p = kernel.createProcess({ imageName: 'app.exe' });
    const hook = hooked ? installIntercept(p, { device: driver }) : undefined;
    const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 64, 128);
    const handles = [0, 1, 2].map((i) => {
      writeFileSync(join(dir, `f${i}.dat`), Buffer.alloc(0x4000, 0x30 + i));
      return openFile(p, `f${i}.dat`, Access.FILE_GENERIC_READ | Access.FILE_GENERIC_WRITE, FileDisposition.FILE_OPEN).handle;
    });
    const bufs = p.virtualAlloc(BUFS * BUF);
    for (let i = 0; i < BUFS * BUF; i += 4) p.writeU32(bufs + BigInt(i), (i * 2654435761) >>> 0);
    let registeredBufs = 0;
    let registeredFiles = false;
    let ud = 1;
    const subs: string[] = [];
    const cqe = { userDataLo: 0, resultCode: 0, information: 0 };
    for (const batch of prog) {
      for (const o of batch) {
        if (o.kind === 'register-buffers') {
          const info = p.virtualAlloc(o.count * 16);
          for (let i = 0; i < o.count; i++) { p.writeU64(info + BigInt(i * 16), bufs + BigInt(i * BUF)); p.writeU32(info + BigInt(i * 16 + 8), BUF); }
          BuildIoRingRegisterBuffers(ring!, o.count, info, ud++);
          registeredBufs = o.count;
        } else if (o.kind === 'register-files') {
          const arr = p.virtualAlloc(0x100);
          handles.forEach((h, i) => p.writeU64(arr + BigInt(i * 8), BigInt(h)));
          BuildIoRingRegisterFileHandles(ring!, handles.length, arr, ud++);
          registeredFiles = true;
        } else if (o.kind === 'io') {
          const regFile = o.regFile && registeredFiles;
          const regBuf = o.regBuf && o.buf < registeredBufs;
          const file = regFile ? IoRingHandleRefFromIndex(o.file) : IoRingHandleRefFromHandle(handles[o.file]!);
          const buf = regBuf ? IoRingBufferRefFromIndexAndOffset(o.buf, o.offset) : IoRingBufferRefFromPointer(bufs + BigInt(o.buf * BUF + o.offset));
          if (o.write) BuildIoRingWriteFile(ring!, file, buf, o.length, o.at * 0x200, 0, ud++);
          else BuildIoRingReadFile(ring!, file, buf, o.length, o.at * 0x200, ud++);
        } else if (o.kind === 'nop') {
          BuildIoRingNop(ring!, ud++);
        } else {
          BuildIoRingFlushFile(ring!, registeredFiles ? IoRingHandleRefFromIndex(o.file) : IoRingHandleRefFromHandle(handles[o.file]!), 0, ud++);
        }
      }
      const st = SubmitIoRing(ring!, batch.length, INFINITE);
      const out = [`submit ${st >>> 0}`];
      while (popCompletionFast(ring!, cqe)) out.push(`${cqe.userDataLo}:${cqe.resultCode >>> 0}:${cqe.information}`);
      subs.push(out.join(' '));
    }
    const files = [0, 1, 2].map((i) => readFileSync(join(dir, `f${i}.dat`)).reduce((a, b) => (a * 31 + b) >>> 0, 7));
    return { subs, files, blocked: hook?.stats.blocked ?? 0 };
  } finally {
    driver.close();
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('INT-I01 property: a correct program gets identical completions and files with the hook, under the default policy', () => {
  let programs = 0;
  fc.assert(fc.property(program, (prog) => {
    const plain = run(prog, false)!;
    // Only programs whose every entry the kernel completed successfully count as correct.
    const allOk = plain.subs.every((s) => s.split(' ').slice(2).every((c) => c.split(':')[1] === '0'));
    if (!allOk) return;
    programs++;
    const hooked = run(prog, true)!;
    assert.equal(hooked.blocked, 0, 'the hook blocked a correct program');
    assert.deepEqual(hooked.subs, plain.subs);
    assert.deepEqual(hooked.files, plain.files);
  }), { numRuns: Number(process.env.WIN11MON_FUZZ_RUNS ?? 150) });
  assert.ok(programs >= 30, `only ${programs} generated programs were correct`);
});
