// CTL_CODE and the monitor's IOCTL codes, with the values and required access of the public driver
// header (ShaiKKO/FoxTwo_ include/win11_monitor_public.h: WIN11MON_IOCTL_BASE 0x800, METHOD_BUFFERED).

export const FILE_DEVICE_UNKNOWN = 0x22;
export const METHOD_BUFFERED = 0;
export const FILE_ANY_ACCESS = 0;
export const FILE_READ_ACCESS = 1;
export const FILE_WRITE_ACCESS = 2;
export const WIN11MON_IOCTL_BASE = 0x800;

/** CTL_CODE(DeviceType, Function, Method, Access) from winioctl.h. */
export function ctlCode(deviceType: number, fn: number, method: number, access: number): number {
  return ((deviceType << 16) | (access << 14) | (fn << 2) | method) >>> 0;
}

/** The required access encoded in an IOCTL code (bits 14-15). */
export function ioctlAccess(code: number): number {
  return (code >>> 14) & 3;
}

export function ioctlFunction(code: number): number {
  return (code >>> 2) & 0xfff;
}

interface IoctlDef { readonly name: string; readonly fn: number; readonly access: number; readonly summary: string }

const defs: IoctlDef[] = [
  { name: 'IOCTL_MONITOR_GET_VERSION', fn: 0x00, access: FILE_READ_ACCESS, summary: 'driver version' },
  { name: 'IOCTL_MONITOR_GET_CAPABILITIES', fn: 0x01, access: FILE_READ_ACCESS, summary: 'WIN11MON_CAP_* bits' },
  { name: 'IOCTL_MONITOR_SCAN_NOW', fn: 0x08, access: FILE_WRITE_ACCESS, summary: 'run A1 enumeration + A2 integrity now' },
  { name: 'IOCTL_MONITOR_GET_IORING_HANDLES', fn: 0x0a, access: FILE_READ_ACCESS, summary: 'A1: IoRing handles with validation status' },
  { name: 'IOCTL_MONITOR_GET_OFFSET_STATUS', fn: 0x0c, access: FILE_READ_ACCESS, summary: '5B: offset resolution status' },
  { name: 'IOCTL_MONITOR_RINGBUF_CONFIGURE', fn: 0x10, access: FILE_WRITE_ACCESS, summary: '5A: telemetry ring size, applied at the next start' },
  { name: 'IOCTL_MONITOR_RINGBUF_SNAPSHOT', fn: 0x11, access: FILE_READ_ACCESS, summary: '5A: events from a cursor' },
  { name: 'IOCTL_MONITOR_RINGBUF_GET_STATS', fn: 0x12, access: FILE_READ_ACCESS, summary: '5A: ring statistics' },
  { name: 'IOCTL_MONITOR_RINGBUF_CLEAR', fn: 0x13, access: FILE_WRITE_ACCESS, summary: '5A: clear the ring' },
  { name: 'IOCTL_MONITOR_INTERCEPT_VALIDATE', fn: 0x20, access: FILE_ANY_ACCESS, summary: 'validate one submission' },
  { name: 'IOCTL_MONITOR_INTERCEPT_SET_POLICY', fn: 0x21, access: FILE_WRITE_ACCESS, summary: 'set MON_INTERCEPT_POLICY (or a policy document)' },
  { name: 'IOCTL_MONITOR_INTERCEPT_GET_POLICY', fn: 0x22, access: FILE_READ_ACCESS, summary: 'get MON_INTERCEPT_POLICY' },
  { name: 'IOCTL_MONITOR_INTERCEPT_GET_STATS', fn: 0x23, access: FILE_READ_ACCESS, summary: 'get MON_INTERCEPT_STATS' },
  { name: 'IOCTL_MONITOR_INTERCEPT_RESET_STATS', fn: 0x24, access: FILE_WRITE_ACCESS, summary: 'zero the statistics' },
  { name: 'IOCTL_MONITOR_INTERCEPT_ENABLE', fn: 0x25, access: FILE_WRITE_ACCESS, summary: 'ULONG 0/1: disable/enable interception' },
  { name: 'IOCTL_MONITOR_INTERCEPT_ADD_BL', fn: 0x26, access: FILE_WRITE_ACCESS, summary: 'add a process to the blacklist' },
  { name: 'IOCTL_MONITOR_INTERCEPT_REMOVE_BL', fn: 0x27, access: FILE_WRITE_ACCESS, summary: 'ULONG ProcessId: remove from the blacklist' },
  { name: 'IOCTL_MONITOR_INTERCEPT_GET_BL', fn: 0x28, access: FILE_READ_ACCESS, summary: 'MON_BLACKLIST_ENTRY array' },
  // win11mon additions (0x29..0x2B are unused by the C header; its next block starts at 0x30)
  { name: 'IOCTL_MONITOR_INTERCEPT_POST_SUBMIT', fn: 0x29, access: FILE_ANY_ACCESS, summary: 'win11mon: the hook reports a submission outcome (MON_POST_SUBMIT_INPUT)' },
  { name: 'IOCTL_MONITOR_HOOK_NOTIFY', fn: 0x2a, access: FILE_ANY_ACCESS, summary: 'win11mon: the hook reports its install/removal (MON_HOOK_NOTIFY_INPUT)' },
  { name: 'IOCTL_MONITOR_CLIENT_EVENT', fn: 0x2b, access: FILE_ANY_ACCESS, summary: 'win11mon: a client reports an event it recorded locally (MON_CLIENT_EVENT_INPUT)' },
];

export type IoctlName = (typeof defs)[number]['name'];

/** IOCTL codes by name, e.g. Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE === 0x00222080. */
export const Ioctl: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(defs.map((d) => [d.name, ctlCode(FILE_DEVICE_UNKNOWN, WIN11MON_IOCTL_BASE + d.fn, METHOD_BUFFERED, d.access)])),
);

export const IOCTL_MONITOR_INTERCEPT_VALIDATE = Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!;
export const IOCTL_MONITOR_INTERCEPT_SET_POLICY = Ioctl.IOCTL_MONITOR_INTERCEPT_SET_POLICY!;
export const IOCTL_MONITOR_INTERCEPT_GET_POLICY = Ioctl.IOCTL_MONITOR_INTERCEPT_GET_POLICY!;
export const IOCTL_MONITOR_INTERCEPT_GET_STATS = Ioctl.IOCTL_MONITOR_INTERCEPT_GET_STATS!;

/** The IOCTL table, for docs/protocol.md and `win11mon` help. */
export const IOCTL_TABLE: readonly (IoctlDef & { code: number })[] = defs.map((d) => ({ ...d, code: Ioctl[d.name]! }));

const byCode = new Map(IOCTL_TABLE.map((d) => [d.code, d]));
export function ioctlName(code: number): string {
  return byCode.get(code >>> 0)?.name ?? `0x${(code >>> 0).toString(16).padStart(8, '0')}`;
}
