// Generates docs/abi.md from the layout tables (src/abi/*), so the doc cannot drift from the code.
// `npx tsx scripts/gen-abi-doc.ts` rewrites it; src/abi/abi-doc.test.ts fails when the committed file differs.
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ALL_STRUCTS } from '../src/abi/codec.js';
import { cPathOf } from '../src/abi/ccheck.js';
import { IOCTL_TABLE } from '../src/abi/ioctl.js';
import { NtStatus } from '../src/abi/ntstatus.js';
import { ErrorCodes } from '../src/abi/errors.js';
import { opCodeName } from '../src/abi/ioring.js';
import { INTERCEPT_REASON_NAMES, InterceptReason } from '../src/abi/monitor.js';

export const ABI_DOC_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'abi.md');

const hx = (n: number, w = 2): string => `0x${n.toString(16).toUpperCase().padStart(w, '0')}`;
const esc = (s: string): string => s.replace(/\|/g, '\\|');

function structTables(): string {
  let s = '';
  for (const d of ALL_STRUCTS) {
    s += `### ${d.name} (${d.size} bytes, ${hx(d.size)})\n\nSource: ${d.source}\n\n| Offset | Size | Type | C type | C member | Meaning |\n|---|---|---|---|---|---|\n`;
    for (const f of d.fields) {
      const p = cPathOf(d, f);
      const member = p === null ? '(compiler padding)' : typeof p === 'string' ? `\`${p}\`` : `\`${p.member}\` bytes ${p.within}..${p.within + f.size - 1}`;
      s += `| ${hx(f.offset)} | ${f.size} | ${f.type} | ${esc(f.ctype)} | ${esc(member)} | ${esc(f.meaning)} |\n`;
    }
    s += '\n';
  }
  return s;
}

/** NTSTATUS names mingw-w64 does not define (src/abi/ccheck.test.ts keeps this list equal to what the compiler reports). */
export const STATUS_UNCHECKED = new Set(['STATUS_INVALID_INDEX', 'STATUS_IORING_REQUIRED_FLAGS_NOT_SUPPORTED', 'STATUS_IORING_SUBMISSION_QUEUE_FULL', 'STATUS_IORING_VERSION_NOT_SUPPORTED', 'STATUS_IORING_SUBMISSION_QUEUE_TOO_BIG', 'STATUS_IORING_COMPLETION_QUEUE_TOO_BIG', 'STATUS_IORING_SUBMIT_IN_PROGRESS', 'STATUS_IORING_CORRUPT']);

function statusTable(): string {
  const used = new Map<number, string[]>();
  for (const [code, e] of Object.entries(ErrorCodes)) used.set(e.status, [...(used.get(e.status) ?? []), code]);
  let s = '| NTSTATUS | Value | Checked against mingw-w64 ntstatus.h | win11mon error codes that return it |\n|---|---|---|---|\n';
  for (const [name, v] of Object.entries(NtStatus)) {
    s += `| \`${name}\` | ${hx(v, 8)} | ${STATUS_UNCHECKED.has(name) ? 'no (not in mingw-w64; value from the kernel decompilations / SDK, see ntstatus.ts)' : 'yes'} | ${(used.get(v) ?? []).map((c) => `\`${c}\``).join(', ')} |\n`;
  }
  return s;
}

function ioctlTable(): string {
  const acc = ['FILE_ANY_ACCESS', 'FILE_READ_ACCESS', 'FILE_WRITE_ACCESS', 'FILE_READ_ACCESS \\| FILE_WRITE_ACCESS'];
  let s = '| IOCTL | Function | Code | Access | Purpose |\n|---|---|---|---|---|\n';
  for (const d of IOCTL_TABLE) s += `| \`${d.name}\` | WIN11MON_IOCTL_BASE + ${hx(d.fn)} | ${hx(d.code, 8)} | ${acc[d.access]} | ${esc(d.summary)} |\n`;
  return s;
}

const MAPPING = `| Native opcode | Flags | FileRef | FileOffset | BufferAddress | BufferSize | BufferOffset | Key | ExtOpFlags | ExtCount | ExtAdvisory | ExtArg |
|---|---|---|---|---|---|---|---|---|---|---|---|
| ${opCodeName(0)} | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |
| ${opCodeName(1)} / ${opCodeName(5)} | CommonOpFlags | File (raw HANDLE or HandleIndex) | Offset | raw: Buffer address; registered: BufferIndex | Length | registered: Offset in the buffer; raw: 0 | Key | READ Padding / WRITE Flags | 0 | 0 | 0 |
| ${opCodeName(6)} | CommonOpFlags | File | 0 | 0 | 0 | 0 | 0 | Flags (FILE_FLUSH_MODE) | 0 | 0 | 0 |
| ${opCodeName(4)} | CommonOpFlags | File | 0 | 0 | 0 | 0 | 0 | (implicit padding word) | 0 | 0 | CancelId |
| ${opCodeName(2)} | CommonOpFlags | 0 | 0 | Handles (array VA) | Count x 8, saturating at 0xFFFFFFFF | 0 | 0 | Flags.Required | Count | Flags.Advisory | 0 |
| ${opCodeName(3)} | CommonOpFlags | 0 | 0 | Buffers (IORING_BUFFER_INFO array VA) | Count x 16, saturating | 0 | 0 | Flags.Required | Count | Flags.Advisory | 0 |
| ${opCodeName(7)} / ${opCodeName(8)} | CommonOpFlags | File | Offset | SegmentArray | Length | 0 | Key | READ_SCATTER Padding / WRITE_GATHER Flags | SegmentCount | 0 | 0 |
| any other opcode (unknown) | CommonOpFlags word (SQE+0x10) | SQE+0x18 | SQE+0x28 | SQE+0x20 (all 64 bits, never split) | SQE+0x30 | 0 | SQE+0x34 | SQE+0x14 | 0 | 0 | 0 |

Always, for every opcode: \`OpCode\` = native OpCode (unchanged, also for unknown values), \`UserData\` = native UserData,
\`ExtSqeFlags\` = native \`NT_IORING_SQE.Flags\` (all 32 bits, reserved ones included), \`ExtMagic\` = 0x5145534D ('MSEQ'),
\`ExtVersion\` = 1, \`Reserved1\` = 0. Every one of the 88 bytes is written (no stale bytes from a reused buffer), nothing
is read beyond the 64-byte native SQE, and the function never throws (\`serializeSqe\` in src/abi/serialize.ts; tested per
opcode and as a property over random 64-byte inputs in src/abi/serialize.test.ts). Reserved bits are *kept*, not cleared, so the
engine sees them (CommonOpFlags bits above 0x3 are what the kernel rejects with STATUS_IORING_REQUIRED_FLAGS_NOT_SUPPORTED).
A NOP carries no payload because the kernel ignores it. Unknown opcodes are carried in the READ/WRITE shape so that
addresses in the usual places stay visible to the address checks; their buffer is never reinterpreted as {index, offset}.
`;

const PROSE_DIFF = `## Where the C driver header and the plan's sketch (plan section 3.3) differ

win11mon speaks the **C driver header** (ShaiKKO/FoxTwo_ \`include/win11_monitor_public.h\`, \`src/detection/ioring_intercept.h\`)
byte for byte, because that is what a C client of the driver sends; the plan's sketch is an earlier draft. Every layout
below is proven against x86_64-w64-mingw32-gcc by \`src/abi/ccheck.test.ts\`.

| Topic | Plan sketch (section 3.3) | C driver header | win11mon follows |
|---|---|---|---|
| MON_INTERCEPT_REQUEST header | 16 bytes as written (\`ULONG Size; ULONG ProcessId; HANDLE IoRingHandle; ULONG OperationCount\`; with x64 alignment it would really be 24) | 32 bytes: \`Size, Version, ProcessId, ThreadId, ULONG64 IoRingHandle, OperationCount, Flags\` (C_ASSERT 32) | header: 32 bytes, Version must be 1, Flags reserved 0 except win11mon's \`MON_REQUEST_FLAG_EXTENSIONS\` (0x1) |
| MON_INTERCEPT_RESPONSE | \`Size, Action, Reason, ViolatingOperationIndex, CHAR ATT_CK_Technique[16]\` (36 bytes) | 48 bytes: adds \`ViolationFlags\`, \`Reserved\`, \`ULONG64 ValidationTimeNs\`; the string is \`MitreTechnique[16]\` at 0x20 | header; \`Reserved\` carries the deciding policy version (a C client ignores it) |
| MON_INTERCEPT_POLICY | 5 fields, no Size (\`Enabled, BlockKernelAddresses, BlockCorruptedRegBuffers, MaxOperationsPerSubmit, MaxBufferSize, AuditMode\`) | 28 bytes: \`Size\` first, seven BOOLEAN switches (adds \`EnforceOperationLimit\`, \`EnforceRateLimit\`, \`ValidateOpCodes\`), \`MaxOperationsPerSubmit\`, \`MaxBufferSizeBytes\`, \`MaxSubmitsPerSecond\`, \`AllowedOpCodeMask\` | header |
| MON_INTERCEPT_REASON | seven reasons (0..6) | twelve (0..11: adds InvalidHandle 7, PolicyDisabled 8, ValidationError 9, BufferSizeTooLarge 10, MalformedRequest 11) | header: ${INTERCEPT_REASON_NAMES.map((n) => `${n} ${InterceptReason[n]}`).join(', ')} |
| Serialized SQE | "serialized SQE data follows" (no layout); plan section 2.1 describes the native NT_IORING_SQE | \`MON_SERIALIZED_SQE\`, 88 bytes (C_ASSERT 0x58): the 21H2-era reverse-engineered SQE layout (yardenshafir/IoRing_Demos, \`FileRef, FileOffset, BufferAddress, BufferSize, BufferOffset, Key, UserData, Padding[4]\`), not the 64-byte native 22H2+ \`NT_IORING_SQE\` | header layout; win11mon converts each native 64-byte SQE into it (table below) and uses \`Padding[4]\` for what the 88-byte form would lose |
| MON_INTERCEPT_STATS, MON_BLACKLIST_ENTRY | not in the plan | 152 and 208 bytes | header |
| IOCTL codes | \`INTERCEPT_VALIDATE/SET_POLICY/GET_POLICY/GET_STATS\` = base + 0x20..0x23 | same four plus RESET_STATS 0x24, ENABLE 0x25, ADD_BL 0x26, REMOVE_BL 0x27, GET_BL 0x28 | header (table below) |

### MON_SQE_FLAG_DRAIN_PRECEDING_OPS and MON_SQE_FLAG_PREREGISTERED_FILE are both 0x01

\`ioring_intercept.h\` defines \`MON_SQE_FLAG_DRAIN_PRECEDING_OPS 0x01\` (the native SQE-level flag) and
\`MON_SQE_FLAG_PREREGISTERED_FILE 0x01\` (the native per-op CommonOpFlags bit) with the same value, so one
\`MON_SERIALIZED_SQE.Flags\` word cannot carry both. win11mon gives **Flags the CommonOpFlags meaning**:
0x1 = \`MON_SQE_FLAG_PREREGISTERED_FILE\` (FileRef is a registered index), 0x2 = \`MON_SQE_FLAG_PREREGISTERED_BUFFER\`
(BufferAddress is a registered index, BufferOffset the offset in it), other bits = reserved CommonOpFlags bits, kept.
This is the meaning that matters for the exploit (a registered-buffer index must not be read as an address).
The native \`NT_IORING_SQE.Flags\` word (where DRAIN_PRECEDING_OPS lives) goes to **ExtSqeFlags** (Padding[0], low
half). A plain C client that leaves Padding zero has no ExtMagic, and its drain flag is simply not known to win11mon
(the drain flag has no security meaning).

### MON_SERIALIZED_SQE Padding[4]: win11mon's extension words

| Padding word | Bytes | Field | Content |
|---|---|---|---|
| Padding[0] | 0x38..0x3B | ExtSqeFlags | native NT_IORING_SQE.Flags |
| Padding[0] | 0x3C..0x3F | ExtOpFlags | the op's own flags word (SQE+0x14): WRITE Flags, FLUSH mode, REGISTER_* Flags.Required, READ Padding |
| Padding[1] | 0x40..0x43 | ExtCount | REGISTER_* Count, READ_SCATTER/WRITE_GATHER SegmentCount |
| Padding[1] | 0x44..0x47 | ExtAdvisory | REGISTER_* Flags.Advisory |
| Padding[2] | 0x48..0x4F | ExtArg | CANCEL CancelId |
| Padding[3] | 0x50..0x53 | ExtMagic | 0x5145534D ('MSEQ') when the words above are meaningful |
| Padding[3] | 0x54..0x57 | ExtVersion | 1 |

## Native SQE to MON_SERIALIZED_SQE

${MAPPING}
## Extension records (win11mon)

When \`MON_INTERCEPT_REQUEST.Flags\` has \`MON_REQUEST_FLAG_EXTENSIONS\` (0x1), \`Size\` may exceed
32 + OperationCount x 88 and the bytes after the SQE array are extension records (a v1 C driver, which requires
Flags == 0, never sees them; without the flag Size must be exactly 32 + n x 88). Each record:

| Offset | Size | Field | Meaning |
|---|---|---|---|
| 0x0 | 4 | Type | MonExtType: 1 BufferInfoArray, 2 FileHandleArray, 3 RegBuffersSnapshot; anything else is WIN11MON_ERR_BAD_EXTENSION |
| 0x4 | 4 | Length | payload bytes after this 8-byte header; the record occupies 8 + Length rounded up to 8 |
| 0x8 | Length | payload | by Type, below |

| Type | Payload |
|---|---|
| 1 BufferInfoArray | u32 SqeIndex (a REGISTER_BUFFERS SQE of this request), u32 Count, Count x IORING_BUFFER_INFO (16 bytes: u64 Address, u32 Length, u32 pad): the array that SQE points to, captured by the hook. Length must be 8 + 16 x Count. |
| 2 FileHandleArray | u32 SqeIndex (a REGISTER_FILES SQE), u32 Count, Count x u64 HANDLE. Length must be 8 + 8 x Count. |
| 3 RegBuffersSnapshot | u32 Count, u32 Flags, u64 ArrayAddress (the RegBuffers pointer the caller's ring uses), then Count x IORING_BUFFER_INFO: what the registered buffers resolve to. Length must be 16 + 16 x Count. |

A record whose header or payload runs past Size, whose Count disagrees with Length, or whose SqeIndex names no SQE of
the request is rejected with WIN11MON_ERR_BAD_EXTENSION naming the offset (\`readExtensions\`, \`decodeInterceptRequest\`).

## Malformed requests

\`InterceptRequestView.reset\` checks, in this order, and throws a Win11MonError naming the field and offset:
fewer than 32 bytes (WIN11MON_ERR_TRUNCATED, STATUS_BUFFER_TOO_SMALL); Version != 1 (WIN11MON_ERR_BAD_VERSION);
reserved Flags bits (WIN11MON_ERR_RESERVED_NONZERO); OperationCount > 4096 (WIN11MON_ERR_COUNT_OVERFLOW, checked
*before* any multiplication, so 32 + n x 88 can never wrap: n = 0x20000001 would wrap to 120 in 32-bit arithmetic);
Size larger than the bytes given (WIN11MON_ERR_SIZE_MISMATCH with STATUS_BUFFER_TOO_SMALL, the status the C header
documents for an insufficient buffer); Size different from 32 + n x 88 (plus extensions when flagged)
(WIN11MON_ERR_SIZE_MISMATCH, STATUS_INFO_LENGTH_MISMATCH). See docs/errors.md for every code.

## mingw-w64 coverage of the public IORING_* types

The Win32 types come from mingw-w64's own \`<ioringapi.h>\` / \`<ntioring_x.h>\` (with \`NTDDI_VERSION >= NTDDI_WIN10_CO\`):
IORING_INFO, IORING_CAPABILITIES, IORING_CQE, IORING_BUFFER_INFO, IORING_REGISTERED_BUFFER, IORING_HANDLE_REF and
IORING_BUFFER_REF are all there and checked. mingw-w64 lacks the newer *values*: IORING_OP_WRITE/FLUSH/READ_SCATTER/WRITE_GATHER
(its IORING_OP_CODE stops at CANCEL), IORING_VERSION_2/3/4, IOSQE_FLAGS_DRAIN_PRECEDING_OPS, IORING_CREATE_SKIP_BUILDER_PARAM_CHECKS
and BuildIoRingWriteFile/FlushFile/ReadFileScatter/WriteFileGather; fixtures/c/win11mon_abi.h declares the opcode values
itself (\`WIN11MON_IORING_OP_*\`) from the PDB enums. It also declares its own RTL_BALANCED_NODE and KEVENT stand-ins
(not in the user-mode headers) for IOP_MC_BUFFER_ENTRY. NT_IORING_STRUCTV1 and NT_IORING_CAPABILITIES are not in the
public PDBs; their layout follows the reverse-engineered headers (five ULONGs, sources agree on layout, not on names).
`;

export function renderAbiDoc(): string {
  return `# win11mon ABI

<!-- Generated by scripts/gen-abi-doc.ts from src/abi/ — do not edit by hand; run \`npx tsx scripts/gen-abi-doc.ts\`. -->

Every binary structure win11mon reads or writes, x64 (LLP64), little-endian. The tables are generated from the
layout tables in \`src/abi/ioring.ts\` and \`src/abi/monitor.ts\`, the same tables the codecs (\`src/abi/codec.ts\`)
use and that \`src/abi/ccheck.test.ts\` compiles as \`_Static_assert\`s against x86_64-w64-mingw32-gcc with the C
declarations in \`fixtures/c/win11mon_abi.h\` (NT_* from the public-symbol dumps, MON_* as the C driver header
declares them, IORING_* from mingw-w64's own headers). Offsets of the NT_IORING_OP_* structs are relative to the
op union at NT_IORING_SQE+0x10.

${PROSE_DIFF}
## NTSTATUS values

${statusTable()}
## IOCTL codes

\`CTL_CODE(FILE_DEVICE_UNKNOWN, WIN11MON_IOCTL_BASE + n, METHOD_BUFFERED, access)\` with WIN11MON_IOCTL_BASE 0x800, as the driver
header defines them; every code is compile-checked against winioctl.h's CTL_CODE.

${ioctlTable()}
## Structures

${structTables()}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  writeFileSync(ABI_DOC_PATH, renderAbiDoc());
  console.log(`wrote ${ABI_DOC_PATH}`);
}
