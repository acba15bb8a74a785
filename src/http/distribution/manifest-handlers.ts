import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ManifestRecord } from '../../metadata/stores.ts';
import { acceptedTypes } from '../../oci/content-negotiation.ts';
import { OciError } from '../../oci/errors.ts';
import { parseReference } from '../../registry/manifest-service.ts';
import type { RepositoryName } from '../../oci/names.ts';
import type { Registry } from '../../registry/registry.ts';
import { echoName, requireRepository, v2Context } from './request-context.ts';
import { readBody } from './read-body.ts';

function manifestHeaders(record: ManifestRecord): Record<string, string> {
  return {
    'content-type': record.mediaType,
    'content-length': String(record.size),
    'docker-content-digest': record.digest,
    etag: `"${record.digest}"`,
  };
}

export function manifestHandlers(registry: Registry) {
  /**
   * A manifest missing from a repository that does not exist at all is
   * NAME_UNKNOWN (the spec's code for it, and zot's answer; Distribution 2.8
   * says MANIFEST_UNKNOWN): the client learns the name is wrong, not just the
   * tag. Checked only on the miss, off the hot path.
   */
  const unknownName = async (error: unknown, repository: RepositoryName): Promise<never> => {
    if (error instanceof OciError && error.code === 'MANIFEST_UNKNOWN') await registry.listing.requireKnown(repository);
    throw error;
  };

  return {
    async head(request: FastifyRequest, reply: FastifyReply, referenceText: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      context.log.reference = referenceText;
      const reference = parseReference(referenceText);
      const accepted = acceptedTypes(request.headers.accept);
      const record = await registry.manifests.resolve(repository, reference).catch((error: unknown) => unknownName(error, repository));
      // HEAD answers what GET would: only a manifest the client cannot read takes the slower path.
      if ('digest' in reference || accepted.accepts(record.mediaType)) return reply.code(200).headers(manifestHeaders(record)).send();
      const { record: served } = await registry.manifests.getAcceptable(repository, reference, accepted);
      return reply.code(200).headers(manifestHeaders(served)).send();
    },

    async get(request: FastifyRequest, reply: FastifyReply, referenceText: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      context.log.reference = referenceText;
      const { record, bytes } = await registry.manifests.getAcceptable(repository, parseReference(referenceText), acceptedTypes(request.headers.accept))
        .catch((error: unknown) => unknownName(error, repository));
      context.log.bytes = bytes.byteLength;
      return reply.code(200).headers(manifestHeaders(record)).send(bytes);
    },

    async put(request: FastifyRequest, reply: FastifyReply, referenceText: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      context.log.reference = referenceText;
      const reference = parseReference(referenceText);
      const limit = registry.manifests.maxBytes;
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > limit) throw registry.manifests.tooLarge(declared);
      const bytes = await readBody(request.raw, limit, (size) => registry.manifests.tooLarge(size));
      if (bytes.byteLength === 0) throw new OciError('MANIFEST_INVALID', 'manifest body is empty');
      const result = await registry.manifests.put(repository, reference, bytes, request.headers['content-type'], context.principal.name);
      context.log.digest = result.digest;
      context.log.bytes = bytes.byteLength;
      reply.code(201).headers({
        location: `/v2/${echoName(context)}/manifests/${result.digest}`,
        'docker-content-digest': result.digest,
        'content-length': '0',
      });
      if (result.subjectDigest !== null) reply.header('oci-subject', result.subjectDigest);
      return reply.send();
    },

    async delete(request: FastifyRequest, reply: FastifyReply, referenceText: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      context.log.reference = referenceText;
      await registry.manifests.delete(repository, parseReference(referenceText)).catch((error: unknown) => unknownName(error, repository));
      return reply.code(202).header('content-length', '0').send();
    },
  };
}
