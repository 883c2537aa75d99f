import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './main.js';
import type { CliIo } from './io.js';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', isTty: false, out(t: string) { io.stdout += t; }, err(t: string) { io.stderr += t; }, readStdin: async () => Buffer.alloc(0) };
  return io;
}

test('a missing input file is one clear line naming the path, exit 2, no stack trace', async () => {
  const io = capture();
  const code = await runCli(['validate', '/nonexistent/win11mon-request.bin'], io);
  assert.equal(code, 2);
  assert.match(io.stderr, /cannot open \/nonexistent\/win11mon-request\.bin: ENOENT/);
  assert.doesNotMatch(io.stderr, /\n\s+at /);
});

test('an unknown subcommand is a usage error (exit 2) and --help exits 0', async () => {
  const io = capture();
  assert.equal(await runCli(['no-such-command'], io), 2);
  const help = capture();
  assert.equal(await runCli(['--help'], help), 0);
  assert.match(help.stdout, /Usage: win11mon/);
});
