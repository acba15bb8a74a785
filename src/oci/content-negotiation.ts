/**
 * Which manifest media types a client admits, from its Accept header
 * (RFC 9110 §12.5.1). Clients list the manifest types they can parse; a
 * registry must not hand an old client a type it would misread (CNCF
 * Distribution answers MANIFEST_UNKNOWN there, and serves a manifest list's
 * linux/amd64 image to a client that cannot read lists).
 */
export interface AcceptedTypes {
  /** True when the client can take a manifest of this media type. */
  accepts(mediaType: string): boolean;
  /**
   * True when the header names this media type itself with a weight above
   * zero (not only through a wildcard): the client asks for that form
   * rather than merely tolerating it.
   */
  names(mediaType: string): boolean;
}

const ANYTHING: AcceptedTypes = { accepts: () => true, names: () => false };

class AcceptList implements AcceptedTypes {
  readonly #listed: ReadonlySet<string>;
  readonly #refused: ReadonlySet<string>;
  readonly #wildcard: boolean;

  constructor(listed: ReadonlySet<string>, refused: ReadonlySet<string>, wildcard: boolean) {
    this.#listed = listed;
    this.#refused = refused;
    this.#wildcard = wildcard;
  }

  accepts(mediaType: string): boolean {
    const type = mediaType.toLowerCase();
    if (this.#refused.has(type)) return false;
    return this.#wildcard || this.#listed.has(type);
  }

  names(mediaType: string): boolean {
    return this.#listed.has(mediaType.toLowerCase());
  }
}

function parse(text: string): AcceptedTypes {
  const listed = new Set<string>();
  const refused = new Set<string>();
  let wildcard = false;
  for (const entry of text.split(',')) {
    const [rawType = '', ...params] = entry.split(';');
    const type = rawType.trim().toLowerCase();
    if (type === '') continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (!(weight > 0)) {
      refused.add(type);
      continue;
    }
    // Manifest types all live under application/, so application/* admits them as */* does.
    if (type === '*/*' || type === 'application/*') wildcard = true;
    else listed.add(type);
  }
  if (listed.size === 0 && refused.size === 0) return ANYTHING;
  return new AcceptList(listed, refused, wildcard || listed.size === 0);
}

/** Parsed headers by their text: a client sends the same few Accept values on every pull. */
const parsed = new Map<string, AcceptedTypes>();
const MAX_PARSED = 256;

/** The media types an Accept header admits; no header (or an empty one) admits everything. */
export function acceptedTypes(header: string | readonly string[] | undefined): AcceptedTypes {
  if (header === undefined) return ANYTHING;
  const text = typeof header === 'string' ? header : header.join(',');
  if (text.trim() === '') return ANYTHING;
  let types = parsed.get(text);
  if (types === undefined) {
    types = parse(text);
    if (parsed.size >= MAX_PARSED) parsed.clear();
    parsed.set(text, types);
  }
  return types;
}
