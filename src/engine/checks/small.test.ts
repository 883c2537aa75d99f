// Unit tests for the small checks: opcodes, operation count, blacklist, rate limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkOpcode } from './opcodes.js';
import { checkOperationCount } from './opcount.js';
import { checkBlacklist, RuntimeBlacklist } from './blacklist.js';
import { takeTokens, checkRateLimit } from './ratelimit.js';
import { RecordingSink } from './testsink.js';
import { ViolationFlags as VF } from '../types.js';
import { InterceptReason as R } from '../../abi/monitor.js';
import { Profile } from '../compile.js';
import { defaultPolicy } from '../policy.js';
import { NtStatus } from '../../abi/ntstatus.js';

test('opcodes: unknown, not allowed, reserved CommonOpFlags and SQE flags', () => {
  const s = new RecordingSink();
  const all = 0x1ff;
  assert.equal(checkOpcode(1, 3, 1, all, true, 0, 2, s), false);
  checkOpcode(9, 0, 0, all, true, 1, 2, s);
  checkOpcode(5, 0, 0, 0x3, true, 2, 2, s);
  checkOpcode(1, 4, -1, all, true, 3, 2, s);
  checkOpcode(1, 0, 2, all, true, 4, 2, s);
  assert.equal(checkOpcode(1, 4, 2, all, false, 5, 2, s), false);
  assert.deepEqual(s.hits.map((h) => h.flags), [VF.OP_UNKNOWN | VF.OP_NOT_ALLOWED, VF.OP_NOT_ALLOWED, VF.OP_RESERVED_COMMON_FLAGS, VF.OP_RESERVED_SQE_FLAGS]);
  assert.ok(s.hits.every((h) => h.reason === R.SuspiciousOpCode));
  // mask 'all' (0xffffffff) still flags undefined opcodes
  const s2 = new RecordingSink();
  checkOpcode(0x12345, 0, 0, 0xffffffff, true, 0, 2, s2);
  assert.equal(s2.hits[0]!.flags, VF.OP_UNKNOWN | VF.OP_NOT_ALLOWED);
});

test('operation count: the violating index is the first op beyond the limit', () => {
  const s = new RecordingSink();
  assert.equal(checkOperationCount(8, 8, 2, s), false);
  checkOperationCount(9, 8, 2, s);
  assert.equal(s.hits[0]!.opIndex, 8);
  assert.equal(s.hits[0]!.reason, R.ExcessiveOperations);
});

test('blacklist: runtime table bound and check flags', () => {
  const bl = new RuntimeBlacklist();
  assert.equal(bl.add({ processId: 0, processName: '', reason: '', addedTime: 0n }), NtStatus.STATUS_INVALID_PARAMETER);
  assert.equal(bl.add({ processId: 5, processName: 'x'.repeat(100), reason: '', addedTime: 0n }), NtStatus.STATUS_SUCCESS);
  assert.equal(bl.list()[0]!.processName.length, 63);
  const s = new RecordingSink();
  assert.equal(checkBlacklist(false, -1, 2, s), false);
  checkBlacklist(true, 2, 2, s);
  assert.equal(s.hits[0]!.flags, VF.BLACKLIST_PID | VF.BLACKLIST_IMAGE);
  assert.equal(s.hits[0]!.entryIndex, 2);
});

test('rate limit: burst, refill, refusal does not take tokens, clock stepping back refills nothing', () => {
  const doc = defaultPolicy();
  doc.rateLimit.submissionsPerSecond = 2;
  doc.rateLimit.operationsPerSecond = 10;
  const p = Profile.from(doc, null, 0);
  const b = { subTokens: 0, opTokens: 0, refillNs: -1 };
  assert.equal(takeTokens(b, p, 1e9, 4, false), 0);
  assert.equal(takeTokens(b, p, 1e9, 4, false), 0);
  assert.equal(takeTokens(b, p, 1e9, 1, false), VF.RATE_SUBMISSIONS);
  assert.equal(takeTokens(b, p, 0.5e9, 1, false), VF.RATE_SUBMISSIONS); // time went backwards
  assert.equal(takeTokens(b, p, 1.5e9, 1, false), 0); // 0.5 s -> 1 submission token
  assert.equal(takeTokens(b, p, 2.5e9, 20, true), VF.RATE_OPERATIONS); // 20 ops > burst 10
  const s = new RecordingSink();
  checkRateLimit(b, p, 2.5e9, 20, true, 2, s);
  assert.equal(s.hits[0]!.reason, R.RateLimitExceeded);
});
