/**
 * Parsing of `WWW-Authenticate` challenges (RFC 9110 §11.6.1) as registries
 * send them: `Bearer realm="…",service="…",scope="…"` (the Docker token
 * flow) or `Basic realm="…"`. Pure: no I/O.
 */

export interface AuthChallenge {
  /** The scheme, lower-cased: `bearer`, `basic`, … */
  readonly scheme: string;
  /** Auth parameters with lower-cased names. */
  readonly params: Readonly<Record<string, string>>;
}

const TOKEN_CHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Every challenge in one or more header values, in order. Tolerant of the
 * sloppiness seen in the wild (spaces around `=`, unquoted values, empty
 * list elements); never throws.
 */
export function parseWwwAuthenticate(headerValues: string | readonly string[] | undefined): AuthChallenge[] {
  if (headerValues === undefined) return [];
  const values = typeof headerValues === 'string' ? [headerValues] : headerValues;
  const out: AuthChallenge[] = [];
  for (const value of values) parseOne(value, out);
  return out;
}

function parseOne(text: string, out: AuthChallenge[]): void {
  let i = 0;
  const n = text.length;
  const skipSpace = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TOKEN_CHAR.test(text[i] as string)) i++;
    return text.slice(start, i);
  };
  const readQuoted = (): string => {
    // at the opening quote
    i++;
    let s = '';
    while (i < n && text[i] !== '"') {
      if (text[i] === '\\' && i + 1 < n) i++;
      s += text[i];
      i++;
    }
    i++; // closing quote (or end)
    return s;
  };
  let current: { scheme: string; params: Record<string, string> } | undefined;
  while (i < n) {
    skipSpace();
    if (text[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    const word = readToken();
    if (word.length === 0) {
      i = start + 1; // skip a stray character
      continue;
    }
    skipSpace();
    if (text[i] === '=' && current !== undefined) {
      // An auth-param of the current challenge (token68 `abc==` is not used by registries).
      i++;
      skipSpace();
      const value = text[i] === '"' ? readQuoted() : readValueToken();
      current.params[word.toLowerCase()] = value;
      continue;
    }
    current = { scheme: word.toLowerCase(), params: {} };
    out.push(current);
  }

  function readValueToken(): string {
    const start = i;
    while (i < n && text[i] !== ',' && text[i] !== ' ' && text[i] !== '\t') i++;
    return text.slice(start, i);
  }
}
