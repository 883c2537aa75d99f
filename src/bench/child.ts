// Benchmark children: the `*.child` scripts of this folder run in processes of their own, from the
// compiled .js, or from the .ts source through tsx's loader when the benchmarks themselves run there.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Forks `./<name>.child.(js|ts)` with `args`; stdout/stderr are the parent's, IPC is open. */
export function forkBenchChild(name: string, args: string[]): ChildProcess {
  const ts = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(`./${name}.child.${ts ? 'ts' : 'js'}`, import.meta.url));
  return fork(file, args, { execArgv: ts ? ['--import', 'tsx'] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}
