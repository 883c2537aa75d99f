// Shared imports for the driver's tests (kept out of the build's public surface by name only).
export * from '../abi/index.js';
export { encodeNativeSqe } from '../abi/decode.js';
import type { PolicyEngine } from '../engine/index.js';
import { decodePolicyBinary, encodePolicyBinary } from '../engine/index.js';

/** The engine's current binary policy with some switches changed. */
export function encodePolicyBinaryForTest(engine: PolicyEngine, patch: Record<string, unknown>): Uint8Array {
  const cur = decodePolicyBinary(engine.getPolicyBinary());
  return encodePolicyBinary({ ...cur, ...patch } as Parameters<typeof encodePolicyBinary>[0]);
}
