// What the hook validates is what the kernel runs: across many submissions on small queues (so Head
// and Tail wrap around the ring many times), with completions sometimes left unread (a full CQ makes
// the kernel stop early and leave entries queued for the next call) and with tails that lie, every
// entry the kernel executes in a call is one the hook validated in that same call, in the same
// order — a prefix of what it validated — and a lying tail executes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { IoRingVersion, NtStatus } from '../abi/index.js';
import { EmulatedKernel, CreateIoRing, BuildIoRingNop, SubmitIoRing, popCompletionFast } from '../kernel/index.js';
import { MonitorDriver } from '../driver/driver.js';
import { installIntercept } from './intercept.js';

type Step = { kind: 'submit'; entries: number; drain: boolean } | { kind: 'lie'; by: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('submit' as const), entries: fc.nat(20), drain: fc.boolean() }), weight: 8 },
  fc.record({ kind: fc.constant('lie' as const), by: fc.integer({ min: 1, max: 1000 }) }),
);

test('validated = executed: each call runs a prefix of the entries the hook validated in it, across queue wrap-arounds, full completion queues and lying tails', () => {
  fc.assert(fc.property(fc.constantFrom(4, 8, 16), fc.array(step, { minLength: 1, maxLength: 60 }), (sqSize, steps) => {
    const dir = mkdtempSync(join(tmpdir(), 'win11mon-queue-'));
    const kernel = new EmulatedKernel({ build: 22621, dataDir: dir, realFlush: false });
    const driver = new MonitorDriver({ kernel });
    try {
      assert.ok(driver.engine.setPolicy({ name: 'q', checks: { rateLimit: 'off' } }).ok);
      const p = kernel.createProcess({ imageName: 'app.exe' });
      let validated: number[] = [];
      const hook = installIntercept(p, {
        device: driver,
        callback: (ctx) => { for (let i = 0; i < ctx.operationCount; i++) validated.push(ctx.view.userDataLo(i)); },
      });
      const { ring } = CreateIoRing(p, IoRingVersion.V3, { required: 0, advisory: 0 }, sqSize, sqSize);
      const r = ring!;
      const cqe = { userDataLo: 0, resultCode: 0, information: 0 };
      let ud = 1;
      let queued = 0; // built, not yet consumed by the kernel
      let executedTotal = 0;
      for (const s of steps) {
        if (s.kind === 'lie') {
          // Tail - Head beyond the queue size: refused by the hook, nothing runs, the tail is put back.
          const head = p.memory.readU32(r.sqHi, r.sqLo);
          const tail = p.memory.readU32(r.sqHi, r.sqLo + 4);
          p.memory.writeU32(r.sqHi, r.sqLo + 4, (head + r.sqSize + s.by) >>> 0);
          validated = [];
          const st = p.ntdll.NtSubmitIoRing(r.handle, 0, 0, 0n);
          assert.equal(st, NtStatus.STATUS_IORING_CORRUPT);
          assert.equal(p.memory.readU32(r.sqHi, r.sqLo), head, 'the kernel consumed nothing');
          assert.equal(validated.length, 0, 'nothing was validated');
          p.memory.writeU32(r.sqHi, r.sqLo + 4, tail);
          continue;
        }
        const room = r.sqSize - queued;
        for (let i = 0; i < Math.min(s.entries, room); i++) { BuildIoRingNop(r, ud++); queued++; }
        validated = [];
        const head0 = p.memory.readU32(r.sqHi, r.sqLo);
        const st = SubmitIoRing(r, 0, 0);
        const consumed = (p.memory.readU32(r.sqHi, r.sqLo) - head0) >>> 0;
        if (queued > 0) assert.equal(st, 0);
        queued -= consumed;
        // The entries the kernel consumed are the first `consumed` the hook validated in this call.
        const ran: number[] = [];
        for (let i = 0; i < consumed; i++) {
          const e = (head0 + i) & r.sqMask;
          ran.push(p.memory.readU32(r.sqHi, r.sqLo + 16 + e * 64 + 8)); // NT_IORING_SQE.UserData low
        }
        assert.deepEqual(ran, validated.slice(0, consumed), 'executed entries are a prefix of the validated ones');
        assert.equal(validated.length, queued + consumed, 'the hook validated every pending entry');
        executedTotal += consumed;
        if (s.drain) while (popCompletionFast(r, cqe)) { /* the application reads its completions */ }
      }
      assert.equal(executedTotal + queued, ud - 1, 'every entry built ran once or is still queued');
      assert.equal(hook.stats.blocked, 0);
    } finally {
      driver.close();
      kernel.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }), { numRuns: Number(process.env.WIN11MON_FUZZ_RUNS ?? 100) });
});
