import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

/** Names a DNS subjectAltName may carry: letters, digits, '-', '_' (seen in real host names), dot-separated. */
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Lower-cases a DNS name and drops a trailing dot, or returns undefined when
 * the text cannot be a DNS subjectAltName (non-ASCII, spaces, empty labels).
 */
export function normalizeDnsName(name: string): string | undefined {
  const lowered = name.trim().toLowerCase().replace(/\.$/, '');
  return DNS_NAME.test(lowered) ? lowered : undefined;
}

/**
 * Canonical text of an IP address (IPv6 compressed and lower-case, brackets
 * and zone id removed), or undefined when the text is not an IP address.
 * Two spellings of one address (`::1`, `0:0:0:0:0:0:0:1`) give the same text,
 * which is what comparing a certificate's SANs with requested addresses needs.
 */
export function normalizeIpAddress(address: string): string | undefined {
  const bare = address.trim().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return undefined;
  // The WHATWG URL parser canonicalises both families (RFC 5952 for IPv6).
  const host = new URL(family === 6 ? `http://[${bare}]/` : `http://${bare}/`).hostname;
  return host.replace(/^\[(.*)\]$/, '$1');
}

/**
 * The names and addresses this machine is likely reached by, for the
 * subjectAltNames of the local server certificate: `localhost`, the host name
 * and its short form, 127.0.0.1, ::1 and every non-internal IPv4/IPv6 address
 * of the network interfaces. Link-local IPv6 addresses are included without
 * their zone id (a certificate cannot carry one). Duplicates are removed;
 * order is stable (loopback first).
 */
export function defaultHostNames(): { hostnames: string[]; ipAddresses: string[] } {
  const hostnames = new Set<string>(['localhost']);
  const full = normalizeDnsName(hostname());
  if (full !== undefined) {
    hostnames.add(full);
    const short = full.split('.')[0];
    if (short !== undefined && short !== '') hostnames.add(short);
  }

  const ipAddresses = new Set<string>(['127.0.0.1', '::1']);
  for (const addresses of Object.values(networkInterfaces())) {
    for (const info of addresses ?? []) {
      if (info.internal) continue;
      const ip = normalizeIpAddress(info.address);
      if (ip !== undefined) ipAddresses.add(ip);
    }
  }
  return { hostnames: [...hostnames], ipAddresses: [...ipAddresses] };
}
