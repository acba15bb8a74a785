import { EVERY_PROJECT, type ProjectScope } from '../authz/authorizer.ts';
import type { ManifestRecord, Metadata } from '../metadata/stores.ts';
import type { Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { RepositoryName } from '../oci/names.ts';

/** Beyond this many projects in a caller's scope, the catalog walks every repository instead of an IN list. */
const MAX_SCOPED_PROJECTS = 500;

export interface NamePage {
  readonly names: string[];
  /** The cursor for the next page, when there may be more. */
  readonly next?: string;
}

/** Tag lists, the catalog and referrers: keyset-paged reads over the metadata store. */
export class ListingService {
  readonly #metadata: Metadata;

  constructor(deps: { metadata: Metadata }) {
    this.#metadata = deps.metadata;
  }

  async tags(repository: RepositoryName, limit: number, after: string | undefined): Promise<NamePage> {
    await this.requireKnown(repository);
    return page(await this.#metadata.tags.listTags(repository.name, { after, limit: limit + 1 }), limit);
  }

  /** NAME_UNKNOWN unless the repository exists (it has had a blob or manifest pushed, and was not deleted). */
  async requireKnown(repository: RepositoryName): Promise<void> {
    if ((await this.#metadata.repositories.getRepository(repository.name)) === undefined) {
      throw new OciError('NAME_UNKNOWN', `repository ${repository.name} is not known`, { detail: { name: repository.name } });
    }
  }

  /**
   * A page of the repositories `visible` admits. Hidden names are skipped
   * while reading, so the page is full when enough visible ones exist and the
   * next-page cursor is always a name the caller may see (a cursor must not
   * leak a hidden repository's name). `scope` says which projects can hold
   * visible repositories at all: for a caller with a few projects among
   * thousands, only theirs are read.
   */
  async catalog(limit: number, after: string | undefined, visible: (name: string) => Promise<boolean>, scope: ProjectScope = EVERY_PROJECT): Promise<NamePage> {
    const batchSize = Math.max(limit + 1, 1000);
    const projects = scope.all || scope.projects.length > MAX_SCOPED_PROJECTS ? undefined : scope.projects;
    const shown: string[] = [];
    let cursor = after;
    for (;;) {
      const batch = projects === undefined
        ? await this.#metadata.repositories.listRepositories({ after: cursor, limit: batchSize })
        : await this.#metadata.repositories.listRepositoriesIn(projects, { after: cursor, limit: batchSize });
      for (const name of batch) {
        if (await visible(name)) shown.push(name);
        // One more than the page holds tells that a next page exists.
        if (shown.length > limit) return page(shown, limit);
      }
      if (batch.length < batchSize) return page(shown, limit);
      cursor = batch.at(-1);
    }
  }

  async referrers(repository: RepositoryName, subject: Digest, artifactType: string | undefined): Promise<ManifestRecord[]> {
    return this.#metadata.manifests.listReferrers(repository.name, subject.value, artifactType);
  }
}

function page(names: string[], limit: number): NamePage {
  if (names.length <= limit) return { names };
  const shown = names.slice(0, limit);
  const last = shown.at(-1);
  return last === undefined ? { names: shown } : { names: shown, next: last };
}
