// Child process of the journal crash test: appends events continuously in fsync'd batches and
// reports the last sequence of each batch on stdout, until it is killed.
import { Journal } from './journal.js';
import { encodeEvent } from './events.js';

const [dir, maxFileBytes] = process.argv.slice(2);
const j = Journal.open({ dir: dir!, maxFileBytes: Number(maxFileBytes), keepFiles: 10_000, fsyncIntervalMs: 0 });
let seq = j.lastSeq;
const tick = (): void => {
  for (let i = 0; i < 25; i++) {
    seq++;
    const rec = encodeEvent({ type: 'PostSubmit', seq, timestamp: { hi: 0, lo: seq }, pid: 4, tid: 8, payload: { ioRingHandle: { hi: 0, lo: seq }, operationCount: seq % 100, status: 0, completions: 1 } });
    j.append(rec, seq);
  }
  j.flush();
  process.stdout.write(`${seq}\n`);
  setImmediate(tick);
};
tick();
