import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPolicy, loadPolicyText, policyHash, formatPolicyIssue } from './policy.js';
import { decodePolicyBinary, encodePolicyBinary, applyBinaryPolicy } from './policy-binary.js';
import { compileImagePattern, matchImage } from './glob.js';
import { Win11MonError } from '../abi/errors.js';

test('the embedded default policy enforces every check with the plan defaults', () => {
  const d = defaultPolicy();
  assert.equal(d.enabled, true);
  assert.equal(d.auditMode, false);
  assert.ok(Object.values(d.checks).every((m) => m === 'block'));
  assert.equal(d.limits.maxOperationsPerSubmit, 1024);
  assert.equal(d.limits.maxBufferSizeBytes, 256 * 1024 * 1024);
  assert.deepEqual(d.opcodes.allowed, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(d.rateLimit.submissionsPerSecond, 1000);
  const b = decodePolicyBinary(encodePolicyBinary(d));
  assert.equal(b.allowedOpCodeMask, 0x1ff);
  assert.equal(b.maxSubmitsPerSecond, 1000);
});

test('errors name file, line and document path (YAML and JSON)', () => {
  const y = loadPolicyText('name: x\nchecks:\n  opcodes: block\n  bogus: log\nopcodes:\n  allowed: [READ, FROB]\n', 'a.yaml');
  assert.equal(y.ok, false);
  if (!y.ok) assert.deepEqual(y.issues.map(formatPolicyIssue), ['a.yaml:4: checks.bogus: unknown field "bogus"', 'a.yaml:6: opcodes.allowed[1]: unknown opcode name "FROB" (use READ, WRITE, ... or a number 0-31)']);
  const j = loadPolicyText('{\n  "limits": {\n    "maxOperationsPerSubmit": 99999\n  }\n}\n', 'b.json');
  assert.equal(j.ok, false);
  if (!j.ok) { assert.equal(j.issues[0]!.line, 3); assert.equal(j.issues[0]!.path, 'limits.maxOperationsPerSubmit'); }
  const syn = loadPolicyText('checks: [\n', 'c.yaml');
  assert.equal(syn.ok, false);
  const bl = loadPolicyText('blacklist:\n  - reason: nothing\n', 'd.yaml');
  assert.ok(!bl.ok && bl.issues[0]!.path === 'blacklist[0]' && bl.issues[0]!.line === 2);
});

test('normalization: opcode names resolve and sort; hash ignores version and key order', () => {
  const a = loadPolicyText('opcodes: { allowed: [WRITE, read, 1] }\nversion: 3\n');
  const b = loadPolicyText('{"version": 9, "opcodes": {"allowed": [1, 5]}}');
  assert.ok(a.ok && b.ok);
  if (a.ok && b.ok) {
    assert.deepEqual(a.policy.opcodes.allowed, [1, 5]);
    assert.equal(a.policy.version, 3);
    assert.equal(a.hash, b.hash);
    assert.equal(policyHash(a.policy), a.hash);
    assert.notEqual(a.hash, policyHash(defaultPolicy()));
  }
});

test('binary MON_INTERCEPT_POLICY: typed errors', () => {
  const good = encodePolicyBinary(defaultPolicy());
  const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as Win11MonError).code + ':' + ((e as Win11MonError).detail.field ?? ''); } return 'ok'; };
  assert.equal(code(() => decodePolicyBinary(good.slice(0, 20))), 'WIN11MON_ERR_TRUNCATED:Size');
  const m1 = good.slice(); new DataView(m1.buffer).setUint32(0, 32, true);
  assert.equal(code(() => decodePolicyBinary(m1)), 'WIN11MON_ERR_SIZE_MISMATCH:Size');
  const m2 = good.slice(); m2[6] = 2;
  assert.equal(code(() => decodePolicyBinary(m2)), 'WIN11MON_ERR_POLICY_INVALID:BlockKernelAddresses');
  const m3 = good.slice(); m3[11] = 1;
  assert.equal(code(() => decodePolicyBinary(m3)), 'WIN11MON_ERR_RESERVED_NONZERO:Reserved1');
  const d = defaultPolicy();
  d.checks.regBuffers = 'log';
  const off = applyBinaryPolicy(d, { ...decodePolicyBinary(good), blockCorruptedRegBuffers: true, validateOpCodes: false, allowedOpCodeMask: 0, maxBufferSizeBytes: 0 }, 2);
  assert.equal(off.checks.regBuffers, 'log'); // on keeps 'log'
  assert.equal(off.checks.opcodes, 'off');
  assert.equal(off.checks.bufferSize, 'off');
  assert.equal(off.opcodes.allowed, 'all');
});

test('image globs are case-insensitive and treat / and \\ alike', () => {
  const p = compileImagePattern('C:/Tools/**/*.EXE');
  assert.ok(matchImage(p, 'x.exe', 'c:\\tools\\a\\b\\x.exe'));
  assert.ok(!matchImage(p, 'x.exe', 'd:\\tools\\x.exe'));
  const n = compileImagePattern('ev?l[0-9].exe');
  assert.ok(matchImage(n, 'EVIL7.exe', ''));
  assert.ok(matchImage(n, '', 'C:\\x\\evil1.exe'));
  assert.ok(!matchImage(n, 'evil.exe', ''));
  assert.ok(!matchImage(compileImagePattern('a.exe'), 'aXexe', '')); // '.' is literal
});

test('an unresolved YAML alias or an alias bomb is a located issue, not a thrown ReferenceError (found by the property below)', () => {
  const a = loadPolicyText('name: x\nchecks: *nope\n', 'a.yaml');
  assert.ok(!a.ok);
  if (!a.ok) assert.equal(formatPolicyIssue(a.issues[0]!), 'a.yaml:2: (document): Unresolved alias (the anchor must be set before the alias): nope');
  const levels = ['a: &a [x,x,x,x,x,x,x,x,x]', ...['b', 'c', 'd'].map((k, i) => `${k}: &${k} [${Array(9).fill('*' + 'abc'[i]).join(',')}]`), `e: [${Array(9).fill('*d').join(',')}]`];
  const b = loadPolicyText(levels.join('\n') + '\n', 'b.yaml');
  assert.ok(!b.ok);
  if (!b.ok) assert.match(b.issues[0]!.message, /alias count/);
});

test('property: any text, any JSON value and any mutation of a valid policy loads or is refused with located issues, never a throw; what loads, the engine runs', async () => {
  const { default: fc } = await import('fast-check');
  const { stringify } = await import('yaml');
  const { PolicyEngine } = await import('./engine.js');
  const { cleanRequest, context } = await import('./testing.js');
  const { InterceptRequestView } = await import('../abi/request.js');
  const { Decision } = await import('./types.js');
  const base = { name: 'p', mode: 'enforce', checks: { opcodes: 'block', regBuffers: 'log', rateLimit: 'off' }, limits: { maxOperationsPerSubmit: 64 }, opcodes: { allowed: ['READ', 'WRITE', 3] }, blacklist: [{ image: '*\\evil.exe', reason: 'x' }] };
  // A mutation: replace the value at a random path of the valid document by an arbitrary JSON value.
  const mutated = fc.tuple(fc.array(fc.oneof(fc.constantFrom('name', 'mode', 'checks', 'limits', 'opcodes', 'blacklist', 'allowed', 'opcodes', 'regBuffers', 'rateLimit', 'maxOperationsPerSubmit', 'image', 'reason', '0', 'bogus'), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 3 }), fc.jsonValue()).map(([path, v]) => {
    const doc = structuredClone(base) as Record<string, unknown>;
    let o: Record<string, unknown> = doc;
    for (const k of path.slice(0, -1)) { if (o[k] === null || typeof o[k] !== 'object') o[k] = {}; o = o[k] as Record<string, unknown>; }
    o[path[path.length - 1]!] = v;
    return doc;
  });
  const text = fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue().map((v) => JSON.stringify(v)), fc.jsonValue().map((v) => stringify(v)), mutated.map((d) => stringify(d)), mutated.map((d) => JSON.stringify(d, null, 2)));
  let loaded = 0;
  const view = new InterceptRequestView();
  fc.assert(fc.property(text, (t) => {
    const r = loadPolicyText(t, 'f.yaml');
    if (!r.ok) {
      assert.ok(r.issues.length > 0);
      for (const i of r.issues) {
        assert.ok(Number.isInteger(i.line) && i.line >= 1, `issue without a line: ${formatPolicyIssue(i)}`);
        assert.ok(i.message.length > 0 && formatPolicyIssue(i).startsWith('f.yaml:'));
      }
      return;
    }
    loaded++;
    const e = new PolicyEngine({ policy: r.policy });
    const d = e.validate(view.reset(cleanRequest(3)), context(), new Decision());
    assert.ok(d.action >= 0 && d.action <= 2);
  }), { numRuns: Number(process.env.WIN11MON_FUZZ_RUNS ?? 400) });
  assert.ok(loaded > 0, 'no generated document was a valid policy');
});
