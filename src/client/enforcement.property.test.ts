// The product's central claim as a property: whatever an attacker with arbitrary kernel writes does
// to a ring's registered-buffer state (the IORING_OBJECT fields, the pool array's slots, the MC
// entries, forged arrays and entries in its own memory), and whatever READ/WRITE entries it then
// submits through the hooked NtSubmitIoRing, the kernel never moves a byte to or from kernel space.
// The same cases run without the hook too, to show the generator really produces kernel reads and
// writes (a property no case could break would prove nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { IoRingVersion, IOP_MC_BUFFER_ENTRY_TYPE } from '../abi/index.js';
import { expectedMcEntrySize } from '../engine/checks/regbuffers.js';
import {
  EmulatedKernel, CreateIoRing, BuildIoRingRegisterBuffers, BuildIoRingReadFile, BuildIoRingWriteFile, BuildIoRingNop, SubmitIoRing, INFINITE,
  openFile, Access, FileDisposition, IoRingHandleRefFromHandle, IoRingBufferRefFromIndexAndOffset, IoRingBufferRefFromPointer, popCompletionFast, McEntryOff,
} from '../kernel/index.js';
import { MonitorDriver } from '../driver/driver.js';
import { installIntercept } from './intercept.js';

const KERNEL_HI = 0xffff8000; // addresses at or above 0xFFFF800000000000 are kernel space

/** What the attacker writes: into the ring object, the pool array, a legitimate MC entry, or forged user memory. */
type Write =
  | { kind: 'array-to-forged'; count: number }
  | { kind: 'array-to-kernel'; slotShift: number }
  | { kind: 'count'; count: number }
  | { kind: 'slot'; slot: number; to: 'forged' | 'kernel' | 'other-entry' }
  | { kind: 'entry-field'; slot: number; field: 'Address' | 'AccessMode' | 'Length' | 'Size'; kernelValue: boolean };

/** A forged entry in the attacker's memory (MC format: an IOP_MC_BUFFER_ENTRY; flat: IORING_BUFFER_INFO). */
interface Forged { kernelTarget: boolean; accessMode: 0 | 1; plausible: boolean; length: number }

/** 'register': REGISTER_BUFFERS of two buffers (the second a kernel address when rawKernel), which later entries then name. */
interface Sqe { op: 'read' | 'write' | 'nop' | 'register'; registered: boolean; index: number; offset: number; length: number; rawKernel: boolean }

/**
 * `focus` is the entry index the writes and the entries mostly aim at (slot/index -1 = the focus);
 * `alignedTarget` aims forged buffers at the start of a kernel page (a page-aligned Address keeps a
 * rewritten pool entry's Size plausible), else at the IORING_OBJECT itself. `lateHook`: the hook is
 * installed after the ring was created and registered, so it does not know the ring's queue (the
 * driver is asked about the ring object alone, header-only).
 */
interface Case { alignedTarget: boolean; lateHook: boolean; build: number; registered: number; focus: number; forged: Forged[]; writes: Write[]; sqes: Sqe[] }

const forgedArb: fc.Arbitrary<Forged> = fc.record({
  kernelTarget: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, fc.constant(false)), accessMode: fc.constantFrom<0 | 1>(0, 1), plausible: fc.boolean(), length: fc.constantFrom(0x100, 0x1000, 0x10000),
});
const writeArb: fc.Arbitrary<Write> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('array-to-forged' as const), count: fc.oneof(fc.nat(6), { arbitrary: fc.constant(-1), weight: 3 }) }), weight: 2 },
  fc.record({ kind: fc.constant('array-to-kernel' as const), slotShift: fc.nat(3) }),
  fc.record({ kind: fc.constant('count' as const), count: fc.oneof(fc.nat(80), fc.constant(-1), fc.constant(0x20000)) }), // -1: focus + 1
  fc.record({ kind: fc.constant('slot' as const), slot: fc.oneof({ arbitrary: fc.constant(-1), weight: 3 }, fc.nat(75)), to: fc.constantFrom('forged' as const, 'kernel' as const, 'other-entry' as const) }),
  fc.record({ kind: fc.constant('entry-field' as const), slot: fc.oneof({ arbitrary: fc.constant(-1), weight: 3 }, fc.nat(75)), field: fc.constantFrom('Address' as const, 'AccessMode' as const, 'Length' as const, 'Size' as const), kernelValue: fc.boolean() }),
);
const sqeArb: fc.Arbitrary<Sqe> = fc.record({
  op: fc.oneof({ arbitrary: fc.constantFrom('read' as const, 'write' as const), weight: 6 }, fc.constant('nop' as const), fc.constant('register' as const)),
  registered: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, fc.constant(false)), index: fc.oneof({ arbitrary: fc.constant(-1), weight: 3 }, fc.nat(76)),
  offset: fc.constantFrom(0, 0x10, 0x800), length: fc.constantFrom(8, 0x100, 0x1000), rawKernel: fc.boolean(),
});
const randomCase: fc.Arbitrary<Case> = fc.record({
  alignedTarget: fc.boolean(),
  lateHook: fc.boolean(),
  build: fc.constantFrom(22621, 26100, 22000),
  registered: fc.constantFrom(0, 1, 4, 70),
  focus: fc.oneof(fc.nat(5), fc.integer({ min: 60, max: 72 })),
  forged: fc.array(forgedArb, { minLength: 1, maxLength: 8 }),
  writes: fc.array(writeArb, { minLength: 1, maxLength: 3 }),
  sqes: fc.array(sqeArb, { minLength: 1, maxLength: 6 }),
});

/**
 * The known shapes, varied: a forged array whose entry at the focus aims at kernel memory (the public
 * exploit), or a legitimate pool entry rewritten in place (Address, then maybe AccessMode, Length, Size),
 * each followed by up to two random writes, and an entry that references the focus.
 */
const shapedCase: fc.Arbitrary<Case> = fc.tuple(randomCase, fc.boolean(), fc.array(writeArb, { maxLength: 2 }), fc.constantFrom<Write['kind']>('array-to-forged', 'entry-field'),
  fc.constantFrom('AccessMode' as const, 'Length' as const, 'Size' as const)).map(([c, last, extra, shape, field]) => {
  const forged = [...c.forged];
  forged[forged.length - 1] = { kernelTarget: true, accessMode: 1, plausible: true, length: 0x1000 };
  const first: Write[] = shape === 'array-to-forged'
    ? [{ kind: 'array-to-forged', count: -1 }]
    : [{ kind: 'entry-field', slot: -1, field: 'Address', kernelValue: true }, { kind: 'entry-field', slot: -1, field, kernelValue: true }];
  const sqe: Sqe = { op: 'read', registered: true, index: -1, offset: 0, length: 8, rawKernel: false };
  return { ...c, registered: shape === 'entry-field' ? 70 : c.registered, forged, writes: last ? [...extra, ...first] : [...first, ...extra], sqes: [...c.sqes, sqe] };
});
const caseArb: fc.Arbitrary<Case> = fc.oneof({ arbitrary: randomCase, weight: 2 }, shapedCase);

/**
 * Runs one case; returns how many transfers touched kernel space, and, unhooked, how many A2
 * findings the driver's polls reported between the attacker's writes and the submission (a poll
 * runs once after the legitimate registration, as the service's timer would, and then as many
 * times as a full rotation of its window over the entries takes).
 */
function runCase(c: Case, hooked: boolean, audit = false): { kernelTransfers: number; findings: number; action: string; reason: string; wouldHaveBlocked: number } {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-enf-'));
  const kernel = new EmulatedKernel({ build: c.build, dataDir: dir, realFlush: false });
  const driver = new MonitorDriver({ kernel });
  try {
    assert.ok(driver.engine.setPolicy({ name: 'property', auditMode: audit, checks: { rateLimit: 'off' } }).ok);
    const mc = kernel.offsets.regBuffersFormat === 'mc-entry-pointers';
    const canWrite = kernel.capabilities.maxVersion >= IoRingVersion.V3;
    let kernelTransfers = 0;
    const engine = kernel.engine as unknown as { transfer: (...a: unknown[]) => number };
    const transfer = engine.transfer.bind(engine);
    engine.transfer = (view, f, write, hi, lo, length, ...rest) => {
      if ((hi as number) >>> 0 >= KERNEL_HI && (length as number) > 0) kernelTransfers++;
      return transfer(view, f, write, hi, lo, length, ...rest);
    };
    const p = kernel.createProcess({ imageName: 'attacker.exe' });
    let hook: ReturnType<typeof installIntercept> | undefined;
    if (hooked && !c.lateHook) hook = installIntercept(p, { device: driver });
    const { ring } = CreateIoRing(p, Math.min(IoRingVersion.V3, kernel.capabilities.maxVersion), { required: 0, advisory: 0 }, 64, 128);
    writeFileSync(join(dir, 'f.dat'), Buffer.alloc(0x20000, 0x41));
    const file = IoRingHandleRefFromHandle(openFile(p, 'f.dat', Access.FILE_GENERIC_READ | Access.FILE_GENERIC_WRITE, FileDisposition.FILE_OPEN).handle);
    const cqe = { userDataLo: 0, resultCode: 0, information: 0 };
    const userBuf = p.virtualAlloc(0x20000);
    if (c.registered > 0) {
      const info = p.virtualAlloc(c.registered * 16);
      for (let i = 0; i < c.registered; i++) { p.writeU64(info + BigInt(i * 16), userBuf + BigInt((i % 16) * 0x1000)); p.writeU32(info + BigInt(i * 16 + 8), 0x1000); }
      BuildIoRingRegisterBuffers(ring!, c.registered, info, 1);
      SubmitIoRing(ring!, 1, INFINITE);
      while (popCompletionFast(ring!, cqe)) { /* registration */ }
      // One legitimate registered read: the driver learns the registration as sound.
      BuildIoRingReadFile(ring!, file, IoRingBufferRefFromIndexAndOffset(0, 0), 8, 0, 9);
      SubmitIoRing(ring!, 1, INFINITE);
      while (popCompletionFast(ring!, cqe)) { /* drain */ }
    }
    if (hooked && c.lateHook) hook = installIntercept(p, { device: driver });
    if (!hooked) driver.scanNow();
    const obj = kernel.getIoRingObjectAddress(p.pid, ring!.handle)!;
    const off = kernel.offsets.off;
    const kernelTarget = c.alignedTarget ? obj & ~0xfffn : obj;
    // The attacker's own memory: a forged array and forged entries.
    const forgedArray = p.virtualAlloc(0x1000);
    const forgedEntries = p.virtualAlloc(0x1000);
    c.forged.forEach((f, i) => {
      const target = f.kernelTarget ? kernelTarget : userBuf;
      if (mc) {
        const e = forgedEntries + BigInt(i * 0x80);
        p.memory.writeU16(Number(e >> 32n), Number(e & 0xffffffffn) + McEntryOff.Type, f.plausible ? IOP_MC_BUFFER_ENTRY_TYPE : 0x4d43);
        p.writeU32(e + BigInt(McEntryOff.Size), f.plausible ? expectedMcEntrySize(Number(target & 0xffffffffn), f.length) : 0x80);
        p.writeU32(e + BigInt(McEntryOff.ReferenceCount), 1);
        p.writeU64(e + BigInt(McEntryOff.Address), target);
        p.writeU32(e + BigInt(McEntryOff.Length), f.length);
        p.memory.writeU8(Number(e >> 32n), Number(e & 0xffffffffn) + McEntryOff.AccessMode, f.accessMode);
        p.writeU64(forgedArray + BigInt(i * 8), e);
      } else {
        p.writeU64(forgedArray + BigInt(i * 16), target);
        p.writeU32(forgedArray + BigInt(i * 16 + 8), f.length);
      }
    });
    const write = (at: bigint, bytes: Uint8Array): void => { kernel.vulnerableDriver.writeWhatWhere(p, at, bytes); };
    const u64 = (v: bigint): Uint8Array => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); return b; };
    const u32 = (v: number): Uint8Array => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return b; };
    const array = (): bigint => kernel.memory.readU64(obj + BigInt(off.RegBuffers));
    const stride = mc ? 8 : 16;
    const at = (i: number): number => (i < 0 ? c.focus : i);
    for (const w of c.writes) {
      const arr = array();
      const live = arr !== 0n && arr >= 0xffff800000000000n; // the legitimate pool array (or a kernel one the attacker set)
      switch (w.kind) {
        case 'array-to-forged': write(obj + BigInt(off.RegBuffers), u64(forgedArray - BigInt(Math.max(0, c.focus - c.forged.length + 1) * stride))); write(obj + BigInt(off.RegBuffersCount), u32(w.count < 0 ? c.focus + 1 : w.count)); break;
        case 'array-to-kernel': write(obj + BigInt(off.RegBuffers), u64(live ? arr + BigInt(w.slotShift * stride) : obj)); break;
        case 'count': write(obj + BigInt(off.RegBuffersCount), u32(w.count < 0 ? c.focus + 1 : w.count)); break;
        case 'slot': {
          const k = at(w.slot);
          if (!live || !mc || k >= c.registered) break;
          const slot = arr + BigInt(k * 8);
          const other = kernel.memory.readU64(arr + BigInt(((k + 1) % c.registered) * 8));
          write(slot, u64(w.to === 'forged' ? forgedEntries : w.to === 'kernel' ? obj : other));
          break;
        }
        case 'entry-field': {
          const k = at(w.slot);
          if (!live || k >= c.registered) break;
          const entry = mc ? kernel.memory.readU64(arr + BigInt(k * 8)) : arr + BigInt(k * 16);
          const field = (o: number): bigint => entry + BigInt(o);
          if (w.field === 'Address') write(field(mc ? McEntryOff.Address : 0), u64(w.kernelValue ? kernelTarget : userBuf + 0x10000n));
          else if (w.field === 'Length') write(field(mc ? McEntryOff.Length : 8), u32(w.kernelValue ? 0x100000 : 0x2000));
          else if (w.field === 'AccessMode' && mc) write(field(McEntryOff.AccessMode), new Uint8Array([w.kernelValue ? 0 : 1]));
          else if (w.field === 'Size' && mc) write(field(McEntryOff.Size), u32(0x80));
          break;
        }
      }
    }
    let ud = 100;
    for (const s of c.sqes) {
      const buf = s.registered ? IoRingBufferRefFromIndexAndOffset(at(s.index), s.offset) : IoRingBufferRefFromPointer(s.rawKernel ? kernelTarget : userBuf);
      if (s.op === 'register') {
        const info = p.virtualAlloc(0x1000);
        p.writeU64(info, userBuf); p.writeU32(info + 8n, 0x1000);
        p.writeU64(info + 16n, s.rawKernel ? kernelTarget : userBuf + 0x1000n); p.writeU32(info + 24n, 0x1000);
        BuildIoRingRegisterBuffers(ring!, 2, info, ud++);
      } else if (s.op === 'nop') BuildIoRingNop(ring!, ud++);
      else if (s.op === 'write' && canWrite) BuildIoRingWriteFile(ring!, file, buf, s.length, 0, 0, ud++);
      else BuildIoRingReadFile(ring!, file, buf, s.length, 0, ud++);
    }
    let findings = 0;
    if (!hooked) {
      const count = kernel.memory.readU64(obj + BigInt(off.RegBuffersCount)) & 0xffffffffn;
      const polls = count > 0x10000n ? 1 : 1 + Math.ceil(Math.max(0, Number(count) - 64) / 64); // a rotation of the window
      for (let i = 0; i < polls; i++) findings += driver.scanNow().findings.length;
    }
    const before = driver.engine.stats.wouldHaveBlocked;
    SubmitIoRing(ring!, 0, 0); // hooked: through the hook; a Block leaves the entries unexecuted
    const v = hook?.last.verdict;
    return { kernelTransfers, findings, action: v?.action ?? '', reason: v?.reason ?? '', wouldHaveBlocked: driver.engine.stats.wouldHaveBlocked - before };
  } finally {
    driver.close();
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('enforcing, no forged registered-buffer state and no submitted entries make the kernel read or write kernel memory; unhooked, the same cases often do, and the A2 polls before the submission reported each of them', () => {
  let exploitable = 0;
  let cases = 0;
  fc.assert(fc.property(caseArb, (c) => {
    cases++;
    const plain = runCase(c, false);
    if (plain.kernelTransfers > 0) {
      exploitable++;
      assert.ok(plain.findings > 0, 'without the hook the kernel touched kernel memory, but no A2 poll before it reported the state');
    }
    assert.equal(runCase(c, true).kernelTransfers, 0, 'a kernel-space transfer passed the hook');
  }), { numRuns: Number(process.env.WIN11MON_FUZZ_RUNS ?? 200) });
  // The generator must really produce the primitive, or the property above holds vacuously.
  // About a fifth of the cases reach kernel memory unhooked; a sixteenth keeps this check clear of chance.
  assert.ok(exploitable >= cases / 16, `only ${exploitable} of ${cases} cases reached kernel memory without the hook`);
});

test('audit mode: the attack submission enforce mode blocks is allowed and logged LogOnly with the same reason and wouldHaveBlocked; one it allows is allowed alike', () => {
  let blockedCases = 0;
  fc.assert(fc.property(caseArb, (c) => {
    const enforce = runCase(c, true);
    const audit = runCase(c, true, true);
    if (enforce.action === 'Block') {
      blockedCases++;
      assert.equal(audit.action, 'LogOnly');
      assert.equal(audit.reason, enforce.reason);
      assert.equal(audit.wouldHaveBlocked, 1);
    } else {
      assert.equal(audit.action, enforce.action);
      assert.equal(audit.wouldHaveBlocked, 0);
    }
  }), { numRuns: Number(process.env.WIN11MON_FUZZ_RUNS ?? 100) });
  assert.ok(blockedCases > 0);
});
