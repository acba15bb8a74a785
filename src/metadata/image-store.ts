import type { Kysely, Selectable } from 'kysely';
import type { DigestPage, DockerImageMetadata, ImageLayer, ImageManifestEntry, ImageRecord, ImageStore } from './stores.ts';
import type { Database, ImagesTable } from './schema.ts';

const IMAGE_COLUMNS = [
  'digest',
  'media_type',
  'size',
  'config_digest',
  'metadata',
  'layers',
  'manifests',
  'annotations',
  'created_at',
] as const;

function toRecord(row: Selectable<ImagesTable>): ImageRecord {
  // The JSON was written by putImage from the same types: parsing it back is trusted.
  return {
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    configDigest: row.config_digest,
    metadata: row.metadata === null ? null : (JSON.parse(row.metadata) as DockerImageMetadata),
    layers: JSON.parse(row.layers) as ImageLayer[],
    manifests: JSON.parse(row.manifests) as ImageManifestEntry[],
    annotations: row.annotations === null ? null : (JSON.parse(row.annotations) as Record<string, string>),
    createdAt: row.created_at,
  };
}

/** ImageStore on Kysely: one row per manifest digest, keyset-paged on the primary key. */
export class KyselyImageStore implements ImageStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async putImage(image: ImageRecord): Promise<void> {
    await this.#db
      .insertInto('images')
      .values({
        digest: image.digest,
        media_type: image.mediaType,
        size: image.size,
        config_digest: image.configDigest,
        metadata: image.metadata === null ? null : JSON.stringify(image.metadata),
        layers: JSON.stringify(image.layers),
        manifests: JSON.stringify(image.manifests),
        annotations: image.annotations === null ? null : JSON.stringify(image.annotations),
        created_at: image.createdAt,
      })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
  }

  async getImage(digest: string): Promise<ImageRecord | undefined> {
    const row = await this.#db.selectFrom('images').select(IMAGE_COLUMNS).where('digest', '=', digest).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async listImages(page: DigestPage): Promise<ImageRecord[]> {
    let query = this.#db.selectFrom('images').select(IMAGE_COLUMNS);
    if (page.after !== undefined) query = query.where('digest', '>', page.after);
    const rows = await query.orderBy('digest').limit(page.limit).execute();
    return rows.map(toRecord);
  }
}
