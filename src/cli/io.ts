// What every subcommand writes to: stdout/stderr as functions, so tests can run the CLI in process.
import { readFile } from 'node:fs/promises';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Reads all of stdin (for `-` file arguments). */
  readStdin(): Promise<Buffer>;
  /** True when stdout is a terminal (colour and tables only then). */
  isTty: boolean;
}

export function processIo(): CliIo {
  return {
    out: (t) => void process.stdout.write(t),
    err: (t) => void process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
    isTty: Boolean(process.stdout.isTTY),
  };
}

/** Exit statuses, documented in docs/cli.md. */
export const ExitCode = {
  Ok: 0,
  /** A failure that is not the input's fault (service unreachable, I/O error). */
  Failure: 1,
  /** Malformed input or bad usage. */
  BadInput: 2,
  /** `validate`: the decision was Block. */
  Blocked: 3,
} as const;

/** The bytes of a FILE argument: the file, or stdin for "-" or no argument. */
export async function readInputBytes(file: string | undefined, io: CliIo): Promise<Uint8Array> {
  if (file === undefined || file === '-') return new Uint8Array(await io.readStdin());
  return new Uint8Array(await readFile(file));
}
