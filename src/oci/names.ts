import { OciError } from './errors.ts';

// distribution-spec "Pulling manifests": <name> grammar.
const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
// Projects are Kubernetes-style namespaces, so the first component must also be a DNS-1123 label.
const PROJECT = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME_LENGTH = 255;

/** Where one-component names live, as on Docker Hub (`alpine` is `library/alpine`). */
export const DEFAULT_PROJECT = 'library';

export interface RepositoryName {
  /** The full, normalised name (`project/rest`). */
  readonly name: string;
  readonly project: string;
}

/**
 * Validates a repository name from a client and normalises it. Throws NAME_INVALID with a
 * message that says which rule the name broke.
 */
export function parseRepositoryName(raw: string): RepositoryName {
  if (raw.length === 0 || raw.length > MAX_NAME_LENGTH) {
    throw new OciError('NAME_INVALID', `repository name must be 1 to ${MAX_NAME_LENGTH} characters`);
  }
  if (!REPOSITORY_NAME.test(raw)) {
    throw new OciError('NAME_INVALID', `invalid repository name ${JSON.stringify(raw)}: use lowercase letters, digits and separators (. _ __ -) between '/'-separated components`);
  }
  const slash = raw.indexOf('/');
  const name = slash === -1 ? `${DEFAULT_PROJECT}/${raw}` : raw;
  const project = slash === -1 ? DEFAULT_PROJECT : raw.slice(0, slash);
  if (project.length > 63 || !PROJECT.test(project)) {
    throw new OciError('NAME_INVALID', `invalid project ${JSON.stringify(project)} in repository name: the first component must be lowercase letters, digits and '-' (at most 63)`);
  }
  if (name.length > MAX_NAME_LENGTH) throw new OciError('NAME_INVALID', `repository name must be at most ${MAX_NAME_LENGTH} characters`);
  return { name, project };
}

export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

export function parseTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw new OciError('MANIFEST_INVALID', `invalid tag ${JSON.stringify(tag.slice(0, 200))}: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`);
  }
  return tag;
}
