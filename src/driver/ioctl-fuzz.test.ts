// The device's whole binary surface under mutated and random input: every IOCTL (and codes no IOCTL
// has), valid inputs with fields that lie, truncated and extended, random bytes, any output length,
// either endpoint's access. What must hold for each call is what the Standards ask of the binary
// interface: an NTSTATUS, never an exception; METHOD_BUFFERED output limits; write IOCTLs refused
// on the read endpoint. After each sequence the driver must still serve a clean validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import {
  Ioctl, NtStatus, IoRingVersion, FILE_READ_ACCESS, FILE_WRITE_ACCESS, ioctlAccess, decodeInterceptResponse,
} from '../abi/index.js';
import { buildRequest, readRaw, readReg, nop, registerBuffers, bufferInfoArrayExt, regBuffersSnapshotExt, USER_BUF, KERNEL_ADDR } from '../engine/testing.js';
import { EmulatedKernel, CreateIoRing } from '../kernel/index.js';
import { MonitorDriver } from './driver.js';
import { encodePostSubmit, encodeHookNotify, encodeClientEvent } from './payloads.js';
import type { DeviceCaller } from './device.js';

const ADMIN: DeviceCaller = { access: FILE_READ_ACCESS | FILE_WRITE_ACCESS, pid: 0, uid: 0, endpoint: 'admin' };
const READER: DeviceCaller = { access: FILE_READ_ACCESS, pid: 0, uid: 65534, endpoint: 'device' };
const KNOWN_STATUSES = new Set(Object.values(NtStatus).map((s) => s >>> 0));

const u32 = (...vs: number[]): Uint8Array => {
  const b = new Uint8Array(vs.length * 4);
  const dv = new DataView(b.buffer);
  vs.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true));
  return b;
};

/** Well-formed inputs per IOCTL, the seeds the mutations start from. */
function seeds(pid: number, handle: number, policyBinary: Uint8Array): Array<{ code: number; input: Uint8Array }> {
  const I = Ioctl;
  const reqOpts = { processId: pid, ioRingHandle: BigInt(handle) };
  const blAdd = new Uint8Array(68);
  blAdd.set(u32(pid), 0);
  blAdd.set(new TextEncoder().encode('fuzz'), 4);
  return [
    { code: I.IOCTL_MONITOR_INTERCEPT_VALIDATE!, input: buildRequest([readRaw(), nop(), readReg(0)], reqOpts) },
    { code: I.IOCTL_MONITOR_INTERCEPT_VALIDATE!, input: buildRequest([registerBuffers(USER_BUF, 2)], { ...reqOpts, extensions: [bufferInfoArrayExt(0, [{ address: USER_BUF, length: 0x1000 }, { address: KERNEL_ADDR, length: 0x1000 }])] }) },
    { code: I.IOCTL_MONITOR_INTERCEPT_VALIDATE!, input: buildRequest([readReg(1)], { ...reqOpts, extensions: [regBuffersSnapshotExt(USER_BUF, [{ address: USER_BUF, length: 0x1000 }], 1)] }) },
    { code: I.IOCTL_MONITOR_INTERCEPT_SET_POLICY!, input: policyBinary },
    { code: I.IOCTL_MONITOR_INTERCEPT_SET_POLICY!, input: new TextEncoder().encode(JSON.stringify({ name: 'fuzz', auditMode: true, checks: { rateLimit: 'off' } })) },
    { code: I.IOCTL_MONITOR_INTERCEPT_GET_POLICY!, input: u32(1) },
    { code: I.IOCTL_MONITOR_INTERCEPT_ENABLE!, input: u32(1) },
    { code: I.IOCTL_MONITOR_INTERCEPT_ADD_BL!, input: blAdd },
    { code: I.IOCTL_MONITOR_INTERCEPT_REMOVE_BL!, input: u32(pid) },
    { code: I.IOCTL_MONITOR_RINGBUF_SNAPSHOT!, input: u32(1, 0) },
    { code: I.IOCTL_MONITOR_RINGBUF_CONFIGURE!, input: u32(12, 64 * 1024, 0) },
    { code: I.IOCTL_MONITOR_INTERCEPT_POST_SUBMIT!, input: encodePostSubmit({ processId: pid, threadId: 1, operationCount: 3, handleHi: 0, handleLo: handle, status: 0, completions: 3, flags: 0 }) },
    { code: I.IOCTL_MONITOR_HOOK_NOTIFY!, input: encodeHookNotify({ event: 1, targetPid: pid, method: 0, addressHi: 0x7ffa, addressLo: 0x1000 }) },
    { code: I.IOCTL_MONITOR_CLIENT_EVENT!, input: encodeClientEvent({ kind: 1, processId: pid, status: 0xc0000001, text: 'driver unreachable' }) },
    ...Object.values(I).map((code) => ({ code, input: new Uint8Array(0) })),
  ];
}

/** A u32 a lying field might hold. */
const lyingU32 = fc.oneof(fc.constantFrom(0, 1, 2, 4, 8, 16, 32, 40, 48, 64, 68, 88, 0x1000, 0x1001, 4096, 4097, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe), fc.nat(0xffffffff));

type Mutation =
  | { kind: 'asis' }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; extra: Uint8Array }
  | { kind: 'bytes'; edits: Array<[number, number]> }
  | { kind: 'field'; word: number; value: number }
  | { kind: 'random'; bytes: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'asis' }),
  fc.nat(600).map<Mutation>((at) => ({ kind: 'truncate', at })),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map<Mutation>((extra) => ({ kind: 'extend', extra })),
  fc.array(fc.tuple(fc.nat(600), fc.nat(255)), { minLength: 1, maxLength: 6 }).map<Mutation>((edits) => ({ kind: 'bytes', edits })),
  { arbitrary: fc.tuple(fc.nat(150), lyingU32).map<Mutation>(([word, value]) => ({ kind: 'field', word, value })), weight: 3 },
  fc.uint8Array({ maxLength: 700 }).map<Mutation>((bytes) => ({ kind: 'random', bytes })),
);

function mutate(seed: Uint8Array, m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'asis': return seed.slice();
    case 'truncate': return seed.slice(0, m.at % (seed.byteLength + 1));
    case 'extend': { const b = new Uint8Array(seed.byteLength + m.extra.byteLength); b.set(seed); b.set(m.extra, seed.byteLength); return b; }
    case 'bytes': { const b = seed.slice(); for (const [at, v] of m.edits) if (b.byteLength > 0) b[at % b.byteLength] = v; return b; }
    case 'field': { const b = seed.slice(); const words = b.byteLength >>> 2; if (words > 0) new DataView(b.buffer).setUint32((m.word % words) * 4, m.value, true); return b; }
    case 'random': return m.bytes;
  }
}

const outputLength = fc.oneof(fc.constantFrom(0, 1, 4, 16, 47, 48, 151, 152, 255, 256, 4096, 1 << 16, 1 << 20, 0x7fffffff, 0xffffffff), fc.nat(70_000));

const call = fc.record({
  seed: fc.nat(),
  mutation,
  /** Another code in place of the seed's: a near miss (method/access bits changed) or any u32. */
  code: fc.oneof({ arbitrary: fc.constant(-1), weight: 6 }, fc.nat(0xffffffff), fc.nat(3).map((bits) => -2 - bits)),
  outputLength,
  admin: fc.boolean(),
});

test('every IOCTL fed mutated, lying, truncated or random input at any output length answers a known NTSTATUS, never throws, keeps METHOD_BUFFERED limits, refuses writes to the read endpoint, and the driver keeps serving', () => {
  const dir = mkdtempSync(join(tmpdir(), 'win11mon-fuzz-'));
  const kernel = new EmulatedKernel({ build: 22621, dataDir: dir, realFlush: false });
  try {
    const p = kernel.createProcess({ imageName: 'fuzz.exe' });
    const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, 32, 64);
    let runs = 0;
    fc.assert(fc.property(fc.array(call, { minLength: 1, maxLength: 24 }), (calls) => {
      // A driver per sequence: state a sequence builds up (policy, blacklist, ring contents) is its own.
      const driver = new MonitorDriver({ kernel });
      try {
        const all = seeds(p.pid, ring!.handle, driver.engine.getPolicyBinary());
        for (const c of calls) {
          const s = all[c.seed % all.length]!;
          let code = s.code;
          if (c.code >= 0) code = c.code;
          else if (c.code <= -2) code = (s.code ^ (c.code === -2 ? 0x1 : c.code === -3 ? 0x2 : c.code === -4 ? 0x4000 : 0x8000)) >>> 0; // METHOD_* / access bits off by one
          const input = mutate(s.input, c.mutation);
          const caller = c.admin ? ADMIN : READER;
          const versionBefore = driver.engine.policyVersion;
          const r = driver.ioctl(code, input, c.outputLength, caller); // must not throw
          runs++;
          const where = `code 0x${code.toString(16)}, ${input.byteLength}-byte input (${c.mutation.kind}), output length ${c.outputLength}`;
          assert.ok(KNOWN_STATUSES.has(r.status >>> 0), `${where}: unknown status 0x${(r.status >>> 0).toString(16)}`);
          assert.ok(Number.isInteger(r.information) && r.information >= 0, `${where}: information ${r.information}`);
          assert.ok(r.output.byteLength <= c.outputLength, `${where}: ${r.output.byteLength} output bytes for a ${c.outputLength}-byte buffer`);
          if (r.status === NtStatus.STATUS_SUCCESS) assert.equal(r.information, r.output.byteLength, `${where}: information is not the bytes written`);
          if (!c.admin && (ioctlAccess(code) & FILE_WRITE_ACCESS) !== 0) {
            assert.equal(r.status, NtStatus.STATUS_ACCESS_DENIED, `${where}: a write IOCTL on the read endpoint`);
            assert.equal(driver.engine.policyVersion, versionBefore, `${where}: the read endpoint changed the policy`);
          }
        }
        // Still serving: a clean submission on the known ring gets its 48-byte answer.
        assert.ok(driver.engine.setPolicy({ name: 'after-fuzz', checks: { rateLimit: 'off' } }).ok);
        driver.engine.blacklistRemove(p.pid);
        const v = driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, buildRequest([readRaw(), nop()], { processId: p.pid, ioRingHandle: BigInt(ring!.handle) }), 48, READER);
        assert.equal(v.status, NtStatus.STATUS_SUCCESS);
        assert.equal(decodeInterceptResponse(v.output).actionName, 'Allow');
        assert.equal(driver.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_STATS!, new Uint8Array(0), 4096, READER).status, NtStatus.STATUS_SUCCESS);
      } finally {
        driver.close();
      }
    }), { numRuns: Number(process.env.WIN11MON_FUZZ_RUNS ?? 250) }); // WIN11MON_FUZZ_RUNS=20000 for a deeper run
    assert.ok(runs > 1000, `only ${runs} IOCTLs ran`);
  } finally {
    kernel.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
