// Plan item 5B, dynamic offset resolution: _IORING_OBJECT field offsets per Windows build, as data
// with sources, looked up by build range, overridable by a validated JSON file for new builds.
// Sources: shared/reference/ioring-abi.md section 2 (ntdiff/headers PDB dumps, decompilations,
// Yarden Shafir's reverse-engineered 21H2 header).
import { readFileSync } from 'node:fs';
import { Win11MonError } from '../abi/errors.js';
import { IoRingVersion } from '../abi/ioring.js';

/** The _IORING_OBJECT fields the emulator and the monitor use, spelled as the public symbols spell them. */
export const IORING_OBJECT_FIELD_NAMES = [
  'Type', 'Size', 'UserInfo', 'Section', 'SubmissionQueue', 'CompletionQueueMdl', 'CompletionQueue', 'ViewSize',
  'InSubmit', 'CompletionLock', 'SubmitCount', 'CompletionCount', 'CompletionWaitUntil', 'CompletionEvent',
  'SignalCompletionEvent', 'CompletionUserEvent', 'RegBuffersCount', 'RegBuffers', 'RegFilesCount', 'RegFiles',
] as const;
export type IoRingObjectField = (typeof IORING_OBJECT_FIELD_NAMES)[number];

/** Sizes every layout must give each field (they are types, not layout choices). */
const FIELD_SIZES: Record<IoRingObjectField, number> = {
  Type: 2, Size: 2, UserInfo: 0x30, Section: 8, SubmissionQueue: 8, CompletionQueueMdl: 8, CompletionQueue: 8, ViewSize: 8,
  InSubmit: 4, CompletionLock: 8, SubmitCount: 8, CompletionCount: 8, CompletionWaitUntil: 8, CompletionEvent: 0x18,
  SignalCompletionEvent: 1, CompletionUserEvent: 8, RegBuffersCount: 4, RegBuffers: 8, RegFilesCount: 4, RegFiles: 8,
};

export interface FieldOffset {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

/** How RegBuffers stores registered buffers on a build (reference section 2.5). */
export type RegBuffersFormat =
  /** >= 22610: array of IOP_MC_BUFFER_ENTRY pointers ('IrRB' paged pool), entries in 'McBe' non-paged pool. */
  | 'mc-entry-pointers'
  /** < 22610: flat IORING_BUFFER_INFO {Address, Length} array. */
  | 'buffer-info-array';

export interface OffsetsEntry {
  /** Release name, e.g. "22H2". */
  readonly release: string;
  /** Inclusive build range sharing this layout. */
  readonly firstBuild: number;
  readonly lastBuild: number;
  /** The build the table was taken for (the one `offsets` prints for this entry). */
  readonly build: number;
  readonly objectSize: number;
  readonly regBuffersFormat: RegBuffersFormat;
  /** Highest IORING_VERSION the build accepts. */
  readonly maxIoRingVersion: number;
  readonly fields: readonly FieldOffset[];
  readonly source: string;
  readonly confidence: 'pdb' | 'inferred' | 'contested' | 'override';
  /** Other layouts the sources give for the same builds, with why the table does not use them. */
  readonly alternatives?: ReadonlyArray<{ readonly source: string; readonly objectSize: number; readonly fields: ReadonlyArray<FieldOffset & { readonly sourceName: string }>; readonly why: string }>;
  readonly notes?: string;
}

/** A resolved layout: the entry plus a name -> offset record for hot paths. */
export interface IoRingOffsets extends OffsetsEntry {
  readonly off: Readonly<Record<IoRingObjectField, number>>;
}

function fields(list: ReadonlyArray<[IoRingObjectField, number]>): FieldOffset[] {
  return list.map(([name, offset]) => ({ name, offset, size: FIELD_SIZES[name] }));
}

// 22H2 x64 PDB (S2 ntdiff/headers Win11_2209_22H2/x64 _IORING_OBJECT.h; same as WinDbg dt in S14).
const LAYOUT_22H2 = fields([
  ['Type', 0x00], ['Size', 0x02], ['UserInfo', 0x08], ['Section', 0x38], ['SubmissionQueue', 0x40],
  ['CompletionQueueMdl', 0x48], ['CompletionQueue', 0x50], ['ViewSize', 0x58], ['InSubmit', 0x60],
  ['CompletionLock', 0x68], ['SubmitCount', 0x70], ['CompletionCount', 0x78], ['CompletionWaitUntil', 0x80],
  ['CompletionEvent', 0x88], ['SignalCompletionEvent', 0xa0], ['CompletionUserEvent', 0xa8],
  ['RegBuffersCount', 0xb0], ['RegBuffers', 0xb8], ['RegFilesCount', 0xc0], ['RegFiles', 0xc8],
]);

// Yarden Shafir's Oct-2021 reverse-engineered header (S10 yardenshafir/IoRing_Demos ioringnt.h), with its names.
const LAYOUT_21H2_RE: Array<FieldOffset & { sourceName: string }> = [
  ['Type', 'Type', 0x00], ['Size', 'Size', 0x02], ['UserInfo', 'Info', 0x08], ['Section', 'SectionObject', 0x38],
  ['SubmissionQueue', 'KernelMappedBase', 0x40], ['CompletionQueueMdl', 'Mdl', 0x48], ['CompletionQueue', 'MdlMappedBase', 0x50],
  ['ViewSize', 'ViewSize', 0x58], ['InSubmit', 'SubmitInProgress', 0x60], ['CompletionLock', 'IoRingEntryLock', 0x68],
  ['CompletionCount', 'EntriesCompleted', 0x70], ['SubmitCount', 'EntriesSubmitted', 0x78], ['CompletionEvent', 'RingEvent', 0x80],
  ['CompletionWaitUntil', 'EntriesPending', 0x98], ['RegBuffersCount', 'BuffersRegistered', 0xa0], ['RegBuffers', 'BufferArray', 0xa8],
  ['RegFilesCount', 'FilesRegistered', 0xb0], ['RegFiles', 'FileHandleArray', 0xb8],
].map(([name, sourceName, offset]) => ({ name: name as string, sourceName: sourceName as string, offset: offset as number, size: FIELD_SIZES[name as IoRingObjectField] }));

/** The built-in table. Order: by build. */
export const OFFSETS_TABLE: readonly OffsetsEntry[] = Object.freeze([
  {
    release: '21H2', firstBuild: 22000, lastBuild: 22000, build: 22000, objectSize: 0xd0,
    regBuffersFormat: 'buffer-info-array', maxIoRingVersion: IoRingVersion.V2, fields: LAYOUT_22H2,
    source: '[DECOMP] read-only-era ntoskrnl (only Cancel/Read/RegisterBuffers/RegisterFiles dispatchers): CQ @+0x50, CQ size/mask @+0x1C/+0x20, lock @+0x68, KEVENT @+0x88, user event @+0xA8, IopDeleteIoRing frees +0xB8 (IrRB) and +0xC8 (IrRF) - reference section 2.4',
    confidence: 'contested',
    alternatives: [{
      source: '[RE] yardenshafir/IoRing_Demos ioringnt.h (Oct 2021, preview builds) - reference section 2.4',
      objectSize: 0xc0,
      fields: LAYOUT_21H2_RE,
      why: 'written against preview builds before 21H2 symbols existed (public 22000.194 PDB has an empty _IORING_OBJECT); the decompiled kernel code is real 21H2-era code and its pool frees at +0xB8/+0xC8 match the 22H2 layout, so the table uses the decompiled layout',
    }],
    notes: 'Public 22000 symbols are opaque; IORING_VERSION_2 build unconfirmed; no IORING_OP_WRITE/FLUSH before IORING_VERSION_3 (22H2).',
  },
  {
    release: '22H2', firstBuild: 22621, lastBuild: 22630, build: 22621, objectSize: 0xd0,
    regBuffersFormat: 'mc-entry-pointers', maxIoRingVersion: IoRingVersion.V3, fields: LAYOUT_22H2,
    source: '[PDB] ntdiff/headers Win11_2209_22H2/x64/System32/ntoskrnl.exe/Standalone/_IORING_OBJECT.h - reference section 2.1',
    confidence: 'pdb',
  },
  {
    release: '23H2', firstBuild: 22631, lastBuild: 22635, build: 22631, objectSize: 0xd0,
    regBuffersFormat: 'mc-entry-pointers', maxIoRingVersion: IoRingVersion.V3, fields: LAYOUT_22H2,
    source: 'inferred = 22H2: 23H2 is an enablement package over 22621; FoxTwo_ offset_resolver.c lists 22631-22635 with the same offsets - reference section 2.2',
    confidence: 'inferred',
  },
  {
    release: '24H2', firstBuild: 26100, lastBuild: 26100, build: 26100, objectSize: 0xd0,
    regBuffersFormat: 'mc-entry-pointers', maxIoRingVersion: IoRingVersion.V4, fields: LAYOUT_22H2,
    source: '[PDB] ntdiff/headers Win11_2409_24H2/ARM64 _IORING_OBJECT.h; x64 decompilations read RegBuffersCount @+0xB0, RegBuffers @+0xB8 - reference section 2.3',
    confidence: 'pdb',
  },
].map((e) => Object.freeze(e as OffsetsEntry)));

/** The builds `offsets` and the exploit tests iterate over. */
export const SUPPORTED_BUILDS: readonly number[] = OFFSETS_TABLE.map((e) => e.build);

/** An override file: one layout (or an array of them) for builds the table does not know. */
export interface OffsetsOverride {
  build?: number;
  firstBuild?: number;
  lastBuild?: number;
  release?: string;
  objectSize: number;
  regBuffersFormat?: RegBuffersFormat;
  maxIoRingVersion?: number;
  fields: Array<{ name: string; offset: number; size?: number }>;
  source?: string;
}

function invalid(message: string, field: string, expected?: string | number, actual?: string | number): Win11MonError {
  return new Win11MonError('WIN11MON_ERR_OFFSETS_INVALID', message, { struct: 'offsets override', field, expected, actual });
}

function isUint(v: unknown, max = 0xffffffff): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
}

/** Validates an override object (parsed JSON) and turns it into a table entry. Throws WIN11MON_ERR_OFFSETS_INVALID naming the field. */
export function validateOffsetsOverride(raw: unknown, where = ''): OffsetsEntry {
  const p = where ? `${where}.` : '';
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('offsets override must be a JSON object', where || '(root)', 'object', Array.isArray(raw) ? 'array' : typeof raw);
  const o = raw as Record<string, unknown>;
  const firstBuild = o.firstBuild ?? o.build;
  const lastBuild = o.lastBuild ?? o.build ?? o.firstBuild;
  if (!isUint(firstBuild) || firstBuild < 10000) throw invalid('"build" (or "firstBuild") must be a Windows build number', `${p}build`, 'integer >= 10000', String(firstBuild));
  if (!isUint(lastBuild) || lastBuild < firstBuild) throw invalid('"lastBuild" must be a build number >= firstBuild', `${p}lastBuild`, `>= ${firstBuild}`, String(lastBuild));
  if (!isUint(o.objectSize, 0x10000) || o.objectSize === 0) throw invalid('"objectSize" must be a positive integer', `${p}objectSize`, 'integer 1..0x10000', String(o.objectSize));
  const objectSize = o.objectSize;
  const fmt = o.regBuffersFormat ?? (firstBuild >= 22610 ? 'mc-entry-pointers' : 'buffer-info-array');
  if (fmt !== 'mc-entry-pointers' && fmt !== 'buffer-info-array') throw invalid('"regBuffersFormat" must be "mc-entry-pointers" or "buffer-info-array"', `${p}regBuffersFormat`, 'mc-entry-pointers | buffer-info-array', String(fmt));
  const maxV = o.maxIoRingVersion ?? (firstBuild >= 26100 ? IoRingVersion.V4 : firstBuild >= 22621 ? IoRingVersion.V3 : IoRingVersion.V2);
  if (![1, 2, 300, 400].includes(maxV as number)) throw invalid('"maxIoRingVersion" must be 1, 2, 300 or 400', `${p}maxIoRingVersion`, '1 | 2 | 300 | 400', String(maxV));
  if (!Array.isArray(o.fields)) throw invalid('"fields" must be an array of { name, offset, size }', `${p}fields`, 'array', typeof o.fields);
  const seen = new Map<string, FieldOffset>();
  o.fields.forEach((f: unknown, i: number) => {
    const fp = `${p}fields[${i}]`;
    if (typeof f !== 'object' || f === null) throw invalid(`${fp} must be an object`, fp, 'object', typeof f);
    const fo = f as Record<string, unknown>;
    if (typeof fo.name !== 'string' || !(IORING_OBJECT_FIELD_NAMES as readonly string[]).includes(fo.name)) {
      throw invalid(`${fp}.name must be one of ${IORING_OBJECT_FIELD_NAMES.join(', ')}`, `${fp}.name`, 'an _IORING_OBJECT field name', String(fo.name));
    }
    const name = fo.name as IoRingObjectField;
    if (seen.has(name)) throw invalid(`field ${name} is listed twice`, `${fp}.name`, 'unique', name);
    if (!isUint(fo.offset, objectSize)) throw invalid(`${name}.offset must be an integer inside the object`, `${name}.offset`, `0..${objectSize}`, String(fo.offset));
    const size = fo.size ?? FIELD_SIZES[name];
    if (size !== FIELD_SIZES[name]) throw invalid(`${name}.size must be ${FIELD_SIZES[name]}`, `${name}.size`, FIELD_SIZES[name], String(size));
    if (fo.offset + FIELD_SIZES[name] > objectSize) throw invalid(`${name} ends beyond objectSize`, `${name}.offset`, `<= ${objectSize - FIELD_SIZES[name]}`, fo.offset);
    const align = Math.min(8, FIELD_SIZES[name] >= 8 ? 8 : FIELD_SIZES[name]);
    if (fo.offset % align !== 0) throw invalid(`${name}.offset must be ${align}-byte aligned`, `${name}.offset`, `multiple of ${align}`, fo.offset);
    seen.set(name, { name, offset: fo.offset, size: FIELD_SIZES[name] });
  });
  for (const n of IORING_OBJECT_FIELD_NAMES) if (!seen.has(n)) throw invalid(`field ${n} is missing`, `${p}fields.${n}`, 'present', 'missing');
  const sorted = [...seen.values()].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.offset < prev.offset + prev.size) throw invalid(`${cur.name} overlaps ${prev.name}`, `${cur.name}.offset`, `>= ${prev.offset + prev.size}`, cur.offset);
  }
  return Object.freeze({
    release: typeof o.release === 'string' ? o.release : `override-${firstBuild}`,
    firstBuild, lastBuild, build: firstBuild, objectSize,
    regBuffersFormat: fmt, maxIoRingVersion: maxV as number,
    fields: IORING_OBJECT_FIELD_NAMES.map((n) => seen.get(n)!),
    source: typeof o.source === 'string' ? o.source : 'offsets override file',
    confidence: 'override',
  });
}

/** Reads and validates an override file (one object or an array). */
export function loadOffsetsOverride(path: string): OffsetsEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Win11MonError('WIN11MON_ERR_OFFSETS_INVALID', `cannot read offsets override ${path}: ${(e as Error).message}`, { field: 'path', actual: path }, { cause: e });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Win11MonError('WIN11MON_ERR_OFFSETS_INVALID', `offsets override ${path} is not valid JSON: ${(e as Error).message}`, { field: '(json)', actual: path }, { cause: e });
  }
  return Array.isArray(raw) ? raw.map((r, i) => validateOffsetsOverride(r, `[${i}]`)) : [validateOffsetsOverride(raw)];
}

function toResolved(e: OffsetsEntry): IoRingOffsets {
  const off = {} as Record<IoRingObjectField, number>;
  for (const f of e.fields) off[f.name as IoRingObjectField] = f.offset;
  return Object.freeze({ ...e, off: Object.freeze(off) });
}

/**
 * The layout for `build`: an override entry covering it wins, else the built-in table.
 * @example resolveOffsets(22621).off.RegBuffers === 0xb8
 * @throws Win11MonError WIN11MON_ERR_UNKNOWN_BUILD when nothing covers the build.
 */
export function resolveOffsets(build: number, override?: OffsetsOverride | OffsetsEntry | ReadonlyArray<OffsetsOverride | OffsetsEntry>): IoRingOffsets {
  const list = override === undefined ? [] : Array.isArray(override) ? override : [override];
  for (const raw of list) {
    const e = 'confidence' in (raw as object) ? (raw as OffsetsEntry) : validateOffsetsOverride(raw);
    if (build >= e.firstBuild && build <= e.lastBuild) return toResolved(e);
  }
  for (const e of OFFSETS_TABLE) if (build >= e.firstBuild && build <= e.lastBuild) return toResolved(e);
  throw new Win11MonError('WIN11MON_ERR_UNKNOWN_BUILD', `no IORING_OBJECT offsets are known for Windows build ${build}; known: ${OFFSETS_TABLE.map((e) => e.firstBuild === e.lastBuild ? `${e.firstBuild}` : `${e.firstBuild}-${e.lastBuild}`).join(', ')} (pass an offsets override file for new builds)`, {
    field: 'build', actual: build, expected: OFFSETS_TABLE.map((e) => `${e.firstBuild}-${e.lastBuild}`).join(', '),
  });
}

/** The JSON form `win11mon offsets --json` prints for one layout. */
export function offsetsToJson(e: OffsetsEntry): Record<string, unknown> {
  return {
    build: e.build,
    release: e.release,
    buildRange: [e.firstBuild, e.lastBuild],
    objectSize: e.objectSize,
    regBuffersFormat: e.regBuffersFormat,
    maxIoRingVersion: e.maxIoRingVersion,
    confidence: e.confidence,
    source: e.source,
    fields: e.fields.map((f) => ({ name: f.name, offset: f.offset, size: f.size })),
    ...(e.alternatives ? { alternatives: e.alternatives.map((a) => ({ source: a.source, objectSize: a.objectSize, why: a.why, fields: a.fields.map((f) => ({ name: f.name, sourceName: f.sourceName, offset: f.offset, size: f.size })) })) } : {}),
    ...(e.notes ? { notes: e.notes } : {}),
  };
}
