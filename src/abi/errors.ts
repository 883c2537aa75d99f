// The registry of win11mon error codes. Every typed error carries a stable code, the NTSTATUS the
// binary interface returns for it, and the data that explains it (field, offset, expected, actual).
// Callers match on `code`; docs/errors.md lists exactly these codes (a test checks it).
import { NtStatus, ntStatusName } from './ntstatus.js';

export const ErrorCodes = {
  WIN11MON_ERR_TRUNCATED: { status: NtStatus.STATUS_BUFFER_TOO_SMALL, summary: 'the buffer ends before the structure or field it must hold' },
  WIN11MON_ERR_SIZE_MISMATCH: { status: NtStatus.STATUS_INFO_LENGTH_MISMATCH, summary: 'a Size or length field disagrees with the bytes given or the structure size' },
  WIN11MON_ERR_COUNT_OVERFLOW: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'a count makes the structure larger than 32 bits or than the maximum allowed' },
  WIN11MON_ERR_BAD_VERSION: { status: NtStatus.STATUS_REVISION_MISMATCH, summary: 'a Version field has a value win11mon does not speak' },
  WIN11MON_ERR_RESERVED_NONZERO: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'a reserved field or flag bit is not zero' },
  WIN11MON_ERR_UNKNOWN_OPCODE: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'an IoRing opcode that Windows does not define' },
  WIN11MON_ERR_BAD_ENUM: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'an enumeration field holds a value outside its range' },
  WIN11MON_ERR_BAD_EXTENSION: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'a request extension record is malformed' },
  WIN11MON_ERR_BAD_ARGUMENT: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'an argument to a win11mon function is out of range' },
  WIN11MON_ERR_POLICY_INVALID: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'a policy document or binary policy failed validation' },
  WIN11MON_ERR_UNKNOWN_BUILD: { status: NtStatus.STATUS_NOT_SUPPORTED, summary: 'no IORING_OBJECT offsets are known for this Windows build' },
  WIN11MON_ERR_OFFSETS_INVALID: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'an offsets override file is malformed' },
  WIN11MON_ERR_ACCESS_VIOLATION: { status: NtStatus.STATUS_ACCESS_VIOLATION, summary: 'an emulated memory access touched an unmapped or protected page' },
  WIN11MON_ERR_FRAME_TOO_LARGE: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'a socket frame declares a length above the documented maximum' },
  WIN11MON_ERR_FRAME_MALFORMED: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'a socket frame is shorter than its header' },
  WIN11MON_ERR_NOT_CONNECTED: { status: NtStatus.STATUS_PORT_DISCONNECTED, summary: 'the win11mon service cannot be reached or the connection closed' },
  WIN11MON_ERR_TIMEOUT: { status: NtStatus.STATUS_TIMEOUT, summary: 'a request to the service got no answer in time' },
  WIN11MON_ERR_IOCTL_FAILED: { status: NtStatus.STATUS_UNSUCCESSFUL, summary: 'the device answered an IOCTL with a failure NTSTATUS' },
  WIN11MON_ERR_JOURNAL_CORRUPT: { status: NtStatus.STATUS_DATA_ERROR, summary: 'a journal record failed its checksum or framing' },
  WIN11MON_ERR_HOOK_STATE: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'a hook was installed twice, or removed when not installed' },
  WIN11MON_ERR_INTERNAL: { status: NtStatus.STATUS_INTERNAL_ERROR, summary: 'an internal invariant failed; this is a win11mon bug' },
  WIN11MON_ERR_SOCKET_DIR_UNSAFE: { status: NtStatus.STATUS_ACCESS_DENIED, summary: 'the service socket directory is world-writable, owned by another user, or not a directory' },
  WIN11MON_ERR_SERVICE_RUNNING: { status: NtStatus.STATUS_OBJECT_NAME_COLLISION, summary: 'another win11mon service is already listening on the socket path' },
  WIN11MON_ERR_RING_CONFIG_INVALID: { status: NtStatus.STATUS_INVALID_PARAMETER, summary: 'a telemetry ring size (IOCTL_MONITOR_RINGBUF_CONFIGURE or the data directory\'s ringbuf.json) is outside 64 KiB..16 MiB, or that file is malformed or cannot be written' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorDetail {
  /** The structure the error was found in, e.g. "MON_INTERCEPT_REQUEST". */
  struct?: string;
  /** The field, as the C header or the policy document spells it. */
  field?: string;
  /** Byte offset of the field from the start of the buffer. */
  offset?: number;
  expected?: string | number;
  actual?: string | number;
}

/** The one error class win11mon throws for expected failures (bad input, unknown build, ...). */
export class Win11MonError extends Error {
  readonly code: ErrorCode;
  /** The NTSTATUS the binary interface returns for this error. */
  readonly status: number;
  readonly detail: ErrorDetail;

  constructor(code: ErrorCode, message: string, detail: ErrorDetail = {}, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Win11MonError';
    this.code = code;
    this.status = options?.status ?? ErrorCodes[code].status;
    this.detail = detail;
  }

  get statusName(): string {
    return ntStatusName(this.status);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, status: this.statusName, message: this.message, ...this.detail };
  }
}

export function isWin11MonError(e: unknown): e is Win11MonError {
  return e instanceof Win11MonError;
}
