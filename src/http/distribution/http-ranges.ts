import type { ByteRange } from '../../storage/blob-driver.ts';
import { OciError } from '../../oci/errors.ts';
import type { ChunkRange } from '../../registry/upload-service.ts';

/**
 * `Range: bytes=a-b | a- | -n` of a blob GET (RFC 9110 §14.1.2), against a
 * blob of `size` bytes. Returns undefined for no header, a syntax we ignore
 * (as RFC 9110 allows: several ranges, other units) or a range covering the
 * whole blob. An unsatisfiable range throws RANGE_INVALID (416).
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? Number.MAX_SAFE_INTEGER : Number(m[2]);
    if (end < start) return undefined;
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end: Math.min(end, size - 1) };
}

function unsatisfiable(size: number): OciError {
  return new OciError('RANGE_INVALID', `requested range is not satisfiable for a ${size}-byte blob`, { detail: { size } });
}

/** `Content-Range: <start>-<end>` of an upload chunk (the spec's form; `bytes ` and `/total` tolerated). */
export function parseContentRange(header: string | undefined): ChunkRange | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) throw new OciError('RANGE_INVALID', `invalid Content-Range ${JSON.stringify(header.slice(0, 100))}: expected <start>-<end>`);
  return { start: Number(m[1]), end: Number(m[2]) };
}

/** The `Range` header of upload responses: the bytes received so far, `0-<size-1>` (`0-0` before the first byte, as Distribution answers). */
export function uploadRangeHeader(size: number): string {
  return `0-${Math.max(0, size - 1)}`;
}
