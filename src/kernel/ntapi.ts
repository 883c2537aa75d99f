// The ntdll surface of an emulated process: the Nt* functions with their Windows prototypes.
// Pointers are user addresses in the calling process (bigint, 0n for NULL); results are NTSTATUS.
// Deviations from the real prototypes (simplified object attributes) are marked per function.

/** A user-mode pointer in the emulated process (0n = NULL). */
export type Ptr = bigint;

/** NtCurrentProcess() pseudo-handle. */
export const NtCurrentProcess = -1;

/** SYSTEM_INFORMATION_CLASS values the emulation answers. */
export const SystemInformationClass = { SystemHandleInformation: 16 } as const;

/** NT_IORING_INFO_CLASS (CarterLi/libwinring ioringnt.h; not PDB-confirmed). */
export const IoRingInfoClass = { IoRingRegisterUserCompletionEventClass: 1 } as const;

/** CreateDisposition values (ntifs.h). */
export const FileDisposition = {
  FILE_SUPERSEDE: 0, FILE_OPEN: 1, FILE_CREATE: 2, FILE_OPEN_IF: 3, FILE_OVERWRITE: 4, FILE_OVERWRITE_IF: 5,
} as const;

/** EVENT_TYPE. */
export const EventType = { NotificationEvent: 0, SynchronizationEvent: 1 } as const;

/** Size of one SYSTEM_HANDLE_TABLE_ENTRY_INFO (x64) and of the SYSTEM_HANDLE_INFORMATION header. */
export const SYSTEM_HANDLE_ENTRY_SIZE = 0x18;
export const SYSTEM_HANDLE_INFO_HEADER = 0x08;

export interface NtApi {
  /** NTSTATUS NtCreateIoRing(PHANDLE IoRingHandle, ULONG CreateParametersLength, PVOID CreateParameters (NT_IORING_STRUCTV1), ULONG OutputParametersLength, PVOID OutputParameters (NT_IORING_INFO)). */
  NtCreateIoRing(ioRingHandle: Ptr, createParametersLength: number, createParameters: Ptr, outputParametersLength: number, outputParameters: Ptr): number;
  /** NTSTATUS NtSubmitIoRing(HANDLE IoRingHandle, ULONG Flags, ULONG WaitOperations, PLARGE_INTEGER Timeout). */
  NtSubmitIoRing(ioRingHandle: number, flags: number, waitOperations: number, timeout: Ptr): number;
  /** NTSTATUS NtQueryIoRingCapabilities(SIZE_T IoRingCapabilitiesLength, PVOID IoRingCapabilities (NT_IORING_CAPABILITIES)). */
  NtQueryIoRingCapabilities(ioRingCapabilitiesLength: number, ioRingCapabilities: Ptr): number;
  /** NTSTATUS NtSetInformationIoRing(HANDLE IoRingHandle, ULONG IoRingInformationClass, ULONG IoRingInformationLength, PVOID IoRingInformation). */
  NtSetInformationIoRing(ioRingHandle: number, ioRingInformationClass: number, ioRingInformationLength: number, ioRingInformation: Ptr): number;
  /** NTSTATUS NtClose(HANDLE Handle). */
  NtClose(handle: number): number;
  /**
   * NtCreateFile(PHANDLE FileHandle, ACCESS_MASK DesiredAccess, POBJECT_ATTRIBUTES, PIO_STATUS_BLOCK, ..., CreateDisposition, CreateOptions).
   * Deviation: the object name is passed as a string instead of OBJECT_ATTRIBUTES; AllocationSize,
   * FileAttributes, ShareAccess and EaBuffer are not modelled. Names: a path relative to the kernel's
   * data directory, or a pipe name (`\\.\pipe\X`, `\Device\NamedPipe\X`) to open a pipe's client end.
   */
  NtCreateFile(fileHandle: Ptr, desiredAccess: number, objectName: string, ioStatusBlock: Ptr, createDisposition: number, createOptions?: number): number;
  /** NtReadFile(HANDLE, HANDLE Event, PIO_APC_ROUTINE, PVOID ApcContext, PIO_STATUS_BLOCK, PVOID Buffer, ULONG Length, PLARGE_INTEGER ByteOffset, PULONG Key). Synchronous. */
  NtReadFile(fileHandle: number, event: number, apcRoutine: Ptr, apcContext: Ptr, ioStatusBlock: Ptr, buffer: Ptr, length: number, byteOffset: Ptr, key: Ptr): number;
  /** NtWriteFile, same parameters as NtReadFile. Synchronous. */
  NtWriteFile(fileHandle: number, event: number, apcRoutine: Ptr, apcContext: Ptr, ioStatusBlock: Ptr, buffer: Ptr, length: number, byteOffset: Ptr, key: Ptr): number;
  /** NtFlushBuffersFile(HANDLE, PIO_STATUS_BLOCK). */
  NtFlushBuffersFile(fileHandle: number, ioStatusBlock: Ptr): number;
  /**
   * NtCreateNamedPipeFile(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES, PIO_STATUS_BLOCK, ...). Deviation: the
   * pipe name is a string; pipe type/quotas/timeouts are not modelled. Emulated pipes are byte-mode,
   * one instance per name, non-blocking (an empty read returns STATUS_PIPE_EMPTY).
   */
  NtCreateNamedPipeFile(fileHandle: Ptr, desiredAccess: number, pipeName: string, ioStatusBlock: Ptr): number;
  /** NtQuerySystemInformation(SYSTEM_INFORMATION_CLASS, PVOID, ULONG, PULONG ReturnLength); SystemHandleInformation (16) only. */
  NtQuerySystemInformation(systemInformationClass: number, systemInformation: Ptr, systemInformationLength: number, returnLength: Ptr): number;
  /** NtOpenProcessToken(HANDLE ProcessHandle, ACCESS_MASK, PHANDLE TokenHandle); only NtCurrentProcess (-1). */
  NtOpenProcessToken(processHandle: number, desiredAccess: number, tokenHandle: Ptr): number;
  /** NtCreateEvent(PHANDLE, ACCESS_MASK, POBJECT_ATTRIBUTES (ignored), EVENT_TYPE, BOOLEAN InitialState). */
  NtCreateEvent(eventHandle: Ptr, desiredAccess: number, objectAttributes: Ptr, eventType: number, initialState: boolean): number;
  /** NtSetEvent(HANDLE, PLONG PreviousState). */
  NtSetEvent(eventHandle: number, previousState: Ptr): number;
  /** NtResetEvent(HANDLE, PLONG PreviousState). */
  NtResetEvent(eventHandle: number, previousState: Ptr): number;
  /** NtWaitForSingleObject(HANDLE, BOOLEAN Alertable, PLARGE_INTEGER Timeout). Never blocks: STATUS_TIMEOUT when not signaled. */
  NtWaitForSingleObject(handle: number, alertable: boolean, timeout: Ptr): number;
}

export type NtFunctionName = keyof NtApi;

export const NT_FUNCTION_NAMES: readonly NtFunctionName[] = [
  'NtCreateIoRing', 'NtSubmitIoRing', 'NtQueryIoRingCapabilities', 'NtSetInformationIoRing', 'NtClose',
  'NtCreateFile', 'NtReadFile', 'NtWriteFile', 'NtFlushBuffersFile', 'NtCreateNamedPipeFile',
  'NtQuerySystemInformation', 'NtOpenProcessToken', 'NtCreateEvent', 'NtSetEvent', 'NtResetEvent', 'NtWaitForSingleObject',
];
