// The policy document: zod schema, the embedded default, loading YAML/JSON with file:line errors,
// normalization and the content hash. The binary MON_INTERCEPT_POLICY is in policy-binary.ts.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseDocument, LineCounter, isMap, isSeq, isPair, isScalar, type Node as YamlNode } from 'yaml';
import { IoRingOp, IORING_OP_MAX_KNOWN } from '../abi/ioring.js';
import { MON_INTERCEPT_DEFAULT_MAX_OPS, MON_INTERCEPT_DEFAULT_RATE_LIMIT, MON_INTERCEPT_MAX_BUFFER_SIZE, MON_INTERCEPT_MAX_OPS_PER_SUBMIT } from '../abi/monitor.js';
import { CHECK_IDS, type CheckId, type CheckModeName } from './types.js';

const mode = z.enum(['block', 'log', 'off']);
const u32 = z.number().int().min(0).max(0xffffffff);

const opcodeNames = new Map<string, number>(Object.entries(IoRingOp).flatMap(([k, v]) => [[k.toLowerCase(), v], [`ioring_op_${k.toLowerCase()}`, v]]));
const opcode = z.union([z.number(), z.string()], { error: 'an opcode is a number 0-31 or a name such as READ' }).transform((v, ctx) => {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= 31) return v;
    ctx.addIssue({ code: 'custom', message: `opcode ${v} is not an integer 0-31` });
    return z.NEVER;
  }
  const op = opcodeNames.get(v.toLowerCase());
  if (op === undefined) {
    ctx.addIssue({ code: 'custom', message: `unknown opcode name "${v}" (use READ, WRITE, ... or a number 0-31)` });
    return z.NEVER;
  }
  return op;
});
const allowedOpcodes = z.union([z.literal('all'), z.array(opcode).min(1, 'list at least one opcode (turn checks.opcodes off to allow everything)')]);

const pattern = z.string().min(1).max(520);

const checksShape = Object.fromEntries(CHECK_IDS.map((id) => [id, mode])) as Record<CheckId, typeof mode>;
const checksFull = z.strictObject(Object.fromEntries(CHECK_IDS.map((id) => [id, mode.default('block')])) as Record<CheckId, z.ZodDefault<typeof mode>>);
const checksPartial = z.strictObject(checksShape).partial();

const limitsFields = {
  /** 1..4096 (the header's absolute MON_INTERCEPT_MAX_OPS_PER_SUBMIT). */
  maxOperationsPerSubmit: z.number().int().min(1).max(MON_INTERCEPT_MAX_OPS_PER_SUBMIT),
  /** 0 = no limit. */
  maxBufferSizeBytes: u32,
};
const rateFields = {
  submissionsPerSecond: z.number().min(0.001).max(1e9),
  /** 0 = same as the rate. */
  submissionBurst: z.number().min(0).max(1e9),
  /** 0 = no operations limit. */
  operationsPerSecond: z.number().min(0).max(1e12),
  /** 0 = same as the rate. */
  operationBurst: z.number().min(0).max(1e12),
};

const blacklistEntry = z
  .strictObject({ pid: z.number().int().min(1).max(0xffffffff).optional(), image: pattern.optional(), reason: z.string().max(63).default('') })
  .refine((e) => (e.pid === undefined) !== (e.image === undefined), { message: 'give exactly one of pid or image' });

const override = z.strictObject({
  match: z
    .strictObject({ pid: z.number().int().min(1).max(0xffffffff).optional(), image: pattern.optional() })
    .refine((m) => m.pid !== undefined || m.image !== undefined, { message: 'match needs pid, image or both' }),
  auditMode: z.boolean().optional(),
  checks: checksPartial.optional(),
  limits: z.strictObject(limitsFields).partial().optional(),
  opcodes: z.strictObject({ allowed: allowedOpcodes, rejectReservedFlags: z.boolean() }).partial().optional(),
  rateLimit: z.strictObject(rateFields).partial().optional(),
});

/** The policy document schema (YAML or JSON). Every field has a default; `{}` is the default policy. */
export const PolicySchema = z
  .strictObject({
    /** Policy version recorded in every decision (u32). Omitted: the engine assigns previous + 1. */
    version: u32.optional(),
    name: z.string().max(128).default('default'),
    enabled: z.boolean().default(true),
    auditMode: z.boolean().default(false),
    checks: checksFull.prefault({}),
    limits: z
      .strictObject({
        maxOperationsPerSubmit: limitsFields.maxOperationsPerSubmit.default(MON_INTERCEPT_DEFAULT_MAX_OPS),
        maxBufferSizeBytes: limitsFields.maxBufferSizeBytes.default(MON_INTERCEPT_MAX_BUFFER_SIZE),
      })
      .prefault({}),
    opcodes: z
      .strictObject({
        allowed: allowedOpcodes.default(Array.from({ length: IORING_OP_MAX_KNOWN + 1 }, (_, i) => i)),
        rejectReservedFlags: z.boolean().default(true),
      })
      .prefault({}),
    rateLimit: z
      .strictObject({
        submissionsPerSecond: rateFields.submissionsPerSecond.default(MON_INTERCEPT_DEFAULT_RATE_LIMIT),
        submissionBurst: rateFields.submissionBurst.default(0),
        operationsPerSecond: rateFields.operationsPerSecond.default(0),
        operationBurst: rateFields.operationBurst.default(0),
        /** Bound of the per-process table (rate buckets, top talkers). */
        maxTrackedProcesses: z.number().int().min(1).max(1_000_000).default(4096),
        /** Entries idle this long are swept first when the table is full. */
        idleSeconds: z.number().min(0).max(86400).default(60),
      })
      .prefault({}),
    blacklist: z.array(blacklistEntry).max(4096).default([]),
    overrides: z.array(override).max(256).default([]),
  })
  .prefault({});

export type PolicyInput = z.input<typeof PolicySchema>;
export type PolicyParsed = z.output<typeof PolicySchema>;

/** A normalized policy document: every field present, opcodes as sorted numbers or 'all', version set. */
export interface PolicyDocument {
  version: number;
  name: string;
  enabled: boolean;
  auditMode: boolean;
  checks: Record<CheckId, CheckModeName>;
  limits: { maxOperationsPerSubmit: number; maxBufferSizeBytes: number };
  opcodes: { allowed: number[] | 'all'; rejectReservedFlags: boolean };
  rateLimit: { submissionsPerSecond: number; submissionBurst: number; operationsPerSecond: number; operationBurst: number; maxTrackedProcesses: number; idleSeconds: number };
  blacklist: Array<{ pid?: number; image?: string; reason: string }>;
  overrides: PolicyOverride[];
}
export interface PolicyOverride {
  match: { pid?: number; image?: string };
  auditMode?: boolean;
  checks?: Partial<Record<CheckId, CheckModeName>>;
  limits?: Partial<PolicyDocument['limits']>;
  opcodes?: Partial<PolicyDocument['opcodes']>;
  rateLimit?: Partial<Pick<PolicyDocument['rateLimit'], 'submissionsPerSecond' | 'submissionBurst' | 'operationsPerSecond' | 'operationBurst'>>;
}

/** One problem in a policy document: where (file, line, column, document path) and what. */
export interface PolicyIssue {
  file: string;
  line: number;
  column: number;
  /** Path in the document, e.g. "checks.regBuffers" or "blacklist[2].image" ('' for the whole document). */
  path: string;
  message: string;
}

/** "file:line: path: message", the form the CLI prints. */
export function formatPolicyIssue(i: PolicyIssue): string {
  return `${i.file}:${i.line}: ${i.path === '' ? '(document)' : i.path}: ${i.message}`;
}

function sortOps(a: number[] | 'all'): number[] | 'all' {
  return a === 'all' ? 'all' : [...new Set(a)].sort((x, y) => x - y);
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** Normalizes parsed output (dedupes and sorts opcodes, drops absent optional fields, sets the version). */
export function normalizePolicy(p: PolicyParsed, version: number): PolicyDocument {
  return {
    version: p.version ?? version,
    name: p.name,
    enabled: p.enabled,
    auditMode: p.auditMode,
    checks: { ...p.checks },
    limits: { ...p.limits },
    opcodes: { allowed: sortOps(p.opcodes.allowed), rejectReservedFlags: p.opcodes.rejectReservedFlags },
    rateLimit: { ...p.rateLimit },
    blacklist: p.blacklist.map((e) => dropUndefined({ pid: e.pid, image: e.image, reason: e.reason })),
    overrides: p.overrides.map((o) =>
      dropUndefined({
        match: dropUndefined({ pid: o.match.pid, image: o.match.image }),
        auditMode: o.auditMode,
        checks: o.checks ? dropUndefined(o.checks) : undefined,
        limits: o.limits ? dropUndefined(o.limits) : undefined,
        opcodes: o.opcodes ? dropUndefined({ allowed: o.opcodes.allowed === undefined ? undefined : sortOps(o.opcodes.allowed), rejectReservedFlags: o.opcodes.rejectReservedFlags }) : undefined,
        rateLimit: o.rateLimit ? dropUndefined(o.rateLimit) : undefined,
      }),
    ),
  };
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    return '{' + Object.keys(v).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson((v as Record<string, unknown>)[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

/**
 * sha256 (hex) of the normalized policy in canonical JSON (sorted keys), without `version`: two
 * documents that enforce the same thing hash the same whatever their version number.
 */
export function policyHash(doc: PolicyDocument): string {
  const { version: _v, ...rest } = doc;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** The embedded default policy: enforcing, every check on (see docs/policy.md). */
export function defaultPolicy(version = 1): PolicyDocument {
  return normalizePolicy(PolicySchema.parse({}), version);
}

function pathString(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else s += (s === '' ? '' : '.') + String(k);
  }
  return s;
}

/** Offset of the deepest node along `path` (a map entry's key, a sequence item), for line numbers. */
function offsetOf(root: YamlNode | null, path: readonly PropertyKey[], key?: string): number {
  let node: unknown = root;
  let off = root?.range?.[0] ?? 0;
  const steps: PropertyKey[] = key === undefined ? [...path] : [...path, key];
  for (const step of steps) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(step));
      if (!pair) break;
      off = (pair.key as YamlNode).range?.[0] ?? off;
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step];
      if (!item) break;
      off = (item as YamlNode).range?.[0] ?? off;
      node = item;
    } else break;
  }
  return off;
}

type Issue = z.core.$ZodIssue;
/**
 * A union that fails reports "Invalid input" at its own path; when one branch got further (an issue
 * deeper inside, e.g. a bad element of the opcode list), report that branch's issues instead.
 */
function flattenIssues(issues: readonly Issue[]): Issue[] {
  const out: Issue[] = [];
  for (const iss of issues) {
    if (iss.code === 'invalid_union' && iss.errors.length > 0) {
      const deepest = iss.errors.map((branch) => ({ branch, depth: Math.max(0, ...branch.map((b) => b.path.length)), typeOnly: branch.every((b) => b.code === 'invalid_type' || b.code === 'invalid_value') }))
        .sort((a, b) => Number(a.typeOnly) - Number(b.typeOnly) || b.depth - a.depth)[0]!;
      if (!deepest.typeOnly) {
        out.push(...flattenIssues(deepest.branch.map((b) => ({ ...b, path: [...iss.path, ...b.path] }) as Issue)));
        continue;
      }
    }
    out.push(iss);
  }
  return out;
}

export type LoadResult = { ok: true; policy: PolicyDocument; hash: string } | { ok: false; issues: PolicyIssue[] };

/**
 * Parses and validates a policy document (YAML, or JSON — parsed by the same YAML parser, so JSON
 * errors get positions too). Every issue names the file, line and document path.
 * @example loadPolicyText('checks:\n  regBuffers: maybe\n', 'p.yaml') // issues[0]: p.yaml:2: checks.regBuffers: Invalid option ...
 */
export function loadPolicyText(text: string, file = '<policy>', version = 1): LoadResult {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, path: string, message: string): PolicyIssue => {
    const pos = lc.linePos(offset);
    return { file, line: pos.line, column: pos.col, path, message };
  };
  if (doc.errors.length > 0) {
    return { ok: false, issues: doc.errors.map((e) => at(e.pos[0], '', e.message.split('\n')[0]!)) };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Aliases resolve here, not while parsing: an unresolved alias (`*a` without `&a`) or an alias
    // bomb beyond maxAliasCount throws. Point at the alias named in the message when there is one.
    const message = String((e as Error)?.message ?? e).split('\n')[0]!;
    const alias = /: ([^\s:]+)$/.exec(message)?.[1];
    const at0 = alias !== undefined ? text.indexOf(`*${alias}`) : -1;
    return { ok: false, issues: [at(Math.max(0, at0), '', message)] };
  }
  const parsed = PolicySchema.safeParse(data === null ? {} : data);
  if (!parsed.success) {
    const issues: PolicyIssue[] = [];
    for (const iss of flattenIssues(parsed.error.issues)) {
      if (iss.code === 'unrecognized_keys') {
        for (const k of iss.keys) issues.push(at(offsetOf(doc.contents as YamlNode | null, iss.path, k), pathString([...iss.path, k]), `unknown field "${k}"`));
      } else {
        issues.push(at(offsetOf(doc.contents as YamlNode | null, iss.path), pathString(iss.path), iss.message));
      }
    }
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    return { ok: false, issues };
  }
  const policy = normalizePolicy(parsed.data, version);
  return { ok: true, policy, hash: policyHash(policy) };
}

/** Validates an already-parsed object (e.g. from the service). Issues carry line 0. */
export function loadPolicyObject(obj: unknown, file = '<policy>', version = 1): LoadResult {
  const parsed = PolicySchema.safeParse(obj ?? {});
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((i) => ({ file, line: 0, column: 0, path: pathString(i.path), message: i.message })) };
  }
  const policy = normalizePolicy(parsed.data, version);
  return { ok: true, policy, hash: policyHash(policy) };
}
