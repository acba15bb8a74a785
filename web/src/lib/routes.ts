/**
 * Console URLs. A stream name may contain slashes (`a/b`), so stream pages
 * use a path that ends in the name, and tag pages add `/-/tags/<tag>`: a
 * path component "-" cannot be part of a repository name (OCI names start
 * each component with a letter or digit), so the split is unambiguous.
 */

export const CONSOLE = '/console';

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function encPath(name: string): string {
  return name.split('/').map(enc).join('/');
}

export const paths = {
  projects: (): string => `${CONSOLE}/projects`,
  project: (p: string): string => `${CONSOLE}/projects/${enc(p)}`,
  members: (p: string): string => `${CONSOLE}/projects/${enc(p)}/members`,
  stream: (p: string, name: string): string => `${CONSOLE}/projects/${enc(p)}/imagestreams/${encPath(name)}`,
  tag: (p: string, name: string, tag: string, platform?: string): string =>
    `${CONSOLE}/projects/${enc(p)}/imagestreams/${encPath(name)}/-/tags/${enc(tag)}${platform ? `?platform=${enc(platform)}` : ''}`,
  search: (q?: string): string => `${CONSOLE}/search${q ? `?q=${enc(q)}` : ''}`,
  callback: (): string => `${CONSOLE}/callback`,
};

/** The part of a stream URL after `/imagestreams/` split into the stream and, on tag pages, the tag. */
export function parseStreamPath(splat: string): { stream: string; tag: string | undefined } {
  const marker = splat.indexOf('/-/tags/');
  if (marker < 0) return { stream: splat.replace(/\/+$/, ''), tag: undefined };
  return { stream: splat.slice(0, marker), tag: splat.slice(marker + '/-/tags/'.length).replace(/\/+$/, '') };
}

/** A stream name percent-encoded as one URL segment for the API (`a%2Fb`). */
export function apiStreamName(name: string): string {
  return encodeURIComponent(name);
}
