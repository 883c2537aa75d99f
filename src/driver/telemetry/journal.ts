// The forensic journal: telemetry events appended to checksummed, size-rotated files on disk, so the
// evidence survives a crash of the service. Recovery keeps every complete record and truncates a
// torn tail before appending again. Format and fsync policy: docs/protocol.md "Journal".
import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Win11MonError } from '../../abi/index.js';
import { type MonitorEvent, decodeEvent, encodeEvent, eventToJson, readHeader } from './events.js';

/** 'W11MJRN1': the first 8 bytes of every journal file. */
export const JOURNAL_MAGIC = Buffer.from('W11MJRN1', 'ascii');
export const JOURNAL_VERSION = 1;
/** File header: magic (8) + u32 version + u32 file index. */
export const JOURNAL_FILE_HEADER_SIZE = 16;
/** Record framing: u32 payload length + u32 crc32(payload). */
export const JOURNAL_RECORD_HEADER_SIZE = 8;
/** Payload: u32 seq lo + u32 seq hi, then the MON_RING_EVENT record (≤ 256 bytes). */
export const JOURNAL_MAX_PAYLOAD = 8 + 256;
const NAME_RE = /^journal-(\d{6})\.log$/;
const TWO32 = 0x100000000;

/** Options of a journal. */
export interface JournalOptions {
  dir: string;
  /** Rotate when the next record would make the file larger than this (default 8 MiB). */
  maxFileBytes?: number;
  /** Files kept after rotation, the active one included (default 8). */
  keepFiles?: number;
  /** fsync pending records this often (default 1000 ms; 0 = only on flush()/close()). */
  fsyncIntervalMs?: number;
  /** Buffered bytes that trigger a write(2) without fsync (default 64 KiB). */
  writeThresholdBytes?: number;
}

/** A torn tail found and truncated at open. */
export interface TornTail {
  file: string;
  /** Offset of the first byte dropped (the end of the last complete record). */
  offset: number;
  bytesDropped: number;
  reason: string;
}

/** What open() found. */
export interface RecoveryReport {
  files: string[];
  /** Complete records in the active file. */
  recordsInActiveFile: number;
  /** Highest sequence recovered (0 for an empty journal). */
  lastSeq: number;
  tornTail?: TornTail;
}

/** One record read back. */
export interface JournalEntry { seq: number; record: Uint8Array; file: string; offset: number }

export function journalFileName(index: number): string {
  return `journal-${String(index).padStart(6, '0')}.log`;
}

function listFiles(dir: string): { name: string; index: number }[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  return names.flatMap((name) => { const m = NAME_RE.exec(name); return m ? [{ name, index: Number(m[1]) }] : []; }).sort((a, b) => a.index - b.index);
}

interface ScanResult { entries: JournalEntry[]; goodEnd: number; size: number; problem?: string }

/** Scans one file: every complete, checksummed record, and where the good part ends. */
function scanFile(path: string, name: string, keep: boolean): ScanResult {
  const buf = readFileSync(path);
  const entries: JournalEntry[] = [];
  if (buf.byteLength < JOURNAL_FILE_HEADER_SIZE) return { entries, goodEnd: 0, size: buf.byteLength, problem: 'file header incomplete' };
  if (!buf.subarray(0, 8).equals(JOURNAL_MAGIC) || buf.readUInt32LE(8) !== JOURNAL_VERSION) return { entries, goodEnd: 0, size: buf.byteLength, problem: 'bad file header' };
  let off = JOURNAL_FILE_HEADER_SIZE;
  while (off < buf.byteLength) {
    if (buf.byteLength - off < JOURNAL_RECORD_HEADER_SIZE) return { entries, goodEnd: off, size: buf.byteLength, problem: 'record header incomplete' };
    const len = buf.readUInt32LE(off);
    if (len < 8 + 40 || len > JOURNAL_MAX_PAYLOAD) return { entries, goodEnd: off, size: buf.byteLength, problem: `bad record length ${len}` };
    if (buf.byteLength - off - JOURNAL_RECORD_HEADER_SIZE < len) return { entries, goodEnd: off, size: buf.byteLength, problem: 'record payload incomplete' };
    const payload = buf.subarray(off + JOURNAL_RECORD_HEADER_SIZE, off + JOURNAL_RECORD_HEADER_SIZE + len);
    if (crc32(payload) !== buf.readUInt32LE(off + 4)) return { entries, goodEnd: off, size: buf.byteLength, problem: 'checksum mismatch' };
    const seq = payload.readUInt32LE(4) * TWO32 + payload.readUInt32LE(0);
    const record = payload.subarray(8);
    try { readHeader(record, 0); } catch { return { entries, goodEnd: off, size: buf.byteLength, problem: 'record is not a MON_RING_EVENT' }; }
    if (keep) entries.push({ seq, record, file: name, offset: off });
    else entries[0] = { seq, record, file: name, offset: off };
    off += JOURNAL_RECORD_HEADER_SIZE + len;
  }
  return { entries, goodEnd: off, size: buf.byteLength };
}

/**
 * An append-only journal writer. One writer per directory (the service).
 *
 * fsync policy: append() only buffers; buffered records are written with write(2) when they pass
 * writeThresholdBytes, and written + fsync'd every fsyncIntervalMs, on flush() and on close().
 * A crash loses at most the records appended since the last fsync; the kernel's page cache makes a
 * plain process crash (not a power loss) lose only what was still buffered in the process.
 *
 * @example
 * const j = Journal.open({ dir: '/var/lib/win11mon/journal' });
 * if (j.recovery.tornTail) console.warn('journal tail repaired', j.recovery.tornTail);
 * j.appendEvent(event); j.flush(); j.close();
 */
export class Journal {
  readonly dir: string;
  readonly recovery: RecoveryReport;
  private readonly maxFileBytes: number;
  private readonly keepFiles: number;
  private readonly writeThreshold: number;
  private fd = -1;
  private fileIndex = 0;
  private fileSize = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private unsynced = false;
  private timer: NodeJS.Timeout | undefined;
  private last = 0;
  private closed = false;

  private constructor(opts: JournalOptions) {
    this.dir = opts.dir;
    this.maxFileBytes = opts.maxFileBytes ?? 8 * 1024 * 1024;
    this.keepFiles = opts.keepFiles ?? 8;
    this.writeThreshold = opts.writeThresholdBytes ?? 64 * 1024;
    if (this.maxFileBytes < JOURNAL_FILE_HEADER_SIZE + JOURNAL_RECORD_HEADER_SIZE + JOURNAL_MAX_PAYLOAD) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', 'maxFileBytes too small for one record', { field: 'maxFileBytes', actual: this.maxFileBytes });
    if (!Number.isInteger(this.keepFiles) || this.keepFiles < 1) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', 'keepFiles must be >= 1', { field: 'keepFiles', actual: this.keepFiles });
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    this.recovery = this.recover();
    const interval = opts.fsyncIntervalMs ?? 1000;
    if (interval > 0) {
      this.timer = setInterval(() => { if (this.pendingBytes > 0 || this.unsynced) this.flush(); }, interval);
      this.timer.unref();
    }
  }

  /** Opens (creating if needed) the journal in `dir`, recovering from a crash first. */
  static open(opts: JournalOptions): Journal {
    return new Journal(opts);
  }

  /** Highest sequence appended or recovered. */
  get lastSeq(): number {
    return this.last;
  }

  private recover(): RecoveryReport {
    const files = listFiles(this.dir);
    let tornTail: TornTail | undefined;
    let records = 0;
    if (files.length === 0) {
      this.openFile(1, true);
    } else {
      const active = files[files.length - 1]!;
      const path = join(this.dir, active.name);
      const scan = scanFile(path, active.name, true);
      records = scan.entries.length;
      if (scan.entries.length > 0) this.last = scan.entries[scan.entries.length - 1]!.seq;
      if (scan.problem !== undefined && scan.goodEnd < scan.size) {
        tornTail = { file: active.name, offset: scan.goodEnd, bytesDropped: scan.size - scan.goodEnd, reason: scan.problem };
      }
      if (scan.goodEnd === 0) {
        this.openFile(active.index, true); // header itself torn: rewrite it
      } else {
        this.fd = openSync(path, 'r+');
        if (scan.goodEnd < scan.size) { ftruncateSync(this.fd, scan.goodEnd); fsyncSync(this.fd); }
        this.fileIndex = active.index;
        this.fileSize = scan.goodEnd;
      }
      // An empty active file: the last sequence is in an older one.
      for (let i = files.length - 2; i >= 0 && this.last === 0; i--) {
        const f = files[i]!;
        const s = scanFile(join(this.dir, f.name), f.name, false);
        if (s.entries.length > 0) this.last = s.entries[0]!.seq;
      }
    }
    return { files: listFiles(this.dir).map((f) => f.name), recordsInActiveFile: records, lastSeq: this.last, ...(tornTail ? { tornTail } : {}) };
  }

  private openFile(index: number, truncate: boolean): void {
    const path = join(this.dir, journalFileName(index));
    this.fd = openSync(path, truncate ? 'w' : 'wx', 0o640);
    const h = Buffer.alloc(JOURNAL_FILE_HEADER_SIZE);
    JOURNAL_MAGIC.copy(h, 0);
    h.writeUInt32LE(JOURNAL_VERSION, 8);
    h.writeUInt32LE(index, 12);
    writeSync(this.fd, h);
    fsyncSync(this.fd);
    this.fileIndex = index;
    this.fileSize = JOURNAL_FILE_HEADER_SIZE;
    this.syncDir();
  }

  private syncDir(): void {
    // fsync the directory so a new or removed file name survives a power loss too.
    try { const d = openSync(this.dir, 'r'); try { fsyncSync(d); } finally { closeSync(d); } } catch { /* not supported everywhere */ }
  }

  private rotate(): void {
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.openFile(this.fileIndex + 1, false);
    const files = listFiles(this.dir);
    for (let i = 0; i < files.length - this.keepFiles; i++) unlinkSync(join(this.dir, files[i]!.name));
  }

  /** Appends one MON_RING_EVENT record with its full 64-bit sequence (buffered; see the fsync policy). */
  append(record: Uint8Array, seq: number): void {
    if (this.closed) throw new Win11MonError('WIN11MON_ERR_BAD_ARGUMENT', 'journal is closed');
    const h = readHeader(record, 0); // refuse to journal something recovery would reject
    const len = 8 + h.totalSize;
    const buf = Buffer.allocUnsafe(JOURNAL_RECORD_HEADER_SIZE + len);
    buf.writeUInt32LE(len, 0);
    buf.writeUInt32LE(seq >>> 0, 8);
    buf.writeUInt32LE(Math.floor(seq / TWO32), 12);
    buf.set(record.subarray(0, h.totalSize), 16);
    buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
    this.pending.push(buf);
    this.pendingBytes += buf.byteLength;
    if (seq > this.last) this.last = seq;
    if (this.pendingBytes >= this.writeThreshold) this.writeOut();
  }

  /** Appends a decoded event (encodes it first). */
  appendEvent(ev: MonitorEvent): void {
    this.append(encodeEvent(ev), ev.seq);
  }

  private writeOut(): void {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const flushBatch = (): void => {
      if (batchBytes === 0) return;
      const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
      // Positional write: after recovery the fd was opened r+ at offset 0.
      writeSync(this.fd, data, 0, data.byteLength, this.fileSize);
      this.fileSize += batchBytes;
      batch = [];
      batchBytes = 0;
    };
    for (const rec of this.pending) {
      if (this.fileSize + batchBytes + rec.byteLength > this.maxFileBytes) {
        flushBatch();
        this.rotate();
      }
      batch.push(rec);
      batchBytes += rec.byteLength;
    }
    flushBatch();
    this.pending = [];
    this.pendingBytes = 0;
    this.unsynced = true;
  }

  /** Writes every buffered record and fsyncs the active file. */
  flush(): void {
    if (this.closed) return;
    if (this.pendingBytes > 0) this.writeOut();
    if (this.unsynced) { fsyncSync(this.fd); this.unsynced = false; }
  }

  /** Flushes, fsyncs and closes (clean shutdown). */
  close(): void {
    if (this.closed) return;
    this.flush();
    if (this.timer) clearInterval(this.timer);
    closeSync(this.fd);
    this.closed = true;
  }
}

/**
 * Reads every complete record with seq >= from, oldest file first. A damaged record inside a
 * sealed (non-last) file throws WIN11MON_ERR_JOURNAL_CORRUPT; in the last file it is a torn tail
 * and reading stops there (open() would truncate it).
 */
export function* readJournal(dir: string, from = 0): Generator<JournalEntry> {
  const files = listFiles(dir);
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    const scan = scanFile(join(dir, f.name), f.name, true);
    if (scan.problem !== undefined && i < files.length - 1) {
      throw new Win11MonError('WIN11MON_ERR_JOURNAL_CORRUPT', `${f.name}: ${scan.problem} at offset ${scan.goodEnd}`, { struct: f.name, offset: scan.goodEnd, actual: scan.problem });
    }
    for (const e of scan.entries) if (e.seq >= from) yield e;
  }
}

/**
 * The journal as JSON lines (one event per line, newline-terminated; 64-bit values as hex), from
 * sequence `from`.
 *
 * @example
 * for (const line of exportJsonLines(dir, 1000)) process.stdout.write(line);
 */
export function* exportJsonLines(dir: string, from = 0): Generator<string> {
  for (const e of readJournal(dir, from)) yield JSON.stringify(eventToJson(decodeEvent(e.record, 0, e.seq))) + '\n';
}

/** Size of the journal files on disk (for stats). */
export function journalBytes(dir: string): number {
  return listFiles(dir).reduce((n, f) => n + statSync(join(dir, f.name)).size, 0);
}
