import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load-config.ts';
import { registerAdmCommands } from './adm-commands.ts';
import { registerApplyCommands } from './apply-commands.ts';
import { CliError, oneLine } from './cli-errors.ts';
import { registerImageStreamCommands } from './imagestream-commands.ts';
import { registerLoginCommands } from './login-commands.ts';
import { registerPolicyCommands } from './policy-commands.ts';
import { registerProjectCommands } from './project-commands.ts';
import { registerPruneCommands } from './prune-commands.ts';
import { registerSecretCommands } from './secret-commands.ts';
import { registerServeCommand } from './serve-command.ts';
import { registerServiceAccountCommands } from './serviceaccount-commands.ts';
import { acceptNamespaceEverywhere } from './session.ts';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** The `berth` command tree, every subcommand registered (no side effects: parse it to run). */
export function buildProgram(): Command {
  const program = new Command('berth')
    .description('Berth container image registry')
    .version(`berth ${packageVersion()} (Node.js ${process.version})`, '-v, --version')
    .exitOverride()
    // Commander's own usage errors ("error: missing required argument 'name'", a suggestion on the next line) become one `berth: …` line too.
    // Set before any subcommand exists: subcommands copy these settings when they are created.
    .configureOutput({ outputError: (text, write) => write(`berth: ${text.replace(/^error: /, '').trim().split(/\s*\n\s*/).join(' ')}\n`) })
    .showSuggestionAfterError(true);
  registerServeCommand(program);
  registerLoginCommands(program);
  registerProjectCommands(program);
  registerPolicyCommands(program);
  registerServiceAccountCommands(program);
  registerAdmCommands(program);
  registerPruneCommands(program);
  registerImageStreamCommands(program);
  registerSecretCommands(program);
  registerApplyCommands(program);
  acceptNamespaceEverywhere(program);
  return program;
}

/** The `berth` command. Errors end in one line on stderr and a non-zero exit. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if (error instanceof ConfigError) {
      console.error(`berth: invalid configuration:\n${error.message}`);
      process.exit(2);
    }
    if (error instanceof CliError) {
      console.error(`berth: ${oneLine(error.message)}`);
      process.exit(error.exitCode);
    }
    console.error(`berth: ${(error as Error).message}`);
    process.exit(1);
  }
}
