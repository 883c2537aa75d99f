// The telemetry ring's size: what IOCTL_MONITOR_RINGBUF_CONFIGURE asks for and what the service
// applies at its next start. As in the C driver, a new size needs a restart (the ring's readers hold
// cursors into the current one); the service keeps the requested size in DATA_DIR/ringbuf.json.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MON_RINGBUF_DEFAULT_SIZE, MON_RINGBUF_MAX_SIZE, MON_RINGBUF_MIN_SIZE, NtStatus, Win11MonError } from '../../abi/index.js';
import { RING_SLOT_SIZE } from './events.js';

/** File name of the persisted ring size under the service's data directory. */
export const RING_CONFIG_FILE = 'ringbuf.json';

/**
 * Slots for a requested ring size in bytes: 0 means the default (1 MiB); otherwise 64 KiB..16 MiB
 * (the C driver's bounds), rounded down to a power-of-two number of 256-byte slots (the ring indexes
 * slots by mask). Anything else is WIN11MON_ERR_RING_CONFIG_INVALID.
 */
export function ringSlotsForBytes(bytes: number): number {
  const b = bytes === 0 ? MON_RINGBUF_DEFAULT_SIZE : bytes;
  if (!Number.isInteger(b) || b < MON_RINGBUF_MIN_SIZE || b > MON_RINGBUF_MAX_SIZE) {
    throw new Win11MonError('WIN11MON_ERR_RING_CONFIG_INVALID', `ring size ${bytes} bytes is outside ${MON_RINGBUF_MIN_SIZE}..${MON_RINGBUF_MAX_SIZE} (0 = the default ${MON_RINGBUF_DEFAULT_SIZE})`, { field: 'BufferSizeBytes', expected: `0 or ${MON_RINGBUF_MIN_SIZE}..${MON_RINGBUF_MAX_SIZE}`, actual: bytes });
  }
  let slots = 1;
  while (slots * 2 * RING_SLOT_SIZE <= b) slots *= 2;
  return slots;
}

/** The size saved in `dataDir`, or null when none was configured. A malformed file is an error, never ignored. */
export function readRingConfig(dataDir: string): number | null {
  const path = join(dataDir, RING_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Win11MonError('WIN11MON_ERR_RING_CONFIG_INVALID', `${path}: cannot read: ${(e as Error).message}`, { field: RING_CONFIG_FILE, actual: path }, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Win11MonError('WIN11MON_ERR_RING_CONFIG_INVALID', `${path}: not JSON: ${(e as Error).message}`, { field: RING_CONFIG_FILE, actual: path }, { cause: e });
  }
  const bytes = (doc as { bufferSizeBytes?: unknown } | null)?.bufferSizeBytes;
  if (typeof bytes !== 'number' || Object.keys(doc as object).length !== 1) {
    throw new Win11MonError('WIN11MON_ERR_RING_CONFIG_INVALID', `${path}: expected {"bufferSizeBytes": <number>} and nothing else`, { field: 'bufferSizeBytes', actual: text.slice(0, 80) });
  }
  ringSlotsForBytes(bytes); // range check, naming the value
  return bytes;
}

/** Saves the size for the next start (write to a temporary file, then rename: never a torn file). */
export function writeRingConfig(dataDir: string, bytes: number): void {
  ringSlotsForBytes(bytes);
  const path = join(dataDir, RING_CONFIG_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify({ bufferSizeBytes: bytes }) + '\n', { mode: 0o640 });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Win11MonError('WIN11MON_ERR_RING_CONFIG_INVALID', `${path}: cannot save the ring size: ${(e as Error).message}`, { field: RING_CONFIG_FILE, actual: path }, { cause: e, status: NtStatus.STATUS_UNSUCCESSFUL });
  }
}
