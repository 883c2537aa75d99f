// Socket framing for the win11mon service, shared by the server and the client transport.
// Little-endian; one request per frame; many frames in flight per connection:
//   request  = u32 length of the rest | u32 request id | u32 IOCTL code | u32 output length | input
//   response = u32 length of the rest | u32 request id | u32 NTSTATUS   | u32 bytes written | output
// Decoding is incremental: a list of chunks and a state machine. The declared length is checked
// against the maximum before anything is buffered, and chunks are concatenated only when one
// frame spans several of them (at most once per frame); frames lying whole in a chunk, with
// nothing buffered before them (the usual case), are read in place.
import { Win11MonError, readU32LE, writeU32LE } from '../abi/index.js';

/** Bytes of the length prefix. */
export const FRAME_LENGTH_SIZE = 4;
/** Fixed fields after the length: id + two u32s. A length below this is malformed. */
export const FRAME_FIXED_SIZE = 12;
/** Bytes before a frame's data: the length prefix and the fixed fields. */
export const FRAME_HEADER_SIZE = FRAME_LENGTH_SIZE + FRAME_FIXED_SIZE;
/** Largest input or output carried by one frame: 1 MiB. */
export const MAX_FRAME_DATA = 1024 * 1024;
/** Largest value of the length field: 12 + 1 MiB. */
export const MAX_FRAME_LENGTH = FRAME_FIXED_SIZE + MAX_FRAME_DATA;
/** Request id the server uses for a connection-level error response (before it closes). */
export const CONNECTION_ERROR_ID = 0;

/**
 * A decoded frame: `a`/`b` are code/output length in requests, status/bytes in responses. The
 * decoder hands every frame in the same object: read its fields during the callback.
 */
export interface Frame {
  id: number;
  a: number;
  b: number;
  /** Payload; a view into a received chunk when the frame lay inside one (copy it to keep it). */
  data: Uint8Array;
}

/** Encodes one frame (request or response) into a single buffer. */
export function encodeFrame(id: number, a: number, b: number, data: Uint8Array): Buffer {
  if (data.byteLength > MAX_FRAME_DATA) throw new Win11MonError('WIN11MON_ERR_FRAME_TOO_LARGE', `frame data of ${data.byteLength} bytes exceeds ${MAX_FRAME_DATA}`, { field: 'length', expected: MAX_FRAME_LENGTH, actual: FRAME_FIXED_SIZE + data.byteLength });
  const out = Buffer.allocUnsafe(FRAME_HEADER_SIZE + data.byteLength);
  encodeFrameInto(out, 0, id, a, b, data);
  return out;
}

/**
 * Encodes one frame into `out` at byte `at` (room for 16 + data bytes needed) and returns its byte
 * length: for senders that reuse one buffer (the socket client, the service's answer batches).
 */
export function encodeFrameInto(out: Uint8Array, at: number, id: number, a: number, b: number, data: Uint8Array): number {
  const size = FRAME_HEADER_SIZE + data.byteLength;
  if (data.byteLength > MAX_FRAME_DATA || out.byteLength - at < size) throw new Win11MonError('WIN11MON_ERR_FRAME_TOO_LARGE', `frame of ${size} bytes does not fit (room ${out.byteLength - at}, data maximum ${MAX_FRAME_DATA})`, { field: 'length', expected: Math.min(out.byteLength - at, FRAME_LENGTH_SIZE + MAX_FRAME_LENGTH), actual: size });
  writeU32LE(out, at, FRAME_FIXED_SIZE + data.byteLength);
  writeU32LE(out, at + 4, id >>> 0);
  writeU32LE(out, at + 8, a >>> 0);
  writeU32LE(out, at + 12, b >>> 0);
  out.set(data, at + 16);
  return size;
}

/** Request frame: id, IOCTL code, output buffer length, input. */
export function encodeRequest(id: number, code: number, outputLength: number, input: Uint8Array): Buffer {
  return encodeFrame(id, code, outputLength, input);
}

/** Response frame: id, NTSTATUS, bytes written (or needed), output. */
export function encodeResponse(id: number, status: number, information: number, output: Uint8Array): Buffer {
  return encodeFrame(id, status, information, output);
}

const enum State { Length, Body, Failed }

const EMPTY = new Uint8Array(0);

/**
 * Incremental frame decoder. `push` every received chunk; complete frames are handed to `onFrame`
 * in order. A frame declaring a length above `maxLength` (WIN11MON_ERR_FRAME_TOO_LARGE) or below 12
 * (WIN11MON_ERR_FRAME_MALFORMED) makes `push` throw that typed error; the decoder then stays
 * failed (the connection must be closed: its byte stream can no longer be trusted).
 *
 * @example
 * const d = new FrameDecoder((f) => console.log(f.id, f.a, f.b, f.data.byteLength));
 * socket.on('data', (chunk) => d.push(chunk));
 */
export class FrameDecoder {
  private readonly chunks: Uint8Array[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  private buffered = 0; // unconsumed bytes across chunks
  private state = State.Length;
  private need = 0; // body length of the current frame
  private failure: Win11MonError | undefined;
  private readonly lenBytes = new Uint8Array(4);
  /** The one Frame handed to onFrame (its fields are valid during the callback). */
  private readonly frame: Frame = { id: 0, a: 0, b: 0, data: EMPTY };

  constructor(private readonly onFrame: (frame: Frame) => void, private readonly maxLength = MAX_FRAME_LENGTH) {}

  /** Unconsumed bytes held (a partial frame). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Like push, for the first `length` bytes of a buffer the caller reuses after this call (a socket's
   * static `onread` buffer): the Frame and its data view handed to onFrame are valid during the
   * callback only (copy what you keep), and the bytes of a partial frame left over are copied before
   * returning. Errors are the same as push's, for the same bytes.
   */
  pushTransient(buffer: Uint8Array, length = buffer.byteLength): void {
    const o = this.decodeInPlace(buffer, length);
    if (o === length) return;
    if (o > 0 || length !== buffer.byteLength) buffer = buffer.subarray(o, length);
    const chunk = buffer;
    try {
      this.pushGeneral(chunk);
    } finally {
      const last = this.chunks.length - 1;
      if (last >= 0 && this.chunks[last] === chunk) {
        // Copies made with the Uint8Array constructor: the chunk is usually a Buffer, whose slice()
        // is subarray() and would keep the caller's reused memory.
        if (last === 0) {
          this.chunks[0] = new Uint8Array(chunk.subarray(this.head));
          this.head = 0;
        } else {
          this.chunks[last] = new Uint8Array(chunk);
        }
      }
    }
  }

  push(chunk: Uint8Array): void {
    const o = this.decodeInPlace(chunk, chunk.byteLength);
    if (o === chunk.byteLength) return;
    if (o > 0) chunk = chunk.subarray(o);
    this.pushGeneral(chunk);
  }

  /**
   * The usual case, nothing held from earlier chunks and whole frames in this one: decodes them in
   * place (one reused Frame, one plain view per frame) and returns the offset where it stopped — at
   * the end, or at a partial or malformed frame that the general path then buffers or reports.
   */
  private decodeInPlace(buffer: Uint8Array, length: number): number {
    if (this.buffered !== 0 || this.failure !== undefined || this.state !== State.Length) return 0;
    const frame = this.frame;
    let o = 0;
    while (length - o >= FRAME_LENGTH_SIZE) {
      const len = readU32LE(buffer, o);
      if (len > this.maxLength || len < FRAME_FIXED_SIZE || length - o - FRAME_LENGTH_SIZE < len) break;
      const body = o + FRAME_LENGTH_SIZE;
      frame.id = readU32LE(buffer, body);
      frame.a = readU32LE(buffer, body + 4);
      frame.b = readU32LE(buffer, body + 8);
      frame.data = new Uint8Array(buffer.buffer, buffer.byteOffset + body + FRAME_FIXED_SIZE, len - FRAME_FIXED_SIZE);
      o = body + len;
      this.onFrame(frame); // (onFrame must not push into this decoder: neither path supports re-entry)
    }
    frame.data = EMPTY;
    return o;
  }

  private pushGeneral(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    for (;;) {
      if (this.state === State.Length) {
        if (this.buffered < FRAME_LENGTH_SIZE) return;
        let len: number;
        const c = this.chunks[0]!;
        if (c.byteLength - this.head >= FRAME_LENGTH_SIZE) {
          len = readU32LE(c, this.head); // the usual case: the prefix lies in one chunk, read it in place
          this.advance(FRAME_LENGTH_SIZE);
        } else {
          this.take(this.lenBytes, FRAME_LENGTH_SIZE);
          len = readU32LE(this.lenBytes, 0);
        }
        if (len > this.maxLength) return this.fail(new Win11MonError('WIN11MON_ERR_FRAME_TOO_LARGE', `frame declares ${len} bytes, maximum is ${this.maxLength}`, { field: 'length', offset: 0, expected: this.maxLength, actual: len }));
        if (len < FRAME_FIXED_SIZE) return this.fail(new Win11MonError('WIN11MON_ERR_FRAME_MALFORMED', `frame declares ${len} bytes, needs at least ${FRAME_FIXED_SIZE}`, { field: 'length', offset: 0, expected: FRAME_FIXED_SIZE, actual: len }));
        this.need = len;
        this.state = State.Body;
      }
      if (this.buffered < this.need) return;
      const body = this.takeView(this.need);
      this.state = State.Length;
      const frame = this.frame;
      frame.id = readU32LE(body, 0);
      frame.a = readU32LE(body, 4);
      frame.b = readU32LE(body, 8);
      frame.data = new Uint8Array(body.buffer, body.byteOffset + FRAME_FIXED_SIZE, body.byteLength - FRAME_FIXED_SIZE);
      this.onFrame(frame);
      frame.data = EMPTY;
      if (this.buffered === 0) return;
    }
  }

  private fail(e: Win11MonError): never {
    this.failure = e;
    this.state = State.Failed;
    this.chunks.length = 0;
    this.buffered = 0;
    throw e;
  }

  /** Copies n bytes into `out` (n ≤ buffered). */
  private take(out: Uint8Array, n: number): void {
    let got = 0;
    while (got < n) {
      const c = this.chunks[0]!;
      const k = Math.min(n - got, c.byteLength - this.head);
      out.set(c.subarray(this.head, this.head + k), got);
      got += k;
      this.advance(k);
    }
  }

  /** n bytes as a view when they lie in one chunk, else one copy. */
  private takeView(n: number): Uint8Array {
    const c = this.chunks[0]!;
    if (c.byteLength - this.head >= n) {
      const v = c.subarray(this.head, this.head + n);
      this.advance(n);
      return v;
    }
    const out = new Uint8Array(n);
    this.take(out, n);
    return out;
  }

  private advance(k: number): void {
    this.head += k;
    this.buffered -= k;
    if (this.head === this.chunks[0]!.byteLength) {
      this.chunks.shift();
      this.head = 0;
    }
  }
}
