// `win11mon policy`: policy documents. `check FILE` is here; `get`/`set` (talking to the service)
// are in policy-service.ts and attach to the same command.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { CommandModule } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';
import { loadPolicyText, formatPolicyIssue } from '../../engine/index.js';
import { addPolicyGet, addPolicySet } from './policy-service.js';

/** Adds `check FILE` to a `policy` command: prints the normalized policy (exit 0) or its errors on stderr (exit 2). */
export function addPolicyCheck(policy: Command, io: CliIo, setStatus: (s: number) => void): Command {
  return policy
    .command('check')
    .description('validate a policy file; print its normalized form as JSON, or file:line: path: message for each error (exit 2)')
    .argument('<file>', 'policy document (YAML or JSON)')
    .action(async (file: string) => {
      const text = await readFile(file, 'utf8');
      const r = loadPolicyText(text, file);
      if (!r.ok) {
        for (const i of r.issues) io.err(formatPolicyIssue(i) + '\n');
        setStatus(ExitCode.BadInput);
        return;
      }
      io.out(JSON.stringify({ hash: r.hash, policy: r.policy }, null, 2) + '\n');
      setStatus(ExitCode.Ok);
    });
}

/** The `policy` command; subcommand adders (check here, get/set elsewhere) attach to it. */
export function createPolicyCommand(program: Command): Command {
  return program.command('policy').description('policy documents: check a file locally; get/set the running service\'s policy');
}

const policyCommand: CommandModule = {
  register(program: Command, io: CliIo, setStatus: (s: number) => void): Command {
    const policy = createPolicyCommand(program);
    for (const add of [addPolicyCheck, addPolicyGet, addPolicySet]) {
      add(policy, io, setStatus).exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });
    }
    return policy;
  },
};

export default policyCommand;
