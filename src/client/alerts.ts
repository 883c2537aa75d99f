// Alert aggregation (plan 3.1, win11mon_client): turns the telemetry stream (MonitorEvent objects,
// pushed one by one or consumed from an AsyncIterable) into alerts, grouped by (process, reason,
// technique) in time windows, deduplicated by sequence number, counted, each with a severity.
// Time comes from an injected clock, so the same events and clock readings give the same alerts.
import type { MonitorEvent } from '../driver/telemetry/events.js';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITY_ORDER: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** Default severity per reason (the InterceptReason names plus the event-level reasons below). */
export const DEFAULT_SEVERITIES: Readonly<Record<string, Severity>> = {
  RegBuffersCorrupted: 'critical',
  KernelAddressInBuffer: 'critical',
  Bugcheck: 'critical',
  BypassSuspected: 'high',
  SuspiciousOpCode: 'high',
  ProcessBlacklisted: 'high',
  InvalidHandle: 'high',
  HookRemoved: 'medium',
  PolicyDisabled: 'medium',
  MalformedRequest: 'medium',
  ValidationError: 'medium',
  RateLimitExceeded: 'medium',
  ExcessiveOperations: 'medium',
  BufferSizeTooLarge: 'medium',
  DriverUnreachable: 'medium',
  EventsDropped: 'medium',
  CallbackError: 'low',
};

export interface AlertConfig {
  /** Window length in ms (default 60 000): events of one key within a window form one alert. */
  windowMs?: number;
  /** Events of a key needed in a window before the alert is raised (default 1), per reason. */
  thresholds?: Readonly<Record<string, number>>;
  defaultThreshold?: number;
  /** Severity overrides per reason. */
  severities?: Readonly<Record<string, Severity>>;
  /** Severity for reasons not in the table (default 'low'). */
  defaultSeverity?: Severity;
  /** Milliseconds (default Date.now); inject for deterministic tests. */
  clock?: () => number;
  /** Open groups kept at most (oldest dropped; default 10 000). */
  maxGroups?: number;
  /** Called for each alert when it is raised (once per group). */
  onAlert?: (alert: Alert) => void;
}

/** One alert: a group of events that crossed its threshold. Updated in place while its window is open. */
export interface Alert {
  key: string;
  pid: number;
  reason: string;
  technique: string;
  severity: Severity;
  /** Events in the group (including those before the threshold was reached). */
  count: number;
  /** Event types that contributed (e.g. InterceptDecision, RingQuarantined). */
  sources: string[];
  /** Layers named by the events (hook, integrity, enumeration, ...). */
  layers: string[];
  /** LogOnly decisions only: the events say what would have been blocked (audit). */
  auditOnly: boolean;
  firstSeq: number;
  lastSeq: number;
  windowStartMs: number;
  lastSeenMs: number;
  raisedAtMs: number;
}

/** What an event contributes, or null when it is not alert material (Allow decisions, PostSubmit, ...). */
export interface Classified { reason: string; technique: string; layer: string; audit: boolean }

/** Maps one event to (reason, technique, layer). Exported for tests and tools. */
export function classifyEvent(ev: MonitorEvent): Classified | null {
  switch (ev.type) {
    case 'InterceptDecision': {
      const p = ev.payload;
      if (p.action === 'Allow') return null;
      return { reason: p.reason, technique: p.technique, layer: p.layer, audit: p.action === 'LogOnly' };
    }
    case 'RegBuffersViolation':
      return { reason: 'RegBuffersCorrupted', technique: ev.payload.technique || 'T1068', layer: 'integrity', audit: false };
    case 'RingQuarantined':
      return { reason: ev.payload.reason, technique: 'T1068', layer: 'driver', audit: false };
    case 'BypassSuspected':
      return { reason: 'BypassSuspected', technique: ev.payload.technique, layer: 'enumeration', audit: false };
    case 'Bugcheck':
      return { reason: 'Bugcheck', technique: '', layer: 'kernel', audit: false };
    case 'DriverUnreachable':
      return { reason: 'DriverUnreachable', technique: 'T1562.001', layer: 'hook', audit: false };
    case 'CallbackError':
      return { reason: 'CallbackError', technique: '', layer: 'hook', audit: false };
    case 'HookRemoved':
      return { reason: 'HookRemoved', technique: 'T1562.001', layer: 'hook', audit: false };
    case 'EventsDropped':
      return { reason: 'EventsDropped', technique: '', layer: 'driver', audit: false };
    default:
      return null;
  }
}

interface Group { alert: Alert; raised: boolean }

/**
 * Groups events into alerts.
 * @example
 * const agg = new AlertAggregator({ windowMs: 10_000, clock: () => now });
 * for (const ev of ring.read(1, 256).events) agg.push(ev);
 * agg.alerts(); // [{ reason: 'RegBuffersCorrupted', severity: 'critical', count: 3, ... }]
 */
export class AlertAggregator {
  private readonly windowMs: number;
  private readonly thresholds: Readonly<Record<string, number>>;
  private readonly defaultThreshold: number;
  private readonly severities: Record<string, Severity>;
  private readonly defaultSeverity: Severity;
  private readonly clock: () => number;
  private readonly maxGroups: number;
  private readonly onAlert: ((a: Alert) => void) | undefined;
  private readonly groups = new Map<string, Group>();
  private readonly raised: Alert[] = [];
  /** Sequence numbers already counted (bounded): a re-read of the ring does not double-count. */
  private readonly seen = new Set<number>();
  private readonly seenOrder: number[] = [];
  duplicates = 0;
  ignored = 0;

  constructor(cfg: AlertConfig = {}) {
    this.windowMs = cfg.windowMs ?? 60_000;
    this.thresholds = cfg.thresholds ?? {};
    this.defaultThreshold = cfg.defaultThreshold ?? 1;
    this.severities = { ...DEFAULT_SEVERITIES, ...(cfg.severities ?? {}) };
    this.defaultSeverity = cfg.defaultSeverity ?? 'low';
    this.clock = cfg.clock ?? Date.now;
    this.maxGroups = cfg.maxGroups ?? 10_000;
    this.onAlert = cfg.onAlert;
  }

  /** Adds one event; returns the alert it raised (first crossing of the threshold in its window), else null. */
  push(ev: MonitorEvent): Alert | null {
    if (this.seen.has(ev.seq)) { this.duplicates++; return null; }
    this.remember(ev.seq);
    const c = classifyEvent(ev);
    if (c === null) { this.ignored++; return null; }
    const now = this.clock();
    const key = `${ev.pid}|${c.reason}|${c.technique}`;
    let g = this.groups.get(key);
    if (g !== undefined && now - g.alert.windowStartMs >= this.windowMs) {
      this.groups.delete(key);
      g = undefined;
    }
    if (g === undefined) {
      if (this.groups.size >= this.maxGroups) this.groups.delete(this.groups.keys().next().value!);
      g = {
        raised: false,
        alert: {
          key, pid: ev.pid, reason: c.reason, technique: c.technique, severity: this.severityOf(c.reason), count: 0, sources: [], layers: [],
          auditOnly: true, firstSeq: ev.seq, lastSeq: ev.seq, windowStartMs: now, lastSeenMs: now, raisedAtMs: -1,
        },
      };
      this.groups.set(key, g);
    }
    const a = g.alert;
    a.count++;
    a.lastSeq = ev.seq;
    a.lastSeenMs = now;
    if (!c.audit) a.auditOnly = false;
    if (!a.sources.includes(ev.type)) a.sources.push(ev.type);
    if (c.layer && !a.layers.includes(c.layer)) a.layers.push(c.layer);
    if (!g.raised && a.count >= (this.thresholds[c.reason] ?? this.defaultThreshold)) {
      g.raised = true;
      a.raisedAtMs = now;
      this.raised.push(a);
      this.onAlert?.(a);
      return a;
    }
    return null;
  }

  /** Pushes every event of an async source (e.g. the client's event stream) until it ends. */
  async consume(source: AsyncIterable<MonitorEvent>): Promise<number> {
    let n = 0;
    for await (const ev of source) { this.push(ev); n++; }
    return n;
  }

  /** Every alert raised so far, in order (each updated while its window is open). */
  alerts(): readonly Alert[] {
    return this.raised;
  }

  /** Drops groups whose window has ended (raised alerts stay in alerts()). Returns how many. */
  sweep(): number {
    const now = this.clock();
    let n = 0;
    for (const [k, g] of this.groups) if (now - g.alert.windowStartMs >= this.windowMs) { this.groups.delete(k); n++; }
    return n;
  }

  /** Open groups (raised or still below threshold). */
  get openGroups(): number {
    return this.groups.size;
  }

  private severityOf(reason: string): Severity {
    return this.severities[reason] ?? this.defaultSeverity;
  }

  private remember(seq: number): void {
    this.seen.add(seq);
    this.seenOrder.push(seq);
    if (this.seenOrder.length > 4096) this.seen.delete(this.seenOrder.shift()!);
  }
}
