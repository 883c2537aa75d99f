import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EmulatedKernel, poolTagAt } from './kernel.js';
import { NtStatus, hresultFromNt } from '../abi/ntstatus.js';
import { IoRingOp, IoRingVersion, SqeOff } from '../abi/ioring.js';
import { Access } from './objects.js';
import { FileDisposition } from './ntapi.js';
import { McEntryOff } from './ioring.js';
import {
  BuildIoRingCancelRequest, BuildIoRingFlushFile, BuildIoRingNop, BuildIoRingReadFile, BuildIoRingRegisterBuffers, BuildIoRingRegisterFileHandles,
  BuildIoRingScatterGather, BuildIoRingWriteFile, CloseIoRing, CreateIoRing, E_INVALIDARG, IORING_E_SUBMISSION_QUEUE_FULL, INFINITE,
  IoRingBufferRefFromIndexAndOffset as regBuf, IoRingBufferRefFromPointer as rawBuf, IoRingHandleRefFromHandle as rawFile,
  IoRingHandleRefFromIndex as regFile, PopIoRingCompletion, SetIoRingCompletionEvent, SubmitIoRing, openFile, type HIORING, type IoRingCqe,
} from './kernelbase.js';

function setup(build = 22621, sq = 16) {
  const dir = mkdtempSync(join(tmpdir(), 'w11-ring-'));
  const k = new EmulatedKernel({ build, dataDir: dir });
  const p = k.createProcess({ imageName: 'app.exe' });
  const ring = CreateIoRing(p, k.capabilities.maxVersion, { required: 0, advisory: 0 }, sq, sq * 2).ring!;
  writeFileSync(join(dir, 'f.bin'), Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz'));
  const f = openFile(p, 'f.bin', Access.FILE_GENERIC_READ | Access.FILE_GENERIC_WRITE, FileDisposition.FILE_OPEN).handle;
  const buf = p.virtualAlloc(0x10000);
  return { dir, k, p, ring, f, buf, done: () => { k.close(); rmSync(dir, { recursive: true, force: true }); } };
}

function submitAll(ring: HIORING): IoRingCqe[] {
  assert.equal(SubmitIoRing(ring, 0, INFINITE), 0);
  const out: IoRingCqe[] = [];
  for (;;) {
    const c: IoRingCqe = { UserData: 0n, ResultCode: 0, Information: 0 };
    if (PopIoRingCompletion(ring, c) !== 0) return out;
    out.push(c);
  }
}

const hr = (s: number) => hresultFromNt(s);

test('NOP, READ and WRITE with raw buffers; CQE carries UserData, HRESULT and bytes; SQ head advances', () => {
  const { ring, f, buf, p, dir, k, done } = setup();
  try {
    BuildIoRingNop(ring, 0x111);
    BuildIoRingReadFile(ring, rawFile(f), rawBuf(buf), 10, 0, 0x222);
    p.write(buf + 0x100n, new TextEncoder().encode('XYZ'));
    BuildIoRingWriteFile(ring, rawFile(f), rawBuf(buf + 0x100n), 3, 2, 0, 0x333);
    const c = submitAll(ring);
    assert.deepEqual(c.map((x) => [x.UserData, x.ResultCode, x.Information]), [[0x111n, 0, 0], [0x222n, 0, 10], [0x333n, 0, 3]]);
    assert.equal(new TextDecoder().decode(p.read(buf, 10)), '0123456789');
    assert.equal(readFileSync(join(dir, 'f.bin'), 'utf8').slice(0, 6), '01XYZ5');
    assert.equal(p.readU32(ring.submissionQueue), 3); // Head
    assert.equal(p.readU32(ring.submissionQueue + 4n), 3); // Tail
    const obj = k.getIoRingObjectAddress(p.pid, ring.handle)!;
    assert.equal(k.memory.readU64(obj + BigInt(k.offsets.off.CompletionCount)), 3n);
    assert.equal(k.memory.readU64(obj + BigInt(k.offsets.off.SubmitCount)), 3n);
  } finally { done(); }
});

test('raw buffers are probed: kernel address -> STATUS_ACCESS_VIOLATION, unmapped -> STATUS_ACCESS_VIOLATION', () => {
  const { ring, f, k, done } = setup();
  try {
    BuildIoRingReadFile(ring, rawFile(f), rawBuf(k.processes.values().next().value!.token), 8, 0, 1);
    BuildIoRingReadFile(ring, rawFile(f), rawBuf(0x5000000n), 8, 0, 2);
    BuildIoRingReadFile(ring, rawFile(f), rawBuf(0x8000n), 8, 0, 3);
    const c = submitAll(ring);
    assert.deepEqual(c.map((x) => x.ResultCode), [hr(NtStatus.STATUS_ACCESS_VIOLATION), hr(NtStatus.STATUS_ACCESS_VIOLATION), hr(NtStatus.STATUS_ACCESS_VIOLATION)]);
  } finally { done(); }
});

test('bad file references: invalid handle, wrong type, access denied, registered index out of range', () => {
  const { ring, buf, p, done } = setup();
  try {
    p.ntdll.NtCreateEvent(buf + 0x800n, 0, 0n, 0, false);
    const ev = Number(p.readU64(buf + 0x800n));
    const ro = openFile(p, 'f.bin', Access.FILE_GENERIC_READ, FileDisposition.FILE_OPEN).handle;
    BuildIoRingReadFile(ring, rawFile(0x998), rawBuf(buf), 4, 0, 1);
    BuildIoRingReadFile(ring, rawFile(ev), rawBuf(buf), 4, 0, 2);
    BuildIoRingWriteFile(ring, rawFile(ro), rawBuf(buf), 4, 0, 0, 3);
    ring.FileHandlesCount = 5; // let the builder through; the kernel checks RegFilesCount (0)
    BuildIoRingReadFile(ring, regFile(0), rawBuf(buf), 4, 0, 4);
    const c = submitAll(ring);
    assert.deepEqual(c.map((x) => x.ResultCode), [NtStatus.STATUS_INVALID_HANDLE, NtStatus.STATUS_OBJECT_TYPE_MISMATCH, NtStatus.STATUS_ACCESS_DENIED, NtStatus.STATUS_INVALID_INDEX].map(hr));
  } finally { done(); }
});

test('CommonOpFlags bits other than 0x3 -> 0xC0460001; unknown opcode and bad SQE flags -> STATUS_INVALID_PARAMETER', () => {
  const { ring, f, buf, p, done } = setup();
  try {
    BuildIoRingReadFile(ring, rawFile(f), rawBuf(buf), 4, 0, 1);
    BuildIoRingNop(ring, 2);
    BuildIoRingNop(ring, 3, 0x2);
    // Patch the SQEs in the shared queue as a raw caller could.
    const sqe = (i: number) => ring.submissionQueue + 0x10n + BigInt(i * 0x40);
    p.writeU32(sqe(0) + BigInt(SqeOff.CommonOpFlags), 0x4);
    p.writeU32(sqe(1) + BigInt(SqeOff.OpCode), 42);
    const c = submitAll(ring);
    assert.deepEqual(c.map((x) => x.ResultCode >>> 0), [0xd0460001, hr(NtStatus.STATUS_INVALID_PARAMETER), hr(NtStatus.STATUS_INVALID_PARAMETER)]);
  } finally { done(); }
});

test('REGISTER_BUFFERS (>= 22610): IrRB pointer array -> McBe IOP_MC_BUFFER_ENTRY (Type 0xC02, Size 0x20*(pages+3)); registered reads use it', () => {
  const { ring, f, buf, p, k, done } = setup(22621);
  try {
    const info = buf + 0x8000n;
    p.writeU64(info, buf); p.writeU32(info + 8n, 0x100);
    p.writeU64(info + 16n, buf + 0x1ff0n); p.writeU32(info + 24n, 0x20); // straddles a page: 2 pages
    assert.equal(BuildIoRingRegisterBuffers(ring, 2, info, 9), 0);
    const c0 = submitAll(ring);
    assert.equal(c0[0]!.ResultCode, 0);
    const obj = k.getIoRingObjectAddress(p.pid, ring.handle)!;
    const count = k.memory.readU32At(obj + 0xb0n);
    const arr = k.memory.readU64(obj + 0xb8n);
    assert.equal(count, 2);
    assert.equal(poolTagAt(k, arr), 'IrRB');
    const e1 = k.memory.readU64(arr + 8n);
    assert.equal(poolTagAt(k, e1), 'McBe');
    assert.equal(k.memory.readU32At(e1) & 0xffff, 0x0c02);
    assert.equal(k.memory.readU32At(e1 + BigInt(McEntryOff.Size)), 0x20 * (2 + 3));
    assert.equal(k.memory.readU64(e1 + BigInt(McEntryOff.Address)), buf + 0x1ff0n);
    assert.equal(k.memory.readU32At(e1 + BigInt(McEntryOff.Length)), 0x20);
    assert.equal(k.memory.readU8(Number(e1 >> 32n), Number(e1 & 0xffffffffn) + McEntryOff.AccessMode), 1);
    assert.equal(k.memory.readU64(e1 + 0x10n) !== 0n, true); // linked into the global list
    BuildIoRingReadFile(ring, rawFile(f), regBuf(1, 4), 6, 0, 1);
    BuildIoRingReadFile(ring, rawFile(f), regBuf(1, 0x1c), 8, 0, 2); // offset + length > Length
    ring.BufferArraySize = 8;
    BuildIoRingReadFile(ring, rawFile(f), regBuf(5, 0), 4, 0, 3); // index >= RegBuffersCount
    const c = submitAll(ring);
    assert.deepEqual(c.map((x) => x.ResultCode), [0, hr(NtStatus.STATUS_INVALID_BUFFER_SIZE), hr(NtStatus.STATUS_INVALID_INDEX)]);
    assert.equal(new TextDecoder().decode(p.read(buf + 0x1ff4n, 6)), '012345');
    // A NULL entry -> STATUS_INVALID_USER_BUFFER (RegBuffers is re-read from memory every time).
    k.memory.writeU64(arr + 8n, 0n);
    BuildIoRingReadFile(ring, rawFile(f), regBuf(1, 0), 4, 0, 4);
    assert.equal(submitAll(ring)[0]!.ResultCode, hr(NtStatus.STATUS_INVALID_USER_BUFFER));
    k.memory.writeU64(arr + 8n, e1);
    // Re-registration frees the old entries and array.
    const before = k.pool.liveCount('McBe');
    BuildIoRingRegisterBuffers(ring, 1, info, 10);
    assert.equal(submitAll(ring)[0]!.ResultCode, 0);
    assert.equal(k.pool.liveCount('McBe'), before - 1);
    assert.equal(k.pool.liveCount('IrRB'), 1);
    CloseIoRing(ring);
    assert.equal(k.pool.liveCount('McBe'), 0);
    assert.equal(k.pool.liveCount('IrRB'), 0);
    assert.equal(k.bugchecks.length, 0);
  } finally { done(); }
});

test('REGISTER_BUFFERS probes user buffers; flags must be zero', () => {
  const { ring, buf, p, k, done } = setup(22621);
  try {
    const info = buf + 0x8000n;
    p.writeU64(info, k.processes.values().next().value!.token); p.writeU32(info + 8n, 0x10);
    BuildIoRingRegisterBuffers(ring, 1, info, 1);
    BuildIoRingRegisterBuffers(ring, 1, 0x5000000n, 2); // array itself unmapped
    BuildIoRingRegisterBuffers(ring, 1, buf, 3);
    p.writeU32(ring.submissionQueue + 0x10n + 2n * 0x40n + BigInt(SqeOff.CommonOpFlags), 1);
    const c = submitAll(ring);
    assert.deepEqual(c.map((x) => x.ResultCode >>> 0), [hr(NtStatus.STATUS_ACCESS_VIOLATION), hr(NtStatus.STATUS_ACCESS_VIOLATION), 0xd0460001]);
    assert.equal(k.memory.readU64(k.getIoRingObjectAddress(p.pid, ring.handle)! + 0xb8n), 0n);
  } finally { done(); }
});

test('REGISTER_BUFFERS on 21H2 stores a flat IORING_BUFFER_INFO array', () => {
  const { ring, f, buf, p, k, done } = setup(22000);
  try {
    const info = buf + 0x8000n;
    p.writeU64(info, buf + 0x100n); p.writeU32(info + 8n, 0x40);
    BuildIoRingRegisterBuffers(ring, 1, info, 1);
    BuildIoRingReadFile(ring, rawFile(f), regBuf(0, 0), 4, 0, 2);
    const c = submitAll(ring);
    assert.deepEqual(c.map((x) => x.ResultCode), [0, 0]);
    const arr = k.memory.readU64(k.getIoRingObjectAddress(p.pid, ring.handle)! + 0xb8n);
    assert.equal(poolTagAt(k, arr), 'IrRB');
    assert.equal(k.memory.readU64(arr), buf + 0x100n);
    assert.equal(k.memory.readU32At(arr + 8n), 0x40);
    assert.equal(k.pool.liveCount('McBe'), 0);
    // No WRITE/FLUSH before IORING_VERSION_3.
    BuildIoRingWriteFile(ring, rawFile(f), rawBuf(buf), 4, 0, 0, 3);
    BuildIoRingFlushFile(ring, rawFile(f), 0, 4);
    assert.deepEqual(submitAll(ring).map((x) => x.ResultCode), [hr(NtStatus.STATUS_NOT_SUPPORTED), hr(NtStatus.STATUS_NOT_SUPPORTED)]);
  } finally { done(); }
});

test('REGISTER_FILES, registered file reads, FLUSH and CANCEL', () => {
  const { ring, f, buf, p, k, done } = setup();
  try {
    p.writeU64(buf + 0x800n, BigInt(f));
    BuildIoRingRegisterFileHandles(ring, 1, buf + 0x800n, 1);
    BuildIoRingReadFile(ring, regFile(0), rawBuf(buf), 3, 10, 2);
    BuildIoRingFlushFile(ring, regFile(0), 0, 3);
    BuildIoRingCancelRequest(ring, rawFile(f), 2, 4);
    const c = submitAll(ring);
    assert.deepEqual(c.map((x) => x.ResultCode), [0, 0, 0, hr(NtStatus.STATUS_NOT_FOUND)]);
    assert.equal(new TextDecoder().decode(p.read(buf, 3)), 'abc');
    const arr = k.memory.readU64(k.getIoRingObjectAddress(p.pid, ring.handle)! + 0xc8n);
    assert.equal(poolTagAt(k, arr), 'IrRF');
    // The registration holds a reference: closing the handle keeps the file usable through the ring.
    assert.equal(p.ntdll.NtClose(f), 0);
    BuildIoRingReadFile(ring, regFile(0), rawBuf(buf), 3, 13, 5);
    assert.equal(submitAll(ring)[0]!.Information, 3);
    assert.equal(k.openFileCount(), 1);
    CloseIoRing(ring);
    assert.equal(k.openFileCount(), 0);
    p.writeU64(buf + 0x800n, 0x999n);
  } finally { done(); }
});

test('REGISTER_FILES rejects bad handles', () => {
  const { ring, buf, p, done } = setup();
  try {
    p.writeU64(buf + 0x800n, 0x999n);
    BuildIoRingRegisterFileHandles(ring, 1, buf + 0x800n, 1);
    assert.equal(submitAll(ring)[0]!.ResultCode, hr(NtStatus.STATUS_INVALID_HANDLE));
  } finally { done(); }
});

test('builder checks: registered index beyond the HIORING arrays -> E_INVALIDARG; SQ full -> IORING_E_SUBMISSION_QUEUE_FULL', () => {
  const { ring, f, buf, done } = setup(22621, 4);
  try {
    assert.equal(BuildIoRingReadFile(ring, rawFile(f), regBuf(0, 0), 4, 0, 1), E_INVALIDARG);
    assert.equal(BuildIoRingReadFile(ring, regFile(0), rawBuf(buf), 4, 0, 1), E_INVALIDARG);
    for (let i = 0; i < 4; i++) assert.equal(BuildIoRingNop(ring, i), 0);
    assert.equal(BuildIoRingNop(ring, 5), IORING_E_SUBMISSION_QUEUE_FULL);
    assert.equal(submitAll(ring).length, 4);
    assert.equal(BuildIoRingNop(ring, 6), 0);
  } finally { done(); }
});

test('CQ full: the kernel stops consuming SQEs and sets SQ Flags bit 0', () => {
  const { ring, p, k, done } = setup(22621, 8);
  try {
    // Shrink the CQ the kernel sees (it reads sizes from the object every submit).
    const obj = k.getIoRingObjectAddress(p.pid, ring.handle)!;
    k.memory.writeU32At(obj + 0x08n + 0x14n, 2);
    for (let i = 0; i < 4; i++) BuildIoRingNop(ring, i);
    SubmitIoRing(ring, 0, 0);
    assert.equal(p.readU32(ring.submissionQueue), 2);
    assert.equal(p.readU32(ring.submissionQueue + 8n) & 1, 1);
  } finally { done(); }
});

test('a corrupt SQ (Tail - Head > size) -> STATUS_IORING_CORRUPT', () => {
  const { ring, p, done } = setup(22621, 8);
  try {
    p.writeU32(ring.submissionQueue + 4n, 100);
    assert.equal(p.ntdll.NtSubmitIoRing(ring.handle, 0, 0, 0n), NtStatus.STATUS_IORING_CORRUPT);
  } finally { done(); }
});

test('completion events: the embedded KEVENT and the registered user event are signaled', () => {
  const { ring, p, buf, k, done } = setup();
  try {
    p.ntdll.NtCreateEvent(buf, 0, 0n, 0, false);
    const ev = Number(p.readU64(buf));
    assert.equal(SetIoRingCompletionEvent(ring, ev), 0);
    const obj = k.getIoRingObjectAddress(p.pid, ring.handle)!;
    assert.equal(p.ntdll.NtWaitForSingleObject(ev, false, 0n), NtStatus.STATUS_TIMEOUT);
    BuildIoRingNop(ring, 1);
    submitAll(ring);
    assert.equal(p.ntdll.NtWaitForSingleObject(ev, false, 0n), 0);
    assert.equal(k.memory.readU32At(obj + BigInt(k.offsets.off.CompletionEvent) + 4n), 1);
  } finally { done(); }
});

test('READ_SCATTER / WRITE_GATHER on 24H2; STATUS_NOT_SUPPORTED on 22H2', () => {
  const a = setup(26100);
  try {
    const pages = a.p.virtualAlloc(0x3000);
    const seg = a.buf + 0x900n;
    a.p.writeU64(seg, pages); a.p.writeU64(seg + 8n, pages + 0x2000n);
    BuildIoRingScatterGather(a.ring, false, rawFile(a.f), 2, seg, 0x1010, 0, 1);
    a.p.writeU64(seg + 0x10n, pages + 0x10n);
    BuildIoRingScatterGather(a.ring, false, rawFile(a.f), 1, seg + 0x10n, 0x10, 0, 2); // unaligned segment
    const c = submitAll(a.ring);
    assert.equal(c[0]!.ResultCode, 0);
    assert.equal(c[0]!.Information, 36); // the file is 36 bytes
    assert.equal(new TextDecoder().decode(a.p.read(pages, 4)), '0123');
    assert.equal(c[1]!.ResultCode, hr(NtStatus.STATUS_INVALID_PARAMETER));
    a.p.write(pages + 0x2000n, new TextEncoder().encode('WXYZ'));
    a.p.writeU64(seg + 0x18n, pages + 0x2000n);
    BuildIoRingScatterGather(a.ring, true, rawFile(a.f), 1, seg + 0x18n, 4, 0, 3);
    assert.equal(submitAll(a.ring)[0]!.ResultCode, 0);
    assert.equal(readFileSync(join(a.dir, 'f.bin'), 'utf8').slice(0, 4), 'WXYZ');
  } finally { a.done(); }
  const b = setup(22621);
  try {
    BuildIoRingScatterGather(b.ring, false, rawFile(b.f), 1, b.buf, 4, 0, 1);
    assert.equal(submitAll(b.ring)[0]!.ResultCode, hr(NtStatus.STATUS_NOT_SUPPORTED));
  } finally { b.done(); }
});

test('teardown with a user-mode RegBuffers bugchecks BAD_POOL_CALLER; the kernel then refuses syscalls without throwing', () => {
  const { ring, p, k, buf, done } = setup(22621);
  try {
    const events: string[] = [];
    const off = k.onEvent((e) => events.push(e.type));
    const obj = k.getIoRingObjectAddress(p.pid, ring.handle)!;
    k.vulnerableDriver.writeWhatWhere(p, obj + 0xb8n, new Uint8Array([0, 0, 0, 1, 0, 0, 0, 0]));
    k.vulnerableDriver.writeWhatWhere(p, obj + 0xb0n, new Uint8Array([0, 0, 0, 0]));
    assert.equal(k.memory.readU64(obj + 0xb8n), 0x1000000n);
    const st = p.ntdll.NtClose(ring.handle);
    assert.equal(st, NtStatus.STATUS_UNSUCCESSFUL);
    assert.equal(k.crashed, true);
    assert.equal(k.bugchecks.length, 1);
    assert.equal(k.bugchecks[0]!.code, 0xc2);
    assert.equal(k.bugchecks[0]!.parameters[1], 0x1000000n);
    assert.ok(events.includes('bugcheck'));
    assert.equal(p.ntdll.NtCreateEvent(buf, 0, 0n, 0, false), NtStatus.STATUS_UNSUCCESSFUL);
    off();
    void IoRingOp; void IoRingVersion;
  } finally { done(); }
});

test('vulnerable driver: unmapped user target -> STATUS_ACCESS_VIOLATION, unmapped kernel target -> PAGE_FAULT_IN_NONPAGED_AREA', () => {
  const { p, k, done } = setup();
  try {
    assert.equal(k.vulnerableDriver.writeWhatWhere(p, 0x5000000n, new Uint8Array(4)), NtStatus.STATUS_ACCESS_VIOLATION);
    assert.equal(k.crashed, false);
    k.vulnerableDriver.writeWhatWhere(p, 0xffffe00000000000n, new Uint8Array(4));
    assert.equal(k.bugchecks[0]?.code, 0x50);
    assert.equal(k.vulnerableDriver.uses, 2);
  } finally { done(); }
});

test('terminateProcess closes every handle (rings torn down); close() releases descriptors', () => {
  const { p, k, done } = setup();
  try {
    assert.equal(k.openFileCount(), 1);
    k.terminateProcess(p.pid);
    assert.equal(k.openFileCount(), 0);
    assert.equal(k.ioRings().length, 0);
    assert.equal(k.querySystemHandles().filter((r) => r.pid === p.pid).length, 0);
  } finally { done(); }
});
