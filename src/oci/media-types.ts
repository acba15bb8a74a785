/** Media types of the OCI image spec and Docker's schema2 that the registry understands. */
export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type ManifestKind = 'image' | 'index';

const KIND_BY_MEDIA_TYPE: ReadonlyMap<string, ManifestKind> = new Map([
  [MEDIA_TYPES.ociManifest, 'image'],
  [MEDIA_TYPES.dockerManifest, 'image'],
  [MEDIA_TYPES.ociIndex, 'index'],
  [MEDIA_TYPES.dockerManifestList, 'index'],
]);

export function manifestKind(mediaType: string): ManifestKind | undefined {
  return KIND_BY_MEDIA_TYPE.get(mediaType);
}

export function isSchema1(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.dockerSchema1 || mediaType === MEDIA_TYPES.dockerSchema1Signed;
}

/** Layers a registry is not expected to hold (Windows base layers and the like): they carry `urls`. */
export function isNonDistributable(mediaType: string): boolean {
  return mediaType === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'
    || mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.');
}
