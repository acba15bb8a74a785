import type { ProjectScope } from '../../authz/authorizer.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDigest } from '../../oci/digest.ts';
import { MEDIA_TYPES } from '../../oci/media-types.ts';
import type { Registry } from '../../registry/registry.ts';
import type { NamePage } from '../../registry/listing-service.ts';
import { echoName, pageSize, queryParam, requireRepository, v2Context } from './request-context.ts';

export interface ListingLimits {
  readonly maxTagsPage: number;
  readonly maxCatalogPage: number;
}

/** RFC 8288 `Link` to the next page, as distribution-spec "Listing Tags" describes. */
function linkNext(reply: FastifyReply, path: string, limit: number, page: NamePage): void {
  if (page.next === undefined) return;
  reply.header('link', `<${path}?n=${limit}&last=${encodeURIComponent(page.next)}>; rel="next"`);
}

/** What the catalog may show a request: the projects worth reading, and each repository's verdict. */
export interface CatalogAccess {
  scope(request: FastifyRequest): Promise<ProjectScope>;
  visible(request: FastifyRequest, repository: string): Promise<boolean>;
}

export function listingHandlers(registry: Registry, limits: ListingLimits, catalogAccess: CatalogAccess) {
  return {
    async tags(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      const limit = pageSize(request, limits.maxTagsPage);
      const page = limit === 0 ? { names: [] } : await registry.listing.tags(repository, limit, queryParam(request, 'last'));
      linkNext(reply, `/v2/${echoName(context)}/tags/list`, limit, page);
      return reply.code(200).send({ name: echoName(context), tags: page.names });
    },

    async catalog(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const limit = pageSize(request, limits.maxCatalogPage);
      const page: NamePage = limit === 0
        ? { names: [] }
        : await registry.listing.catalog(limit, queryParam(request, 'last'), (name) => catalogAccess.visible(request, name), await catalogAccess.scope(request));
      linkNext(reply, '/v2/_catalog', limit, page);
      return reply.code(200).send({ repositories: page.names });
    },

    async referrers(request: FastifyRequest, reply: FastifyReply, digestText: string): Promise<void> {
      const repository = requireRepository(v2Context(request));
      const subject = parseDigest(digestText);
      const artifactType = queryParam(request, 'artifactType');
      const referrers = await registry.listing.referrers(repository, subject, artifactType === '' ? undefined : artifactType);
      if (artifactType !== undefined && artifactType !== '') reply.header('oci-filters-applied', 'artifactType');
      // A Buffer, so that Fastify does not append a charset: the spec fixes this Content-Type exactly.
      return reply.code(200).header('content-type', MEDIA_TYPES.ociIndex).send(Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: referrers.map((r) => ({
          mediaType: r.mediaType,
          digest: r.digest,
          size: r.size,
          ...(r.artifactType === null ? {} : { artifactType: r.artifactType }),
          ...(r.annotations === null ? {} : { annotations: r.annotations }),
        })),
      })));
    },
  };
}
