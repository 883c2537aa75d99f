// Process blacklist: the runtime table the driver's IOCTLs manage (ADD_BL / REMOVE_BL / GET_BL, at
// most MON_INTERCEPT_MAX_BLACKLIST pids) plus the policy document's pids and image name/path globs.
import { InterceptReason, MON_BLACKLIST_ENTRY_SIZE, MON_INTERCEPT_MAX_BLACKLIST, MON_NO_OP_INDEX } from '../../abi/monitor.js';
import { NtStatus } from '../../abi/ntstatus.js';
import { ViolationFlags as VF, type ViolationSink } from '../types.js';

export interface BlacklistEntry {
  processId: number;
  /** Image name, at most 63 UTF-16 units on the wire (MON_BLACKLIST_ENTRY.ProcessName WCHAR[64]). */
  processName: string;
  /** At most 63 ASCII characters on the wire (CHAR[64]). */
  reason: string;
  /** FILETIME (100 ns since 1601), supplied by the caller: the engine reads no clock. */
  addedTime: bigint;
}

/** The runtime pid blacklist (IOCTL-managed). */
export class RuntimeBlacklist {
  private readonly byPid = new Map<number, BlacklistEntry>();
  /** Bumped on every change (per-process caches do not depend on it: pid lookups are direct). */
  generation = 0;

  /** STATUS_SUCCESS (added or updated), STATUS_INVALID_PARAMETER (pid 0), STATUS_INSUFFICIENT_RESOURCES (64 entries). */
  add(e: BlacklistEntry): number {
    const pid = e.processId >>> 0;
    if (pid === 0) return NtStatus.STATUS_INVALID_PARAMETER;
    if (!this.byPid.has(pid) && this.byPid.size >= MON_INTERCEPT_MAX_BLACKLIST) return NtStatus.STATUS_INSUFFICIENT_RESOURCES;
    this.byPid.set(pid, { processId: pid, processName: e.processName.slice(0, 63), reason: e.reason.slice(0, 63), addedTime: e.addedTime });
    this.generation++;
    return NtStatus.STATUS_SUCCESS;
  }

  /** STATUS_SUCCESS or STATUS_NOT_FOUND. */
  remove(pid: number): number {
    if (!this.byPid.delete(pid >>> 0)) return NtStatus.STATUS_NOT_FOUND;
    this.generation++;
    return NtStatus.STATUS_SUCCESS;
  }

  has(pid: number): boolean {
    return this.byPid.has(pid);
  }

  get size(): number {
    return this.byPid.size;
  }

  list(): BlacklistEntry[] {
    return [...this.byPid.values()];
  }

  clear(): void {
    this.byPid.clear();
    this.generation++;
  }

  /** The IOCTL_MONITOR_INTERCEPT_GET_BL payload: size entries of MON_BLACKLIST_ENTRY (208 bytes each). */
  encode(): Uint8Array {
    const list = this.list();
    const out = new Uint8Array(list.length * MON_BLACKLIST_ENTRY_SIZE);
    const dv = new DataView(out.buffer);
    list.forEach((e, i) => {
      const o = i * MON_BLACKLIST_ENTRY_SIZE;
      dv.setUint32(o, e.processId, true);
      dv.setUint32(o + 4, 0, true);
      dv.setUint32(o + 8, Number(e.addedTime & 0xffffffffn), true);
      dv.setUint32(o + 12, Number((e.addedTime >> 32n) & 0xffffffffn), true);
      for (let k = 0; k < 63 && k < e.processName.length; k++) dv.setUint16(o + 16 + k * 2, e.processName.charCodeAt(k), true);
      for (let k = 0; k < 63 && k < e.reason.length; k++) dv.setUint8(o + 144 + k, e.reason.charCodeAt(k) & 0x7f);
    });
    return out;
  }
}

/** Decodes a MON_BLACKLIST_ENTRY array (for tests and the CLI). */
export function decodeBlacklist(bytes: Uint8Array): BlacklistEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BlacklistEntry[] = [];
  for (let o = 0; o + MON_BLACKLIST_ENTRY_SIZE <= bytes.byteLength; o += MON_BLACKLIST_ENTRY_SIZE) {
    const pid = dv.getUint32(o, true);
    if (pid === 0) continue;
    let name = '';
    for (let k = 0; k < 64; k++) { const c = dv.getUint16(o + 16 + k * 2, true); if (c === 0) break; name += String.fromCharCode(c); }
    let reason = '';
    for (let k = 0; k < 64; k++) { const c = dv.getUint8(o + 144 + k); if (c === 0) break; reason += String.fromCharCode(c); }
    out.push({ processId: pid, processName: name, reason, addedTime: (BigInt(dv.getUint32(o + 12, true)) << 32n) | BigInt(dv.getUint32(o + 8, true)) });
  }
  return out;
}

/**
 * The check. `pidListed` = in the runtime table or the policy's pids; `patternIndex` = the first
 * matching image pattern (cached per process), or -1. Returns the sink's "stop".
 */
export function checkBlacklist(pidListed: boolean, patternIndex: number, mode: number, sink: ViolationSink): boolean {
  if (!pidListed && patternIndex < 0) return false;
  const f = (pidListed ? VF.BLACKLIST_PID : 0) | (patternIndex >= 0 ? VF.BLACKLIST_IMAGE : 0);
  return sink.hit('blacklist', mode, InterceptReason.ProcessBlacklisted, MON_NO_OP_INDEX, patternIndex, f, 0, 0, 0, 0);
}
