import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load-config.ts';
import { registerServeCommand } from './serve-command.ts';

/** The `berth` command. Errors end in one line on stderr and a non-zero exit. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('berth').description('Berth container image registry').exitOverride();
  registerServeCommand(program);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if (error instanceof ConfigError) {
      console.error(`berth: invalid configuration:\n${error.message}`);
      process.exit(2);
    }
    console.error(`berth: ${(error as Error).message}`);
    process.exit(1);
  }
}
