// ABI decode throughput: the hot-path InterceptRequestView (every field of every SQE of a 512-SQE
// request) and the plain-object decodeInterceptRequest, beside a memcpy (Uint8Array.set) of the same
// bytes in the same run. decode.ratio.memcpy = memcpy time / hot-path time per request: 1.0 would be
// "as fast as copying the bytes", 0.1 means the hot path takes 10x the time of a copy.
import { Bench } from 'tinybench';
import { InterceptRequestView } from '../abi/request.js';
import { decodeInterceptRequest, encodeNativeSqe, type NativeSqeInit } from '../abi/decode.js';
import { encodeInterceptRequest, serializeSqeArray } from '../abi/serialize.js';
import { IoRingOp } from '../abi/ioring.js';

export interface BenchFigure { name: string; value: number; unit: string }

const SQES = 512;

/** A 512-SQE request mixing the opcodes a real submission has. */
export function benchRequest(): Uint8Array {
  const shapes: NativeSqeInit[] = [
    { opCode: IoRingOp.READ, op: { file: { kind: 'raw', handle: 0x80n }, buffer: { kind: 'raw', address: 0x1f600310000n }, length: 0x1000 } },
    { opCode: IoRingOp.WRITE, op: { file: { kind: 'registered', index: 1 }, buffer: { kind: 'registered', index: 2, offset: 0x40 }, length: 0x200 } },
    { opCode: IoRingOp.NOP },
    { opCode: IoRingOp.CANCEL, op: { file: { kind: 'raw', handle: 0x80n }, cancelId: 7n } },
  ];
  const native = new Uint8Array(64 * SQES);
  for (let i = 0; i < SQES; i++) native.set(encodeNativeSqe({ ...shapes[i % shapes.length]!, userData: BigInt(i) }), 64 * i);
  return encodeInterceptRequest({ processId: 1, threadId: 2, ioRingHandle: 0x2c0n, serializedSqes: serializeSqeArray(native) });
}

export async function run(opts: { quick: boolean }): Promise<BenchFigure[]> {
  const req = benchRequest();
  const view = new InterceptRequestView();
  const dst = new Uint8Array(req.byteLength);
  let sink = 0;
  const bench = new Bench({ name: 'abi decode', time: opts.quick ? 250 : 1500, warmupTime: opts.quick ? 50 : 250 });
  bench
    .add('hot', () => {
      const v = view.reset(req);
      let acc = 0;
      for (let i = 0; i < v.operationCount; i++) {
        acc ^= v.opCode(i) ^ v.sqeFlags(i) ^ v.fileRefLo(i) ^ v.fileRefHi(i) ^ v.fileOffsetLo(i) ^ v.fileOffsetHi(i)
          ^ v.bufferAddressLo(i) ^ v.bufferAddressHi(i) ^ v.bufferSize(i) ^ v.bufferOffset(i) ^ v.key(i) ^ v.reserved1(i)
          ^ v.userDataLo(i) ^ v.userDataHi(i) ^ (v.hasExt(i) ? 1 : 0) ^ v.extSqeFlags(i) ^ v.extOpFlags(i) ^ v.extCount(i)
          ^ v.extAdvisory(i) ^ v.extArgLo(i) ^ v.extArgHi(i);
      }
      sink ^= acc;
    })
    .add('plain', () => { sink ^= decodeInterceptRequest(req).sqes.length; })
    .add('memcpy', () => { dst.set(req); sink ^= dst[100]!; });
  await bench.run();
  const period = (name: string): number => {
    const t = bench.tasks.find((x) => x.name === name);
    const r = t?.result;
    if (!r || r.state !== 'completed') throw new Error(`benchmark ${name} did not complete (${r?.state ?? 'missing'})`);
    return r.period; // mean ms per request
  };
  const hot = period('hot'), plain = period('plain'), memcpy = period('memcpy');
  if (sink === 0.5) console.log(sink); // keep the work observable to the optimiser
  return [
    { name: 'decode.hot.sqes_per_sec', value: (SQES * 1000) / hot, unit: 'SQE/s' },
    { name: 'decode.plain.sqes_per_sec', value: (SQES * 1000) / plain, unit: 'SQE/s' },
    { name: 'decode.memcpy.sqes_per_sec', value: (SQES * 1000) / memcpy, unit: 'SQE/s' },
    { name: 'decode.ratio.memcpy', value: memcpy / hot, unit: 'ratio' },
  ];
}
