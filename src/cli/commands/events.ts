// `win11mon events [--follow] [--since SEQ] [--json] [--ecs]`: the telemetry ring through the
// service (RINGBUF_SNAPSHOT from a cursor). --follow keeps polling until SIGINT and survives a
// service restart; gaps (events overwritten before they were read) are always reported.
import type { CommandModule } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';
import { Win11MonClient } from '../../client/client.js';
import { socketTransport } from '../../client/transport.js';
import { subscribeEvents, type SubscriptionItem } from '../../client/events.js';
import { toEcs, ECS_VERSION } from '../../client/ecs.js';
import { eventToJson, unixMsFromFiletime, readJournal, decodeEvent, type MonitorEvent } from '../../driver/telemetry/index.js';
import { defaultSocketDir, defaultDataDir, journalDir } from '../../service/paths.js';
import { existsSync } from 'node:fs';
import { socketDirOption, withService } from '../service-client.js';
import { colours } from '../format.js';

interface EventsOptions { socketDir?: string; follow?: boolean; since?: string; json?: boolean; ecs?: boolean; interval?: string; journal?: string | boolean }

/** One output line for an item, in the chosen format; gaps go to stderr in human mode. */
export function formatItem(item: SubscriptionItem, opts: { json: boolean; ecs: boolean }, io: CliIo): { out?: string; err?: string } {
  if (item.type === 'event') {
    const ev = item.event;
    if (opts.ecs) return { out: JSON.stringify(toEcs(ev)) + '\n' };
    if (opts.json) return { out: JSON.stringify(eventToJson(ev)) + '\n' };
    return { out: humanLine(ev, io) };
  }
  if (item.type === 'gap') {
    const { from, missed } = item.gap;
    if (opts.ecs) return { out: JSON.stringify(gapEcs(from, missed)) + '\n' };
    if (opts.json) return { out: JSON.stringify({ gap: { from, to: from + missed - 1, missed } }) + '\n' };
    return { err: `win11mon events: ${missed} events missed (sequences ${from}..${from + missed - 1} were overwritten before they were read)\n` };
  }
  if (opts.json || opts.ecs) return { out: JSON.stringify({ reset: { previousCursor: item.previousCursor } }) + '\n' };
  return { err: `win11mon events: the service restarted with a new ring; reading from sequence 1 again\n` };
}

function gapEcs(from: number, missed: number): Record<string, unknown> {
  return {
    '@timestamp': new Date().toISOString(), ecs: { version: ECS_VERSION }, message: `${missed} events missed (sequences ${from}..${from + missed - 1})`,
    event: { kind: 'event', category: ['host'], type: ['info'], action: 'events-missed', outcome: 'failure', severity: 47, module: 'win11mon', dataset: 'win11mon.events', provider: 'win11mon' },
    win11mon: { type: 'Gap', from, missed },
  };
}

function humanLine(ev: MonitorEvent, io: CliIo): string {
  const c = colours(io);
  const ms = unixMsFromFiletime(ev.timestamp);
  const time = Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').replace('Z', '') : '?';
  const doc = toEcs(ev);
  const type = ev.type.padEnd(19);
  const colour = doc.event.kind === 'alert' ? c.red : ev.type === 'InterceptDecision' ? c.green : (s: string) => s;
  return `${String(ev.seq).padStart(7)}  ${c.dim(time)}  ${colour(type)}  pid ${String(ev.pid).padEnd(6)} ${doc.message}\n`;
}

/**
 * `--journal [DIR]`: the forensic journal on disk, offline (no service needed): every complete
 * record from `since`, in the same formats; a torn tail of the active file is where it stops.
 */
function runJournal(dir: string, since: number, opts: EventsOptions, io: CliIo, setStatus: (s: number) => void): void {
  if (!existsSync(dir)) { io.err(`win11mon events: no journal at ${dir} (the service writes it under its --data-dir)\n`); setStatus(ExitCode.BadInput); return; }
  const fmt = { json: Boolean(opts.json || opts.ecs), ecs: Boolean(opts.ecs) };
  let n = 0;
  for (const e of readJournal(dir, since)) {
    const line = formatItem({ type: 'event', event: decodeEvent(e.record, 0, e.seq) }, fmt, io);
    if (line.out) io.out(line.out);
    n++;
  }
  if (!fmt.json) io.err(`${n} journal records from ${dir}\n`);
  setStatus(ExitCode.Ok);
}

async function run(opts: EventsOptions, io: CliIo, setStatus: (s: number) => void): Promise<void> {
  let since = 1;
  if (opts.since !== undefined) {
    if (!/^\d+$/.test(opts.since)) { io.err(`win11mon events: --since must be a sequence number, got "${opts.since}"\n`); setStatus(ExitCode.BadInput); return; }
    since = Math.max(1, Number(opts.since));
  }
  if (opts.journal !== undefined) {
    if (opts.follow) { io.err('win11mon events: --journal reads the journal on disk once; it cannot --follow (follow the running service instead)\n'); setStatus(ExitCode.BadInput); return; }
    runJournal(typeof opts.journal === 'string' ? opts.journal : journalDir(defaultDataDir()), since, opts, io, setStatus);
    return;
  }
  const interval = opts.interval !== undefined ? Number(opts.interval) : 200;
  if (!Number.isInteger(interval) || interval < 10) { io.err('win11mon events: --interval must be an integer >= 10 (ms)\n'); setStatus(ExitCode.BadInput); return; }
  const fmt = { json: Boolean(opts.json || opts.ecs), ecs: Boolean(opts.ecs) };
  const emit = (item: SubscriptionItem) => {
    const r = formatItem(item, fmt, io);
    if (r.out) io.out(r.out);
    if (r.err) io.err(r.err);
  };
  if (!opts.follow) {
    await withService(opts, io, setStatus, async (client) => {
      let cursor = since;
      for (;;) {
        const snap = await client.readEvents(cursor, 256 * 1024);
        if (snap.missed > 0) emit({ type: 'gap', gap: { from: cursor, missed: snap.missed } });
        for (const event of snap.events) emit({ type: 'event', event });
        cursor = snap.nextCursor;
        if (!snap.more || snap.events.length === 0) break;
      }
      if (!fmt.json) io.err(`(next: win11mon events --since ${cursor})\n`);
      setStatus(ExitCode.Ok);
    });
    return;
  }
  // --follow: connect once to fail fast with the usual message, then let the subscription reconnect.
  const dir = opts.socketDir ?? defaultSocketDir();
  const first = await withService(opts, io, setStatus, async () => true);
  if (!first) return;
  const ac = new AbortController();
  const onSig = () => ac.abort();
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  let lost = false;
  try {
    const sub = subscribeEvents(async () => {
      try {
        return new Win11MonClient(await socketTransport(dir, { timeoutMs: 5000 }));
      } catch (e) {
        if (!lost) { lost = true; io.err(`win11mon events: service at ${dir} unreachable; retrying (Ctrl-C to stop)\n`); }
        throw e;
      }
    }, { from: since, intervalMs: interval, signal: ac.signal, backoff: { initialMs: 100, maxMs: 2000 }, onReconnect: () => { if (lost) io.err('win11mon events: reconnected\n'); lost = false; } });
    for await (const item of sub) emit(item);
    setStatus(ExitCode.Ok);
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
  }
}

const eventsCommand: CommandModule = {
  register(program, io, setStatus) {
    return socketDirOption(program.command('events').description('telemetry events from the running service (human lines, --json lines, or --ecs Elastic Common Schema)'))
      .option('--follow', 'keep polling for new events until SIGINT (reconnects if the service restarts)')
      .option('--since <seq>', 'first sequence number to read (default 1: the oldest the ring holds)')
      .option('--json', 'one JSON object per line (64-bit values as hex); gaps as {"gap": {...}} lines')
      .option('--ecs', 'one Elastic Common Schema document per line (implies --json; mapping in docs/events.md)')
      .option('--interval <ms>', 'poll interval with --follow', '200')
      .option('--journal [dir]', 'read the forensic journal on disk instead of the service (default: the data dir\'s journal/)')
      .action(async (opts: EventsOptions) => run(opts, io, setStatus));
  },
};

export default eventsCommand;
