// NTSTATUS values that win11mon returns on its binary interfaces, with their Windows names.
// Values from the Windows SDK ntstatus.h (public); the IoRing-specific ones from the kernel
// decompilations cited in docs/abi.md (IopIoRingDispatch* return 0xC0460001 for bad flags,
// IopIoRingGetBuffer returns 0xC00004D1 for an index beyond RegBuffersCount).

export const NtStatus = {
  STATUS_SUCCESS: 0x00000000,
  STATUS_PENDING: 0x00000103,
  STATUS_TIMEOUT: 0x00000102,
  STATUS_MORE_ENTRIES: 0x00000105,
  STATUS_BUFFER_OVERFLOW: 0x80000005,
  STATUS_NO_MORE_ENTRIES: 0x8000001a,
  STATUS_UNSUCCESSFUL: 0xc0000001,
  STATUS_NOT_IMPLEMENTED: 0xc0000002,
  STATUS_INFO_LENGTH_MISMATCH: 0xc0000004,
  STATUS_ACCESS_VIOLATION: 0xc0000005,
  STATUS_INVALID_HANDLE: 0xc0000008,
  STATUS_INVALID_PARAMETER: 0xc000000d,
  STATUS_NO_SUCH_FILE: 0xc000000f,
  STATUS_INVALID_DEVICE_REQUEST: 0xc0000010,
  STATUS_END_OF_FILE: 0xc0000011,
  STATUS_NO_MEMORY: 0xc0000017,
  STATUS_ACCESS_DENIED: 0xc0000022,
  STATUS_BUFFER_TOO_SMALL: 0xc0000023,
  STATUS_OBJECT_TYPE_MISMATCH: 0xc0000024,
  STATUS_OBJECT_NAME_INVALID: 0xc0000033,
  STATUS_OBJECT_NAME_NOT_FOUND: 0xc0000034,
  STATUS_OBJECT_NAME_COLLISION: 0xc0000035,
  STATUS_OBJECT_PATH_NOT_FOUND: 0xc000003a,
  STATUS_DATA_ERROR: 0xc000003e,
  STATUS_INSUFFICIENT_RESOURCES: 0xc000009a,
  STATUS_FILE_IS_A_DIRECTORY: 0xc00000ba,
  STATUS_NOT_SUPPORTED: 0xc00000bb,
  STATUS_INVALID_USER_BUFFER: 0xc00000e8,
  STATUS_INTERNAL_ERROR: 0xc00000e5,
  STATUS_CANCELLED: 0xc0000120,
  STATUS_INVALID_BUFFER_SIZE: 0xc0000206,
  STATUS_NOT_FOUND: 0xc0000225,
  STATUS_REVISION_MISMATCH: 0xc0000059,
  STATUS_DEVICE_NOT_READY: 0xc00000a3,
  STATUS_PORT_DISCONNECTED: 0xc0000037,
  STATUS_REQUEST_ABORTED: 0xc0000240,
  STATUS_INVALID_INDEX: 0xc00004d1,
  STATUS_IORING_REQUIRED_FLAGS_NOT_SUPPORTED: 0xc0460001,
  STATUS_IORING_SUBMISSION_QUEUE_FULL: 0xc0460002,
  STATUS_IORING_VERSION_NOT_SUPPORTED: 0xc0460003,
  STATUS_IORING_SUBMISSION_QUEUE_TOO_BIG: 0xc0460004,
  STATUS_IORING_COMPLETION_QUEUE_TOO_BIG: 0xc0460005,
  STATUS_IORING_SUBMIT_IN_PROGRESS: 0xc0460006,
  STATUS_IORING_CORRUPT: 0xc0460007,
  STATUS_INVALID_INFO_CLASS: 0xc0000003,
  STATUS_CONFLICTING_ADDRESSES: 0xc0000018,
  STATUS_PIPE_BUSY: 0xc00000ae,
  STATUS_PIPE_EMPTY: 0xc00000d9,
  STATUS_PIPE_BROKEN: 0xc000014b,
  STATUS_OBJECT_PATH_SYNTAX_BAD: 0xc000003b,
} as const;

export type NtStatusName = keyof typeof NtStatus;

const namesByValue = new Map<number, NtStatusName>();
for (const [name, value] of Object.entries(NtStatus) as [NtStatusName, number][]) {
  if (!namesByValue.has(value)) namesByValue.set(value, name);
}

/** The Windows name of an NTSTATUS value, or its hex form when win11mon does not know it. */
export function ntStatusName(status: number): string {
  return namesByValue.get(status >>> 0) ?? `0x${(status >>> 0).toString(16).padStart(8, '0')}`;
}

/** NT_SUCCESS(): severity bits 00 (success) or 01 (informational). */
export function ntSuccess(status: number): boolean {
  return (status >>> 0) < 0x80000000;
}

/** HRESULT_FROM_NT(): what IORING_CQE.ResultCode carries for an NTSTATUS (FACILITY_NT_BIT 0x10000000). */
export function hresultFromNt(status: number): number {
  return status === 0 ? 0 : ((status | 0x10000000) >>> 0);
}
