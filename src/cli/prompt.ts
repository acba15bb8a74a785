/**
 * Reading secrets and answers from the user: a prompt on the terminal (no
 * echo for passwords), or standard input for `-p -`. Prompts go to stderr so
 * that stdout stays the command's output.
 */
import { CliError } from './cli-errors.ts';

/** True when we can ask the user: stdin is a terminal. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true;
}

/**
 * All of standard input as text, with one trailing line end removed (so
 * `echo secret | berth login -p -` sends `secret`).
 */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** A visible prompt for one line (a user name). */
export async function promptLine(question: string): Promise<string> {
  return await readTerminalLine(question, true);
}

/**
 * A prompt for a secret: the terminal in raw mode, nothing echoed.
 * Backspace edits, Ctrl-C aborts (exit 130), Ctrl-D on an empty line aborts.
 */
export async function promptSecret(question: string): Promise<string> {
  return await readTerminalLine(question, false);
}

/**
 * One line from the terminal in raw mode, echoed by us or not at all. Not
 * node:readline: a closed readline interface left keypress handling on
 * stdin that echoed the password typed at the next prompt.
 */
async function readTerminalLine(question: string, echo: boolean): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY !== true) throw new CliError('usage', 'cannot prompt: standard input is not a terminal');
  // Raw mode first, prompt second: a fast typist (or a script) must not type into a terminal that still echoes.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.resume();
  stdin.setEncoding('utf8');
  let onData: ((data: string) => void) | undefined;
  try {
    return await new Promise<string>((resolve, reject) => {
      let value = '';
      onData = (data: string): void => {
        for (const ch of data) {
          if (ch === '\r' || ch === '\n') {
            resolve(value);
            return;
          }
          if (ch === '\u0003') {
            reject(new CliError('aborted', 'interrupted', { exitCode: 130 }));
            return;
          }
          if (ch === '\u0004' && value === '') {
            reject(new CliError('aborted', 'no answer given (end of input)'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') {
            if (echo && value.length > 0) process.stderr.write('\b \b');
            value = value.slice(0, -1);
          } else if (ch >= ' ') {
            value += ch;
            if (echo) process.stderr.write(ch);
          }
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    if (onData !== undefined) stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

/**
 * A password from a flag: the value itself, `-` for standard input, or a
 * prompt on a terminal when the flag is absent.
 *
 * @param flag how to name the flag in the error (`-p`, `--password`).
 * @param confirm ask twice on a terminal (for setting a new password).
 * @throws CliError('usage') when there is no flag and no terminal to ask on.
 */
export async function obtainPassword(value: string | undefined, flag: string, question: string, confirm = false): Promise<string> {
  let password: string;
  if (value === '-') password = await readStdin();
  else if (value !== undefined) password = value;
  else if (canPrompt()) {
    password = await promptSecret(question);
    if (confirm && (await promptSecret('Retype the password: ')) !== password) throw new CliError('usage', 'the passwords do not match');
  } else {
    throw new CliError('usage', `a password is required: pass ${flag} PASSWORD, or ${flag} - to read it from standard input`);
  }
  if (password === '') throw new CliError('usage', 'the password is empty');
  return password;
}
