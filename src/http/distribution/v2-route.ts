/**
 * The /v2 URL space (distribution-spec "Endpoints"). Repository names contain
 * '/', so routes are matched on the path after `/v2/` by these patterns, the
 * way Distribution's router does it; the name part is validated afterwards.
 */
export type V2Route =
  | { readonly kind: 'base' }
  | { readonly kind: 'catalog' }
  | { readonly kind: 'uploads'; readonly name: string }
  | { readonly kind: 'upload'; readonly name: string; readonly id: string }
  | { readonly kind: 'blob'; readonly name: string; readonly digest: string }
  | { readonly kind: 'manifest'; readonly name: string; readonly reference: string }
  | { readonly kind: 'tags'; readonly name: string }
  | { readonly kind: 'referrers'; readonly name: string; readonly digest: string };

const PATTERNS: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray) => V2Route]> = [
  [/^(.+)\/blobs\/uploads\/?$/, (m) => ({ kind: 'uploads', name: m[1] as string })],
  [/^(.+)\/blobs\/uploads\/([^/]+)$/, (m) => ({ kind: 'upload', name: m[1] as string, id: m[2] as string })],
  [/^(.+)\/blobs\/([^/]+)$/, (m) => ({ kind: 'blob', name: m[1] as string, digest: m[2] as string })],
  [/^(.+)\/manifests\/([^/]+)$/, (m) => ({ kind: 'manifest', name: m[1] as string, reference: m[2] as string })],
  [/^(.+)\/tags\/list$/, (m) => ({ kind: 'tags', name: m[1] as string })],
  [/^(.+)\/referrers\/([^/]+)$/, (m) => ({ kind: 'referrers', name: m[1] as string, digest: m[2] as string })],
];

/** Matches the path (without query) below `/v2/`; undefined when it is no /v2 endpoint. */
export function matchV2Route(pathAfterV2: string): V2Route | undefined {
  if (pathAfterV2 === '') return { kind: 'base' };
  if (pathAfterV2 === '_catalog') return { kind: 'catalog' };
  for (const [pattern, build] of PATTERNS) {
    const m = pattern.exec(pathAfterV2);
    if (m) return build(m);
  }
  return undefined;
}

/** The methods each route answers; anything else is 405 UNSUPPORTED. */
export const ROUTE_METHODS: Readonly<Record<V2Route['kind'], readonly string[]>> = {
  base: ['GET', 'HEAD'],
  catalog: ['GET'],
  uploads: ['POST'],
  upload: ['GET', 'PATCH', 'PUT', 'DELETE'],
  blob: ['GET', 'HEAD', 'DELETE'],
  manifest: ['GET', 'HEAD', 'PUT', 'DELETE'],
  tags: ['GET'],
  referrers: ['GET'],
};
