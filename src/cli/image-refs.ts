/**
 * The image names the image-stream commands take, checked before any
 * request so that a typo fails without a round trip:
 *
 * - a stream `NAME` is the repository path after the project (`ruby`, `a/b`);
 * - `NAME:TAG` is an ImageStreamTag of the project given with `-n`;
 * - in `berth tag`, a reference with a `/` starts with its project, as in a
 *   pull spec without the host: `project/name:tag`, `project/name@sha256:…`
 *   (so a stream whose own name has a `/` is written with its project:
 *   `p/a/b:1`); without a `/` it is in the `-n` project.
 */
import { isProjectName } from '../authz/access-names.ts';
import { isValidTag, parseRepositoryName } from '../oci/names.ts';
import { CliError } from './cli-errors.ts';

const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

/** True for a digest (`sha256:` and 64 lowercase hex digits, or another algorithm's well-formed digest). */
export function isDigest(text: string): boolean {
  if (text.startsWith('sha256:')) return SHA256.test(text);
  return DIGEST.test(text);
}

/** @throws CliError('usage') unless `digest` is a digest. */
export function checkDigest(digest: string): string {
  if (!isDigest(digest)) throw new CliError('usage', `invalid digest "${digest}": use sha256: and 64 lowercase hex digits`);
  return digest;
}

/** @throws CliError('usage') unless `name` is an image stream name (a repository path, without the project). */
export function checkStreamName(name: string): string {
  if (name === '') throw new CliError('usage', 'an image stream name is required');
  try {
    // The name grammar is that of a repository path; any valid project stands in for the project.
    parseRepositoryName(`p/${name}`);
  } catch {
    throw new CliError('usage', `invalid image stream name "${name}": use lowercase letters, digits and separators (. _ __ -) between '/'-separated components`);
  }
  return name;
}

/** @throws CliError('usage') unless `tag` is a tag. */
export function checkTag(tag: string): string {
  if (!isValidTag(tag)) throw new CliError('usage', `invalid tag "${tag}": up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`);
  return tag;
}

export interface StreamTag {
  readonly name: string;
  readonly tag: string;
}

/**
 * `NAME:TAG`, or `NAME` alone when `requireTag` is false (then `tag` is
 * undefined). The tag is after the last `:` that is not followed by a `/`.
 *
 * @throws CliError('usage')
 */
export function splitStreamTag(arg: string, requireTag: true): StreamTag;
export function splitStreamTag(arg: string, requireTag: false): { name: string; tag: string | undefined };
export function splitStreamTag(arg: string, requireTag: boolean): { name: string; tag: string | undefined } {
  const colon = arg.lastIndexOf(':');
  if (colon < 0 || arg.indexOf('/', colon) >= 0) {
    if (requireTag) throw new CliError('usage', `"${arg}" has no tag: use NAME:TAG`);
    return { name: checkStreamName(arg), tag: undefined };
  }
  const name = arg.slice(0, colon);
  const tag = arg.slice(colon + 1);
  if (name.includes('@')) throw new CliError('usage', `"${arg}" is not NAME:TAG`);
  return { name: checkStreamName(name), tag: checkTag(tag) };
}

/** An image named in `berth tag`: an ImageStreamTag or an ImageStreamImage, maybe in another project. */
export interface ImageRef {
  /** The project, when the reference named one (`project/name:tag`); else the `-n` project applies. */
  readonly project: string | undefined;
  readonly name: string;
  readonly tag?: string | undefined;
  readonly digest?: string | undefined;
}

/**
 * `[project/]name:tag` or `[project/]name@digest` (see the module comment).
 *
 * @param allowDigest false for a destination, which must be a tag.
 * @throws CliError('usage')
 */
export function parseImageRef(arg: string, allowDigest: boolean): ImageRef {
  let path: string;
  let tag: string | undefined;
  let digest: string | undefined;
  const at = arg.indexOf('@');
  if (at >= 0) {
    if (!allowDigest) throw new CliError('usage', `"${arg}" names an image by digest: the destination must be NAME:TAG`);
    path = arg.slice(0, at);
    digest = checkDigest(arg.slice(at + 1));
  } else {
    const colon = arg.lastIndexOf(':');
    if (colon < 0 || arg.indexOf('/', colon) >= 0) {
      throw new CliError('usage', `"${arg}" has no tag: use [PROJECT/]NAME:TAG${allowDigest ? ' or [PROJECT/]NAME@DIGEST' : ''}`);
    }
    path = arg.slice(0, colon);
    tag = checkTag(arg.slice(colon + 1));
  }
  const slash = path.indexOf('/');
  let project: string | undefined;
  let name = path;
  if (slash >= 0) {
    project = path.slice(0, slash);
    name = path.slice(slash + 1);
    if (!isProjectName(project)) throw new CliError('usage', `invalid project "${project}" in "${arg}": use PROJECT/NAME:TAG`);
  }
  checkStreamName(name);
  return { project, name, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** How a reference is written back: `name:tag` or `name@digest`, with `project/` when it names one. */
export function formatImageRef(ref: ImageRef): string {
  const base = ref.project === undefined ? ref.name : `${ref.project}/${ref.name}`;
  return ref.digest !== undefined ? `${base}@${ref.digest}` : `${base}:${ref.tag ?? 'latest'}`;
}

/** A digest shortened for tables: `sha256:` and 12 hex digits. */
export function shortDigest(digest: string | null | undefined): string {
  if (digest === undefined || digest === null) return '';
  const colon = digest.indexOf(':');
  return colon < 0 ? digest.slice(0, 12) : digest.slice(0, colon + 13);
}
