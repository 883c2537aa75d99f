// MON_INTERCEPT_POLICY (28 bytes): the binary wire form of the policy's core switches, and how it
// maps onto a policy document (setting it changes those switches and keeps the rest).
import { MON_INTERCEPT_POLICY_SIZE, MON_INTERCEPT_DEFAULT_MAX_OPS, MON_INTERCEPT_DEFAULT_RATE_LIMIT, MON_INTERCEPT_MAX_OPS_PER_SUBMIT } from '../abi/monitor.js';
import { Win11MonError } from '../abi/errors.js';
import type { PolicyDocument } from './policy.js';
import type { CheckModeName } from './types.js';

const S = 'MON_INTERCEPT_POLICY';

/** The decoded MON_INTERCEPT_POLICY. */
export interface BinaryPolicy {
  enabled: boolean;
  auditMode: boolean;
  blockKernelAddresses: boolean;
  blockCorruptedRegBuffers: boolean;
  enforceOperationLimit: boolean;
  enforceRateLimit: boolean;
  validateOpCodes: boolean;
  /** 0 = default 1024. */
  maxOperationsPerSubmit: number;
  /** 0 = no limit. */
  maxBufferSizeBytes: number;
  /** 0 = default 1000. */
  maxSubmitsPerSecond: number;
  /** Bit N = opcode N allowed; 0 = all. */
  allowedOpCodeMask: number;
}

const BOOLS: Array<[keyof BinaryPolicy, number, string]> = [
  ['enabled', 4, 'Enabled'],
  ['auditMode', 5, 'AuditMode'],
  ['blockKernelAddresses', 6, 'BlockKernelAddresses'],
  ['blockCorruptedRegBuffers', 7, 'BlockCorruptedRegBuffers'],
  ['enforceOperationLimit', 8, 'EnforceOperationLimit'],
  ['enforceRateLimit', 9, 'EnforceRateLimit'],
  ['validateOpCodes', 10, 'ValidateOpCodes'],
];

/**
 * Decodes a MON_INTERCEPT_POLICY. Throws Win11MonError: WIN11MON_ERR_TRUNCATED (fewer than 28 bytes),
 * WIN11MON_ERR_SIZE_MISMATCH (Size != 28), WIN11MON_ERR_POLICY_INVALID (a BOOLEAN not 0/1,
 * MaxOperationsPerSubmit above 4096), WIN11MON_ERR_RESERVED_NONZERO (Reserved1).
 */
export function decodePolicyBinary(bytes: Uint8Array): BinaryPolicy {
  if (bytes.byteLength < MON_INTERCEPT_POLICY_SIZE) {
    throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `${S} needs ${MON_INTERCEPT_POLICY_SIZE} bytes, got ${bytes.byteLength}`, { struct: S, field: 'Size', offset: 0, expected: MON_INTERCEPT_POLICY_SIZE, actual: bytes.byteLength });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = dv.getUint32(0, true);
  if (size !== MON_INTERCEPT_POLICY_SIZE) {
    throw new Win11MonError('WIN11MON_ERR_SIZE_MISMATCH', `${S}.Size is ${size}; it must be ${MON_INTERCEPT_POLICY_SIZE}`, { struct: S, field: 'Size', offset: 0, expected: MON_INTERCEPT_POLICY_SIZE, actual: size });
  }
  const out = {} as Record<string, boolean | number>;
  for (const [key, off, field] of BOOLS) {
    const v = dv.getUint8(off);
    if (v > 1) throw new Win11MonError('WIN11MON_ERR_POLICY_INVALID', `${S}.${field} is ${v}; a BOOLEAN must be 0 or 1`, { struct: S, field, offset: off, expected: '0 or 1', actual: v });
    out[key] = v === 1;
  }
  const r1 = dv.getUint8(11);
  if (r1 !== 0) throw new Win11MonError('WIN11MON_ERR_RESERVED_NONZERO', `${S}.Reserved1 is ${r1}; it must be zero`, { struct: S, field: 'Reserved1', offset: 11, expected: 0, actual: r1 });
  const maxOps = dv.getUint32(12, true);
  if (maxOps > MON_INTERCEPT_MAX_OPS_PER_SUBMIT) {
    throw new Win11MonError('WIN11MON_ERR_POLICY_INVALID', `${S}.MaxOperationsPerSubmit ${maxOps} exceeds the absolute maximum ${MON_INTERCEPT_MAX_OPS_PER_SUBMIT}`, { struct: S, field: 'MaxOperationsPerSubmit', offset: 12, expected: `<= ${MON_INTERCEPT_MAX_OPS_PER_SUBMIT}`, actual: maxOps });
  }
  out.maxOperationsPerSubmit = maxOps;
  out.maxBufferSizeBytes = dv.getUint32(16, true);
  out.maxSubmitsPerSecond = dv.getUint32(20, true);
  out.allowedOpCodeMask = dv.getUint32(24, true);
  return out as unknown as BinaryPolicy;
}

/** The core switches of a policy document as a MON_INTERCEPT_POLICY (a 'log' check counts as on). */
export function policyToBinary(doc: PolicyDocument): BinaryPolicy {
  let mask = 0;
  if (doc.opcodes.allowed !== 'all') for (const op of doc.opcodes.allowed) mask |= 1 << op;
  return {
    enabled: doc.enabled,
    auditMode: doc.auditMode,
    blockKernelAddresses: doc.checks.bufferAddresses !== 'off',
    blockCorruptedRegBuffers: doc.checks.regBuffers !== 'off',
    enforceOperationLimit: doc.checks.operationLimit !== 'off',
    enforceRateLimit: doc.checks.rateLimit !== 'off',
    validateOpCodes: doc.checks.opcodes !== 'off',
    maxOperationsPerSubmit: doc.limits.maxOperationsPerSubmit,
    maxBufferSizeBytes: doc.checks.bufferSize === 'off' ? 0 : doc.limits.maxBufferSizeBytes,
    maxSubmitsPerSecond: Math.min(0xffffffff, Math.max(1, Math.round(doc.rateLimit.submissionsPerSecond))),
    allowedOpCodeMask: mask >>> 0,
  };
}

/** Encodes the document's core switches as the 28-byte MON_INTERCEPT_POLICY. */
export function encodePolicyBinary(p: PolicyDocument | BinaryPolicy): Uint8Array {
  const b: BinaryPolicy = 'checks' in p ? policyToBinary(p) : p;
  const out = new Uint8Array(MON_INTERCEPT_POLICY_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MON_INTERCEPT_POLICY_SIZE, true);
  for (const [key, off] of BOOLS) dv.setUint8(off, b[key] ? 1 : 0);
  dv.setUint32(12, b.maxOperationsPerSubmit >>> 0, true);
  dv.setUint32(16, b.maxBufferSizeBytes >>> 0, true);
  dv.setUint32(20, b.maxSubmitsPerSecond >>> 0, true);
  dv.setUint32(24, b.allowedOpCodeMask >>> 0, true);
  return out;
}

const sw = (on: boolean, was: CheckModeName): CheckModeName => (on ? (was === 'off' ? 'block' : was) : 'off');

/**
 * A new document with the binary switches applied and everything else (blacklist, overrides,
 * bursts, the other checks) kept. A switch turned on keeps a 'log' mode, else becomes 'block'.
 * MaxBufferSizeBytes 0 turns the bufferSize check off; non-zero sets the limit (and turns it on).
 */
export function applyBinaryPolicy(doc: PolicyDocument, b: BinaryPolicy, version: number): PolicyDocument {
  const allowed: number[] | 'all' = b.allowedOpCodeMask === 0 ? 'all' : Array.from({ length: 32 }, (_, i) => i).filter((i) => ((b.allowedOpCodeMask >>> i) & 1) === 1);
  return {
    ...doc,
    version,
    enabled: b.enabled,
    auditMode: b.auditMode,
    checks: {
      ...doc.checks,
      bufferAddresses: sw(b.blockKernelAddresses, doc.checks.bufferAddresses),
      regBuffers: sw(b.blockCorruptedRegBuffers, doc.checks.regBuffers),
      operationLimit: sw(b.enforceOperationLimit, doc.checks.operationLimit),
      rateLimit: sw(b.enforceRateLimit, doc.checks.rateLimit),
      opcodes: sw(b.validateOpCodes, doc.checks.opcodes),
      bufferSize: sw(b.maxBufferSizeBytes !== 0, doc.checks.bufferSize),
    },
    limits: {
      maxOperationsPerSubmit: b.maxOperationsPerSubmit === 0 ? MON_INTERCEPT_DEFAULT_MAX_OPS : b.maxOperationsPerSubmit,
      maxBufferSizeBytes: b.maxBufferSizeBytes === 0 ? doc.limits.maxBufferSizeBytes : b.maxBufferSizeBytes,
    },
    opcodes: { ...doc.opcodes, allowed },
    rateLimit: { ...doc.rateLimit, submissionsPerSecond: b.maxSubmitsPerSecond === 0 ? MON_INTERCEPT_DEFAULT_RATE_LIMIT : b.maxSubmitsPerSecond },
  };
}
