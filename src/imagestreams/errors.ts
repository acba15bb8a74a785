/**
 * Errors of the image-streams domain. The resource API renders them as
 * Kubernetes Status objects (`reason`, `code`); nobody matches on message text.
 */
export const IMAGE_STREAM_ERROR_CODES = {
  STREAM_NOT_FOUND: { status: 404, reason: 'NotFound' },
  TAG_NOT_FOUND: { status: 404, reason: 'NotFound' },
  IMAGE_NOT_FOUND: { status: 404, reason: 'NotFound' },
  HISTORY_ITEM_NOT_FOUND: { status: 404, reason: 'NotFound' },
  ALREADY_EXISTS: { status: 409, reason: 'AlreadyExists' },
  CONFLICT: { status: 409, reason: 'Conflict' },
  INVALID: { status: 422, reason: 'Invalid' },
} as const;

export type ImageStreamErrorCode = keyof typeof IMAGE_STREAM_ERROR_CODES;

export class ImageStreamError extends Error {
  override readonly name = 'ImageStreamError';
  readonly code: ImageStreamErrorCode;
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Kubernetes Status `reason`. */
  readonly reason: (typeof IMAGE_STREAM_ERROR_CODES)[ImageStreamErrorCode]['reason'];
  constructor(code: ImageStreamErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = IMAGE_STREAM_ERROR_CODES[code].status;
    this.reason = IMAGE_STREAM_ERROR_CODES[code].reason;
  }
}
