import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { EmulatedKernel } from './kernel.js';
import { NtStatus } from '../abi/ntstatus.js';
import { IoRingVersion, NT_IORING_CREATE_SKIP_BUILDER_PARAM_CHECKS } from '../abi/ioring.js';
import { Access } from './objects.js';
import { FileDisposition, NtCurrentProcess } from './ntapi.js';
import { CreateIoRing, CloseIoRing, createPipePair, openFile, readBytes, writeBytes, QueryIoRingCapabilities } from './kernelbase.js';
import type { EmulatedProcess } from './process.js';

function setup(build = 22621) {
  const dir = mkdtempSync(join(tmpdir(), 'w11-sys-'));
  const k = new EmulatedKernel({ build, dataDir: dir });
  const p = k.createProcess({ imageName: 'test.exe' });
  const buf = p.virtualAlloc(0x10000);
  return { dir, k, p, buf, done: () => { k.close(); rmSync(dir, { recursive: true, force: true }); } };
}

function structV1(p: EmulatedProcess, at: bigint, version: number, sq: number, cq: number, req = 0, adv = 0) {
  p.writeU32(at, version); p.writeU32(at + 4n, sq); p.writeU32(at + 8n, cq); p.writeU32(at + 12n, req); p.writeU32(at + 16n, adv);
}

test('NtCreateIoRing: returns a handle and NT_IORING_INFO with user VAs of a real shared section', () => {
  const { k, p, buf, done } = setup();
  try {
    structV1(p, buf, IoRingVersion.V3, 30, 50);
    assert.equal(p.ntdll.NtCreateIoRing(buf + 0x100n, 0x14, buf, 0x30, buf + 0x200n), NtStatus.STATUS_SUCCESS);
    const h = Number(p.readU64(buf + 0x100n));
    const info = buf + 0x200n;
    assert.equal(p.readU32(info), IoRingVersion.V3);
    assert.equal(p.readU32(info + 0xcn), 32); // rounded to a power of two
    assert.equal(p.readU32(info + 0x10n), 31);
    assert.equal(p.readU32(info + 0x14n), 64);
    const sq = p.readU64(info + 0x20n);
    const cq = p.readU64(info + 0x28n);
    assert.ok(sq > 0x10000n && sq < 0x7fffffff0000n);
    const obj = k.getIoRingObjectAddress(p.pid, h)!;
    assert.ok(obj >= 0xffff800000000000n);
    // The kernel's SubmissionQueue field is a different (system) VA over the same pages.
    const ksq = k.memory.readU64(obj + BigInt(k.offsets.off.SubmissionQueue));
    assert.ok(ksq >= 0xffff800000000000n && ksq !== sq);
    p.writeU32(sq + 4n, 0x1234);
    assert.equal(k.memory.readU32At(ksq + 4n), 0x1234);
    const kcq = k.memory.readU64(obj + BigInt(k.offsets.off.CompletionQueue));
    k.memory.writeU32At(kcq, 7);
    assert.equal(p.readU32(cq), 7);
    assert.equal(k.memory.readU64(obj + BigInt(k.offsets.off.RegBuffers)), 0n);
    assert.equal(k.memory.readU16(Number(obj >> 32n), Number(obj & 0xffffffffn) + 2), 0xd0);
  } finally { done(); }
});

test('NtCreateIoRing: bad arguments return the IoRing statuses', () => {
  const { p, buf, done } = setup(22621);
  try {
    const call = (v: number, sq: number, cq: number, req = 0, len = 0x14, outLen = 0x30, out = buf + 0x200n) => {
      structV1(p, buf, v, sq, cq, req);
      return p.ntdll.NtCreateIoRing(buf + 0x100n, len, buf, outLen, out);
    };
    assert.equal(call(IoRingVersion.V4, 8, 8), NtStatus.STATUS_IORING_VERSION_NOT_SUPPORTED); // 24H2-only on 22H2
    assert.equal(call(7, 8, 8), NtStatus.STATUS_IORING_VERSION_NOT_SUPPORTED);
    assert.equal(call(0, 8, 8), NtStatus.STATUS_IORING_VERSION_NOT_SUPPORTED);
    assert.equal(call(IoRingVersion.V3, 8, 8, 1), NtStatus.STATUS_IORING_REQUIRED_FLAGS_NOT_SUPPORTED);
    assert.equal(call(IoRingVersion.V3, 0x10001, 0x20000), NtStatus.STATUS_IORING_SUBMISSION_QUEUE_TOO_BIG);
    assert.equal(call(IoRingVersion.V3, 0x10000, 0x20001), NtStatus.STATUS_IORING_COMPLETION_QUEUE_TOO_BIG);
    assert.equal(call(IoRingVersion.V3, 0, 8), NtStatus.STATUS_INVALID_PARAMETER);
    assert.equal(call(IoRingVersion.V3, 8, 8, 0, 0x10), NtStatus.STATUS_INFO_LENGTH_MISMATCH);
    assert.equal(call(IoRingVersion.V3, 8, 8, 0, 0x14, 0x20), NtStatus.STATUS_INFO_LENGTH_MISMATCH);
    assert.equal(call(IoRingVersion.V3, 8, 8, 0, 0x14, 0x30, 0x5000000n), NtStatus.STATUS_ACCESS_VIOLATION); // unmapped out
    assert.equal(call(IoRingVersion.V3, 8, 8, 0, 0x14, 0x30, 0xffff800000001000n), NtStatus.STATUS_ACCESS_VIOLATION); // kernel out
    assert.equal(p.ntdll.NtCreateIoRing(buf, 0x14, 0x5000000n, 0x30, buf + 0x200n), NtStatus.STATUS_ACCESS_VIOLATION); // unmapped in
    assert.equal(call(IoRingVersion.V3, 0x10000, 0x20000), NtStatus.STATUS_SUCCESS); // the PoC's sizes
  } finally { done(); }
});

test('NtCreateIoRing on 21H2 accepts V1/V2 only; 24H2 accepts V4 and SKIP_BUILDER_PARAM_CHECKS', () => {
  const a = setup(22000);
  try {
    assert.equal(CreateIoRing(a.p, IoRingVersion.V3, { required: 0, advisory: 0 }, 8, 8).hr >>> 0, 0xd0460003);
    assert.ok(CreateIoRing(a.p, IoRingVersion.V1, { required: 0, advisory: 0 }, 8, 8).ring);
  } finally { a.done(); }
  const b = setup(26100);
  try {
    const r = CreateIoRing(b.p, IoRingVersion.V4, { required: 0, advisory: NT_IORING_CREATE_SKIP_BUILDER_PARAM_CHECKS }, 8, 8);
    assert.equal(r.ring?.IoRingKernelAcceptedVersion, IoRingVersion.V4);
    assert.equal(r.ring?.checksParams, false);
  } finally { b.done(); }
});

test('NtQueryIoRingCapabilities per build, and bad lengths/buffers', () => {
  for (const [build, v, op] of [[22000, 2, 4], [22621, 300, 6], [26100, 400, 8]] as const) {
    const { p, buf, done } = setup(build);
    try {
      const c = QueryIoRingCapabilities(p);
      assert.equal(c.hr, 0);
      assert.equal(c.MaxVersion, v);
      assert.equal(c.MaxOpCode, op);
      assert.equal(c.MaxSubmissionQueueSize, 0x10000);
      assert.equal(c.MaxCompletionQueueSize, 0x20000);
      assert.equal(p.ntdll.NtQueryIoRingCapabilities(0x10, buf), NtStatus.STATUS_INFO_LENGTH_MISMATCH);
      assert.equal(p.ntdll.NtQueryIoRingCapabilities(0x14, 0xffff800000000000n), NtStatus.STATUS_ACCESS_VIOLATION);
    } finally { done(); }
  }
});

test('NtSubmitIoRing / NtSetInformationIoRing / NtClose: invalid handle and wrong object type', () => {
  const { p, buf, done } = setup();
  try {
    assert.equal(p.ntdll.NtSubmitIoRing(0x999, 0, 0, 0n), NtStatus.STATUS_INVALID_HANDLE);
    assert.equal(p.ntdll.NtSetInformationIoRing(0x999, 1, 8, buf), NtStatus.STATUS_INVALID_HANDLE);
    assert.equal(p.ntdll.NtClose(0x999), NtStatus.STATUS_INVALID_HANDLE);
    assert.equal(p.ntdll.NtCreateEvent(buf, 0, 0n, 0, false), 0);
    const ev = Number(p.readU64(buf));
    assert.equal(p.ntdll.NtSubmitIoRing(ev, 0, 0, 0n), NtStatus.STATUS_OBJECT_TYPE_MISMATCH);
    assert.equal(p.ntdll.NtSetInformationIoRing(ev, 1, 8, buf), NtStatus.STATUS_OBJECT_TYPE_MISMATCH);
    const ring = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 8, 8).ring!;
    assert.equal(p.ntdll.NtSubmitIoRing(ring.handle, 1, 0, 0n), NtStatus.STATUS_INVALID_PARAMETER);
    assert.equal(p.ntdll.NtSubmitIoRing(ring.handle, 0, 0, 0x5000000n), NtStatus.STATUS_ACCESS_VIOLATION);
    assert.equal(p.ntdll.NtSubmitIoRing(ring.handle, 0, 0, 0n), NtStatus.STATUS_SUCCESS);
    assert.equal(p.ntdll.NtSubmitIoRing(ring.handle, 0, 1, 0n), NtStatus.STATUS_TIMEOUT); // nothing to wait for, never blocks
    // Set the user completion event: class, length, event handle checks.
    p.writeU64(buf + 0x10n, BigInt(ev));
    assert.equal(p.ntdll.NtSetInformationIoRing(ring.handle, 2, 8, buf + 0x10n), NtStatus.STATUS_INVALID_INFO_CLASS);
    assert.equal(p.ntdll.NtSetInformationIoRing(ring.handle, 1, 4, buf + 0x10n), NtStatus.STATUS_INFO_LENGTH_MISMATCH);
    p.writeU64(buf + 0x18n, BigInt(ring.handle));
    assert.equal(p.ntdll.NtSetInformationIoRing(ring.handle, 1, 8, buf + 0x18n), NtStatus.STATUS_OBJECT_TYPE_MISMATCH);
    assert.equal(p.ntdll.NtSetInformationIoRing(ring.handle, 1, 8, buf + 0x10n), NtStatus.STATUS_SUCCESS);
    assert.equal(CloseIoRing(ring), 0);
    assert.equal(p.ntdll.NtSubmitIoRing(ring.handle, 0, 0, 0n), NtStatus.STATUS_INVALID_HANDLE);
  } finally { done(); }
});

test('NtCreateFile/NtReadFile/NtWriteFile on real files, with dispositions and bad arguments', () => {
  const { k, dir, p, buf, done } = setup();
  try {
    const rw = Access.FILE_GENERIC_READ | Access.FILE_GENERIC_WRITE;
    assert.equal(openFile(p, 'missing.bin', rw, FileDisposition.FILE_OPEN).status, NtStatus.STATUS_OBJECT_NAME_NOT_FOUND);
    assert.equal(openFile(p, 'nodir/x.bin', rw, FileDisposition.FILE_CREATE).status, NtStatus.STATUS_OBJECT_PATH_NOT_FOUND);
    assert.equal(openFile(p, '../escape.bin', rw, FileDisposition.FILE_CREATE).status, NtStatus.STATUS_OBJECT_NAME_INVALID);
    assert.equal(openFile(p, 'x', rw, 9).status, NtStatus.STATUS_INVALID_PARAMETER);
    const f = openFile(p, 'data.bin', rw, FileDisposition.FILE_CREATE);
    assert.equal(f.status, 0);
    assert.equal(openFile(p, 'data.bin', rw, FileDisposition.FILE_CREATE).status, NtStatus.STATUS_OBJECT_NAME_COLLISION);
    assert.equal(writeBytes(p, f.handle, new TextEncoder().encode('hello world'), 0), 0);
    assert.equal(readFileSync(join(dir, 'data.bin'), 'utf8'), 'hello world');
    const r = readBytes(p, f.handle, 5, 6);
    assert.equal(new TextDecoder().decode(r.bytes), 'world');
    assert.equal(readBytes(p, f.handle, 5, 100).status, NtStatus.STATUS_END_OF_FILE);
    // Raw user buffers are probed: kernel or unmapped addresses fault.
    assert.equal(p.ntdll.NtReadFile(f.handle, 0, 0n, 0n, buf, 0xffff800000001000n, 4, 0n, 0n), NtStatus.STATUS_ACCESS_VIOLATION);
    assert.equal(p.ntdll.NtReadFile(f.handle, 0, 0n, 0n, buf, 0x5000000n, 4, 0n, 0n), NtStatus.STATUS_ACCESS_VIOLATION);
    assert.equal(p.ntdll.NtReadFile(0x999, 0, 0n, 0n, buf, buf + 0x100n, 4, 0n, 0n), NtStatus.STATUS_INVALID_HANDLE);
    const ro = openFile(p, 'data.bin', Access.FILE_GENERIC_READ, FileDisposition.FILE_OPEN);
    assert.equal(writeBytes(p, ro.handle, new Uint8Array(1)), NtStatus.STATUS_ACCESS_DENIED);
    assert.equal(p.ntdll.NtFlushBuffersFile(f.handle, buf), 0);
    writeFileSync(join(dir, 'pre.bin'), 'abc');
    assert.equal(openFile(p, 'pre.bin', rw, FileDisposition.FILE_OVERWRITE_IF).status, 0);
    assert.equal(readFileSync(join(dir, 'pre.bin'), 'utf8'), '');
    assert.equal(k.openFileCount(), 3);
    assert.equal(p.ntdll.NtClose(ro.handle), 0);
    assert.equal(k.openFileCount(), 2);
  } finally { done(); }
  // close() releases every descriptor
});

test('named pipes: server/client ends, data both ways, empty and broken pipes', () => {
  const { p, done } = setup();
  try {
    const pp = createPipePair(p, 'ch');
    assert.equal(pp.status, 0);
    assert.equal(createPipePair(p, 'ch').status, NtStatus.STATUS_OBJECT_NAME_COLLISION);
    assert.equal(writeBytes(p, pp.server, new Uint8Array([1, 2, 3])), 0);
    assert.deepEqual([...readBytes(p, pp.client, 10).bytes], [1, 2, 3]);
    assert.equal(readBytes(p, pp.client, 10).status, NtStatus.STATUS_PIPE_EMPTY);
    assert.equal(writeBytes(p, pp.client, new Uint8Array([9])), 0);
    assert.deepEqual([...readBytes(p, pp.server, 1).bytes], [9]);
    const s = p.virtualAlloc(0x1000);
    assert.equal(p.ntdll.NtCreateFile(s, Access.FILE_GENERIC_READ, '\\\\.\\pipe\\nosuch', 0n, 1), NtStatus.STATUS_OBJECT_NAME_NOT_FOUND);
    assert.equal(p.ntdll.NtCreateFile(s, Access.FILE_GENERIC_READ, '\\Device\\NamedPipe\\ch', 0n, 1), NtStatus.STATUS_PIPE_BUSY);
    assert.equal(p.ntdll.NtCreateNamedPipeFile(s, 0, 'notapipe', 0n), NtStatus.STATUS_OBJECT_NAME_INVALID);
    assert.equal(p.ntdll.NtClose(pp.server), 0);
    assert.equal(writeBytes(p, pp.client, new Uint8Array([1])), NtStatus.STATUS_PIPE_BROKEN);
    assert.equal(readBytes(p, pp.client, 1).status, NtStatus.STATUS_PIPE_BROKEN);
  } finally { done(); }
});

test('SystemHandleInformation lists every process handle with object addresses; generation counter moves', () => {
  const { k, p, buf, done } = setup();
  try {
    const other = k.createProcess({ imageName: 'other.exe', pid: 0x2000 });
    const g0 = k.handleGeneration;
    const ring = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 8, 8).ring!;
    assert.notEqual(k.handleGeneration, g0);
    const r2 = CreateIoRing(other, IoRingVersion.V3, { required: 0, advisory: 0 }, 8, 8).ring!;
    const rows = k.querySystemHandles().filter((r) => r.typeName === 'IoRing');
    assert.deepEqual(rows.map((r) => [r.pid, r.handle]), [[p.pid, ring.handle], [0x2000, r2.handle]]);
    assert.equal(rows[0]!.object, k.getIoRingObjectAddress(p.pid, ring.handle));
    // The raw syscall form: too small -> length needed, then the table.
    assert.equal(p.ntdll.NtQuerySystemInformation(16, buf + 0x10n, 8, buf), NtStatus.STATUS_INFO_LENGTH_MISMATCH);
    const need = p.readU32(buf);
    assert.equal(need, 8 + 0x18 * k.querySystemHandles().length);
    assert.equal(p.ntdll.NtQuerySystemInformation(16, buf + 0x10n, need, buf), 0);
    assert.equal(p.readU32(buf + 0x10n), k.querySystemHandles().length);
    assert.equal(p.ntdll.NtQuerySystemInformation(5, buf, 0x100, 0n), NtStatus.STATUS_INVALID_INFO_CLASS);
    const g1 = k.handleGeneration;
    CloseIoRing(r2);
    assert.notEqual(k.handleGeneration, g1);
    // Token handle -> the _TOKEN address the process reports.
    assert.equal(p.ntdll.NtOpenProcessToken(NtCurrentProcess, 8, buf), 0);
    const th = Number(p.readU64(buf));
    assert.equal(k.querySystemHandles().find((r) => r.pid === p.pid && r.handle === th)?.object, p.token);
    assert.equal(p.ntdll.NtOpenProcessToken(0x1234, 8, buf), NtStatus.STATUS_INVALID_HANDLE);
  } finally { done(); }
});

test('events: set/reset/wait; the user completion event is signaled by completions', () => {
  const { p, buf, done } = setup();
  try {
    assert.equal(p.ntdll.NtCreateEvent(buf, 0, 0n, 0, false), 0);
    const ev = Number(p.readU64(buf));
    assert.equal(p.ntdll.NtWaitForSingleObject(ev, false, 0n), NtStatus.STATUS_TIMEOUT);
    assert.equal(p.ntdll.NtSetEvent(ev, buf + 8n), 0);
    assert.equal(p.ntdll.NtWaitForSingleObject(ev, false, 0n), 0);
    assert.equal(p.ntdll.NtResetEvent(ev, 0n), 0);
    assert.equal(p.ntdll.NtCreateEvent(buf, 0, 0n, 5, false), NtStatus.STATUS_INVALID_PARAMETER);
  } finally { done(); }
});

test('ntdll is a mutable table; the direct syscall table is frozen and bypasses hooks', () => {
  const { k, p, done } = setup();
  try {
    const ring = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 8, 8).ring!;
    let seen = 0;
    const orig = p.ntdll.NtSubmitIoRing;
    p.ntdll.NtSubmitIoRing = (h, f, w, t) => { seen++; return h === ring.handle ? NtStatus.STATUS_ACCESS_DENIED : orig(h, f, w, t); };
    assert.equal(p.ntdll.NtSubmitIoRing(ring.handle, 0, 0, 0n), NtStatus.STATUS_ACCESS_DENIED);
    assert.equal(p.syscall.NtSubmitIoRing(ring.handle, 0, 0, 0n), 0);
    assert.equal(k.syscall(p, 'NtSubmitIoRing', ring.handle, 0, 0, 0n), 0);
    assert.equal(seen, 1);
    assert.throws(() => { (p.syscall as { NtSubmitIoRing: unknown }).NtSubmitIoRing = () => 0; });
  } finally { done(); }
});

test('user memory helpers: VirtualAlloc at chosen/free addresses, overlap and range errors', () => {
  const { p, done } = setup();
  try {
    assert.equal(p.virtualAlloc(0x1000, 0x1000000n), 0x1000000n);
    assert.throws(() => p.virtualAlloc(0x1000, 0x1000000n), /overlaps/);
    assert.throws(() => p.virtualAlloc(0x1000, 0x8000n), /outside user space/);
    assert.throws(() => p.virtualAlloc(0x1000, 0xffff800000000000n), /outside user space/);
    p.writeU64(0x1000000n, 0x1122334455667788n);
    assert.equal(p.readU64(0x1000000n), 0x1122334455667788n);
    assert.throws(() => p.memory.readU32At(p.token), (e: { code?: string }) => e.code === 'WIN11MON_ERR_ACCESS_VIOLATION');
    assert.equal(p.virtualFree(0x1000000n), true);
    assert.throws(() => p.readU64(0x1000000n));
  } finally { done(); }
});
