// Suspicious opcodes: opcodes Windows does not define, opcodes the policy does not allow, and
// reserved flag bits (CommonOpFlags beyond 0x3; NT_IORING_SQE Flags beyond DRAIN 0x1 when known).
import { IORING_OP_MAX_KNOWN, NT_IORING_OP_FLAGS_VALID, NT_IORING_SQE_FLAGS_VALID } from '../../abi/ioring.js';
import { InterceptReason } from '../../abi/monitor.js';
import { ViolationFlags as VF, type ViolationSink } from '../types.js';

/**
 * `sqeFlags` is the native SQE Flags (ExtSqeFlags) or -1 when the SQE came from a C client without
 * win11mon's extension words. Returns the sink's "stop".
 */
export function checkOpcode(op: number, commonFlags: number, sqeFlags: number, allowedMask: number, rejectReserved: boolean, opIndex: number, mode: number, sink: ViolationSink): boolean {
  let f = 0;
  if (op > IORING_OP_MAX_KNOWN) f |= VF.OP_UNKNOWN;
  if (op > 31 || ((allowedMask >>> op) & 1) === 0) f |= VF.OP_NOT_ALLOWED;
  if (rejectReserved) {
    if ((commonFlags & ~NT_IORING_OP_FLAGS_VALID) !== 0) f |= VF.OP_RESERVED_COMMON_FLAGS;
    if (sqeFlags > 0 && (sqeFlags & ~NT_IORING_SQE_FLAGS_VALID) !== 0) f |= VF.OP_RESERVED_SQE_FLAGS;
  }
  if (f === 0) return false;
  return sink.hit('opcodes', mode, InterceptReason.SuspiciousOpCode, opIndex, -1, f, 0, 0, op, commonFlags);
}
