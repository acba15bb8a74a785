import type { OutgoingHttpHeaders } from 'node:http';
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
      // The body bypasses reply.send: the blob service writes it to the socket itself,
      // reusing its buffers once each write completed (half the CPU per GiB of a piped
      // Readable). Fastify still runs onResponse on 'finish'; no onSend hook is in play.
      reply.hijack();
      reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
      try {
        await content.sendTo(reply.raw);
      } catch (error) {
        // A client that went away (ECANCELED, EPIPE, premature close) is not worth a warning.
        const clientGone = reply.raw.destroyed || reply.raw.socket === null || reply.raw.socket.destroyed;
        // Headers are out: all that is left to say is that the body is short.
        reply.raw.destroy();
        if (!clientGone) request.log.warn({ err: error, digest: blob.digest }, 'blob download failed');
      }
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
