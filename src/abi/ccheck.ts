// Generates the C translation unit that proves the layout tables against a real Windows x64
// compiler (mingw-w64): one _Static_assert per struct size, field offset and field size, plus the
// SQE offset constants, enum/flag values, IOCTL codes and NTSTATUS values. ccheck.test.ts compiles it.
import type { FieldDef, StructDef } from './layout.js';
import { ALL_STRUCTS } from './codec.js';
import * as ioring from './ioring.js';
import * as monitor from './monitor.js';
import { IOCTL_TABLE, WIN11MON_IOCTL_BASE } from './ioctl.js';
import { NtStatus } from './ntstatus.js';

/** Where a table field lives in the C declaration. */
export type CPath =
  | string // a member designator for offsetof/sizeof, e.g. "Flags.Required", "IoStatus.Status"
  | null // not a C member: implicit alignment padding the compiler inserts (checked as a gap)
  | { member: string; within: number }; // bytes `within..within+size` of a wider member (MON_SERIALIZED_SQE Padding[k])

/**
 * Per-table C paths where the table's field name is not the C member path. Fields whose ctype
 * starts with "(" (implicit / union padding) default to null; every other field defaults to its name.
 */
export const C_PATHS: Readonly<Record<string, Readonly<Record<string, CPath>>>> = {
  NT_IORING_SQE: { Op: 'ReservedMaxSizePadding' },
  NT_IORING_CQE: { ResultCode: 'IoStatus.Status', Information: 'IoStatus.Information' },
  MON_SERIALIZED_SQE: {
    ExtSqeFlags: { member: 'Padding[0]', within: 0 },
    ExtOpFlags: { member: 'Padding[0]', within: 4 },
    ExtCount: { member: 'Padding[1]', within: 0 },
    ExtAdvisory: { member: 'Padding[1]', within: 4 },
    ExtArg: { member: 'Padding[2]', within: 0 },
    ExtMagic: { member: 'Padding[3]', within: 0 },
    ExtVersion: { member: 'Padding[3]', within: 4 },
  },
};

/** Tables that describe a C struct's header only (the C struct ends in Entries[1]). */
export const C_SIZE_EXPR: Readonly<Record<string, string>> = {
  NT_IORING_SUBMISSION_QUEUE: 'offsetof(NT_IORING_SUBMISSION_QUEUE, Entries)',
  NT_IORING_COMPLETION_QUEUE: 'offsetof(NT_IORING_COMPLETION_QUEUE, Entries)',
};

export function cPathOf(def: StructDef, f: FieldDef): CPath {
  const o = C_PATHS[def.name]?.[f.name];
  if (o !== undefined) return o;
  return f.ctype.startsWith('(') ? null : f.name;
}

/** Where each op struct sits in NT_IORING_SQE, and the C paths of the SqeOff constants. */
const SQE_EMBED: readonly (readonly [StructDef, string])[] = [
  [ioring.NT_IORING_OP_READ, 'Read'], [ioring.NT_IORING_OP_WRITE, 'Write'], [ioring.NT_IORING_OP_FLUSH, 'Flush'],
  [ioring.NT_IORING_OP_CANCEL, 'Cancel'], [ioring.NT_IORING_OP_REGISTER_FILES, 'RegisterFiles'],
  [ioring.NT_IORING_OP_REGISTER_BUFFERS, 'RegisterBuffers'], [ioring.NT_IORING_OP_READ_SCATTER, 'ReadScatter'],
  [ioring.NT_IORING_OP_READ_SCATTER, 'WriteGather'],
];
const SQE_OFF_PATHS: Readonly<Record<keyof typeof ioring.SqeOff, string>> = {
  OpCode: 'OpCode', Flags: 'Flags', UserData: 'UserData', CommonOpFlags: 'Read.CommonOpFlags', OpFlags: 'Write.Flags',
  File: 'Read.File', Buffer: 'Read.Buffer', Offset: 'Read.Offset', Length: 'Read.Length', Key: 'Read.Key',
  CancelId: 'Cancel.CancelId', RegAdvisory: 'RegisterBuffers.Flags.Advisory', RegCount: 'RegisterBuffers.Count',
  RegArray: 'RegisterBuffers.Buffers', SegmentCount: 'ReadScatter.SegmentCount', SegmentArray: 'ReadScatter.SegmentArray',
  SgOffset: 'ReadScatter.Offset', SgLength: 'ReadScatter.Length', SgKey: 'ReadScatter.Key',
};

/** The headers the check compiles against, in this order (WIN32_NO_STATUS so ntstatus.h can follow windows.h). */
export const C_PRELUDE = [
  '#define _WIN32_WINNT 0x0A00',
  '#define NTDDI_VERSION 0x0A00000B /* NTDDI_WIN10_CO: ioringapi.h needs it */',
  '#define WIN32_NO_STATUS',
  '#include <windows.h>',
  '#undef WIN32_NO_STATUS',
  '#include <ntstatus.h>',
  '#include <winternl.h>',
  '#include <winioctl.h>',
  '#include <ioringapi.h>',
  '#include <stddef.h>',
].join('\n');

const hx = (n: number): string => `0x${(n >>> 0).toString(16)}`;

function sa(cond: string, msg: string): string {
  return `_Static_assert(${cond}, ${JSON.stringify(msg)});`;
}

/** Assertions for one table: size, each field's offset and size, gaps where the compiler pads. */
export function structAsserts(def: StructDef): string[] {
  const T = def.name;
  const out: string[] = [`/* ${T} (${def.source}) */`];
  const sizeExpr = C_SIZE_EXPR[T] ?? `sizeof(${T})`;
  out.push(sa(`${sizeExpr} == ${hx(def.size)}`, `${T}: size ${def.size}`));
  let prevEnd: string | null = null;
  const fields = def.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const p = cPathOf(def, f);
    const where = `${T}.${f.name}: offset ${hx(f.offset)} size ${f.size}`;
    if (p === null) {
      // Implicit padding: the next C member starts right after it (or the struct ends).
      const next = fields.slice(i + 1).find((g) => cPathOf(def, g) !== null);
      const nextStart = next ? offsetExpr(T, cPathOf(def, next)!) : sizeExpr;
      out.push(sa(`${nextStart} - (${prevEnd ?? '0'}) == ${f.size}`, `${where} (compiler padding)`));
      continue;
    }
    const off = offsetExpr(T, p);
    out.push(sa(`${off} == ${hx(f.offset)}`, where));
    if (typeof p === 'string') {
      out.push(sa(`sizeof(((${T} *)0)->${p}) == ${f.size}`, `${where} (member size)`));
      prevEnd = `${off} + ${f.size}`;
    } else {
      out.push(sa(`${p.within + f.size} <= sizeof(((${T} *)0)->${p.member})`, `${where} (inside ${p.member})`));
      prevEnd = `${off} + ${f.size}`;
    }
  }
  return out;
}

function offsetExpr(T: string, p: Exclude<CPath, null>): string {
  return typeof p === 'string' ? `offsetof(${T}, ${p})` : `(offsetof(${T}, ${p.member}) + ${p.within})`;
}

/** Values that mingw-w64's own headers define and win11mon duplicates. */
function sdkValueAsserts(): string[] {
  const out: string[] = ['/* IORING_* values from mingw-w64 ntioring_x.h / ioringapi.h */'];
  const pairs: [string, number][] = [
    ['IORING_OP_NOP', ioring.IoRingOp.NOP], ['IORING_OP_READ', ioring.IoRingOp.READ], ['IORING_OP_REGISTER_FILES', ioring.IoRingOp.REGISTER_FILES],
    ['IORING_OP_REGISTER_BUFFERS', ioring.IoRingOp.REGISTER_BUFFERS], ['IORING_OP_CANCEL', ioring.IoRingOp.CANCEL],
    ['IORING_VERSION_INVALID', ioring.IoRingVersion.INVALID], ['IORING_VERSION_1', ioring.IoRingVersion.V1],
    ['IORING_FEATURE_UM_EMULATION', ioring.IORING_FEATURE_UM_EMULATION], ['IORING_FEATURE_SET_COMPLETION_EVENT', ioring.IORING_FEATURE_SET_COMPLETION_EVENT],
    ['IORING_REF_RAW', ioring.IORING_REF_RAW], ['IORING_REF_REGISTERED', ioring.IORING_REF_REGISTERED],
    ['IORING_SUBMIT_WAIT_ALL', ioring.IORING_SUBMIT_WAIT_ALL],
    // the rest from fixtures/c/win11mon_abi.h (PDB enums, driver header)
    ['WIN11MON_IORING_OP_WRITE', ioring.IoRingOp.WRITE], ['WIN11MON_IORING_OP_FLUSH', ioring.IoRingOp.FLUSH],
    ['WIN11MON_IORING_OP_READ_SCATTER', ioring.IoRingOp.READ_SCATTER], ['WIN11MON_IORING_OP_WRITE_GATHER', ioring.IoRingOp.WRITE_GATHER],
    ['NT_IORING_OP_FLAG_REGISTERED_FILE', ioring.NT_IORING_OP_FLAG_REGISTERED_FILE], ['NT_IORING_OP_FLAG_REGISTERED_BUFFER', ioring.NT_IORING_OP_FLAG_REGISTERED_BUFFER],
    ['NT_IORING_SQE_FLAG_DRAIN_PRECEDING_OPS', ioring.NT_IORING_SQE_FLAG_DRAIN_PRECEDING_OPS], ['NT_WRITE_FLAG_WRITE_THROUGH', ioring.NT_WRITE_FLAG_WRITE_THROUGH],
    ['NT_IORING_CREATE_SKIP_BUILDER_PARAM_CHECKS', ioring.NT_IORING_CREATE_SKIP_BUILDER_PARAM_CHECKS],
    ['MON_SQE_FLAG_PREREGISTERED_FILE', monitor.MON_SQE_FLAG_PREREGISTERED_FILE], ['MON_SQE_FLAG_PREREGISTERED_BUFFER', monitor.MON_SQE_FLAG_PREREGISTERED_BUFFER],
    ['MON_INTERCEPT_MAX_OPS_PER_SUBMIT', monitor.MON_INTERCEPT_MAX_OPS_PER_SUBMIT], ['MON_INTERCEPT_DEFAULT_MAX_OPS', monitor.MON_INTERCEPT_DEFAULT_MAX_OPS],
    ['MON_INTERCEPT_DEFAULT_RATE_LIMIT', monitor.MON_INTERCEPT_DEFAULT_RATE_LIMIT], ['MON_INTERCEPT_MAX_BLACKLIST', monitor.MON_INTERCEPT_MAX_BLACKLIST],
    ['MON_INTERCEPT_MAX_BUFFER_SIZE', monitor.MON_INTERCEPT_MAX_BUFFER_SIZE], ['MON_INTERCEPT_DEFAULT_OPCODE_MASK', monitor.MON_INTERCEPT_DEFAULT_OPCODE_MASK],
    ['MON_INTERCEPT_REQUEST_VERSION', monitor.MON_INTERCEPT_REQUEST_VERSION],
    ['sizeof(MON_INTERCEPT_REQUEST)', monitor.MON_INTERCEPT_REQUEST_HEADER_SIZE], ['sizeof(MON_SERIALIZED_SQE)', monitor.MON_SERIALIZED_SQE_SIZE],
    ['sizeof(MON_INTERCEPT_RESPONSE)', monitor.MON_INTERCEPT_RESPONSE_SIZE], ['sizeof(MON_INTERCEPT_POLICY)', monitor.MON_INTERCEPT_POLICY_SIZE],
    ['sizeof(MON_INTERCEPT_STATS)', monitor.MON_INTERCEPT_STATS_SIZE], ['sizeof(MON_BLACKLIST_ENTRY)', monitor.MON_BLACKLIST_ENTRY_SIZE],
    ['sizeof(MON_RING_EVENT)', monitor.MON_RING_EVENT_HEADER_SIZE], ['sizeof(NT_IORING_SQE)', ioring.NT_IORING_SQE_SIZE],
    ['sizeof(NT_IORING_CQE)', ioring.NT_IORING_CQE_SIZE], ['sizeof(IORING_BUFFER_INFO)', ioring.IORING_BUFFER_INFO_SIZE],
    ['offsetof(NT_IORING_SUBMISSION_QUEUE, Entries)', ioring.NT_IORING_SQ_HEADER_SIZE], ['offsetof(NT_IORING_COMPLETION_QUEUE, Entries)', ioring.NT_IORING_CQ_HEADER_SIZE],
  ];
  for (const [name, v] of Object.entries(monitor.InterceptReason)) pairs.push([`MonReason_${name}`, v]);
  for (const [name, v] of Object.entries(monitor.InterceptAction)) pairs.push([`MonIntercept_${name}`, v]);
  for (const [name, v] of Object.entries(monitor.MonEventType)) if (v < 0x100) pairs.push([`MonEvent_${name}`, v]);
  for (const [c, v] of pairs) out.push(sa(`(unsigned long long)(${c}) == ${hx(v)}ull`, `${c} == ${hx(v)}`));
  return out;
}

function sqeEmbedAsserts(): string[] {
  const out: string[] = ['/* op structs inside NT_IORING_SQE, and the SqeOff constants the hot path uses */'];
  for (const [def, member] of SQE_EMBED) {
    out.push(sa(`offsetof(NT_IORING_SQE, ${member}) == 0x10`, `NT_IORING_SQE.${member} at 0x10`));
    out.push(sa(`sizeof(((NT_IORING_SQE *)0)->${member}) == ${hx(def.size)}`, `NT_IORING_SQE.${member} is ${def.name} (${def.size} bytes)`));
  }
  for (const [k, path] of Object.entries(SQE_OFF_PATHS)) {
    const v = ioring.SqeOff[k as keyof typeof ioring.SqeOff];
    out.push(sa(`offsetof(NT_IORING_SQE, ${path}) == ${hx(v)}`, `SqeOff.${k} == offsetof(NT_IORING_SQE, ${path})`));
  }
  return out;
}

/** The driver header's IOCTL definitions (as CTL_CODE expressions) and ioctl.ts's numbers for them. */
function ioctlAsserts(): string[] {
  const access = ['FILE_ANY_ACCESS', 'FILE_READ_ACCESS', 'FILE_WRITE_ACCESS', '(FILE_READ_ACCESS | FILE_WRITE_ACCESS)'];
  const out: string[] = ['/* IOCTL codes: CTL_CODE from winioctl.h vs ioctl.ts */', `#define WIN11MON_IOCTL_BASE ${hx(WIN11MON_IOCTL_BASE)}`];
  for (const d of IOCTL_TABLE) {
    const expr = `CTL_CODE(FILE_DEVICE_UNKNOWN, WIN11MON_IOCTL_BASE + ${hx(d.fn)}, METHOD_BUFFERED, ${access[d.access]})`;
    out.push(sa(`(unsigned long)(${expr}) == ${hx(d.code)}ul`, `${d.name} == ${hx(d.code)}`));
  }
  return out;
}

/** NTSTATUS assertions for the names `defined` (those mingw-w64's ntstatus.h/winnt.h define). */
function ntstatusAsserts(defined: ReadonlySet<string>): string[] {
  const out: string[] = ['/* NTSTATUS values, for the names mingw-w64 defines */'];
  for (const [name, v] of Object.entries(NtStatus)) {
    if (defined.has(name)) out.push(sa(`(unsigned long)(${name}) == ${hx(v)}ul`, `${name} == ${hx(v)}`));
  }
  return out;
}

/** NtStatus names win11mon uses; the test splits them into those the compiler can check and the rest. */
export const NTSTATUS_NAMES: readonly string[] = Object.keys(NtStatus);

/**
 * The whole translation unit. `headerPath` is fixtures/c/win11mon_abi.h; `definedStatus` the
 * STATUS_* macros the preprocessor reports (gcc -dM -E of C_PRELUDE).
 */
export function generateCheckSource(headerPath: string, definedStatus: ReadonlySet<string>): string {
  const parts = [
    '/* Generated by src/abi/ccheck.ts from the layout tables; compiled by src/abi/ccheck.test.ts. */',
    C_PRELUDE,
    `#include ${JSON.stringify(headerPath)}`,
    ...ALL_STRUCTS.flatMap(structAsserts),
    ...sqeEmbedAsserts(),
    ...sdkValueAsserts(),
    ...ioctlAsserts(),
    ...ntstatusAsserts(definedStatus),
    '',
  ];
  return parts.join('\n');
}

/** Counts the _Static_assert lines, for the test's report. */
export function countAsserts(src: string): number {
  return src.split('\n').filter((l) => l.startsWith('_Static_assert(')).length;
}
