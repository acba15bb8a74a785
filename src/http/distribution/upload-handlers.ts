import type { FastifyReply, FastifyRequest } from 'fastify';
import { parseDigest } from '../../oci/digest.ts';
import { OciError } from '../../oci/errors.ts';
import { parseRepositoryName, type RepositoryName } from '../../oci/names.ts';
import type { Registry } from '../../registry/registry.ts';
import type { UploadState } from '../../registry/upload-service.ts';
import { parseContentRange, uploadRangeHeader } from './http-ranges.ts';
import { hasBody, queryParam, requireRepository, v2Context } from './request-context.ts';

function uploadLocation(state: UploadState): string {
  return `/v2/${state.repository}/blobs/uploads/${state.id}`;
}

function blobLocation(repository: RepositoryName, digest: string): string {
  return `/v2/${repository.name}/blobs/${digest}`;
}

function sendSession(reply: FastifyReply, state: UploadState, status: number): FastifyReply {
  return reply.code(status).headers({
    location: uploadLocation(state),
    range: uploadRangeHeader(state.size),
    'docker-upload-uuid': state.id,
    'oci-chunk-min-length': '0',
    'content-length': '0',
  }).send();
}

function sendCreated(reply: FastifyReply, repository: RepositoryName, digest: string): FastifyReply {
  return reply.code(201).headers({
    location: blobLocation(repository, digest),
    'docker-content-digest': digest,
    'content-length': '0',
  }).send();
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
        const source = parseRepositoryName(from);
        // Without pull on the source the spec's answer is an ordinary session, not an error.
        const blob = context.mountSourceReadable ? await registry.uploads.mount(repository, digest, source) : undefined;
        if (blob !== undefined) return sendCreated(reply, repository, blob.digest);
        return sendSession(reply, await registry.uploads.start(repository), 202);
      }
      if (digestText !== undefined) {
        const digest = parseDigest(digestText);
        context.log.digest = digest.value;
        const blob = await registry.uploads.monolithic(repository, digest, request.raw);
        context.log.bytes = blob.size;
        return sendCreated(reply, repository, blob.digest);
      }
      return sendSession(reply, await registry.uploads.start(repository), 202);
    },

    async status(request: FastifyRequest, reply: FastifyReply, id: string): Promise<void> {
      const repository = requireRepository(v2Context(request));
      return sendSession(reply, await registry.uploads.status(repository, id), 204);
    },

    async patch(request: FastifyRequest, reply: FastifyReply, id: string): Promise<void> {
      const context = v2Context(request);
      const repository = requireRepository(context);
      const range = parseContentRange(request.headers['content-range']);
      const before = range?.start;
      try {
        const state = await registry.uploads.append(repository, id, request.raw, range);
        context.log.bytes = state.size - (before ?? 0);
        return sendSession(reply, state, 202);
      } catch (error) {
        if (error instanceof OciError && error.code === 'RANGE_INVALID') {
          // Tell the client where the upload stands so it can resume from there.
          const state = await registry.uploads.status(repository, id);
          reply.header('range', uploadRangeHeader(state.size)).header('location', uploadLocation(state));
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
      const blob = await registry.uploads.complete(repository, id, digest, body, parseContentRange(request.headers['content-range']));
      context.log.bytes = blob.size;
      return sendCreated(reply, repository, blob.digest);
    },

    async cancel(request: FastifyRequest, reply: FastifyReply, id: string): Promise<void> {
      const repository = requireRepository(v2Context(request));
      await registry.uploads.cancel(repository, id);
      return reply.code(204).send();
    },
  };
}
