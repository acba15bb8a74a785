import type { Digest } from '../oci/digest.ts';

/**
 * Where the registry keeps things in the BlobDriver. Content-addressed, so a
 * blob or manifest pushed to many repositories is stored once.
 */
export function blobKey(digest: Digest): string {
  return `blobs/${digest.algorithm}/${digest.hex.slice(0, 2)}/${digest.hex}`;
}

/** Upload session ids are UUIDs, checked by the caller before they become keys. */
export function uploadKey(id: string): string {
  return `uploads/${id}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUploadId(id: string): boolean {
  return UUID.test(id);
}
