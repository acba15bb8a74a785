import type { RepositoryName } from '../oci/names.ts';

/** An image stream's identity: the repository `project/name` split at the first '/'. */
export interface StreamName {
  readonly project: string;
  /** Everything after the project (`p/a/b` → `a/b`). */
  readonly name: string;
}

/** The stream that mirrors a repository. */
export function streamOf(repository: RepositoryName): StreamName {
  return { project: repository.project, name: repository.name.slice(repository.project.length + 1) };
}

/** The repository of a stream (`project/name`), as /v2 names it. */
export function repositoryOf(project: string, name: string): RepositoryName {
  return { name: `${project}/${name}`, project };
}

/** The pull spec of an image in this registry: `host/project/name@digest`. */
export function pullSpec(host: string, project: string, name: string, digest: string): string {
  return `${host}/${project}/${name}@${digest}`;
}
