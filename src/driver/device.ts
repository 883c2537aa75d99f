// The device interface: what the service (src/service) exposes over its sockets and what the driver
// core implements. It is DeviceIoControl reduced to its arguments, so in-process and socket callers
// see exactly the same contract.

/**
 * Who is calling, as the service determined it when the connection was accepted.
 *
 * `access` is what the endpoint granted, like the GrantedAccess of a Windows file handle:
 * device.sock grants FILE_READ_ACCESS, admin.sock FILE_READ_ACCESS | FILE_WRITE_ACCESS, an
 * in-process caller whatever its owner decides. The service already refuses IOCTLs whose code needs
 * access the endpoint did not grant; the device may check again (defence in depth).
 *
 * @example
 * const caller: DeviceCaller = { access: FILE_READ_ACCESS, pid: 0, uid: -1, endpoint: 'device' };
 */
export interface DeviceCaller {
  /** Granted access: FILE_READ_ACCESS (1) | FILE_WRITE_ACCESS (2) bits. */
  access: number;
  /** Calling process id; 0 when unknown (Node exposes no SO_PEERCRED, see docs/protocol.md). */
  pid: number;
  /** Calling user id; -1 when unknown. On admin.sock it is the service's own uid (only it can connect). */
  uid: number;
  /** Which endpoint the request came through. */
  endpoint: 'device' | 'admin' | 'in-process';
}

/**
 * The result of one IOCTL, as DeviceIoControl returns it.
 *
 * @example
 * const r: IoctlResult = { status: NtStatus.STATUS_BUFFER_TOO_SMALL, information: 56, output: new Uint8Array(0) };
 */
export interface IoctlResult {
  /** NTSTATUS. */
  status: number;
  /** Bytes written to `output`, or the bytes needed when status is STATUS_BUFFER_TOO_SMALL. */
  information: number;
  /** Output bytes; only the first `information` bytes (at most the caller's output length) are sent back. */
  output: Uint8Array;
}

/**
 * A device that answers IOCTLs. Implementations must not throw for bad input: they return an
 * NTSTATUS (the service maps a thrown error to STATUS_INTERNAL_ERROR, or to a Win11MonError's status).
 *
 * @example
 * const echo: Device = {
 *   ioctl(_code, input, outputLength) {
 *     const output = input.subarray(0, outputLength);
 *     return { status: NtStatus.STATUS_SUCCESS, information: output.byteLength, output };
 *   },
 * };
 */
export interface Device {
  /**
   * @param code IOCTL code (CTL_CODE); its access bits say what the caller must have been granted.
   * @param input the input buffer (may be a view into a larger buffer: honour byteOffset/byteLength).
   * @param outputLength the caller's output buffer length.
   * @param caller who is calling and what access the endpoint granted.
   */
  ioctl(code: number, input: Uint8Array, outputLength: number, caller: DeviceCaller): IoctlResult | Promise<IoctlResult>;
}
