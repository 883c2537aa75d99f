import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import {
  Ioctl, NtStatus, IoRingOp, IoRingVersion, FILE_READ_ACCESS, FILE_WRITE_ACCESS, InterceptAction, InterceptReason,
  decodeInterceptResponse, encodeInterceptRequest, serializeSqeArray,
} from '../abi/index.js';
import { encodeNativeSqe } from '../abi/decode.js';
import { decodePolicyBinary, encodePolicyBinary, type PolicyEngine } from '../engine/index.js';
import { EmulatedKernel, CreateIoRing, CloseIoRing, runIoRingExploit, BuildIoRingRegisterBuffers, SubmitIoRing, INFINITE } from '../kernel/index.js';
import { buildRequest, readReg, nop } from '../engine/testing.js';
import { MonitorDriver } from './driver.js';
import { decodeScanOutput, encodeClientEvent, encodePostSubmit, decodePostSubmit } from './payloads.js';
import { decodeSnapshot } from './telemetry/index.js';
import type { DeviceCaller } from './device.js';

/** The engine's current binary policy with some switches changed. */
function encodePolicyBinaryForTest(engine: PolicyEngine, patch: Record<string, unknown>): Uint8Array {
  return encodePolicyBinary({ ...decodePolicyBinary(engine.getPolicyBinary()), ...patch } as Parameters<typeof encodePolicyBinary>[0]);
}

const ADMIN: DeviceCaller = { access: FILE_READ_ACCESS | FILE_WRITE_ACCESS, pid: 0, uid: 0, endpoint: 'admin' };
const READER: DeviceCaller = { access: FILE_READ_ACCESS, pid: 0, uid: 65534, endpoint: 'device' };

function setup(build = 22621) {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-driver-'));
  const kernel = new EmulatedKernel({ build, dataDir: dir, realFlush: false });
  const driver = new MonitorDriver({ kernel });
  return {
    kernel, driver,
    done() { driver.close(); kernel.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

function nopRequest(pid: number, handle: number, n = 1): Uint8Array {
  const sqes = new Uint8Array(64 * n);
  for (let i = 0; i < n; i++) sqes.set(encodeNativeSqe({ opCode: IoRingOp.NOP, userData: BigInt(i) }), i * 64);
  return encodeInterceptRequest({ processId: pid, threadId: 1, ioRingHandle: BigInt(handle), serializedSqes: serializeSqeArray(sqes) });
}

function events(driver: MonitorDriver) {
  const r = driver.ioctl(Ioctl.IOCTL_MONITOR_RINGBUF_SNAPSHOT!, new Uint8Array(0), 1 << 20, READER);
  assert.equal(r.status, NtStatus.STATUS_SUCCESS);
  return decodeSnapshot(r.output, 1).events;
}

test('INTERCEPT_VALIDATE allows a clean submission on a known ring and answers STATUS_SUCCESS with the 48-byte response', () => {
  const t = setup();
  try {
    const p = t.kernel.createProcess({ imageName: 'app.exe' });
    const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
    const r = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, nopRequest(p.pid, ring!.handle, 4), 48, READER);
    assert.equal(r.status, NtStatus.STATUS_SUCCESS);
    const resp = decodeInterceptResponse(r.output);
    assert.equal(resp.actionName, 'Allow');
    assert.equal(resp.reasonName, 'None');
  } finally { t.done(); }
});

test('INTERCEPT_VALIDATE blocks a submission whose ring is unknown (InvalidHandle) and a short output buffer is STATUS_BUFFER_TOO_SMALL with the size needed', () => {
  const t = setup();
  try {
    const p = t.kernel.createProcess({ imageName: 'app.exe' });
    const r = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, nopRequest(p.pid, 0x999), 48, READER);
    assert.equal(r.status, NtStatus.STATUS_SUCCESS);
    assert.equal(decodeInterceptResponse(r.output).reason, InterceptReason.InvalidHandle);
    const short = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, nopRequest(p.pid, 0x999), 47, READER);
    assert.equal(short.status, NtStatus.STATUS_BUFFER_TOO_SMALL);
    assert.equal(short.information, 48);
  } finally { t.done(); }
});

test('a malformed request fails the IOCTL with the error NTSTATUS, is counted, and leaves a Block MalformedRequest event', () => {
  const t = setup();
  try {
    const bad = nopRequest(1, 4, 2);
    new DataView(bad.buffer).setUint32(0, 999, true); // Size lies
    const r = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, bad, 48, READER);
    assert.equal(r.status, NtStatus.STATUS_BUFFER_TOO_SMALL);
    const truncated = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, new Uint8Array(7), 48, READER);
    assert.equal(truncated.status, NtStatus.STATUS_BUFFER_TOO_SMALL);
    const ev = events(t.driver).filter((e) => e.type === 'InterceptDecision');
    assert.equal(ev.length, 2);
    assert.ok(ev.every((e) => e.type === 'InterceptDecision' && e.payload.reason === 'MalformedRequest' && e.payload.action === 'Block'));
  } finally { t.done(); }
});

test('unknown IOCTL codes are STATUS_INVALID_DEVICE_REQUEST; write IOCTLs need write access', () => {
  const t = setup();
  try {
    assert.equal(t.driver.ioctl(0x00222fff, new Uint8Array(0), 0, ADMIN).status, NtStatus.STATUS_INVALID_DEVICE_REQUEST);
    const pol = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_POLICY!, new Uint8Array(0), 28, READER);
    assert.equal(pol.status, NtStatus.STATUS_SUCCESS);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_SET_POLICY!, pol.output, 0, READER).status, NtStatus.STATUS_ACCESS_DENIED);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_SET_POLICY!, pol.output, 0, ADMIN).status, NtStatus.STATUS_SUCCESS);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_SCAN_NOW!, new Uint8Array(0), 16, READER).status, NtStatus.STATUS_ACCESS_DENIED);
  } finally { t.done(); }
});

test('SET_POLICY takes the 28-byte binary policy or a document; an invalid one is rejected with its issues and the running policy stays', () => {
  const t = setup();
  try {
    const before = t.driver.engine.policyVersion;
    const bad = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_SET_POLICY!, new Uint8Array(Buffer.from('limits:\n  maxOperationsPerSubmit: -3\n')), 4096, ADMIN);
    assert.equal(bad.status, NtStatus.STATUS_INVALID_PARAMETER);
    assert.match(Buffer.from(bad.output).toString('utf8'), /WIN11MON_ERR_POLICY_INVALID/);
    assert.equal(t.driver.engine.policyVersion, before);
    const bin = encodePolicyBinaryForTest(t.driver.engine, { auditMode: true });
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_SET_POLICY!, bin, 0, ADMIN).status, NtStatus.STATUS_SUCCESS);
    assert.ok(t.driver.engine.policyVersion > before);
    const wrongSize = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_SET_POLICY!, bin.subarray(0, 27), 0, ADMIN);
    assert.notEqual(wrongSize.status, NtStatus.STATUS_SUCCESS);
    const changed = events(t.driver).filter((e) => e.type === 'PolicyChanged');
    assert.equal(changed.length, 1);
  } finally { t.done(); }
});

test('GET_STATS returns the 152-byte MON_INTERCEPT_STATS counting validations; RESET_STATS zeroes it', () => {
  const t = setup();
  try {
    const p = t.kernel.createProcess({ imageName: 'app.exe' });
    const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
    for (let i = 0; i < 3; i++) t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, nopRequest(p.pid, ring!.handle), 48, READER);
    const s = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_STATS!, new Uint8Array(0), 152, READER);
    assert.equal(s.status, NtStatus.STATUS_SUCCESS);
    const dv = new DataView(s.output.buffer, s.output.byteOffset, s.output.byteLength);
    assert.equal(dv.getUint32(0, true), 152);
    assert.equal(dv.getUint32(8, true), 3); // TotalValidationRequests (low half)
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_STATS!, new Uint8Array(0), 100, READER).status, NtStatus.STATUS_BUFFER_TOO_SMALL);
    t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_RESET_STATS!, new Uint8Array(0), 0, ADMIN);
    const z = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_STATS!, new Uint8Array(0), 152, READER);
    assert.equal(new DataView(z.output.buffer, z.output.byteOffset).getUint32(8, true), 0);
  } finally { t.done(); }
});

test('blacklist IOCTLs: add (68-byte input), list, remove; bad sizes are STATUS_INFO_LENGTH_MISMATCH', () => {
  const t = setup();
  try {
    const add = new Uint8Array(68);
    new DataView(add.buffer).setUint32(0, 4242, true);
    add.set(Buffer.from('test reason'), 4);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_ADD_BL!, add, 0, ADMIN).status, NtStatus.STATUS_SUCCESS);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_ADD_BL!, add.subarray(0, 10), 0, ADMIN).status, NtStatus.STATUS_INFO_LENGTH_MISMATCH);
    const list = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_BL!, new Uint8Array(0), 4096, READER);
    assert.equal(list.output.byteLength, 208);
    assert.equal(new DataView(list.output.buffer, list.output.byteOffset).getUint32(0, true), 4242);
    const rm = new Uint8Array(4);
    new DataView(rm.buffer).setUint32(0, 4242, true);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_REMOVE_BL!, rm, 0, ADMIN).status, NtStatus.STATUS_SUCCESS);
    assert.notEqual(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_REMOVE_BL!, rm, 0, ADMIN).status, NtStatus.STATUS_SUCCESS);
  } finally { t.done(); }
});

test('A1 enumerates IoRing handles across processes (GET_IORING_HANDLES) and reports new rings', () => {
  const t = setup();
  try {
    const a = t.kernel.createProcess({ imageName: 'a.exe' });
    const b = t.kernel.createProcess({ imageName: 'b.exe' });
    CreateIoRing(a, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
    CreateIoRing(b, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
    const scan = decodeScanOutput(t.driver.ioctl(Ioctl.IOCTL_MONITOR_SCAN_NOW!, new Uint8Array(0), 16, ADMIN).output);
    assert.equal(scan.newRings, 2);
    assert.equal(scan.findings, 0);
    const h = t.driver.ioctl(Ioctl.IOCTL_MONITOR_GET_IORING_HANDLES!, new Uint8Array(0), 4096, READER);
    const dv = new DataView(h.output.buffer, h.output.byteOffset, h.output.byteLength);
    assert.equal(dv.getUint32(4, true), 2);
    const pids = [dv.getUint32(16, true), dv.getUint32(56, true)].sort();
    assert.deepEqual(pids, [a.pid, b.pid].sort());
    assert.equal(events(t.driver).filter((e) => e.type === 'IoRingHandleCreated').length, 2);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_GET_IORING_HANDLES!, new Uint8Array(0), 20, READER).status, NtStatus.STATUS_BUFFER_TOO_SMALL);
  } finally { t.done(); }
});

for (const build of [22621, 22631, 26100]) {
  test(`A2 catches the exploit's corrupted RegBuffers while it runs, with no hook (build ${build})`, () => {
    const t = setup(build);
    try {
      const findings: number[] = [];
      const r = runIoRingExploit(t.kernel, {
        onStep: (s) => {
          // A poll that fires while the forged array is in place (the exploit runs between two polls in real time).
          if (s.step.startsWith('kernel-read') || s.step.startsWith('kernel-write')) findings.push(t.driver.scanNow().findings.length);
        },
      });
      assert.equal(r.exploitSucceeded, true);
      assert.ok(findings.some((n) => n > 0), `a scan during the exploit reports a finding (${findings.join(',')})`);
      const ev = events(t.driver).filter((e) => e.type === 'RegBuffersViolation');
      assert.equal(ev.length, 1, 'reported once, not on every poll');
      const p = ev[0]!;
      assert.ok(p.type === 'RegBuffersViolation' && (p.payload.violationFlags & 0x1) !== 0, 'USERMODE_PTR flag');
      assert.equal(p.type === 'RegBuffersViolation' && p.payload.regBuffersAddress.lo, 0x1000000);
    } finally { t.done(); }
  });
}

test('a Block on a corrupted ring quarantines it: RegBuffers is reset so closing it does not bugcheck, and later submissions are refused', () => {
  const t = setup();
  try {
    const p = t.kernel.createProcess({ imageName: 'exploit.exe' });
    const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
    const obj = t.kernel.getIoRingObjectAddress(p.pid, ring!.handle)!;
    // The attacker's one arbitrary write: RegBuffers -> a user address, count -> 1.
    p.virtualAlloc(0x1000, 0x1000000n);
    const w = new Uint8Array(16);
    const dv = new DataView(w.buffer);
    dv.setUint32(0, 1, true);
    dv.setUint32(8, 0x1000000, true);
    assert.equal(t.kernel.vulnerableDriver.writeWhatWhere(p, obj + BigInt(t.kernel.offsets.off.RegBuffersCount), w), NtStatus.STATUS_SUCCESS);
    const r = t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, nopRequest(p.pid, ring!.handle), 48, READER);
    const resp = decodeInterceptResponse(r.output);
    assert.equal(resp.action, InterceptAction.Block);
    assert.equal(resp.reason, InterceptReason.RegBuffersCorrupted);
    assert.equal(resp.mitreTechnique, 'T1068');
    assert.equal(t.kernel.memory.readU64(obj + BigInt(t.kernel.offsets.off.RegBuffers)), 0n, 'RegBuffers reset');
    const again = decodeInterceptResponse(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, nopRequest(p.pid, ring!.handle), 48, READER).output);
    assert.equal(again.action, InterceptAction.Block, 'quarantined ring stays refused');
    CloseIoRing(ring!);
    assert.equal(t.kernel.bugchecks.length, 0, 'no bugcheck at teardown');
    assert.ok(events(t.driver).some((e) => e.type === 'RingQuarantined'));
  } finally { t.done(); }
});

test('a submission blocked for its own registered-buffer references leaves a sound ring alone: no quarantine, its registrations kept, the next clean submission allowed', () => {
  // Found by the IOCTL fuzz test: any device.sock client naming a ring could get it quarantined (its
  // RegBuffers reset, every later submission refused) with one request referencing index >= count.
  const t = setup();
  try {
    const p = t.kernel.createProcess({ imageName: 'app.exe' });
    const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
    const buf = p.virtualAlloc(0x1000);
    const info = p.virtualAlloc(0x1000);
    p.writeU64(info, buf);
    p.writeU32(info + 8n, 0x1000);
    BuildIoRingRegisterBuffers(ring!, 1, info, 1);
    SubmitIoRing(ring!, 1, INFINITE);
    const obj = t.kernel.getIoRingObjectAddress(p.pid, ring!.handle)!;
    const regBuffers = t.kernel.memory.readU64(obj + BigInt(t.kernel.offsets.off.RegBuffers));
    assert.notEqual(regBuffers, 0n);
    const opts = { processId: p.pid, ioRingHandle: BigInt(ring!.handle) };
    for (const sqe of [readReg(1), readReg(0, 0x800, 0x900)]) { // index past the count; offset + length past the buffer
      const r = decide(t, [sqe], opts);
      assert.equal(r.action, InterceptAction.Block);
      assert.equal(r.reason, InterceptReason.RegBuffersCorrupted);
    }
    assert.equal(t.kernel.memory.readU64(obj + BigInt(t.kernel.offsets.off.RegBuffers)), regBuffers, 'RegBuffers untouched');
    assert.equal(t.kernel.memory.readU64(obj + BigInt(t.kernel.offsets.off.RegBuffersCount)) & 0xffffffffn, 1n, 'RegBuffersCount untouched');
    const clean = decide(t, [readReg(0, 0x800)], opts);
    assert.equal(clean.actionName, 'Allow');
    assert.ok(!events(t.driver).some((e) => e.type === 'RingQuarantined'));
    assert.equal(t.driver.counters.quarantines, 0);
  } finally { t.done(); }
});

/** A ring with `n` registered 4 KiB user buffers; returns it and the kernel address of RegBuffers[k]'s MC entry. */
function ringWithRegisteredBuffers(t: ReturnType<typeof setup>, n: number) {
  const p = t.kernel.createProcess({ imageName: 'big.exe' });
  const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
  const bufs = p.virtualAlloc(n * 0x1000);
  const info = p.virtualAlloc(n * 16);
  for (let i = 0; i < n; i++) {
    p.writeU64(info + BigInt(i * 16), bufs + BigInt(i * 0x1000));
    p.writeU32(info + BigInt(i * 16 + 8), 0x1000);
  }
  BuildIoRingRegisterBuffers(ring!, n, info, 1);
  SubmitIoRing(ring!, 1, INFINITE);
  const obj = t.kernel.getIoRingObjectAddress(p.pid, ring!.handle)!;
  const array = t.kernel.memory.readU64(obj + BigInt(t.kernel.offsets.off.RegBuffers));
  const entry = (k: number): bigint => t.kernel.memory.readU64(array + BigInt(k * 8));
  /**
   * The attacker's write: RegBuffers[k]->Address := a kernel address (the IORING_OBJECT, or the start
   * of its page, which keeps the entry's Size plausible), and with `kernelMode` AccessMode := KernelMode.
   */
  const corrupt = (k: number, o: { aligned?: boolean; kernelMode?: boolean } = {}): void => {
    const w = new Uint8Array(8);
    new DataView(w.buffer).setBigUint64(0, o.aligned ? obj & ~0xfffn : obj, true);
    assert.equal(t.kernel.vulnerableDriver.writeWhatWhere(p, entry(k) + 0x20n, w), NtStatus.STATUS_SUCCESS); // IOP_MC_BUFFER_ENTRY.Address
    if (o.kernelMode) assert.equal(t.kernel.vulnerableDriver.writeWhatWhere(p, entry(k) + 0x2cn, new Uint8Array([0])), NtStatus.STATUS_SUCCESS); // .AccessMode
  };
  return { p, ring: ring!, obj, corrupt };
}

/** INTERCEPT_VALIDATE of these native SQEs on (pid, handle), from the read endpoint: the decoded response. */
function decide(t: ReturnType<typeof setup>, sqes: Uint8Array[], opts: { processId: number; ioRingHandle: bigint }) {
  return decodeInterceptResponse(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, buildRequest(sqes, opts), 48, READER).output);
}

test('A2 at validation reads every entry a submission references, also past the first 64: a corrupted RegBuffers[66] of a 70-buffer ring is blocked', () => {
  // Before: the per-submission read covered entries 0..63 only, so a reference to entry 66 went
  // through unchecked and the kernel wrote through the forged Address (reproduced in the hook test).
  const t = setup();
  try {
    t.driver.engine.setPolicy({ name: 't', checks: { rateLimit: 'off' } });
    const r = ringWithRegisteredBuffers(t, 70);
    const opts = { processId: r.p.pid, ioRingHandle: BigInt(r.ring.handle) };
    const ok = decide(t, [readReg(66), readReg(3), readReg(69)], opts);
    assert.equal(ok.actionName, 'Allow', 'sound far references pass');
    r.corrupt(66);
    const untouched = decide(t, [readReg(65), readReg(69)], opts);
    assert.equal(untouched.actionName, 'Allow', 'a submission that does not reference the forged entry is not refused for it');
    // A header-only request (the hook cannot see this ring's queue) could be followed by any entry:
    // every registered entry is read. Asked before the submission that names entry 66.
    const headerOnly = decide(t, [], opts);
    assert.equal(headerOnly.actionName, 'Block');
    assert.equal(headerOnly.reason, InterceptReason.RegBuffersCorrupted);
    assert.ok(events(t.driver).some((e) => e.type === 'RingQuarantined'), 'a corrupted kernel object is neutralized');
    const res = decide(t, [readReg(2), readReg(66)], opts);
    assert.equal(res.actionName, 'Block', 'and the quarantined ring stays refused');
  } finally { t.done(); }
});

test('a submission naming RegBuffers[66] of a forged 70-entry ring is blocked by its own reference (no header-only read first)', () => {
  const t = setup();
  try {
    t.driver.engine.setPolicy({ name: 't', checks: { rateLimit: 'off' } });
    const r = ringWithRegisteredBuffers(t, 70);
    r.corrupt(66);
    const res = decide(t, [readReg(2), readReg(66)], { processId: r.p.pid, ioRingHandle: BigInt(r.ring.handle) });
    assert.equal(res.actionName, 'Block');
    assert.equal(res.reason, InterceptReason.RegBuffersCorrupted);
  } finally { t.done(); }
});

test('a pool MC entry rewritten to {Address: page-aligned kernel VA, AccessMode: KernelMode} in a user process\'s ring is blocked at validation and found by the poll', () => {
  // Found by the enforcement property test: a KernelMode entry was taken as sound whatever its
  // buffer, and a page-aligned Address keeps Size = 0x20 * (pages + 3) right, so nothing flagged it.
  const t = setup();
  try {
    t.driver.engine.setPolicy({ name: 't', checks: { rateLimit: 'off' } });
    const r = ringWithRegisteredBuffers(t, 4);
    const opts = { processId: r.p.pid, ioRingHandle: BigInt(r.ring.handle) };
    r.corrupt(2, { aligned: true, kernelMode: true });
    const scan = t.driver.scanNow().findings;
    assert.equal(scan.length, 1);
    assert.equal(scan[0]!.entryIndex, 2);
    const res = decide(t, [readReg(2)], opts);
    assert.equal(res.actionName, 'Block');
    assert.equal(res.reason, InterceptReason.RegBuffersCorrupted);
    assert.equal(res.violationFlags & 0x110, 0x110, 'REGBUF_INVALID_STRUCTURE | REGBUF_KERNEL_BUFFER');
  } finally { t.done(); }
});

test('the A2 poll covers registrations past the first 64 entries with a rotating window: RegBuffers[190] of 200 is reported on the poll whose window holds it', () => {
  const t = setup();
  try {
    const r = ringWithRegisteredBuffers(t, 200);
    assert.equal(t.driver.scanNow().findings.length, 0, 'sound');
    r.corrupt(190);
    // Windows past the cap: [64, 128), [128, 192), [192, 200), then [64, ...) again; the first poll
    // after the corruption continues from where the sound one left off.
    const polls: number[] = [];
    for (let i = 0; i < 4; i++) polls.push(t.driver.scanNow().findings.length);
    assert.deepEqual(polls, [1, 0, 0, 0], 'found in the [128, 192) window, and reported once');
    r.corrupt(100);
    const later: number[] = [];
    for (let i = 0; i < 4; i++) later.push(t.driver.scanNow().findings.length);
    assert.equal(later.reduce((a, b) => a + b, 0), 1, 'a second corruption is a new finding within a full rotation');
  } finally { t.done(); }
});

test('POST_SUBMIT: AllowedOperations round-trips, and what was allowed but not consumed stops counting as validated', () => {
  const input = { processId: 7, threadId: 8, operationCount: 5, handleHi: 0, handleLo: 4, status: 0, completions: 2, flags: 0, allowedOperations: 5 };
  assert.deepEqual(decodePostSubmit(encodePostSubmit(input)), input);
  const t = setup();
  try {
    assert.ok(t.driver.engine.setPolicy({ name: 't', checks: { rateLimit: 'off' } }).ok);
    const p = t.kernel.createProcess({ imageName: 'app.exe' });
    const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
    assert.equal(decide(t, [nop(), nop(), nop(), nop(), nop()], { processId: p.pid, ioRingHandle: BigInt(ring!.handle) }).actionName, 'Allow');
    const rec = t.driver.registry.get(p.pid, ring!.handle)!;
    assert.equal(rec.opsValidated, 5);
    const post = (o: Partial<typeof input>) => t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_POST_SUBMIT!, encodePostSubmit({ ...input, processId: p.pid, handleLo: ring!.handle, ...o }), 0, READER).status;
    assert.equal(post({ allowedOperations: 5, completions: 5 }), NtStatus.STATUS_SUCCESS);
    assert.equal(rec.opsValidated, 5, 'all consumed: nothing comes off');
    assert.equal(post({ allowedOperations: 5, completions: 2 }), NtStatus.STATUS_SUCCESS);
    assert.equal(rec.opsValidated, 2, '3 allowed, never run');
    assert.equal(post({ allowedOperations: 0, completions: 0 }), NtStatus.STATUS_SUCCESS);
    assert.equal(rec.opsValidated, 2, 'a submission the driver did not allow takes nothing off');
    assert.equal(post({ allowedOperations: 100, completions: 0 }), NtStatus.STATUS_SUCCESS);
    assert.equal(rec.opsValidated, 0, 'never below zero');
  } finally { t.done(); }
});

test('a kernel bugcheck (exploit without cleanup, no monitor blocking) is recorded as a Bugcheck event', () => {
  const t = setup();
  try {
    runIoRingExploit(t.kernel, { cleanup: false });
    assert.ok(t.kernel.bugchecks.length >= 1);
    assert.ok(events(t.driver).some((e) => e.type === 'Bugcheck'));
  } finally { t.done(); }
});

test('version, capabilities, offsets status and ring stats answer with their documented sizes', () => {
  const t = setup(26100);
  try {
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_GET_VERSION!, new Uint8Array(0), 16, READER).output.byteLength, 16);
    const caps = t.driver.ioctl(Ioctl.IOCTL_MONITOR_GET_CAPABILITIES!, new Uint8Array(0), 4, READER);
    assert.ok((new DataView(caps.output.buffer, caps.output.byteOffset).getUint32(0, true) & 0x4000) !== 0);
    const off = t.driver.ioctl(Ioctl.IOCTL_MONITOR_GET_OFFSET_STATUS!, new Uint8Array(0), 28, READER);
    const odv = new DataView(off.output.buffer, off.output.byteOffset);
    assert.equal(odv.getUint32(4, true), 26100);
    assert.equal(odv.getUint32(20, true), 0xd0);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_RINGBUF_GET_STATS!, new Uint8Array(0), 56, READER).output.byteLength, 56);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_RINGBUF_SNAPSHOT!, new Uint8Array(3), 4096, READER).status, NtStatus.STATUS_INFO_LENGTH_MISMATCH);
  } finally { t.done(); }
});

test('a ring first seen by a validation is announced (IoRingHandleCreated) as a scan would; RINGBUF_CLEAR empties the ring', () => {
  const t = setup();
  try {
    const p = t.kernel.createProcess({ imageName: 'app.exe' });
    const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
    t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, nopRequest(p.pid, ring!.handle), 48, READER);
    assert.equal(events(t.driver).filter((e) => e.type === 'IoRingHandleCreated').length, 1);
    assert.equal(decodeScanOutput(t.driver.ioctl(Ioctl.IOCTL_MONITOR_SCAN_NOW!, new Uint8Array(0), 16, ADMIN).output).newRings, 0, 'not announced twice');
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_RINGBUF_CLEAR!, new Uint8Array(0), 0, READER).status, NtStatus.STATUS_ACCESS_DENIED);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_RINGBUF_CLEAR!, new Uint8Array(0), 0, ADMIN).status, NtStatus.STATUS_SUCCESS);
    assert.equal(events(t.driver).length, 0);
  } finally { t.done(); }
});

test('CLIENT_EVENT records the fallback the hook applied (kind 1 fail-open Allow, kind 3 fail-closed Block); a bad kind is rejected', () => {
  const t = setup();
  try {
    for (const kind of [1, 3] as const) {
      assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_CLIENT_EVENT!, encodeClientEvent({ kind, processId: 7, status: 0xc0000001, text: 'driver gone' }), 0, READER).status, NtStatus.STATUS_SUCCESS);
    }
    const un = events(t.driver).filter((e) => e.type === 'DriverUnreachable');
    assert.deepEqual(un.map((e) => e.type === 'DriverUnreachable' && e.payload.fallbackAction), ['Allow', 'Block']);
    const bad = encodeClientEvent({ kind: 1, processId: 7, status: 0, text: 'x' });
    new DataView(bad.buffer).setUint32(4, 9, true);
    assert.equal(t.driver.ioctl(Ioctl.IOCTL_MONITOR_CLIENT_EVENT!, bad, 0, READER).status, NtStatus.STATUS_INVALID_PARAMETER);
  } finally { t.done(); }
});

test('the ring lookup follows the handle table: a closed ring is unknown at once, a new ring is its own record, another process\'s handle is not ours', () => {
  const t = setup();
  try {
    const p = t.kernel.createProcess({ imageName: 'app.exe' });
    const q = t.kernel.createProcess({ imageName: 'other.exe' });
    const a = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64).ring!;
    const validate = (pid: number, handle: number) => decodeInterceptResponse(t.driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, nopRequest(pid, handle), 48, READER).output);
    for (let i = 0; i < 3; i++) assert.equal(validate(p.pid, a.handle).action, InterceptAction.Allow);
    const recA = t.driver.registry.get(p.pid, a.handle)!;
    assert.equal(recA.objectLo, t.kernel.getIoRing(p.pid, a.handle)!.lo);
    // The same handle value in another process names nothing there.
    assert.equal(validate(q.pid, a.handle).reason, InterceptReason.InvalidHandle);
    CloseIoRing(a);
    assert.equal(validate(p.pid, a.handle).reason, InterceptReason.InvalidHandle, 'a closed ring is not validated against its old object');
    assert.equal(t.driver.registry.get(p.pid, a.handle), undefined);
    const b = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64).ring!;
    assert.equal(validate(p.pid, b.handle).action, InterceptAction.Allow);
    const recB = t.driver.registry.get(p.pid, b.handle)!;
    assert.notEqual(recB, recA);
    assert.equal(recB.objectLo, t.kernel.getIoRing(p.pid, b.handle)!.lo);
    // Large process ids take the string key, with the same behaviour.
    assert.equal(validate(0x7ffffff0, b.handle).reason, InterceptReason.InvalidHandle);
  } finally { t.done(); }
});
