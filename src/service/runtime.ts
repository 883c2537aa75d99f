// The service runtime behind `win11mon serve` / `win11mon start`: the emulated kernel, the
// MonitorDriver (A1/A2 polling), the socket service, a journal pump draining the telemetry ring
// into the forensic journal, and an optional benign workload. One object, one close().
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmulatedKernel } from '../kernel/kernel.js';
import { Workload } from '../kernel/workload.js';
import { PolicyEngine, formatPolicyIssue } from '../engine/index.js';
import { MonitorDriver } from '../driver/driver.js';
import { Journal, TelemetryRing, encodeEvent, filetimeFromUnixMs, readRingConfig, ringSlotsForBytes, writeRingConfig, type U64 } from '../driver/telemetry/index.js';
import { Win11MonError } from '../abi/index.js';
import { startService, type ServiceHandle } from './server.js';
import { journalDir } from './paths.js';

/** What a workload runner gets: the kernel the apps live in and the driver that watches them. */
export interface WorkloadContext {
  kernel: EmulatedKernel;
  driver: MonitorDriver;
}
/** Starts a workload; the returned stop() ends it (awaited on shutdown). */
export type WorkloadRunner = (ctx: WorkloadContext) => { stop(): void | Promise<void> };

/**
 * The default benign workload: `apps` emulated applications doing IoRing file I/O (reads, writes,
 * NOPs, flushes on real files), `opsPerTick` operations every `intervalMs`. It submits straight to
 * the emulated kernel; a runner that goes through the interception hook can replace it.
 *
 * @example
 * await startRuntime({ socketDir, dataDir, workload: directWorkload({ opsPerTick: 16 }) });
 */
export function directWorkload(opts: { apps?: number; intervalMs?: number; opsPerTick?: number; seed?: number } = {}): WorkloadRunner {
  return ({ kernel }) => {
    const w = new Workload(kernel, { apps: opts.apps ?? 3, seed: opts.seed ?? 1, fileSize: 0x8000 });
    const timer = setInterval(() => { w.run(opts.opsPerTick ?? 32); }, opts.intervalMs ?? 250);
    timer.unref();
    return { stop: () => { clearInterval(timer); w.close(); } };
  };
}

/** Options of startRuntime. */
export interface RuntimeOptions {
  socketDir: string;
  /** Holds journal/ (the forensic journal) and kernel-files/ (the emulated kernel's real files). */
  dataDir: string;
  /** Windows build to emulate (default 22621). */
  build?: number;
  /** A policy document (YAML or JSON text); default: the embedded policy. */
  policyText?: string;
  /** Where policyText came from, for error messages (file:line). */
  policySource?: string;
  /** A1/A2 polling interval (default 250 ms; 0 disables polling). */
  scanIntervalMs?: number;
  /** Journal pump interval (default 100 ms). */
  pumpIntervalMs?: number;
  /** A workload to run (default none). */
  workload?: WorkloadRunner | null;
  /** The telemetry ring (default: sized by DATA_DIR/ringbuf.json, which IOCTL_MONITOR_RINGBUF_CONFIGURE writes, else 1 MiB = 4096 slots). */
  ring?: TelemetryRing;
}

/** A running runtime. */
export interface Runtime {
  readonly kernel: EmulatedKernel;
  readonly driver: MonitorDriver;
  readonly service: ServiceHandle;
  readonly journal: Journal;
  readonly pump: JournalPump;
  readonly journalDir: string;
  /** Stops the workload and polling, drains the ring into the journal, flushes and closes it, closes the sockets (removing the files). Idempotent. */
  close(): Promise<void>;
}

/**
 * Drains the telemetry ring into the journal, cursor by cursor. Journal sequences continue across
 * service restarts: a record's journal sequence is `base + ring sequence`, where `base` is the
 * journal's last sequence when this run started. Events the ring overwrote before the pump read them
 * are recorded as one EventsDropped notice at the first missing sequence.
 */
export class JournalPump {
  private cursor = 1;
  private readonly base: number;
  private timer: NodeJS.Timeout | undefined;
  /** Records journaled, drop notices written, and events they stand for. */
  readonly counters = { records: 0, dropNotices: 0, eventsMissed: 0 };

  constructor(readonly ring: TelemetryRing, readonly journal: Journal) {
    this.base = journal.lastSeq;
  }

  /** The journal sequence of ring sequence `seq` in this run. */
  journalSeq(seq: number): number {
    return this.base + seq;
  }

  /** Copies everything the ring holds past the cursor into the journal (buffered; see Journal's fsync policy). */
  drain(): number {
    let n = 0;
    for (;;) {
      const from = this.cursor;
      const r = this.ring.readRecords(from, 1024, (record, seq) => {
        this.journal.append(record, this.base + seq);
        n++;
      });
      if (r.missed > 0) this.dropNotice(from, r.missed);
      this.cursor = r.nextCursor;
      this.ring.commit(r.nextCursor);
      if (r.count === 0 || r.nextCursor >= r.head) break;
    }
    this.counters.records += n;
    return n;
  }

  private dropNotice(at: number, missed: number): void {
    const now: U64 = filetimeFromUnixMs(Date.now(), { hi: 0, lo: 0 });
    const count = { hi: Math.floor(missed / 0x100000000), lo: missed >>> 0 };
    const seq = this.base + at;
    this.journal.append(encodeEvent({ type: 'EventsDropped', seq, timestamp: now, pid: 0, tid: 0, payload: { count, firstDropTime: now, lastDropTime: now, policy: this.ring.policy } }), seq);
    this.counters.dropNotices++;
    this.counters.eventsMissed += missed;
  }

  start(intervalMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.drain(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * Starts the emulated kernel, the driver, the service on `socketDir` and the journal pump.
 * Throws a Win11MonError for a bad policy (WIN11MON_ERR_POLICY_INVALID, message lists file:line
 * issues), an unknown build, an unsafe socket dir or a service already running there.
 *
 * @example
 * const rt = await startRuntime({ socketDir: '/tmp/w', dataDir: '/tmp/wd', workload: directWorkload() });
 * installSignalHandlers({ ...rt.service, close: () => rt.close() }, () => process.exit(0));
 */
export async function startRuntime(opts: RuntimeOptions): Promise<Runtime> {
  const build = opts.build ?? 22621;
  const engineClock = () => performance.now() * 1e6;
  const engine = new PolicyEngine({ clock: engineClock });
  if (opts.policyText !== undefined) {
    const r = engine.setPolicy(opts.policyText, opts.policySource ?? '<policy>');
    if (!r.ok) throw new Win11MonError('WIN11MON_ERR_POLICY_INVALID', r.issues.map((i) => formatPolicyIssue(i)).join('\n'), { field: 'policy', actual: opts.policySource ?? '<policy>' });
  }
  const filesDir = join(opts.dataDir, 'kernel-files');
  mkdirSync(filesDir, { recursive: true, mode: 0o750 });
  const kernel = new EmulatedKernel({ build, dataDir: filesDir });
  // The ring's size: the one IOCTL_MONITOR_RINGBUF_CONFIGURE saved for this data directory, or the default.
  const configuredRingBytes = opts.ring ? null : readRingConfig(opts.dataDir);
  const ring = opts.ring ?? new TelemetryRing({ slotCount: ringSlotsForBytes(configuredRingBytes ?? 0) });
  const driver = new MonitorDriver({ kernel, engine, clockNs: engineClock, ring, onRingConfigure: (bytes) => writeRingConfig(opts.dataDir, bytes) });
  const jdir = journalDir(opts.dataDir);
  const journal = Journal.open({ dir: jdir });
  const pump = new JournalPump(driver.ring, journal);
  let service: ServiceHandle;
  try {
    service = await startService({ socketDir: opts.socketDir, device: driver });
  } catch (e) {
    journal.close();
    driver.close();
    throw e;
  }
  const scanMs = opts.scanIntervalMs ?? 250;
  if (scanMs > 0) driver.startPolling(scanMs);
  pump.start(opts.pumpIntervalMs ?? 100);
  const wl = opts.workload ? opts.workload({ kernel, driver }) : null;
  let closing: Promise<void> | undefined;
  return {
    kernel, driver, service, journal, pump, journalDir: jdir,
    close() {
      closing ??= (async () => {
        try { await wl?.stop(); } catch { /* the workload's failure must not stop the flush */ }
        driver.stopPolling();
        pump.stop();
        try { pump.drain(); } finally {
          journal.close();
          await service.close();
          driver.close();
        }
      })();
      return closing;
    },
  };
}

/** Reads a policy file for startRuntime. */
export function readPolicyFile(path: string): { policyText: string; policySource: string } {
  return { policyText: readFileSync(path, 'utf8'), policySource: path };
}
