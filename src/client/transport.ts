// One interface, two transports (plan 5C): the device in this process, or the service over its
// socket. Everything above (client, hook, CLI) is written against DeviceTransport only.
import type { Device, DeviceCaller, IoctlResult } from '../driver/device.js';
import { FILE_READ_ACCESS, FILE_WRITE_ACCESS } from '../abi/index.js';
import { connectSocketTransport } from './socket-transport.js';
import { endpointPaths } from '../service/paths.js';

export interface DeviceTransport {
  /** Sends one IOCTL; resolves with the device's result (a failure NTSTATUS is a result, not a rejection). */
  ioctl(code: number, input: Uint8Array, outputLength: number): Promise<IoctlResult>;
  /** Releases the connection; pending requests reject with WIN11MON_ERR_NOT_CONNECTED. */
  close(): Promise<void>;
  /** 'in-process' or the socket path. */
  readonly description: string;
}

/** The device in this process, called as a given caller (the in-process analogue of CreateFile access). */
export function inProcessTransport(device: Device, opts: { write?: boolean; pid?: number } = {}): DeviceTransport {
  const caller: DeviceCaller = {
    access: FILE_READ_ACCESS | (opts.write === false ? 0 : FILE_WRITE_ACCESS),
    pid: opts.pid ?? process.pid,
    uid: process.getuid?.() ?? -1,
    endpoint: 'in-process',
  };
  let closed = false;
  return {
    description: 'in-process',
    async ioctl(code, input, outputLength) {
      if (closed) throw notConnected('in-process transport is closed');
      return device.ioctl(code, input, outputLength, caller);
    },
    async close() { closed = true; },
  };
}

/**
 * Connects to a running service: the admin endpoint (read + write) or the device endpoint (read
 * only), `DIR/admin.sock` / `DIR/device.sock` (named pipes on Windows: endpointPaths).
 */
export async function socketTransport(socketDir: string, opts: { admin?: boolean; timeoutMs?: number } = {}): Promise<DeviceTransport> {
  const endpoints = endpointPaths(socketDir);
  const path = opts.admin ? endpoints.admin : endpoints.device;
  const t = await connectSocketTransport(path, { timeoutMs: opts.timeoutMs ?? 5000 });
  return { description: path, ioctl: (c, i, o) => t.ioctl(c, i, o), close: () => t.close() };
}

import { Win11MonError } from '../abi/index.js';
function notConnected(msg: string): Win11MonError {
  return new Win11MonError('WIN11MON_ERR_NOT_CONNECTED', msg);
}
