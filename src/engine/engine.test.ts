import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PolicyEngine, Decision, ViolationFlags as VF, type SubmissionContext } from './index.js';
import { InterceptRequestView } from '../abi/request.js';
import { InterceptAction as A, InterceptReason as R, MON_NO_OP_INDEX } from '../abi/monitor.js';
import { NtStatus } from '../abi/ntstatus.js';
import { IoRingOp } from '../abi/ioring.js';
import { decodeInterceptResponse } from '../abi/response.js';
import { buildRequest, cleanRequest, context, exploitRegBuffers, legitRegBuffers, readRaw, writeRaw, readReg, writeReg, nativeSqe, registerBuffers, bufferInfoArrayExt, regBuffersSnapshotExt, KERNEL_ADDR, USER_BUF } from './testing.js';

function run(engine: PolicyEngine, bytes: Uint8Array, ctx: SubmissionContext = context()): Decision {
  return engine.validate(new InterceptRequestView().reset(bytes), ctx, new Decision());
}

test('INT-T01 clean IoRing submission is allowed', () => {
  const e = new PolicyEngine();
  const d = run(e, buildRequest([readRaw(), writeRaw(), nativeSqe({ op: IoRingOp.NOP }), readReg(1), writeReg(0)]), context({ regBuffers: legitRegBuffers(2) }));
  assert.equal(d.action, A.Allow);
  assert.equal(d.reason, R.None);
  assert.equal(d.violatingOpIndex, MON_NO_OP_INDEX);
  assert.equal(d.technique, '');
  assert.equal(d.policyVersion, 1);
  assert.match(d.policyHash, /^[0-9a-f]{64}$/);
});

test('INT-T02 corrupted RegBuffers (user-mode array pointer as the exploit leaves it) is blocked', () => {
  const e = new PolicyEngine();
  // the exploit's kernel-read primitive: WRITE from registered buffer 0 into a pipe
  const d = run(e, buildRequest([writeReg(0, 0x1000)]), context({ regBuffers: exploitRegBuffers() }));
  assert.equal(d.action, A.Block);
  assert.equal(d.reason, R.RegBuffersCorrupted);
  assert.equal(d.technique, 'T1068');
  assert.ok(d.violationFlags & VF.REGBUF_USERMODE_PTR);
  assert.ok(d.violationFlags & VF.REGBUF_ENTRY_USERMODE);
  assert.ok(d.violationFlags & VF.REGBUF_KERNEL_BUFFER);
  assert.ok(d.violationFlags & VF.REGBUF_COUNT_MISMATCH);
  assert.equal(d.addressLo, 0x01000000);
  // any submission on that ring is blocked, even one that uses no registered buffer
  const d2 = run(e, buildRequest([readRaw()]), context({ regBuffers: exploitRegBuffers() }));
  assert.equal(d2.action, A.Block);
  assert.equal(d2.reason, R.RegBuffersCorrupted);
  // hook-only path: a RegBuffersSnapshot whose entry holds a kernel address (pre-22610 fake array)
  const d3 = run(e, buildRequest([writeReg(0)], { extensions: [regBuffersSnapshotExt(0x1000000n, [{ address: KERNEL_ADDR, length: 0x1000 }])] }));
  assert.equal(d3.action, A.Block);
  assert.equal(d3.reason, R.RegBuffersCorrupted);
  assert.ok(d3.violationFlags & VF.REGBUF_KERNEL_BUFFER);
});

test('INT-T03 kernel address in buffer is blocked', () => {
  const e = new PolicyEngine();
  const d = run(e, buildRequest([readRaw(), readRaw(KERNEL_ADDR, 0x100)]));
  assert.equal(d.action, A.Block);
  assert.equal(d.reason, R.KernelAddressInBuffer);
  assert.equal(d.violatingOpIndex, 1);
  assert.ok(d.violationFlags & VF.BUF_KERNEL);
  assert.equal(d.technique, 'T1068');
  // REGISTER_BUFFERS whose IORING_BUFFER_INFO array holds a kernel address
  const d2 = run(e, buildRequest([registerBuffers(USER_BUF, 2)], { extensions: [bufferInfoArrayExt(0, [{ address: USER_BUF, length: 0x1000 }, { address: KERNEL_ADDR, length: 0x1000 }])] }));
  assert.equal(d2.reason, R.KernelAddressInBuffer);
  assert.equal(d2.entryIndex, 1);
  assert.ok(d2.violationFlags & VF.BUF_ARRAY);
  // wrap-around and non-canonical
  assert.equal(run(e, buildRequest([readRaw(0x00007ffffffff000n - 0x10000n, 0x20000)])).reason, R.KernelAddressInBuffer);
  assert.ok(run(e, buildRequest([readRaw(0x0000900000000000n, 1)])).violationFlags & VF.BUF_NONCANONICAL);
});

test('INT-T04 more than MaxOperationsPerSubmit operations is blocked at the first op beyond the limit', () => {
  const e = new PolicyEngine();
  assert.equal(run(e, cleanRequest(1024)).action, A.Allow);
  const d = run(e, cleanRequest(1025));
  assert.equal(d.action, A.Block);
  assert.equal(d.reason, R.ExcessiveOperations);
  assert.equal(d.violatingOpIndex, 1024);
  assert.equal(d.technique, 'T1499');
});

test('INT-T05 audit mode with a violation allows and logs (LogOnly, wouldHaveBlocked, counted)', () => {
  const e = new PolicyEngine();
  assert.ok(e.setPolicy({ auditMode: true }).ok);
  const d = run(e, buildRequest([readRaw(KERNEL_ADDR)]));
  assert.equal(d.action, A.LogOnly);
  assert.equal(d.reason, R.KernelAddressInBuffer);
  assert.equal(d.wouldHaveBlocked, true);
  assert.equal(d.auditMode, true);
  const clean = run(e, cleanRequest(2));
  assert.equal(clean.action, A.Allow);
  const s = e.statsJSON() as { actions: Record<string, number>; wouldHaveBlocked: number; decisionsByReason: Record<string, number> };
  assert.equal(s.actions.LogOnly, 1);
  assert.equal(s.actions.Block, 0);
  assert.equal(s.wouldHaveBlocked, 1);
  assert.equal(s.decisionsByReason.KernelAddressInBuffer, 1);
  const bin = new DataView(e.encodeStats(152).buffer);
  assert.equal(bin.getUint32(40, true), 1); // TotalLogOnly
  assert.equal(bin.getUint32(32, true), 0); // TotalBlocked
});

test('INT-T06 rate limit exceeded is blocked', () => {
  const e = new PolicyEngine();
  assert.ok(e.setPolicy({ rateLimit: { submissionsPerSecond: 10 } }).ok);
  const req = cleanRequest(1);
  let t = 5e9;
  for (let i = 0; i < 10; i++) assert.equal(run(e, req, context({ nowNs: t })).action, A.Allow, `submission ${i}`);
  const d = run(e, req, context({ nowNs: t }));
  assert.equal(d.action, A.Block);
  assert.equal(d.reason, R.RateLimitExceeded);
  assert.ok(d.violationFlags & VF.RATE_SUBMISSIONS);
  // another process has its own bucket
  assert.equal(run(e, req, context({ nowNs: t, processId: 9 })).action, A.Allow);
  // 100 ms later one token is back
  t += 100e6;
  assert.equal(run(e, req, context({ nowNs: t })).action, A.Allow);
  assert.equal(run(e, req, context({ nowNs: t })).action, A.Block);
  // operations per second
  assert.ok(e.setPolicy({ rateLimit: { submissionsPerSecond: 1000, operationsPerSecond: 100 } }).ok);
  assert.equal(run(e, cleanRequest(60), context({ nowNs: t, processId: 77 })).action, A.Allow);
  const d2 = run(e, cleanRequest(60), context({ nowNs: t, processId: 77 }));
  assert.equal(d2.reason, R.RateLimitExceeded);
  assert.ok(d2.violationFlags & VF.RATE_OPERATIONS);
});

test('INT-T07 blacklisted process is blocked (by pid and by image pattern)', () => {
  const e = new PolicyEngine();
  assert.equal(e.blacklistAdd({ processId: 666, processName: 'evil.exe', reason: 'test' }), NtStatus.STATUS_SUCCESS);
  const d = run(e, cleanRequest(1), context({ processId: 666 }));
  assert.equal(d.action, A.Block);
  assert.equal(d.reason, R.ProcessBlacklisted);
  assert.ok(d.violationFlags & VF.BLACKLIST_PID);
  assert.ok(e.setPolicy({ blacklist: [{ image: 'ioring*.exe', reason: 'PoC' }, { image: '**\\Temp\\*.exe' }] }).ok);
  const d2 = run(e, cleanRequest(1), context({ processId: 5, imageName: 'IoRingReadWritePrimitive.EXE', imagePath: '' }));
  assert.equal(d2.reason, R.ProcessBlacklisted);
  assert.ok(d2.violationFlags & VF.BLACKLIST_IMAGE);
  const d3 = run(e, cleanRequest(1), context({ processId: 6, imageName: 'x.exe', imagePath: 'c:/users/a/appdata/local/temp/x.exe' }));
  assert.equal(d3.reason, R.ProcessBlacklisted);
  assert.equal(run(e, cleanRequest(1), context({ processId: 7 })).action, A.Allow);
  assert.equal(e.blacklistRemove(666), NtStatus.STATUS_SUCCESS);
  assert.equal(run(e, cleanRequest(1), context({ processId: 666 })).action, A.Allow);
});

test('INT-T08 policy hot reload applies to the next submission; an invalid policy is rejected and the old one stays', () => {
  const e = new PolicyEngine();
  const view = new InterceptRequestView();
  const d = new Decision();
  const req = cleanRequest(10);
  e.validate(view.reset(req), context(), d);
  assert.equal(d.action, A.Allow);
  const v1 = { version: d.policyVersion, hash: d.policyHash };
  const r = e.setPolicy('limits:\n  maxOperationsPerSubmit: 5\n', 'p.yaml');
  assert.ok(r.ok);
  assert.equal(r.version, v1.version + 1);
  e.validate(view.reset(req), context(), d);
  assert.equal(d.action, A.Block);
  assert.equal(d.reason, R.ExcessiveOperations);
  assert.equal(d.policyVersion, r.version);
  assert.equal(d.policyHash, r.hash);
  assert.notEqual(d.policyHash, v1.hash);
  const bad = e.setPolicy('limits:\n  maxOperationsPerSubmit: -3\nchecks:\n  regBuffers: maybe\n', 'bad.yaml');
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.deepEqual(bad.issues.map((i) => [i.file, i.line, i.path]), [['bad.yaml', 2, 'limits.maxOperationsPerSubmit'], ['bad.yaml', 4, 'checks.regBuffers']]);
  }
  e.validate(view.reset(req), context(), d);
  assert.equal(d.reason, R.ExcessiveOperations);
  assert.equal(d.policyVersion, r.version);
  // binary MON_INTERCEPT_POLICY round trip keeps the rest of the document
  e.setPolicy({ blacklist: [{ pid: 31337 }], limits: { maxOperationsPerSubmit: 5 } });
  const bin = e.getPolicyBinary();
  new DataView(bin.buffer).setUint32(12, 100, true);
  const rb = e.setPolicyBinary(bin);
  assert.ok(rb.ok);
  assert.equal(e.getPolicy().policy.limits.maxOperationsPerSubmit, 100);
  assert.deepEqual(e.getPolicy().policy.blacklist, [{ pid: 31337, reason: '' }]);
  e.validate(view.reset(req), context(), d);
  assert.equal(d.action, A.Allow);
});

test('PolicyDisabled allows without checking; InvalidHandle blocks', () => {
  const e = new PolicyEngine();
  assert.equal(run(e, cleanRequest(1), context({ handleKnown: false })).reason, R.InvalidHandle);
  e.setEnabled(false);
  const d = run(e, buildRequest([readRaw(KERNEL_ADDR)]), context({ handleKnown: false }));
  assert.equal(d.action, A.Allow);
  assert.equal(d.reason, R.PolicyDisabled);
});

test('log-only check records and continues; a later blocking check still decides', () => {
  const e = new PolicyEngine();
  e.setPolicy({ checks: { opcodes: 'log' } });
  const d = run(e, buildRequest([nativeSqe({ op: 42 }), readRaw()]));
  assert.equal(d.action, A.LogOnly);
  assert.equal(d.reason, R.SuspiciousOpCode);
  assert.equal(d.wouldHaveBlocked, false);
  const d2 = run(e, buildRequest([nativeSqe({ op: 42 }), readRaw(KERNEL_ADDR)]));
  assert.equal(d2.action, A.Block);
  assert.equal(d2.reason, R.KernelAddressInBuffer);
  assert.equal(d2.violatingOpIndex, 1);
  assert.equal(d2.violationCount, 2);
});

test('entries after a REGISTER_BUFFERS in the same submission name what it registers (the kernel runs them in order)', () => {
  const e = new PolicyEngine();
  const ctx = context({ regBuffers: legitRegBuffers(0) }); // nothing registered yet
  const reg = registerBuffers(USER_BUF, 2);
  const ext = bufferInfoArrayExt(0, [{ address: USER_BUF, length: 0x1000 }, { address: USER_BUF + 0x10000n, length: 0x800 }]);
  // Register two buffers, then read into the second: what an application does in one NtSubmitIoRing.
  assert.equal(run(e, buildRequest([reg, readReg(1, 0x800)], { extensions: [ext] }), ctx).action, A.Allow);
  // Within the new registration only: index 2 is past it, and 0x801 bytes past the second's 0x800.
  let d = run(e, buildRequest([reg, readReg(2, 0x10)], { extensions: [ext] }), ctx);
  assert.equal(d.reason, R.RegBuffersCorrupted);
  assert.equal(d.violationFlags, VF.REGBUF_INDEX_OUT_OF_RANGE);
  d = run(e, buildRequest([reg, readReg(1, 0x801)], { extensions: [ext] }), ctx);
  assert.equal(d.violationFlags, VF.REGBUF_OFFSET_OUT_OF_RANGE);
  // Before the registration the ring's current state applies.
  d = run(e, buildRequest([readReg(0, 0x10), reg], { extensions: [bufferInfoArrayExt(1, [{ address: USER_BUF, length: 0x1000 }, { address: USER_BUF, length: 0x1000 }])] }), ctx);
  assert.equal(d.violatingOpIndex, 0);
  assert.equal(d.violationFlags, VF.REGBUF_INDEX_OUT_OF_RANGE);
  // Without the array (too large to carry), the count alone bounds the index; the kernel checks lengths.
  assert.equal(run(e, buildRequest([reg, readReg(1, 0x10000)]), ctx).action, A.Allow);
  assert.equal(run(e, buildRequest([reg, readReg(2, 0x10)]), ctx).action, A.Block);
  // An extension whose Count lies (0x7fffffff for 2 entries) reads only what its length holds and is refused as malformed.
  const lying = buildRequest([reg, readReg(1, 0x10)], { extensions: [ext] });
  new DataView(lying.buffer, lying.byteOffset).setUint32(32 + 2 * 88 + 8 + 4, 0x7fffffff, true);
  d = run(e, lying, ctx);
  assert.equal(d.action, A.Block);
  assert.equal(d.reason, R.MalformedRequest);
  // A registration of a kernel buffer is still refused by its array check.
  d = run(e, buildRequest([reg, readReg(1, 0x10)], { extensions: [bufferInfoArrayExt(0, [{ address: USER_BUF, length: 0x1000 }, { address: KERNEL_ADDR, length: 0x1000 }])] }), ctx);
  assert.equal(d.action, A.Block);
  assert.equal(d.reason, R.KernelAddressInBuffer);
});

test('per-image override: audit mode for one image only', () => {
  const e = new PolicyEngine();
  assert.ok(e.setPolicy({ overrides: [{ match: { image: 'trusted*.exe' }, auditMode: true }] }).ok);
  assert.equal(run(e, buildRequest([readRaw(KERNEL_ADDR)]), context({ imageName: 'TrustedTool.exe' })).action, A.LogOnly);
  assert.equal(run(e, buildRequest([readRaw(KERNEL_ADDR)]), context({ processId: 2, imageName: 'other.exe' })).action, A.Block);
});

test('explain() lists every violation in check order without taking tokens', () => {
  const e = new PolicyEngine();
  e.setPolicy({ rateLimit: { submissionsPerSecond: 1 } });
  const view = new InterceptRequestView().reset(buildRequest([nativeSqe({ op: 42 }), readRaw(KERNEL_ADDR), readReg(9)]));
  const ctx = context({ regBuffers: exploitRegBuffers() });
  const v = e.explain(view, ctx);
  assert.deepEqual(v.map((x) => x.reasonName), ['RegBuffersCorrupted', 'SuspiciousOpCode', 'KernelAddressInBuffer', 'RegBuffersCorrupted']);
  assert.equal(v[3]!.operationIndex, 2);
  assert.ok(v.every((x) => x.message.length > 0));
  e.explain(view, ctx);
  assert.equal(run(e, cleanRequest(1)).action, A.Allow); // the single token was not taken by explain
});

test('MonInterceptValidateSubmission: malformed bytes give Block/MalformedRequest with the error status', () => {
  let t = 0;
  const e = new PolicyEngine({ clock: () => (t += 1500) });
  const req = cleanRequest(2);
  new DataView(req.buffer).setUint32(4, 9, true);
  const r = e.MonInterceptValidateSubmission(req, context());
  assert.equal(r.status, NtStatus.STATUS_REVISION_MISMATCH);
  assert.equal(r.decision.action, A.Block);
  assert.equal(r.decision.reason, R.MalformedRequest);
  assert.equal(r.error?.code, 'WIN11MON_ERR_BAD_VERSION');
  const ok = e.MonInterceptValidateSubmission(buildRequest([readRaw(KERNEL_ADDR)]), context());
  assert.equal(ok.status, NtStatus.STATUS_ACCESS_DENIED);
  const resp = decodeInterceptResponse(ok.responseBytes);
  assert.equal(resp.reasonName, 'KernelAddressInBuffer');
  assert.equal(resp.mitreTechnique, 'T1068');
  assert.equal(resp.validationTimeNs, 1500);
  assert.match(ok.explanation, /^Block: SQE 0: buffer 0xfffff80012345000/);
  const stats = new DataView(e.encodeStats(152).buffer);
  assert.equal(stats.getUint32(8, true), 2);
  assert.equal(stats.getUint32(112, true), 1); // BlockedMalformed
  assert.equal(stats.getUint32(56, true), 1); // BlockedKernelAddress
});

test('stats payload: 152 bytes for small buffers, extension with histogram and top talkers otherwise', () => {
  const e = new PolicyEngine();
  for (let i = 0; i < 5; i++) run(e, cleanRequest(3), context({ processId: 100 + (i % 2) }));
  e.recordLatency(1000);
  e.recordLatency(3000);
  assert.equal(e.encodeStats(200).byteLength, 152);
  const full = e.encodeStats();
  const dv = new DataView(full.buffer);
  assert.equal(dv.getUint32(152, true), 0x5854534d);
  assert.equal(dv.getUint32(164, true), 2); // top talkers
  assert.equal(dv.getUint32(168, true), 2); // latency samples
  assert.equal(dv.getUint32(312 + 9 * 8, true), 1); // 1000 ns -> bucket 9
  assert.equal(dv.getUint32(312 + 11 * 8, true), 1); // 3000 ns -> bucket 11
  assert.equal(dv.getUint32(568, true), 100); // busiest process first
  assert.equal(dv.getUint32(568 + 8, true), 3);
  assert.throws(() => e.encodeStats(100), /needs 152/);
});

test('blacklist table holds at most 64 pids and encodes MON_BLACKLIST_ENTRY', async () => {
  const { decodeBlacklist } = await import('./index.js');
  const e = new PolicyEngine();
  for (let i = 1; i <= 64; i++) assert.equal(e.blacklistAdd({ processId: i, processName: `p${i}.exe`, reason: 'r', addedTime: 133000000000000000n }), NtStatus.STATUS_SUCCESS);
  assert.equal(e.blacklistAdd({ processId: 65 }), NtStatus.STATUS_INSUFFICIENT_RESOURCES);
  assert.equal(e.blacklistAdd({ processId: 3, reason: 'updated' }), NtStatus.STATUS_SUCCESS);
  assert.equal(e.blacklistRemove(999), NtStatus.STATUS_NOT_FOUND);
  const bytes = e.encodeBlacklist();
  assert.equal(bytes.byteLength, 64 * 208);
  const list = decodeBlacklist(bytes);
  assert.equal(list[0]!.processName, 'p1.exe');
  assert.equal(list[0]!.addedTime, 133000000000000000n);
  assert.equal(list.find((x) => x.processId === 3)!.reason, 'updated');
});

test('the per-process table stays bounded', () => {
  const e = new PolicyEngine();
  e.setPolicy({ rateLimit: { maxTrackedProcesses: 8, idleSeconds: 1 } });
  for (let pid = 1; pid <= 100; pid++) run(e, cleanRequest(1), context({ processId: pid, nowNs: pid * 1e8 }));
  const s = e.statsJSON() as { trackedProcesses: number };
  assert.ok(s.trackedProcesses <= 8);
});

// ---- properties (seeded) ------------------------------------------------------------------------

const userAddr = fc.bigInt({ min: 0x10000n, max: 0x00007fff00000000n });
const anyAddr = fc.oneof(userAddr, fc.bigInt({ min: 0xffff800000000000n, max: 0xffffffffffffffffn }), fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }));
const sqeArb = fc.record({
  op: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 0xffffffff })),
  sqeFlags: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffffffff })),
  commonFlags: fc.oneof(fc.constant(0), fc.constant(2), fc.integer({ min: 0, max: 0xffffffff })),
  buffer: anyAddr,
  length: fc.integer({ min: 0, max: 0xffffffff }),
  count: fc.integer({ min: 0, max: 64 }),
  regIndex: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
}).map((r) => nativeSqe(r));
const regArb = fc.option(fc.constantFrom(legitRegBuffers(4), exploitRegBuffers(), legitRegBuffers(0)), { nil: null });

test('property: random valid submissions never crash and always give a defined decision', () => {
  const e = new PolicyEngine();
  fc.assert(fc.property(fc.array(sqeArb, { minLength: 0, maxLength: 20 }), regArb, fc.boolean(), (sqes, reg, known) => {
    const d = run(e, buildRequest(sqes), context({ regBuffers: reg, handleKnown: known }));
    assert.ok(d.action === A.Allow || d.action === A.Block || d.action === A.LogOnly);
    assert.ok(d.reason >= 0 && d.reason <= 11);
    assert.notEqual(d.reason, R.ValidationError);
  }), { seed: 20251130, numRuns: 400 });
});

test('property: with BlockKernelAddresses on and audit off, no submission with a kernel buffer address is allowed', () => {
  const e = new PolicyEngine();
  e.setPolicy({ checks: { opcodes: 'off', rateLimit: 'off', bufferSize: 'off' } });
  const kernel = fc.bigInt({ min: 0xffff800000000000n, max: 0xffffffffffffffffn });
  fc.assert(fc.property(fc.array(sqeArb, { maxLength: 8 }), kernel, fc.integer({ min: 0, max: 8 }), fc.constantFrom(IoRingOp.READ, IoRingOp.WRITE, IoRingOp.REGISTER_BUFFERS, IoRingOp.READ_SCATTER, IoRingOp.WRITE_GATHER, 99), fc.integer({ min: 0, max: 0xffff }), (sqes, k, pos, op, length) => {
    const bad = nativeSqe({ op, buffer: k, length, count: 1 });
    const all = [...sqes];
    all.splice(Math.min(pos, all.length), 0, bad);
    const d = run(e, buildRequest(all));
    assert.equal(d.action, A.Block);
  }), { seed: 42, numRuns: 400 });
});

test('property: audit mode never blocks', () => {
  const e = new PolicyEngine();
  e.setPolicy({ auditMode: true, rateLimit: { submissionsPerSecond: 1 } });
  fc.assert(fc.property(fc.array(sqeArb, { maxLength: 12 }), regArb, fc.boolean(), fc.uint8Array({ maxLength: 300 }), (sqes, reg, known, junk) => {
    assert.notEqual(run(e, buildRequest(sqes), context({ regBuffers: reg, handleKnown: known })).action, A.Block);
    assert.notEqual(e.MonInterceptValidateSubmission(junk, context()).decision.action, A.Block);
  }), { seed: 7, numRuns: 300 });
});

test('property: random and mutated bytes into MonInterceptValidateSubmission never throw', () => {
  const e = new PolicyEngine();
  const base = buildRequest([readRaw(), registerBuffers(USER_BUF, 1)], { extensions: [bufferInfoArrayExt(1, [{ address: USER_BUF, length: 16 }]), regBuffersSnapshotExt(USER_BUF, [{ address: USER_BUF, length: 16 }])] });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.tuple(fc.nat(base.byteLength - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), (junk, muts) => {
    const r1 = e.MonInterceptValidateSubmission(junk, context());
    assert.equal(typeof r1.status, 'number');
    const m = base.slice();
    for (const [i, b] of muts) m[i] = b;
    const r2 = e.MonInterceptValidateSubmission(m, context());
    assert.ok(r2.decision.action >= 0 && r2.decision.action <= 2);
    assert.equal(r2.responseBytes.byteLength, 48);
  }), { seed: 1337, numRuns: 500 });
});
