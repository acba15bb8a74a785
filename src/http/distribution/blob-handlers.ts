import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDigest } from '../../oci/digest.ts';
import type { Registry } from '../../registry/registry.ts';
import type { ByteRange } from '../../storage/blob-driver.ts';
import { parseRangeHeader } from './http-ranges.ts';
import { requireRepository, v2Context } from './request-context.ts';

export function blobHandlers(registry: Registry) {
  return {
    async head(request: FastifyRequest, reply: FastifyReply, digestText: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      context.log.digest = digestText;
      const digest = parseDigest(digestText);
      const blob = await registry.blobs.require(repository, digest);
      reply.code(200).headers({
        'content-type': 'application/octet-stream',
        'content-length': String(blob.size),
        'docker-content-digest': blob.digest,
        'accept-ranges': 'bytes',
        etag: `"${blob.digest}"`,
      });
      return reply.send();
    },

    async get(request: FastifyRequest, reply: FastifyReply, digestText: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      context.log.digest = digestText;
      const digest = parseDigest(digestText);
      const blob = await registry.blobs.require(repository, digest);
      const redirect = await registry.blobs.redirectUrl(digest);
      if (redirect !== undefined) return reply.code(307).header('location', redirect).header('docker-content-digest', blob.digest).send();
      let range: ByteRange | undefined;
      try {
        range = parseRangeHeader(request.headers.range, blob.size);
      } catch (error) {
        reply.header('content-range', `bytes */${blob.size}`);
        throw error;
      }
      const content = await registry.blobs.open(repository, digest, range);
      context.log.bytes = content.range === undefined ? blob.size : content.range.end - content.range.start + 1;
      reply.headers({
        'content-type': 'application/octet-stream',
        'content-length': String(context.log.bytes),
        'docker-content-digest': blob.digest,
        'accept-ranges': 'bytes',
        etag: `"${blob.digest}"`,
      });
      if (content.range !== undefined) {
        reply.code(206).header('content-range', `bytes ${content.range.start}-${content.range.end}/${blob.size}`);
      }
      return reply.send(content.stream);
    },

    async delete(request: FastifyRequest, reply: FastifyReply, digestText: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      context.log.digest = digestText;
      await registry.blobs.delete(repository, parseDigest(digestText));
      return reply.code(202).header('content-length', '0').send();
    },
  };
}
