// The win11mon service: exposes a Device over two local sockets. device.sock (mode 0666) grants
// FILE_READ_ACCESS to anyone; admin.sock (mode 0600, the service user only) grants read + write.
// Access comes from which socket file a client could open, as CreateFile access checks do on
// Windows: Node has no SO_PEERCRED API, so the kernel's filesystem permission check on connect(2)
// is the authentication. On Windows the two endpoints are named pipes (endpointPaths) and the
// pipes' DACLs do the same: the device pipe is opened to everyone (readableAll/writableAll), the
// admin pipe keeps the default DACL (the service's user, Administrators, SYSTEM; others may open
// it for reading only, which sends nothing). See docs/protocol.md "Endpoints and access".
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { FILE_READ_ACCESS, FILE_WRITE_ACCESS, NtStatus, Win11MonError, ioctlAccess, isWin11MonError } from '../abi/index.js';
import type { Device, DeviceCaller, IoctlResult } from '../driver/device.js';
import { endpointPaths } from './paths.js';
import { CONNECTION_ERROR_ID, FRAME_HEADER_SIZE, FrameDecoder, MAX_FRAME_DATA, encodeFrameInto, encodeResponse, type Frame } from './framing.js';

/** Requests one connection may have in flight before the service stops reading from it. */
export const MAX_IN_FLIGHT_PER_CONNECTION = 256;

/** Options of startService. */
export interface ServiceOptions {
  /**
   * Directory for device.sock and admin.sock; created 0755 if missing; must be ours and not
   * world-writable. On Windows only a name, carried into the pipe names (endpointPaths).
   */
  socketDir: string;
  device: Device;
  /** Max requests in flight per connection (default MAX_IN_FLIGHT_PER_CONNECTION). */
  maxInFlight?: number;
  /** Called for connection-level protocol errors (bad frames); default ignores them. */
  onProtocolError?: (endpoint: 'device' | 'admin', error: Win11MonError) => void;
}

/** A running service. */
export interface ServiceHandle {
  readonly socketDir: string;
  readonly devicePath: string;
  readonly adminPath: string;
  /** Open connections right now. */
  connectionCount(): number;
  /** Stops accepting, closes every connection, removes the socket files. Idempotent. */
  close(): Promise<void>;
}

function checkSocketDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const st = lstatSync(dir);
  const uid = process.getuid?.() ?? 0;
  // A directory someone else can write to lets them unlink our socket and bind their own in its
  // place (clients would then hand their requests, policies included, to an impostor) or plant a
  // symlink where we bind. A directory owned by someone else can be made writable at any time.
  if (!st.isDirectory()) throw new Win11MonError('WIN11MON_ERR_SOCKET_DIR_UNSAFE', `socket dir ${dir} is not a directory (symlinks are refused)`, { field: 'socketDir', actual: dir });
  if (st.uid !== uid) throw new Win11MonError('WIN11MON_ERR_SOCKET_DIR_UNSAFE', `socket dir ${dir} is owned by uid ${st.uid}, not the service user ${uid}`, { field: 'socketDir', expected: uid, actual: st.uid });
  if (st.mode & 0o002) throw new Win11MonError('WIN11MON_ERR_SOCKET_DIR_UNSAFE', `socket dir ${dir} is world-writable (mode ${(st.mode & 0o7777).toString(8)})`, { field: 'socketDir', actual: (st.mode & 0o7777).toString(8) });
}

/** Removes a stale socket left by a crash; refuses if a live service answers there. */
async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try { st = lstatSync(path); } catch { return; }
  if (!st.isSocket()) throw new Win11MonError('WIN11MON_ERR_SOCKET_DIR_UNSAFE', `${path} exists and is not a socket; not removing it`, { field: 'socketPath', actual: path });
  const live = await new Promise<boolean>((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.destroy();
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(false);
      else reject(new Win11MonError('WIN11MON_ERR_SOCKET_DIR_UNSAFE', `cannot probe ${path}: ${e.code ?? e.message}`, { field: 'socketPath', actual: e.code }, { cause: e }));
    });
  });
  if (live) throw new Win11MonError('WIN11MON_ERR_SERVICE_RUNNING', `another win11mon service is listening on ${path}`, { field: 'socketPath', actual: path });
  try { unlinkSync(path); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
}

function listen(server: Server, path: string, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    // bind(2) creates the socket file with 0777 & ~umask; a restrictive umask around the bind
    // means it never exists with more access than `mode`, even before the chmod below.
    const old = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', onError);
        try { chmodSync(path, mode); resolve(); } catch (e) { reject(e); }
      });
    } finally {
      process.umask(old);
    }
  });
}

/**
 * Windows: listens on a named pipe. libuv creates its first instance with
 * FILE_FLAG_FIRST_PIPE_INSTANCE, so a pipe someone already holds (another service, or a squatter
 * waiting for clients) fails instead of being shared: refused, never joined. CreateNamedPipe reports
 * that as ERROR_ACCESS_DENIED, which libuv turns into EADDRINUSE; EACCES is taken the same way.
 * Exported for its test, which runs it on a Unix socket (same listen options, same EADDRINUSE).
 */
export function listenPipe(server: Server, path: string, everyone: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(e.code === 'EADDRINUSE' || e.code === 'EACCES'
        ? new Win11MonError('WIN11MON_ERR_SERVICE_RUNNING', `another process holds the pipe ${path} (another win11mon service, or a squatter): not sharing it`, { field: 'socketPath', actual: path }, { cause: e })
        : e);
    };
    server.once('error', onError);
    server.listen({ path, readableAll: everyone, writableAll: everyone }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

const toError = (e: unknown): Win11MonError | undefined => (isWin11MonError(e) ? e : undefined);

/** Bytes of a connection's answer batch buffer; a larger answer is written on its own. */
const BATCH_BYTES = 8 * 1024;

/** The output of answers that carry none (zero-length: nothing can be written into it). */
const NO_BYTES = new Uint8Array(0);

/**
 * Starts the service. Rejects with WIN11MON_ERR_SOCKET_DIR_UNSAFE for an unsafe directory, and
 * WIN11MON_ERR_SERVICE_RUNNING ("another win11mon service is listening on …") when one is running.
 *
 * @example
 * const svc = await startService({ socketDir: '/run/win11mon', device });
 * installSignalHandlers(svc, () => process.exit(0));
 */
export async function startService(opts: ServiceOptions): Promise<ServiceHandle> {
  const dir = opts.socketDir;
  const paths = endpointPaths(dir);
  const devicePath = paths.device;
  const adminPath = paths.admin;
  const files = paths.kind === 'unix';
  if (files) {
    checkSocketDir(dir);
    await clearStaleSocket(devicePath);
    await clearStaleSocket(adminPath);
  }
  const maxInFlight = opts.maxInFlight ?? MAX_IN_FLIGHT_PER_CONNECTION;
  const sockets = new Set<Socket>();
  const uid = process.getuid?.() ?? -1;

  const handle = (socket: Socket, endpoint: 'device' | 'admin'): void => {
    sockets.add(socket);
    const caller: DeviceCaller = {
      access: endpoint === 'admin' ? FILE_READ_ACCESS | FILE_WRITE_ACCESS : FILE_READ_ACCESS,
      pid: 0,
      uid: endpoint === 'admin' ? uid : -1,
      endpoint,
    };
    let inFlight = 0;
    let paused = false;
    let failed = false;
    const send = (id: number, r: IoctlResult, outputLength: number): void => {
      if (socket.destroyed || failed) return;
      const n = Math.max(0, Math.min(r.information >>> 0, r.output.byteLength, outputLength));
      // information is "bytes needed" for STATUS_BUFFER_TOO_SMALL: pass it through, send no bytes.
      const out = r.status === NtStatus.STATUS_BUFFER_TOO_SMALL ? NO_BYTES : n === r.output.byteLength ? r.output : r.output.subarray(0, n);
      const information = r.status === NtStatus.STATUS_BUFFER_TOO_SMALL ? r.information : out.byteLength;
      const size = FRAME_HEADER_SIZE + out.byteLength;
      if (!batching || size > BATCH_BYTES) {
        if (batching) writeBatch(); // keep the order: what is batched goes first
        socket.write(encodeResponse(id, r.status, information, out));
        return;
      }
      if (batchUsed + size > BATCH_BYTES) writeBatch();
      batchBuf ??= new Uint8Array(BATCH_BYTES);
      batchUsed += encodeFrameInto(batchBuf, batchUsed, id, r.status, information, out);
    };
    // Responses produced while one received chunk is decoded (synchronous devices answer at once)
    // are encoded one after another into a buffer and written together after it: one write. The
    // buffer is reused while the kernel takes each write whole (writableLength back at 0);
    // a write that had to queue keeps it, and the next batch gets a new one.
    let batching = false;
    let batchBuf: Uint8Array | undefined;
    let batchUsed = 0;
    const writeBatch = (): void => {
      if (batchUsed === 0) return;
      const n = batchUsed;
      batchUsed = 0;
      if (socket.destroyed) return;
      socket.write(batchBuf!.subarray(0, n));
      if (socket.writableLength > 0) batchBuf = undefined;
    };
    const flushBatch = (): void => {
      batching = false;
      writeBatch();
    };
    const done = (): void => {
      inFlight--;
      if (paused && inFlight < maxInFlight) { paused = false; socket.resume(); }
    };
    const onFrame = (f: Frame): void => {
      const id = f.id, code = f.a, outputLength = f.b;
      if (ioctlAccess(code) & FILE_WRITE_ACCESS && !(caller.access & FILE_WRITE_ACCESS)) {
        send(id, { status: NtStatus.STATUS_ACCESS_DENIED, information: 0, output: NO_BYTES }, 0);
        return;
      }
      if (outputLength > MAX_FRAME_DATA) {
        send(id, { status: NtStatus.STATUS_INVALID_PARAMETER, information: 0, output: NO_BYTES }, 0);
        return;
      }
      // A view into the received chunk, not a copy: Node gives every 'data' chunk its own memory and
      // never reuses it, so an asynchronous device may keep the view until it answers.
      const input = f.data;
      inFlight++;
      if (inFlight >= maxInFlight && !paused) { paused = true; socket.pause(); }
      let result: IoctlResult | Promise<IoctlResult>;
      try {
        result = opts.device.ioctl(code, input, outputLength, caller);
      } catch (e) {
        send(id, { status: toError(e)?.status ?? NtStatus.STATUS_INTERNAL_ERROR, information: 0, output: NO_BYTES }, 0);
        done();
        return;
      }
      if (result instanceof Promise) {
        result.then((r) => send(id, r, outputLength), (e: unknown) => send(id, { status: toError(e)?.status ?? NtStatus.STATUS_INTERNAL_ERROR, information: 0, output: NO_BYTES }, 0)).finally(done);
      } else {
        send(id, result, outputLength);
        done();
      }
    };
    const decoder = new FrameDecoder(onFrame);
    socket.on('data', (chunk: Buffer) => {
      if (failed) return;
      batching = true;
      try {
        decoder.push(chunk);
      } catch (e) {
        const err = toError(e);
        if (!err) throw e;
        // The stream can no longer be framed: answer with id 0 and close this connection only.
        flushBatch(); // the answers to the frames before the bad one still go out, in order
        socket.write(encodeResponse(CONNECTION_ERROR_ID, NtStatus.STATUS_INVALID_PARAMETER, 0, NO_BYTES));
        failed = true;
        socket.end();
        opts.onProtocolError?.(endpoint, err);
      } finally {
        flushBatch();
      }
    });
    socket.on('error', () => { /* peer reset: nothing to answer */ });
    socket.on('close', () => { sockets.delete(socket); });
  };

  const deviceServer = createServer({ pauseOnConnect: false }, (s) => handle(s, 'device'));
  const adminServer = createServer({ pauseOnConnect: false }, (s) => handle(s, 'admin'));
  await (files ? listen(deviceServer, devicePath, 0o666) : listenPipe(deviceServer, devicePath, true));
  try {
    await (files ? listen(adminServer, adminPath, 0o600) : listenPipe(adminServer, adminPath, false));
  } catch (e) {
    await new Promise<void>((r) => deviceServer.close(() => r()));
    throw e;
  }
  const inodes = files ? new Map([[devicePath, statSync(devicePath).ino], [adminPath, statSync(adminPath).ino]]) : new Map<string, number>();

  let closing: Promise<void> | undefined;
  return {
    socketDir: dir,
    devicePath,
    adminPath,
    connectionCount: () => sockets.size,
    close(): Promise<void> {
      closing ??= (async () => {
        const closed = Promise.all([deviceServer, adminServer].map((s) => new Promise<void>((r) => s.close(() => r()))));
        for (const s of sockets) s.destroy();
        await closed;
        // Node unlinks a listening Unix socket on close; make sure, but never remove a file that
        // another process bound after us (a different inode).
        for (const [p, ino] of inodes) {
          try { if (lstatSync(p).ino === ino) unlinkSync(p); } catch { /* already gone */ }
        }
      })();
      return closing;
    },
  };
}

/**
 * Closes the service on SIGINT/SIGTERM, then calls `onStop(signal)` (e.g. to exit). Returns a
 * function that removes the handlers.
 *
 * @example
 * const uninstall = installSignalHandlers(svc, (sig) => process.exit(sig === 'SIGINT' ? 130 : 143));
 */
export function installSignalHandlers(handle: ServiceHandle, onStop: (signal: NodeJS.Signals) => void): () => void {
  const on = (signal: NodeJS.Signals): void => {
    uninstall();
    handle.close().then(() => onStop(signal), () => onStop(signal));
  };
  const uninstall = (): void => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return uninstall;
}
