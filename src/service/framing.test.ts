import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Win11MonError } from '../abi/index.js';
import { FrameDecoder, encodeRequest, MAX_FRAME_LENGTH, type Frame } from './framing.js';

const frameArb = fc.record({ id: fc.nat(0xffffffff), a: fc.nat(0xffffffff), b: fc.nat(0xffffffff), data: fc.uint8Array({ maxLength: 300 }) });

function decodeAll(chunks: Uint8Array[]): Frame[] {
  const out: Frame[] = [];
  const d = new FrameDecoder((f) => out.push({ ...f, data: f.data.slice() }));
  for (const c of chunks) d.push(c);
  assert.equal(d.bufferedBytes, 0);
  return out;
}

test('any chunking of a valid stream gives the same frames (property)', () => {
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(400), { maxLength: 30 }), (frames, cuts) => {
    const stream = Buffer.concat(frames.map((f) => encodeRequest(f.id, f.a, f.b, f.data)));
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
    const chunks: Uint8Array[] = [];
    let prev = 0;
    for (const p of [...points, stream.length]) { chunks.push(stream.subarray(prev, p)); prev = p; }
    const got = decodeAll(chunks);
    assert.deepEqual(got.map((f) => [f.id, f.a, f.b, Buffer.from(f.data).toString('hex')]), frames.map((f) => [f.id, f.a, f.b, Buffer.from(f.data).toString('hex')]));
  }), { numRuns: 500, seed: 1 });
});

test('pushTransient: any chunking through one reused buffer (Uint8Array or Buffer), scribbled over after each push, gives the same frames (property)', () => {
  fc.assert(fc.property(fc.array(frameArb, { maxLength: 12 }), fc.array(fc.nat(400), { maxLength: 30 }), fc.boolean(), fc.boolean(), (frames, cuts, asBuffer, withLength) => {
    const stream = Buffer.concat(frames.map((f) => encodeRequest(f.id, f.a, f.b, f.data)));
    const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
    // What a socket's onread buffer is: a Buffer (whose slice() does not copy), or any Uint8Array.
    const shared = asBuffer ? Buffer.alloc(stream.length + 1) : new Uint8Array(stream.length + 1);
    const out: Frame[] = [];
    const d = new FrameDecoder((f) => out.push({ ...f, data: new Uint8Array(f.data) }));
    let prev = 0;
    for (const p of [...points, stream.length]) {
      shared.set(stream.subarray(prev, p));
      // Either a view of exactly the bytes read, or the whole buffer and a length (what onread gives).
      if (withLength) d.pushTransient(shared, p - prev);
      else d.pushTransient(shared.subarray(0, p - prev));
      shared.fill(0xee); // the next read overwrites the buffer
      prev = p;
    }
    assert.equal(d.bufferedBytes, 0);
    assert.deepEqual(out.map((f) => [f.id, f.a, f.b, Buffer.from(f.data).toString('hex')]), frames.map((f) => [f.id, f.a, f.b, Buffer.from(f.data).toString('hex')]));
  }), { numRuns: 500, seed: 3 });
});

test('random bytes never throw anything but typed frame errors (property)', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
    const d = new FrameDecoder(() => {});
    for (const c of chunks) {
      try { d.push(c); } catch (e) {
        assert.ok(e instanceof Win11MonError && (e.code === 'WIN11MON_ERR_FRAME_TOO_LARGE' || e.code === 'WIN11MON_ERR_FRAME_MALFORMED'), String(e));
        return;
      }
    }
  }), { numRuns: 2000, seed: 2 });
});

test('an oversized length is refused from the 4-byte prefix alone, before any body is buffered', () => {
  const d = new FrameDecoder(() => assert.fail('no frame'));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(MAX_FRAME_LENGTH + 1, 0);
  assert.throws(() => d.push(head.subarray(0, 2)) ?? d.push(head.subarray(2)), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_FRAME_TOO_LARGE' && e.detail.actual === MAX_FRAME_LENGTH + 1);
  assert.equal(d.bufferedBytes, 0);
  assert.throws(() => d.push(Buffer.alloc(8)), (e: unknown) => e instanceof Win11MonError); // stays failed
  const m = new FrameDecoder(() => {});
  assert.throws(() => m.push(Buffer.from([11, 0, 0, 0])), (e: unknown) => e instanceof Win11MonError && e.code === 'WIN11MON_ERR_FRAME_MALFORMED');
});

test('a frame inside one chunk is handed out as a view (no copy)', () => {
  const buf = encodeRequest(5, 6, 7, new Uint8Array([1, 2, 3]));
  let view: Uint8Array | undefined;
  new FrameDecoder((f) => { view = f.data; }).push(buf);
  assert.equal(view!.buffer, buf.buffer);
});
