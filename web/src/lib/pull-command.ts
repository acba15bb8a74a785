/** Pull commands shown with a copy button on stream and tag pages. */

export interface PullTarget {
  /** `status.dockerImageRepository` of the stream (`host/project/name`) when the server gave one. */
  readonly repository?: string | undefined;
  /** The registry host as the browser sees it (`location.host`), used when `repository` is absent. */
  readonly host: string;
  readonly project: string;
  readonly stream: string;
}

/** `host/project/name`, from the server's repository when known. */
export function repositoryReference(target: PullTarget): string {
  const fromServer = target.repository?.trim();
  if (fromServer) return fromServer.replace(/\/+$/, '');
  return `${target.host}/${target.project}/${target.stream}`;
}

/**
 * `podman pull host/project/name:tag`, or `…@sha256:…` for a digest.
 * A reference is a tag unless it looks like a digest (`algorithm:hex`).
 */
export function pullCommand(target: PullTarget, reference: string, tool = 'podman'): string {
  const separator = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/.test(reference) ? '@' : ':';
  return `${tool} pull ${repositoryReference(target)}${separator}${reference}`;
}
