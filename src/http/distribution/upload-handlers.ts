import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDigest } from '../../oci/digest.ts';
import { OciError } from '../../oci/errors.ts';
import { parseRepositoryName } from '../../oci/names.ts';
import type { Registry } from '../../registry/registry.ts';
import type { ChunkRange, UploadState } from '../../registry/upload-service.ts';
import { parseContentRange, uploadRangeHeader } from './http-ranges.ts';
import { echoName, hasBody, queryParam, requireRepository, v2Context } from './request-context.ts';

function uploadLocation(name: string, state: UploadState): string {
  return `/v2/${name}/blobs/uploads/${state.id}`;
}

function sendSession(reply: FastifyReply, name: string, state: UploadState, status: number): FastifyReply {
  return reply.code(status).headers({
    location: uploadLocation(name, state),
    range: uploadRangeHeader(state.size),
    'docker-upload-uuid': state.id,
    'oci-chunk-min-length': '0',
    'content-length': '0',
  }).send();
}

function sendCreated(reply: FastifyReply, name: string, digest: string): FastifyReply {
  return reply.code(201).headers({
    location: `/v2/${name}/blobs/${digest}`,
    'docker-content-digest': digest,
    'content-length': '0',
  }).send();
}

/**
 * A chunk must carry exactly the bytes its Content-Range names (as Distribution
 * checks), or nothing is taken. Without a Content-Length (chunked transfer) its
 * length would be known only after the bytes were stored, so such a chunk is
 * refused up front: the spec requires both headers on a ranged PATCH.
 */
function checkChunkLength(request: FastifyRequest, range: ChunkRange | undefined): void {
  if (range === undefined) return;
  const length = request.headers['content-length'];
  const expected = range.end - range.start + 1;
  if (length === undefined) {
    throw new OciError('SIZE_INVALID', `a chunk with Content-Range ${range.start}-${range.end} needs a Content-Length of ${expected}`);
  }
  if (Number(length) !== expected) {
    throw new OciError('SIZE_INVALID', `Content-Range ${range.start}-${range.end} names ${expected} bytes but Content-Length is ${length}`);
  }
}

export function uploadHandlers(registry: Registry) {
  return {
    /** POST /v2/<name>/blobs/uploads/ — a session, a monolithic upload (?digest=) or a mount (?mount=&from=). */
    async start(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      const mount = queryParam(request, 'mount');
      const from = queryParam(request, 'from');
      const digestText = queryParam(request, 'digest');
      if (mount !== undefined && from !== undefined) {
        const digest = parseDigest(mount);
        context.log.digest = digest.value;
        // Without pull on the source (or with a source that is no valid name) the spec's answer
        // is an ordinary session, not an error.
        const blob = context.mountSourceReadable ? await registry.uploads.mount(repository, digest, parseRepositoryName(from)) : undefined;
        if (blob !== undefined) return sendCreated(reply, echoName(context), blob.digest);
        return sendSession(reply, echoName(context), await registry.uploads.start(repository), 202);
      }
      if (digestText !== undefined) {
        const digest = parseDigest(digestText);
        context.log.digest = digest.value;
        const blob = await registry.uploads.monolithic(repository, digest, request.raw);
        context.log.bytes = blob.size;
        return sendCreated(reply, echoName(context), blob.digest);
      }
      return sendSession(reply, echoName(context), await registry.uploads.start(repository), 202);
    },

    async status(request: FastifyRequest, reply: FastifyReply, id: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      return sendSession(reply, echoName(context), await registry.uploads.status(repository, id), 204);
    },

    async patch(request: FastifyRequest, reply: FastifyReply, id: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      const range = parseContentRange(request.headers['content-range']);
      checkChunkLength(request, range);
      try {
        const state = await registry.uploads.append(repository, id, request.raw, range);
        context.log.bytes = state.received;
        return sendSession(reply, echoName(context), state, 202);
      } catch (error) {
        if (error instanceof OciError && error.code === 'RANGE_INVALID') {
          // Tell the client where the upload stands so it can resume from there.
          const state = await registry.uploads.status(repository, id);
          reply.header('range', uploadRangeHeader(state.size)).header('location', uploadLocation(echoName(context), state));
        }
        throw error;
      }
    },

    /** PUT ?digest= — finish the session, with an optional last chunk. */
    async complete(request: FastifyRequest, reply: FastifyReply, id: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      const digestText = queryParam(request, 'digest');
      if (digestText === undefined) throw new OciError('DIGEST_INVALID', 'PUT of an upload needs ?digest=');
      const digest = parseDigest(digestText);
      context.log.digest = digest.value;
      const body = hasBody(request) ? request.raw : undefined;
      const range = parseContentRange(request.headers['content-range']);
      checkChunkLength(request, range);
      const blob = await registry.uploads.complete(repository, id, digest, body, range);
      context.log.bytes = blob.size;
      return sendCreated(reply, echoName(context), blob.digest);
    },

    async cancel(request: FastifyRequest, reply: FastifyReply, id: string): Promise<void> {
      const repository = requireRepository(v2Context(request));
      await registry.uploads.cancel(repository, id);
      return reply.code(204).send();
    },
  };
}
