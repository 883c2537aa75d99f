// `win11mon validate`: runs the policy engine in process on one binary MON_INTERCEPT_REQUEST and
// prints the decision as JSON. No kernel state: regBuffers comes only from a RegBuffersSnapshot
// extension, the handle is taken as known. Exit 0 Allow/LogOnly, 3 Block, 2 malformed input.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { ExitCode, readInputBytes, type CliIo } from '../io.js';
import { PolicyEngine, Decision, formatPolicyIssue, violationFlagNames, type SubmissionContext } from '../../engine/index.js';
import { InterceptRequestView } from '../../abi/request.js';
import { InterceptAction, INTERCEPT_ACTION_NAMES, INTERCEPT_REASON_NAMES, MON_NO_OP_INDEX } from '../../abi/monitor.js';
import { ntStatusName } from '../../abi/ntstatus.js';

interface ValidateOptions {
  policy?: string;
  pid?: string;
  image?: string;
  explain?: boolean;
}

/** The header's ProcessId, read without validating the rest (0 when the bytes are too short). */
function headerPid(bytes: Uint8Array): number {
  return bytes.byteLength >= 12 ? new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true) : 0;
}

async function run(file: string | undefined, opts: ValidateOptions, io: CliIo, setStatus: (s: number) => void): Promise<void> {
  const engine = new PolicyEngine();
  if (opts.policy !== undefined) {
    const text = await readFile(opts.policy, 'utf8');
    const r = engine.setPolicy(text, opts.policy);
    if (!r.ok) {
      for (const i of r.issues) io.err(formatPolicyIssue(i) + '\n');
      setStatus(ExitCode.BadInput);
      return;
    }
  }
  let pid: number | undefined;
  if (opts.pid !== undefined) {
    if (!/^\d+$/.test(opts.pid) || Number(opts.pid) > 0xffffffff) {
      io.err(`win11mon validate: --pid must be a decimal process id, got "${opts.pid}"\n`);
      setStatus(ExitCode.BadInput);
      return;
    }
    pid = Number(opts.pid);
  }
  const bytes = await readInputBytes(file, io);
  const ctx: SubmissionContext = {
    nowNs: 0,
    processId: pid ?? headerPid(bytes),
    imageName: opts.image ?? '',
    imagePath: '',
    regBuffers: null,
    handleKnown: true,
  };
  const d = new Decision();
  const r = engine.MonInterceptValidateSubmission(bytes, ctx, d);
  const out: Record<string, unknown> = {
    action: INTERCEPT_ACTION_NAMES[d.action],
    reason: INTERCEPT_REASON_NAMES[d.reason],
    violatingOperationIndex: d.violatingOpIndex === MON_NO_OP_INDEX ? null : d.violatingOpIndex,
    violationFlags: violationFlagNames(d.violationFlags),
    technique: d.technique === '' ? null : d.technique,
    explanation: r.explanation,
    status: ntStatusName(r.status),
    wouldHaveBlocked: d.wouldHaveBlocked,
    policyVersion: d.policyVersion,
    policyHash: d.policyHash,
  };
  if (opts.explain) {
    out.violations = r.error !== null ? [] : engine.explain(new InterceptRequestView().reset(bytes), ctx);
  }
  io.out(JSON.stringify(out, null, 2) + '\n');
  if (r.error !== null) {
    io.err(`win11mon validate: ${ntStatusName(r.error.status)} (${r.error.code}): ${r.error.message}\n`);
    setStatus(ExitCode.BadInput);
    return;
  }
  setStatus(d.action === InterceptAction.Block ? ExitCode.Blocked : ExitCode.Ok);
}

const validateCommand: CommandModule = {
  register(program: Command, io: CliIo, setStatus: (s: number) => void): Command {
    return program
      .command('validate')
      .description('validate one binary MON_INTERCEPT_REQUEST with the policy engine and print the decision as JSON (exit 0 Allow/LogOnly, 3 Block, 2 malformed)')
      .argument('[file]', 'request file, or - for stdin', '-')
      .option('--policy <file>', 'policy document (YAML or JSON); default: the embedded policy')
      .option('--pid <n>', "process id for the blacklist and rate checks (default: the request's ProcessId)")
      .option('--image <name>', 'image name for blacklist patterns and overrides')
      .option('--explain', 'also list every violation, in check order')
      .action(async (file: string | undefined, opts: ValidateOptions) => run(file, opts, io, setStatus));
  },
};

export default validateCommand;
