// `win11mon policy get` and `win11mon policy set FILE`: the running service's policy (get reads
// device.sock; set validates locally, then sends the document to admin.sock).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ExitCode, type CliIo } from '../io.js';
import { Ioctl, NtStatus, ntStatusName } from '../../abi/index.js';
import { loadPolicyText, formatPolicyIssue, type PolicyIssue } from '../../engine/index.js';
import { socketDirOption, withService } from '../service-client.js';

/** Adds `get [--binary]`: the service's policy document with version and hash (or the 28-byte MON_INTERCEPT_POLICY fields). */
export function addPolicyGet(policy: Command, io: CliIo, setStatus: (s: number) => void): Command {
  return socketDirOption(policy.command('get').description('print the running service\'s policy as JSON { version, hash, policy }'))
    .option('--binary', 'print the 28-byte MON_INTERCEPT_POLICY fields instead (what a C client sees)')
    .option('--json', 'JSON output (the default; accepted for symmetry)')
    .action(async (opts: { socketDir?: string; binary?: boolean }) => {
      await withService(opts, io, setStatus, async (client) => {
        const out = opts.binary ? await client.getPolicyBinary() : await client.getPolicy();
        io.out(JSON.stringify(out, null, 2) + '\n');
        setStatus(ExitCode.Ok);
      });
    });
}

/** Adds `set FILE`: local validation (file:line errors, exit 2), then IOCTL_MONITOR_INTERCEPT_SET_POLICY on admin.sock. */
export function addPolicySet(policy: Command, io: CliIo, setStatus: (s: number) => void): Command {
  return socketDirOption(policy.command('set').description('validate FILE, then make it the running service\'s policy (via admin.sock); prints the new version and hash'))
    .argument('<file>', 'policy document (YAML or JSON), or - for stdin')
    .option('--json', 'print { version, hash } as JSON')
    .action(async (file: string, opts: { socketDir?: string; json?: boolean }) => {
      const text = file === '-' ? (await io.readStdin()).toString('utf8') : await readFile(file, 'utf8');
      const name = file === '-' ? '<stdin>' : file;
      const local = loadPolicyText(text, name);
      if (!local.ok) {
        for (const i of local.issues) io.err(formatPolicyIssue(i) + '\n');
        setStatus(ExitCode.BadInput);
        return;
      }
      await withService({ ...opts, admin: true }, io, setStatus, async (client) => {
        const r = await client.transport.ioctl(Ioctl.IOCTL_MONITOR_INTERCEPT_SET_POLICY!, new Uint8Array(Buffer.from(text, 'utf8')), 64 * 1024);
        if (r.status !== NtStatus.STATUS_SUCCESS) {
          io.err(`win11mon policy set: the service refused the policy: ${ntStatusName(r.status)}\n`);
          const detail = Buffer.from(r.output.buffer, r.output.byteOffset, r.output.byteLength).toString('utf8');
          try {
            const j = JSON.parse(detail) as { issues?: PolicyIssue[]; message?: string };
            for (const i of j.issues ?? []) io.err(formatPolicyIssue({ ...i, file: name }) + '\n');
            if (j.message) io.err(`  ${j.message}\n`);
          } catch {
            if (detail) io.err(`  ${detail}\n`);
          }
          setStatus(r.status === NtStatus.STATUS_INVALID_PARAMETER ? ExitCode.BadInput : ExitCode.Failure);
          return;
        }
        const p = await client.getPolicy();
        if (opts.json) io.out(JSON.stringify({ version: p.version, hash: p.hash }) + '\n');
        else io.out(`policy set: version ${p.version}, sha256 ${p.hash}\n`);
        setStatus(ExitCode.Ok);
      });
    });
}
