import type { ManifestRecord, Metadata } from '../metadata/stores.ts';
import type { Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { RepositoryName } from '../oci/names.ts';

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
    if ((await this.#metadata.repositories.getRepository(repository.name)) === undefined) {
      throw new OciError('NAME_UNKNOWN', `repository ${repository.name} is not known`, { detail: { name: repository.name } });
    }
    return page(await this.#metadata.tags.listTags(repository.name, { after, limit: limit + 1 }), limit);
  }

  async catalog(limit: number, after: string | undefined, visible: (name: string) => boolean = () => true): Promise<NamePage> {
    // Ask for one more than the page holds, so we know whether a next page exists.
    const names = await this.#metadata.repositories.listRepositories({ after, limit: limit + 1 });
    return page(names.filter(visible), limit);
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
