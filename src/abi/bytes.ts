// Little-endian 32-bit words in plain byte arrays, without a DataView: for small on-heap arrays a
// DataView makes V8 move the storage off the heap, and one per call is an allocation on hot paths.

/** The u32 at `off` (little-endian). */
export function readU32LE(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}

/** Stores `v` (taken modulo 2^32) at `off`, little-endian. */
export function writeU32LE(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
  b[off + 2] = (v >>> 16) & 0xff;
  b[off + 3] = (v >>> 24) & 0xff;
}

/** A new 4-byte array holding `v` little-endian (an IOCTL's ULONG input or output). */
export function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32LE(b, 0, v);
  return b;
}
