// win11mon_client (plan 5C): typed calls over a DeviceTransport. Every IOCTL failure becomes a
// Win11MonError WIN11MON_ERR_IOCTL_FAILED carrying the NTSTATUS (callers match on code/status).
import {
  Ioctl, NtStatus, ntStatusName, Win11MonError, decodeInterceptResponse, decodeStruct, MON_INTERCEPT_STATS, MON_OFFSET_STATUS_OUTPUT,
  MON_IORING_HANDLE_INFO, MON_INTERCEPT_POLICY_SIZE, MON_RINGBUF_CONFIG_INPUT, u32Bytes, readU32LE, writeU32LE,
} from '../abi/index.js';
import { decodePolicyBinary, decodeBlacklist, type BinaryPolicy, type BlacklistEntry } from '../engine/index.js';
import { decodeSnapshot, decodeRingStats, type DecodedSnapshot } from '../driver/telemetry/index.js';
import { decodeScanOutput, encodePostSubmit, encodeHookNotify, encodeClientEvent, MON_IORING_HANDLES_HEADER_SIZE, type PostSubmitInput, type HookNotifyInput, type ClientEventInput } from '../driver/payloads.js';
import type { IoctlResult } from '../driver/device.js';
import type { DeviceTransport } from './transport.js';

export interface IoRingHandleInfo { processId: number; handleValue: string; objectAddress: string; accessMask: number; regBuffersCount: number; violationFlags: number }

/**
 * Output room for IOCTLs whose success output is small (or nothing), so a failure's diagnostics (JSON)
 * fit: METHOD_BUFFERED returns only what the output has, so a wider buffer never changes a success.
 */
const DIAGNOSTICS_BYTES = 4096;

export class Win11MonClient {
  constructor(readonly transport: DeviceTransport) {}

  /** Sends an IOCTL and returns its output; a failure NTSTATUS throws WIN11MON_ERR_IOCTL_FAILED (with the device's error text when it sent one). */
  async call(code: number, input: Uint8Array = new Uint8Array(0), outputLength = DIAGNOSTICS_BYTES): Promise<Uint8Array> {
    const r = await this.transport.ioctl(code, input, outputLength);
    if (r.status === NtStatus.STATUS_BUFFER_TOO_SMALL && r.information > outputLength && r.information <= 16 * 1024 * 1024) {
      return this.call(code, input, r.information);
    }
    if (r.status !== NtStatus.STATUS_SUCCESS) throw ioctlError(code, r);
    return r.output;
  }

  /** IOCTL_MONITOR_INTERCEPT_VALIDATE: the decoded MON_INTERCEPT_RESPONSE (any decision is a success). */
  async validate(request: Uint8Array) {
    return decodeInterceptResponse(await this.call(Ioctl.IOCTL_MONITOR_INTERCEPT_VALIDATE!, request, 48));
  }

  async getPolicyBinary(): Promise<BinaryPolicy> {
    return decodePolicyBinary(await this.call(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_POLICY!, new Uint8Array(0), Math.max(MON_INTERCEPT_POLICY_SIZE, DIAGNOSTICS_BYTES)));
  }

  /** The full policy document with its version and hash. */
  async getPolicy(): Promise<{ version: number; hash: string; policy: Record<string, unknown> }> {
    const out = await this.call(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_POLICY!, u32Bytes(1), 64 * 1024);
    return JSON.parse(Buffer.from(out).toString('utf8'));
  }

  /** Sets a policy document (YAML or JSON text) or a 28-byte binary policy. Needs the admin endpoint. */
  async setPolicy(doc: string | Uint8Array): Promise<void> {
    await this.call(Ioctl.IOCTL_MONITOR_INTERCEPT_SET_POLICY!, typeof doc === 'string' ? new Uint8Array(Buffer.from(doc, 'utf8')) : doc);
  }

  async setEnabled(enabled: boolean): Promise<void> {
    await this.call(Ioctl.IOCTL_MONITOR_INTERCEPT_ENABLE!, u32Bytes(enabled ? 1 : 0));
  }

  /** MON_INTERCEPT_STATS decoded (64-bit counters as hex strings per decodeStruct), plus the raw bytes (with win11mon's extension). */
  async getStats(): Promise<{ stats: Record<string, unknown>; raw: Uint8Array }> {
    const raw = await this.call(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_STATS!, new Uint8Array(0), 64 * 1024);
    return { stats: decodeStruct(MON_INTERCEPT_STATS, raw.subarray(0, MON_INTERCEPT_STATS.size)), raw };
  }

  async resetStats(): Promise<void> {
    await this.call(Ioctl.IOCTL_MONITOR_INTERCEPT_RESET_STATS!, new Uint8Array(0));
  }

  /** Events from `cursor` (sequence number; 1 = the oldest the ring holds), at most `maxBytes` of records. */
  async readEvents(cursor: number, maxBytes = 256 * 1024): Promise<DecodedSnapshot> {
    const input = new Uint8Array(8);
    const dv = new DataView(input.buffer);
    dv.setUint32(0, cursor % 0x100000000, true);
    dv.setUint32(4, Math.floor(cursor / 0x100000000), true);
    return decodeSnapshot(await this.call(Ioctl.IOCTL_MONITOR_RINGBUF_SNAPSHOT!, input, maxBytes), cursor);
  }

  async ringStats() {
    return decodeRingStats(await this.call(Ioctl.IOCTL_MONITOR_RINGBUF_GET_STATS!, new Uint8Array(0)));
  }

  /**
   * IOCTL_MONITOR_RINGBUF_CONFIGURE: the telemetry ring size (bytes; 0 = the default 1 MiB) the service
   * uses from its next start. Returns the size that will apply (rounded down to whole 256-byte slots,
   * a power of two of them). Needs the admin endpoint; out of 64 KiB..16 MiB throws WIN11MON_ERR_IOCTL_FAILED.
   */
  async configureRing(bufferSizeBytes: number): Promise<number> {
    const input = new Uint8Array(MON_RINGBUF_CONFIG_INPUT.size);
    writeU32LE(input, 0, MON_RINGBUF_CONFIG_INPUT.size);
    writeU32LE(input, 4, bufferSizeBytes);
    writeU32LE(input, 8, 0);
    // The default output length, not 4: a refusal's JSON diagnostics must fit (a success returns 4 bytes).
    const out = await this.call(Ioctl.IOCTL_MONITOR_RINGBUF_CONFIGURE!, input);
    if (out.byteLength < 4) throw new Win11MonError('WIN11MON_ERR_TRUNCATED', `IOCTL_MONITOR_RINGBUF_CONFIGURE returned ${out.byteLength} bytes, expected 4`, { field: 'output', expected: 4, actual: out.byteLength });
    return readU32LE(out, 0);
  }

  /** A1 + A2 now. Needs the admin endpoint. */
  async scanNow() {
    return decodeScanOutput(await this.call(Ioctl.IOCTL_MONITOR_SCAN_NOW!, new Uint8Array(0)));
  }

  async ioRingHandles(): Promise<IoRingHandleInfo[]> {
    const out = await this.call(Ioctl.IOCTL_MONITOR_GET_IORING_HANDLES!, new Uint8Array(0), 64 * 1024);
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const n = dv.getUint32(4, true);
    const rows: IoRingHandleInfo[] = [];
    for (let i = 0; i < n; i++) {
      const d = decodeStruct(MON_IORING_HANDLE_INFO, out, MON_IORING_HANDLES_HEADER_SIZE + i * MON_IORING_HANDLE_INFO.size) as Record<string, unknown>;
      rows.push({
        processId: d.ProcessId as number, handleValue: d.HandleValue as string, objectAddress: d.ObjectAddress as string,
        accessMask: d.AccessMask as number, regBuffersCount: d.RegBuffersCount as number, violationFlags: d.ViolationFlags as number,
      });
    }
    return rows;
  }

  async offsetStatus() {
    return decodeStruct(MON_OFFSET_STATUS_OUTPUT, await this.call(Ioctl.IOCTL_MONITOR_GET_OFFSET_STATUS!, new Uint8Array(0)));
  }

  async blacklist(): Promise<BlacklistEntry[]> {
    return decodeBlacklist(await this.call(Ioctl.IOCTL_MONITOR_INTERCEPT_GET_BL!, new Uint8Array(0), 64 * 208));
  }

  async postSubmit(p: PostSubmitInput): Promise<void> {
    await this.call(Ioctl.IOCTL_MONITOR_INTERCEPT_POST_SUBMIT!, encodePostSubmit(p));
  }

  async hookNotify(p: HookNotifyInput): Promise<void> {
    await this.call(Ioctl.IOCTL_MONITOR_HOOK_NOTIFY!, encodeHookNotify(p));
  }

  async clientEvent(p: ClientEventInput): Promise<void> {
    await this.call(Ioctl.IOCTL_MONITOR_CLIENT_EVENT!, encodeClientEvent(p));
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

function ioctlError(code: number, r: IoctlResult): Win11MonError {
  let detail = '';
  if (r.output.byteLength > 0) {
    const text = Buffer.from(r.output.buffer, r.output.byteOffset, r.output.byteLength).toString('utf8');
    detail = text.length > 2000 ? text.slice(0, 2000) + '…' : text;
  }
  const name = Object.entries(Ioctl).find(([, v]) => v === code)?.[0] ?? `0x${code.toString(16)}`;
  return new Win11MonError('WIN11MON_ERR_IOCTL_FAILED', `${name} failed with ${ntStatusName(r.status)}${detail ? `: ${detail}` : ''}`, { field: name, actual: ntStatusName(r.status) }, { status: r.status });
}
