// Worker half of the ring concurrency test: attaches to the shared ring, reads until the producer
// says it is done, and checks every record (pattern, sequence, canaries) as it goes.
import { parentPort, workerData } from 'node:worker_threads';
import { RingReader, RING_CANARY } from './ring.js';
import { expectedPattern } from './ring-pattern.fixture.js';

const { buffer, done } = workerData as { buffer: SharedArrayBuffer; done: SharedArrayBuffer };
const doneFlag = new Int32Array(done);
const reader = new RingReader(buffer);
const bytes = new Uint8Array(buffer);
Atomics.store(doneFlag, 1, 1); // attached: the producer may start
let cursor = 1, received = 0, missed = 0, torn = 0, outOfOrder = 0, canaryBad = 0, reads = 0;
let last = 0;
for (let spins = 0; spins < 50_000_000; spins++) {
  const finished = Atomics.load(doneFlag, 0) === 1;
  const r = reader.readRecords(cursor, 64, (rec, seq) => {
    if (seq <= last) outOfOrder++;
    last = seq;
    if (!expectedPattern(rec, seq)) torn++;
    received++;
  });
  reads++;
  missed += r.missed;
  cursor = r.nextCursor;
  if (reads % 64 === 0) {
    for (let s = 0; s < reader.slotCount; s++) {
      const o = reader.slotOffset(s);
      for (let g = 1; g <= reader.guardBytes; g++) {
        if (bytes[o - g] !== RING_CANARY || bytes[o + reader.slotSize + g - 1] !== RING_CANARY) canaryBad++;
      }
    }
  }
  if (finished && cursor >= reader.head()) break;
}
parentPort!.postMessage({ received, missed, torn, outOfOrder, canaryBad, cursor, reads });
