/**
 * Reading Apache htpasswd files, for `berth adm users import htpasswd FILE`.
 *
 * Only bcrypt entries (`htpasswd -B`) are accepted: the other schemes
 * htpasswd supports (MD5 `$apr1$`, `{SHA}`, crypt, plain text) are weak, and
 * Berth would have to keep code to verify them forever. A file with any of
 * them is refused as a whole, naming each offending line, so that an import
 * never half-succeeds.
 */

import { isBcryptHash } from './passwords.ts';

/** One user of an htpasswd file. */
export interface HtpasswdEntry {
  readonly user: string;
  /** The bcrypt hash as written (`$2y$…`, `$2a$…` or `$2b$…`). */
  readonly hash: string;
  /** 1-based line number, for messages. */
  readonly line: number;
}

/** One problem of an htpasswd file. */
export interface HtpasswdProblem {
  readonly line: number;
  readonly message: string;
}

/** The file cannot be imported; `problems` lists every offending line. */
export class HtpasswdError extends Error {
  override readonly name = 'HtpasswdError';
  readonly problems: readonly HtpasswdProblem[];
  constructor(problems: readonly HtpasswdProblem[], source = 'htpasswd file') {
    super(`${source}: ${problems.map((p) => `line ${p.line}: ${p.message}`).join('; ')}`);
    this.problems = problems;
  }
}

function schemeOf(hash: string): string {
  if (hash.startsWith('$apr1$')) return 'MD5 ($apr1$)';
  if (hash.startsWith('{SHA}')) return 'SHA-1 ({SHA})';
  if (hash.startsWith('$1$')) return 'MD5-crypt ($1$)';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'SHA-crypt';
  if (/^\$2[aby]\$/.test(hash)) return 'a malformed bcrypt hash';
  if (/^[./A-Za-z0-9]{13}$/.test(hash)) return 'DES crypt';
  return 'plain text or an unknown scheme';
}

/**
 * Parses the text of an htpasswd file. Blank lines and lines starting with
 * `#` are skipped; CRLF line ends are accepted.
 *
 * @param source how to name the file in the error message (e.g. its path).
 * @throws HtpasswdError listing every line that is not `user:bcrypt-hash`,
 *   with a non-bcrypt scheme, or repeating a user.
 */
export function parseHtpasswd(text: string, source?: string): HtpasswdEntry[] {
  const entries: HtpasswdEntry[] = [];
  const problems: HtpasswdProblem[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) continue;
    const colon = content.indexOf(':');
    if (colon <= 0) {
      problems.push({ line, message: 'expected user:hash' });
      continue;
    }
    const user = content.slice(0, colon);
    const hash = content.slice(colon + 1);
    if (!isBcryptHash(hash)) {
      problems.push({ line, message: `user ${user}: ${schemeOf(hash)} is not supported, only bcrypt (htpasswd -B)` });
      continue;
    }
    const first = seen.get(user);
    if (first !== undefined) {
      problems.push({ line, message: `user ${user} already appears on line ${first}` });
      continue;
    }
    seen.set(user, line);
    entries.push({ user, hash, line });
  }
  if (problems.length > 0) throw new HtpasswdError(problems, source);
  return entries;
}
