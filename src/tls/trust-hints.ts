/** Characters that need no quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes a word for a POSIX shell unless it is plainly safe (no globs, spaces or quotes). */
function shellQuote(word: string): string {
  return SAFE_WORD.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The one-line shell commands a user runs to make container clients and curl
 * trust the local CA of a Berth server reached at `hostPort` (`host:port`, or
 * `[v6]:port`, exactly as it appears in image references):
 *
 * 1. podman, skopeo, buildah, system-wide: `/etc/containers/certs.d/<host:port>/ca.crt`
 * 2. the same tools per user (rootless podman): `~/.config/containers/certs.d/<host:port>/ca.crt`
 * 3. docker: `/etc/docker/certs.d/<host:port>/ca.crt`
 * 4. a curl probe of the API root with `--cacert`.
 *
 * Arguments are shell-quoted where needed (an IPv6 `[::1]:5000` contains glob
 * characters); `~` is left unquoted so that the shell expands it.
 */
export function trustHints(caCertPath: string, hostPort: string): string[] {
  const ca = shellQuote(caCertPath);
  const dir = shellQuote(hostPort);
  const systemWide = (root: string): string =>
    `sudo mkdir -p ${root}/${dir} && sudo cp ${ca} ${root}/${dir}/ca.crt`;
  const perUser = '~/.config/containers/certs.d';
  return [
    systemWide('/etc/containers/certs.d'),
    `mkdir -p ${perUser}/${dir} && cp ${ca} ${perUser}/${dir}/ca.crt`,
    systemWide('/etc/docker/certs.d'),
    `curl --cacert ${ca} ${shellQuote(`https://${hostPort}/v2/`)}`,
  ];
}
