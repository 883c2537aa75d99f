// Telemetry events as Elastic Common Schema (ECS 8.11) documents, one JSON object per event, so a
// SIEM (Elastic, OpenSearch, Splunk with the ECS add-on, Sentinel's ASIM) can ingest
// `win11mon events --json --ecs` as it is. The mapping is documented in docs/events.md.
import { hex64 } from '../abi/u64.js';
import { MonEventType } from '../abi/monitor.js';
import { violationFlagNames } from '../engine/index.js';
import { eventToJson, unixMsFromFiletime, type MonitorEvent, type U64 } from '../driver/telemetry/index.js';

export const ECS_VERSION = '8.11.0';

/** ATT&CK techniques win11mon tags, with their tactic (enterprise matrix v15). */
export const ATTACK_TECHNIQUES: Readonly<Record<string, { name: string; tactic: { id: string; name: string } }>> = {
  T1068: { name: 'Exploitation for Privilege Escalation', tactic: { id: 'TA0004', name: 'Privilege Escalation' } },
  T1499: { name: 'Endpoint Denial of Service', tactic: { id: 'TA0040', name: 'Impact' } },
  T1106: { name: 'Native API', tactic: { id: 'TA0002', name: 'Execution' } },
  T1562: { name: 'Impair Defenses', tactic: { id: 'TA0005', name: 'Defense Evasion' } },
  'T1562.001': { name: 'Disable or Modify Tools', tactic: { id: 'TA0005', name: 'Defense Evasion' } },
};

/** Elastic's severity scale (low 21, medium 47, high 73, critical 99). */
export const EcsSeverity = { low: 21, medium: 47, high: 73, critical: 99 } as const;

/** An ECS document (nested objects, as Elasticsearch stores them). */
export type EcsDocument = Record<string, unknown> & {
  '@timestamp': string;
  message: string;
  event: { kind: 'alert' | 'event'; category: string[]; type: string[]; action: string; outcome: 'success' | 'failure' | 'unknown'; severity: number; sequence: number; code: string; module: 'win11mon'; dataset: 'win11mon.events'; provider: 'win11mon' };
};

interface Mapping {
  kind: 'alert' | 'event';
  category: string[];
  type: string[];
  action: string;
  outcome: 'success' | 'failure' | 'unknown';
  severity: number;
  message: string;
  technique?: string;
  rule?: { id: string; name: string; version?: number };
}

const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
const h = (v: U64) => hex64(v.hi, v.lo);

function mapEvent(ev: MonitorEvent): Mapping {
  switch (ev.type) {
    case 'InterceptDecision': {
      const p = ev.payload;
      const detected = p.reason !== 'None' && p.reason !== 'PolicyDisabled';
      const rule = { id: `win11mon-${kebab(p.reason)}`, name: p.reason, version: p.policyVersion };
      const where = p.violatingOpIndex === 0xffffffff ? '' : ` (SQE ${p.violatingOpIndex})`;
      if (p.action === 'Block') {
        return {
          kind: 'alert', category: ['intrusion_detection'], type: ['denied'], action: 'ioring-submission-blocked', outcome: 'failure',
          severity: p.technique === 'T1068' ? EcsSeverity.critical : EcsSeverity.high, technique: p.technique, rule,
          message: `IoRing submission of pid ${ev.pid} blocked: ${p.reason}${where}${p.explanation ? ` - ${p.explanation}` : ''}`,
        };
      }
      if (p.action === 'LogOnly') {
        return {
          kind: detected ? 'alert' : 'event', category: ['intrusion_detection'], type: ['info'], action: 'ioring-submission-logged', outcome: 'success',
          severity: detected ? EcsSeverity.medium : EcsSeverity.low, ...(detected ? { technique: p.technique, rule } : {}),
          message: `IoRing submission of pid ${ev.pid} allowed in audit mode: ${p.reason}${where}${p.explanation ? ` - ${p.explanation}` : ''}`,
        };
      }
      return {
        kind: 'event', category: ['intrusion_detection'], type: ['allowed'], action: 'ioring-submission-allowed', outcome: 'success', severity: EcsSeverity.low,
        message: `IoRing submission of pid ${ev.pid} allowed (${p.operationCount} operations)`,
      };
    }
    case 'RegBuffersViolation': {
      const p = ev.payload;
      return {
        kind: 'alert', category: ['intrusion_detection'], type: ['info'], action: 'regbuffers-corruption-detected', outcome: 'unknown',
        severity: EcsSeverity.critical, technique: p.technique || 'T1068', rule: { id: 'win11mon-regbuffers-integrity', name: 'RegBuffersIntegrity' },
        message: `IoRing 0x${p.handle.lo.toString(16)} of pid ${ev.pid}: RegBuffers ${h(p.regBuffersAddress)} (count ${p.regBuffersCount}, expected ${p.expectedCount}) is corrupted: ${violationFlagNames(p.violationFlags).join(', ') || 'flags 0x' + p.violationFlags.toString(16)}`,
      };
    }
    case 'RingQuarantined': {
      const p = ev.payload;
      return {
        kind: 'alert', category: ['intrusion_detection'], type: ['denied'], action: 'ioring-quarantined', outcome: 'success', severity: EcsSeverity.critical,
        technique: 'T1068', rule: { id: `win11mon-${kebab(p.reason)}`, name: p.reason },
        message: `IoRing 0x${p.ioRingHandle.lo.toString(16)} of pid ${ev.pid} quarantined: ${p.detail}`,
      };
    }
    case 'BypassSuspected': {
      const p = ev.payload;
      return {
        kind: 'alert', category: ['intrusion_detection'], type: ['info'], action: 'hook-bypass-suspected', outcome: 'unknown', severity: EcsSeverity.high,
        technique: p.technique || 'T1562.001', rule: { id: 'win11mon-hook-bypass', name: 'HookBypass' },
        message: `pid ${ev.pid} submitted around the hook: ${p.detail}`,
      };
    }
    case 'PolicyChanged': {
      const p = ev.payload;
      return { kind: 'event', category: ['configuration'], type: ['change'], action: 'policy-changed', outcome: 'success', severity: EcsSeverity.low, message: `policy version ${p.previousVersion} -> ${p.version} (${p.source}, sha256 ${p.hashPrefix}...)` };
    }
    case 'HookInstalled':
    case 'HookRemoved': {
      const p = ev.payload;
      const on = ev.type === 'HookInstalled';
      return {
        kind: 'event', category: ['process'], type: ['change'], action: on ? 'hook-installed' : 'hook-removed', outcome: 'success', severity: EcsSeverity.low,
        message: `${p.method} hook on ${p.symbol} ${on ? 'installed in' : 'removed from'} pid ${p.targetPid}`,
      };
    }
    case 'EventsDropped': {
      const p = ev.payload;
      const n = p.count.hi * 0x100000000 + p.count.lo;
      return { kind: 'event', category: ['host'], type: ['info'], action: 'events-dropped', outcome: 'failure', severity: EcsSeverity.medium, message: `${n} telemetry events dropped (${p.policy})` };
    }
    case 'Bugcheck':
      return { kind: 'event', category: ['host'], type: ['end'], action: 'kernel-bugcheck', outcome: 'failure', severity: EcsSeverity.critical, message: `emulated kernel bugcheck 0x${ev.payload.code.toString(16)}: ${ev.payload.message}` };
    case 'PostSubmit': {
      const p = ev.payload;
      return { kind: 'event', category: ['process'], type: ['info'], action: 'ioring-submitted', outcome: p.status === 0 ? 'success' : 'failure', severity: EcsSeverity.low, message: `pid ${ev.pid} submitted ${p.operationCount} operations: status 0x${p.status.toString(16)}, ${p.completions} completions` };
    }
    case 'DriverUnreachable':
      return { kind: 'event', category: ['driver'], type: ['info'], action: 'driver-unreachable', outcome: 'failure', severity: EcsSeverity.medium, message: `pid ${ev.pid}: the hook could not reach the driver (status 0x${ev.payload.status.toString(16)}), fallback ${ev.payload.fallbackAction}: ${ev.payload.detail}` };
    case 'CallbackError':
      return { kind: 'event', category: ['process'], type: ['info'], action: 'callback-error', outcome: 'failure', severity: EcsSeverity.medium, message: `pid ${ev.pid}: validation callback failed: ${ev.payload.message}` };
    default: {
      // The C header's types (IoRingHandleCreated, ...) carry opaque payloads.
      const action = kebab(ev.type === 'Unknown' ? `unknown-0x${ev.eventType.toString(16)}` : ev.type);
      const created = ev.type === 'IoRingHandleCreated';
      return { kind: 'event', category: ['process'], type: ['info'], action, outcome: 'unknown', severity: EcsSeverity.low, message: created ? `pid ${ev.pid} created an IoRing` : `${ev.type} event` };
    }
  }
}

function threat(technique: string | undefined): Record<string, unknown> | undefined {
  if (!technique) return undefined;
  const parent = technique.split('.')[0]!;
  const t = ATTACK_TECHNIQUES[parent];
  const sub = technique.includes('.') ? ATTACK_TECHNIQUES[technique] : undefined;
  return {
    framework: 'MITRE ATT&CK',
    technique: {
      id: [parent], name: [t?.name ?? parent], reference: [`https://attack.mitre.org/techniques/${parent}/`],
      ...(sub ? { subtechnique: { id: [technique], name: [sub.name], reference: [`https://attack.mitre.org/techniques/${technique.replace('.', '/')}/`] } } : {}),
    },
    ...(t ? { tactic: { id: [t.tactic.id], name: [t.tactic.name], reference: [`https://attack.mitre.org/tactics/${t.tactic.id}/`] } } : {}),
  };
}

/**
 * The ECS document of one event. ECS fields carry what ECS defines; every win11mon field of the event
 * (reason, violationFlags, ioRingHandle as hex, layer, ...) is under `win11mon`.
 *
 * @example
 * for (const ev of (await client.readEvents(1)).events) process.stdout.write(JSON.stringify(toEcs(ev)) + '\n');
 */
export function toEcs(ev: MonitorEvent): EcsDocument {
  const m = mapEvent(ev);
  const ms = unixMsFromFiletime(ev.timestamp);
  const json = eventToJson(ev) as { payload?: Record<string, unknown>; eventType?: number };
  const code = 'eventType' in ev ? ev.eventType : undefined;
  const payload = json.payload ?? {};
  const win11mon: Record<string, unknown> = { type: ev.type, ...payload };
  if (typeof payload.violationFlags === 'number') win11mon.violationFlagNames = violationFlagNames(payload.violationFlags);
  if (typeof payload.violatingOpIndex === 'number' && payload.violatingOpIndex === 0xffffffff) win11mon.violatingOpIndex = null;
  const th = threat(m.technique);
  const doc: EcsDocument = {
    '@timestamp': Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : new Date(0).toISOString(),
    ecs: { version: ECS_VERSION },
    message: m.message,
    event: {
      kind: m.kind, category: m.category, type: m.type, action: m.action, outcome: m.outcome, severity: m.severity, sequence: ev.seq,
      code: `0x${(code ?? eventTypeCode(ev)).toString(16)}`, module: 'win11mon', dataset: 'win11mon.events', provider: 'win11mon',
    },
    process: { pid: ev.pid, ...(ev.tid ? { thread: { id: ev.tid } } : {}) },
    ...(th ? { threat: th } : {}),
    ...(m.rule ? { rule: { id: m.rule.id, name: m.rule.name, ruleset: 'win11mon policy', ...(m.rule.version !== undefined ? { version: String(m.rule.version) } : {}) } } : {}),
    observer: { vendor: 'win11mon', product: 'win11mon', type: 'ids' },
    win11mon,
  };
  return doc;
}

function eventTypeCode(ev: MonitorEvent): number {
  return MonEventType[ev.type as keyof typeof MonEventType] ?? 0;
}
