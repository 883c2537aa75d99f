// The shape of a subcommand module.
import type { Command } from 'commander';
import type { CliIo } from './io.js';

export interface CommandModule {
  /** Adds the subcommand to `program` and returns it; the action reports its exit status through `setStatus`. */
  register(program: Command, io: CliIo, setStatus: (status: number) => void): Command;
}
