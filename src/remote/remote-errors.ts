/**
 * The one error type of the remote-registry client. Callers (import,
 * pull-through) branch on `reason`, never on the message; `status` and
 * `code` are there for logs and status conditions.
 */
export const REMOTE_ERROR_REASONS = [
  'unauthorized',
  'not-found',
  'unreachable',
  'invalid-response',
  'tls',
  'too-large',
  'rate-limited',
] as const;

export type RemoteErrorReason = (typeof REMOTE_ERROR_REASONS)[number];

export interface RemoteErrorDetails {
  /** The registry host (`host[:port]`) the request went to. */
  readonly registry?: string | undefined;
  /** The URL of the failing request, without credentials or query (tokens may travel in queries). */
  readonly url?: string | undefined;
  /** The HTTP status of the last response, when there was one. */
  readonly status?: number | undefined;
  /** The OCI error code from the response body (`MANIFEST_UNKNOWN`, `DENIED`, …) or the network error code (`ECONNREFUSED`). */
  readonly code?: string | undefined;
  readonly cause?: unknown;
}

export class RemoteRegistryError extends Error {
  override readonly name = 'RemoteRegistryError';
  readonly reason: RemoteErrorReason;
  readonly registry: string | undefined;
  readonly url: string | undefined;
  readonly status: number | undefined;
  readonly code: string | undefined;

  constructor(reason: RemoteErrorReason, message: string, details: RemoteErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = reason;
    this.registry = details.registry;
    this.url = details.url;
    this.status = details.status;
    this.code = details.code;
  }
}

export function isRemoteRegistryError(err: unknown, reason?: RemoteErrorReason): err is RemoteRegistryError {
  return err instanceof RemoteRegistryError && (reason === undefined || err.reason === reason);
}
