/**
 * Errors of the access domain (projects, role bindings, service accounts,
 * users and groups). Each API surface renders them in its own format (the
 * resource API as Kubernetes `Status`, the CLI as one line); nobody matches
 * on their message text.
 */

/** Why an access operation was refused, in Kubernetes `Status.reason` spelling. */
export type AccessErrorReason = 'NotFound' | 'AlreadyExists' | 'Invalid' | 'Forbidden' | 'Conflict';

/** The kinds of object an access error can be about (Kubernetes resource names: plural, lowercase). */
export type AccessResourceKind =
  | 'projects'
  | 'rolebindings'
  | 'clusterrolebindings'
  | 'roles'
  | 'serviceaccounts'
  | 'serviceaccounttokens'
  | 'users'
  | 'groups'
  | 'htpasswd';

/** What an access error is about, for machine-readable error details. */
export interface AccessErrorDetails {
  /** The kind of object concerned. */
  readonly kind?: AccessResourceKind | undefined;
  /** The object's name (for a namespaced object, without its project). */
  readonly name?: string | undefined;
  /** For 'Invalid': the input field that broke a rule (`name`, `password`, `subject.kind`, …). */
  readonly field?: string | undefined;
}

/** An access operation that cannot be done as asked; `reason` says why. */
export class AccessError extends Error {
  override readonly name = 'AccessError';
  readonly reason: AccessErrorReason;
  readonly details: AccessErrorDetails;
  constructor(reason: AccessErrorReason, message: string, details: AccessErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
    this.details = details;
  }
}
