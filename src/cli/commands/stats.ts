// `win11mon stats`: the service's decision counters per action and reason, the validation latency
// histogram and the top talkers (GET_STATS with win11mon's extension), plus the telemetry ring's counters.
import type { CommandModule } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';
import { decodeStatsExtension, type DecodedStats } from '../../engine/index.js';
import { socketDirOption, withService } from '../service-client.js';
import { table, num, colours } from '../format.js';

function fmtNs(ns: number): string {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(ns >= 1e10 ? 0 : 1)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(ns >= 1e7 ? 0 : 1)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(ns >= 1e4 ? 0 : 1)} µs`;
  return `${ns} ns`;
}

/** The human form of `win11mon stats`. */
export function renderStats(s: DecodedStats, ring: { totalEventsWritten: number; eventCount: number; eventsOverwritten: number; eventsDropped: number }, policy: { version: number; hash: string }, io: CliIo): string {
  const c = colours(io);
  const ext = s.extension;
  let out = `${c.bold('decisions')}  ${num(s.requests)} submissions, ${num(s.operations)} operations (policy v${policy.version}, ${policy.hash.slice(0, 12)})\n\n`;
  out += table(['action', 'count'], [['Allow', num(s.actions.Allow)], ['Block', num(s.actions.Block)], ['LogOnly', num(s.actions.LogOnly)], ...(ext ? [['would have blocked (audit)', num(ext.wouldHaveBlocked)]] : [])]);
  const reasons = new Set([...Object.keys(s.blockedByReason), ...Object.keys(ext?.decisionsByReason ?? {})]);
  if (reasons.size > 0) {
    out += '\n' + table(['reason', 'blocked', 'all decisions'], [...reasons].map((r) => [r, num(s.blockedByReason[r as keyof typeof s.blockedByReason] ?? 0), num(ext?.decisionsByReason[r as keyof typeof s.blockedByReason] ?? 0)]));
  }
  if (ext && ext.latencyHistogram.length > 0) {
    const max = Math.max(...ext.latencyHistogram.map((b) => b.count));
    out += `\n${c.bold('validation latency')}  ${num(ext.latencySamples)} samples, mean ${fmtNs(s.totalValidationTimeNs / Math.max(1, ext.latencySamples))}, peak ${fmtNs(ext.peakLatencyNs)}\n`;
    out += table(['from', 'to', 'count', ''], ext.latencyHistogram.map((b) => [fmtNs(b.fromNs), b.toNs === null ? '∞' : fmtNs(b.toNs), num(b.count), '#'.repeat(Math.max(1, Math.round((b.count / max) * 30)))]));
  }
  if (ext && ext.topTalkers.length > 0) {
    out += `\n${c.bold('top talkers')}  (${num(ext.trackedProcesses)} processes tracked)\n`;
    out += table(['pid', 'profile', 'submissions', 'operations', 'blocked', 'logOnly'], ext.topTalkers.map((t) => [t.processId, t.profileIndex === 0 ? 'base' : `override ${t.profileIndex}`, num(t.submissions), num(t.operations), t.blocked ? c.red(num(t.blocked)) : '0', num(t.logOnly)]));
  }
  out += `\n${c.bold('telemetry ring')}  ${num(ring.totalEventsWritten)} events written, ${num(ring.eventCount)} held, ${num(ring.eventsOverwritten)} overwritten, ${num(ring.eventsDropped)} dropped\n`;
  return out;
}

const statsCommand: CommandModule = {
  register(program, io, setStatus) {
    return socketDirOption(program.command('stats').description('decision counters per action and reason, latency histogram, top talkers and ring counters from the running service'))
      .option('--json', 'print { stats, ring, policy } as JSON')
      .action(async (opts: { socketDir?: string; json?: boolean }) => {
        await withService(opts, io, setStatus, async (client) => {
          const { raw } = await client.getStats();
          const s = decodeStatsExtension(raw);
          const ring = await client.ringStats();
          const p = await client.getPolicy();
          const policy = { version: p.version, hash: p.hash };
          if (opts.json) io.out(JSON.stringify({ stats: s, ring: { ...ring, oldestTimestamp: undefined, newestTimestamp: undefined }, policy }, null, 2) + '\n');
          else io.out(renderStats(s, ring, policy, io));
          setStatus(ExitCode.Ok);
        });
      });
  },
};

export default statsCommand;
