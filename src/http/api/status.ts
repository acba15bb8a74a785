/**
 * Kubernetes `Status` objects, the one error shape of the resource API, and
 * the typed error the HTTP layer throws for what is its own to refuse
 * (malformed requests, missing or insufficient credentials).
 */

/** Every `reason` the API answers with, and its HTTP status (Kubernetes `StatusReason` spelling). */
export const STATUS_REASONS = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
} as const satisfies Record<string, number>;

export type StatusReason = keyof typeof STATUS_REASONS;

/** One offending input of a BadRequest or Invalid answer. */
export interface StatusCause {
  /** `FieldValueInvalid`, `FieldValueRequired`, … (Kubernetes `CauseType`). */
  readonly reason: string;
  readonly message: string;
  /** Dotted path of the field (`metadata.name`), or the query parameter (`limit`). */
  readonly field?: string;
}

export interface StatusDetails {
  readonly name?: string | undefined;
  /** The resource kind concerned, plural and lowercase (`projects`). */
  readonly kind?: string | undefined;
  readonly causes?: readonly StatusCause[] | undefined;
  readonly retryAfterSeconds?: number | undefined;
}

/** The body of every non-2xx answer (and of successful deletes, with status `Success`). */
export interface StatusBody {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure' | 'Success';
  readonly message?: string;
  readonly reason?: StatusReason;
  readonly code: number;
  readonly details?: StatusDetails;
}

/** A request the HTTP layer refuses itself; rendered as a `Status` with this reason and its code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly reason: StatusReason;
  readonly details: StatusDetails | undefined;
  /** Extra response headers (`WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(reason: StatusReason, message: string, details?: StatusDetails, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.reason = reason;
    this.details = details;
    this.headers = headers;
  }

  get code(): number {
    return STATUS_REASONS[this.reason];
  }
}

/** A failure `Status`. Empty details are left out. */
export function failureStatus(reason: StatusReason, message: string, details?: StatusDetails): StatusBody {
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code: STATUS_REASONS[reason] };
  return details === undefined || Object.keys(details).length === 0 ? body : { ...body, details };
}

/** The `Status` a successful delete answers with. */
export function successStatus(details: StatusDetails): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200, details };
}
