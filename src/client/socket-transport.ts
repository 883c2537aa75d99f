// The client side of the service socket: sends IOCTL request frames over device.sock or
// admin.sock and matches response frames to requests by id, many in flight at once.
import { createConnection, type Socket } from 'node:net';
import { Win11MonError, ntStatusName } from '../abi/index.js';
import type { IoctlResult } from '../driver/device.js';
import { CONNECTION_ERROR_ID, FRAME_HEADER_SIZE, FrameDecoder, MAX_FRAME_DATA, encodeFrameInto, encodeRequest, type Frame } from '../service/framing.js';

/** Options of connectSocketTransport. */
export interface SocketTransportOptions {
  /** Per-request timeout (default 5000 ms); a late answer is ignored. Also bounds the connect. */
  timeoutMs?: number;
}

/** An open connection to the service. */
export interface SocketTransport {
  /** Sends one IOCTL; resolves with the device's result (failure NTSTATUS included), rejects with
   * WIN11MON_ERR_TIMEOUT, WIN11MON_ERR_NOT_CONNECTED or WIN11MON_ERR_FRAME_TOO_LARGE. */
  ioctl(code: number, input: Uint8Array, outputLength: number): Promise<IoctlResult>;
  /** Requests awaiting an answer. */
  readonly pendingCount: number;
  /** Rejects pending requests with WIN11MON_ERR_NOT_CONNECTED and closes the socket; removes every listener and timer. */
  close(): Promise<void>;
}

/** Bytes of the send buffer each connection reuses for frames that fit. */
const SEND_BUFFER_BYTES = 16 * 1024;

interface Pending { resolve: (r: IoctlResult) => void; reject: (e: Error) => void; deadline: number; code: number }

/**
 * Connects to a service socket.
 *
 * @example
 * const t = await connectSocketTransport('/run/win11mon/device.sock', { timeoutMs: 2000 });
 * const r = await t.ioctl(IOCTL_MONITOR_INTERCEPT_GET_STATS, new Uint8Array(0), 152);
 * await t.close();
 */
export async function connectSocketTransport(socketPath: string, opts: SocketTransportOptions = {}): Promise<SocketTransport> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  // Responses are read into one reused buffer (`onread`): no stream 'data' machinery or chunk
  // allocation per response. The decoder copies what it keeps past a read (a partial frame).
  let onChunk: (buffer: Uint8Array, length: number) => void = () => {};
  const readBuffer = new Uint8Array(64 * 1024);
  const sendBuffer = new Uint8Array(SEND_BUFFER_BYTES);
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = createConnection({ path: socketPath, onread: { buffer: readBuffer, callback: (n: number) => { onChunk(readBuffer, n); return true; } } });
    const timer = setTimeout(() => { s.destroy(); reject(new Win11MonError('WIN11MON_ERR_TIMEOUT', `connecting to ${socketPath} timed out after ${timeoutMs} ms`, { field: 'socketPath', actual: socketPath })); }, timeoutMs);
    s.once('connect', () => { clearTimeout(timer); s.removeAllListeners('error'); resolve(s); });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Win11MonError('WIN11MON_ERR_NOT_CONNECTED', `cannot connect to ${socketPath}: ${e.code ?? e.message}`, { field: 'socketPath', actual: e.code ?? e.message }, { cause: e }));
    });
  });

  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closedError: Win11MonError | undefined;
  let closedPromise: Promise<void> | undefined;

  // One sweep timer per connection instead of a setTimeout/clearTimeout pair per request (a timer
  // per request costs more than the rest of the client's work). Requests are in the Map in issue
  // order, so the sweep stops at the first one still within its deadline. A late answer is ignored.
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    const now = performance.now();
    for (const [id, p] of pending) {
      if (p.deadline > now) break;
      pending.delete(id);
      p.reject(new Win11MonError('WIN11MON_ERR_TIMEOUT', `IOCTL 0x${(p.code >>> 0).toString(16)} got no answer in ${timeoutMs} ms`, { field: 'timeoutMs', expected: timeoutMs }));
    }
    if (pending.size === 0 && sweeper) { clearInterval(sweeper); sweeper = undefined; }
  };
  const armSweeper = (): void => {
    if (sweeper) return;
    sweeper = setInterval(sweep, Math.max(5, Math.min(250, Math.floor(timeoutMs / 4))));
    sweeper.unref();
  };
  const failAll = (e: Win11MonError): void => {
    closedError ??= e;
    for (const [id, p] of pending) { pending.delete(id); p.reject(e); }
    if (sweeper) { clearInterval(sweeper); sweeper = undefined; }
  };
  const onFrame = (f: Frame): void => {
    if (f.id === CONNECTION_ERROR_ID) {
      failAll(new Win11MonError('WIN11MON_ERR_NOT_CONNECTED', `the service closed the connection: ${ntStatusName(f.a)}`, { actual: ntStatusName(f.a) }));
      socket.destroy();
      return;
    }
    const p = pending.get(f.id);
    if (!p) return; // timed out earlier: ignore the late answer
    pending.delete(f.id);
    // A copy: f.data views the reused read buffer (and Buffer#slice would not copy: it is subarray).
    p.resolve({ status: f.a, information: f.b, output: new Uint8Array(f.data) });
  };
  const decoder = new FrameDecoder(onFrame);
  // A request issued while none is pending (the usual case: one caller waiting) is written at once.
  // Otherwise callers are concurrent: the first request of a tick is still written at once, further
  // ones in the same tick are corked and leave in one writev when the tick ends.
  let sentThisTick = false;
  let corked = false;
  const endTick = (): void => {
    sentThisTick = false;
    if (corked) { corked = false; socket.uncork(); }
  };
  onChunk = (buffer: Uint8Array, length: number): void => {
    try {
      decoder.pushTransient(buffer, length);
    } catch (e) {
      failAll(new Win11MonError('WIN11MON_ERR_NOT_CONNECTED', `bad response stream: ${(e as Error).message}`, {}, { cause: e }));
      socket.destroy();
    }
  };
  const onError = (e: Error): void => failAll(new Win11MonError('WIN11MON_ERR_NOT_CONNECTED', `connection to ${socketPath} failed: ${e.message}`, {}, { cause: e }));
  const onClose = (): void => {
    failAll(new Win11MonError('WIN11MON_ERR_NOT_CONNECTED', `connection to ${socketPath} closed`));
    onChunk = () => {};
    socket.off('error', onError);
    socket.off('close', onClose);
  };
  socket.on('error', onError);
  socket.on('close', onClose);

  return {
    get pendingCount() { return pending.size; },
    ioctl(code: number, input: Uint8Array, outputLength: number): Promise<IoctlResult> {
      if (closedError) return Promise.reject(closedError);
      if (input.byteLength > MAX_FRAME_DATA) {
        return Promise.reject(new Win11MonError('WIN11MON_ERR_FRAME_TOO_LARGE', `input of ${input.byteLength} bytes exceeds ${MAX_FRAME_DATA}`, { field: 'input', expected: MAX_FRAME_DATA, actual: input.byteLength }));
      }
      const id = nextId;
      nextId = nextId >= 0xffffffff ? 1 : nextId + 1; // 0 is the connection-error id
      return new Promise<IoctlResult>((resolve, reject) => {
        const alone = pending.size === 0;
        pending.set(id, { resolve, reject, deadline: performance.now() + timeoutMs, code });
        armSweeper();
        if (!alone) { // alone: nothing to batch with, so no tick bookkeeping on the one-caller path
          if (!sentThisTick) {
            sentThisTick = true;
            process.nextTick(endTick);
          } else if (!corked) {
            corked = true;
            socket.cork();
          }
        }
        // One reused send buffer while the socket has nothing queued: a write that the kernel took
        // whole leaves writableLength at 0, so the buffer is free again; otherwise (queued, corked,
        // too large) the frame gets its own memory.
        if (!corked && socket.writableLength === 0 && input.byteLength <= SEND_BUFFER_BYTES - FRAME_HEADER_SIZE) {
          socket.write(sendBuffer.subarray(0, encodeFrameInto(sendBuffer, 0, id, code, outputLength, input)));
        } else {
          socket.write(encodeRequest(id, code, outputLength, input));
        }
      });
    },
    close(): Promise<void> {
      closedPromise ??= new Promise<void>((resolve) => {
        failAll(new Win11MonError('WIN11MON_ERR_NOT_CONNECTED', 'transport closed'));
        if (socket.destroyed) { onClose(); resolve(); return; }
        socket.once('close', () => resolve());
        socket.end();
        socket.destroySoon();
      });
      return closedPromise;
    },
  };
}
