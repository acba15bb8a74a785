/**
 * Errors of the `berth` client commands. main.ts prints each as one line,
 * `berth: <message>`, and exits with `exitCode`; nothing else reaches the
 * user, so every message must make sense on its own.
 */

/** What went wrong, for callers that react to a kind rather than to text. */
export type CliErrorCode =
  /** The command line is wrong (bad argument, missing flag). */
  | 'usage'
  /** No server, no login or no project to act on. */
  | 'not-configured'
  /** The client config file cannot be read or written. */
  | 'config'
  /** The server answered with an error (a Kubernetes Status or an OAuth error). */
  | 'api'
  /** The server could not be reached (DNS, TCP, TLS). */
  | 'connection'
  /** The server answered something that is not what the contract says. */
  | 'protocol'
  /** A local file (CA, htpasswd, auth file) cannot be read or written. */
  | 'file'
  /** The user interrupted a prompt or the browser login. */
  | 'aborted';

export class CliError extends Error {
  override readonly name: string = 'CliError';
  readonly code: CliErrorCode;
  /** Process exit status: 1, as commander uses for its own usage errors, unless a caller says otherwise (130 for Ctrl-C). */
  readonly exitCode: number;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown; exitCode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = options?.exitCode ?? 1;
  }
}

/** The `reason` values of a Kubernetes Status the API uses (docs/api.md). */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Unknown';

/** The server refused a request; `message` is the server's own text. */
export class ApiError extends CliError {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly reason: StatusReason;
  constructor(status: number, reason: StatusReason, message: string) {
    super('api', message);
    this.status = status;
    this.reason = reason;
  }
}

/** One line from any error: the first line of its message, never a stack. */
export function oneLine(message: string): string {
  const line = message.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return line.trim() === '' ? 'unknown error' : line.trim();
}
