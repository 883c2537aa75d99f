// Human explanations of violations (cold path only: the hot path records numbers).
import { opCodeName } from '../abi/ioring.js';
import { violationFlagNames, ViolationFlags as VF } from './types.js';
import type { Violation } from './engine.js';

const at = (v: Violation) => (v.operationIndex === null ? '' : `SQE ${v.operationIndex}: `);

/** One sentence saying what is wrong, for `--explain` and Decision explanations. */
export function describeViolation(v: Violation): string {
  const flags = violationFlagNames(v.violationFlags).join('|');
  const f = v.violationFlags;
  switch (v.reasonName) {
    case 'RegBuffersCorrupted':
      if ((f & VF.REGBUF_INDEX_OUT_OF_RANGE) !== 0) return `${at(v)}registered-buffer index ${v.value} is beyond RegBuffersCount ${v.limit} [${flags}]`;
      if ((f & VF.REGBUF_OFFSET_OUT_OF_RANGE) !== 0) return `${at(v)}registered buffer ${v.entryIndex}: offset + length ${v.value} exceeds the entry's length ${v.limit} [${flags}]`;
      return `the ring's registered-buffer state is corrupted${(f & VF.REGBUF_USERMODE_PTR) !== 0 ? ` (RegBuffers ${v.address} is a user-mode pointer: the signature of the public IoRing kernel R/W exploit)` : ''}${v.entryIndex !== null ? `, first bad entry ${v.entryIndex}` : ''}; RegBuffersCount ${v.value}${v.limit >= 0 ? `, registered ${v.limit}` : ''} [${flags}]`;
    case 'KernelAddressInBuffer':
      return `${at(v)}${(f & VF.BUF_ARRAY) !== 0 ? (v.entryIndex !== null ? `IORING_BUFFER_INFO[${v.entryIndex}] address` : 'array pointer') : 'buffer'} ${v.address} (length ${v.value}) is not a user-mode range [${flags}]`;
    case 'BufferSizeTooLarge':
      return `${at(v)}buffer length ${v.value} exceeds MaxBufferSizeBytes ${v.limit}`;
    case 'ExcessiveOperations':
      return `${v.value} operations exceed MaxOperationsPerSubmit ${v.limit}; the first operation beyond the limit is ${v.limit}`;
    case 'SuspiciousOpCode':
      return `${at(v)}${opCodeName(v.value)} with CommonOpFlags 0x${(v.limit >>> 0).toString(16)} [${flags}]`;
    case 'ProcessBlacklisted':
      return `the process is blacklisted${(f & VF.BLACKLIST_PID) !== 0 ? ' by process id' : ''}${(f & VF.BLACKLIST_IMAGE) !== 0 ? ` by image pattern ${v.entryIndex}` : ''}`;
    case 'RateLimitExceeded':
      return (f & VF.RATE_SUBMISSIONS) !== 0 ? `the process exceeded ${v.limit} submissions per second` : `the process exceeded ${v.limit} operations per second (${v.value} in this submission)`;
    case 'InvalidHandle':
      return `the driver does not know IoRing handle ${v.address ?? '0x0'} for this process`;
    case 'MalformedRequest':
      return `${at(v)}a BufferInfoArray extension disagrees with its SQE (Count ${v.value}, SQE Count ${v.limit}) [${flags}]`;
    default:
      return `${v.reasonName}${flags ? ` [${flags}]` : ''}`;
  }
}
