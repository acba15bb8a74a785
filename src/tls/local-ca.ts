// Must precede @peculiar/x509: its dependency tsyringe throws at import time without Reflect metadata.
import './reflect-metadata-shim.ts';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, KeyObject, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeDnsName, normalizeIpAddress } from './host-names.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

// Node's WebCrypto is what x509 signs with; set explicitly rather than relying on a global `crypto` lookup.
x509.cryptoProvider.set(webcrypto);

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
/** CA/Browser Forum limit for publicly trusted leaves; clients that enforce it (Apple, Chrome) also do for private CAs. */
const SERVER_VALIDITY_DAYS = 397;
/** Certificates expiring within this window are replaced before they are served. */
const RENEW_BEFORE_DAYS = 30;
/** notBefore is back-dated a little so that a client whose clock lags ours still accepts a fresh certificate. */
const BACKDATE_MS = 60 * 60 * 1000;

const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** Names and addresses that every local server certificate carries, whatever the caller asks for. */
const ALWAYS_HOSTNAMES = ['localhost'] as const;
const ALWAYS_IP_ADDRESSES = ['127.0.0.1', '::1'] as const;

/** File names inside the TLS directory. */
const FILES = { caCert: 'ca.crt', caKey: 'ca.key', serverCert: 'server.crt', serverKey: 'server.key' } as const;

/** A local CA or server certificate that cannot be created, read or used. */
export class LocalTlsError extends Error {
  override readonly name = 'LocalTlsError';
  /** The file concerned, when there is one. */
  readonly path: string | undefined;
  constructor(message: string, path?: string, options?: ErrorOptions) {
    super(message, options);
    this.path = path;
  }
}

/** The server certificate Berth serves by default, and where its files are. */
export interface LocalTls {
  /** PEM of the server (leaf) certificate only; the CA is a self-signed root, so no chain is sent. */
  certPem: string;
  /** PKCS#8 PEM of the server certificate's private key. */
  keyPem: string;
  /** Path of the CA certificate users add to their clients' trust stores. */
  caCertPath: string;
  /** Path of `server.crt` (same content as `certPem`). */
  certPath: string;
  /** Path of `server.key` (same content as `keyPem`, mode 0600). */
  keyPath: string;
  /** What this call had to create: a new CA means clients must trust it (again). */
  created: { ca: boolean; server: boolean };
}

/** Options of {@link ensureLocalTls}. */
export interface EnsureLocalTlsOptions {
  /** Directory of the CA and server files; created with mode 0700 if missing, and tightened to 0700 if not. */
  dir: string;
  /** DNS names the server certificate must cover, in addition to `localhost`. IP literals here count as addresses. */
  hostnames: string[];
  /** IP addresses the server certificate must cover, in addition to 127.0.0.1 and ::1. */
  ipAddresses: string[];
  /** The current time (tests simulate the passage of time with it). Defaults to the clock. */
  now?: Date;
}

interface Names {
  dns: string[];
  ips: string[];
}

interface LoadedCa {
  cert: X509Certificate;
  peculiar: x509.X509Certificate;
  signingKey: CryptoKey;
}

/**
 * Makes sure `dir` holds a local certificate authority and a server
 * certificate it signed that covers the requested names, and returns the
 * server certificate and key.
 *
 * - The CA (`ca.crt`, `ca.key`: ECDSA P-256, CA:true, pathLen 0, keyCertSign
 *   and cRLSign, 10 years) is created once and reused; it is replaced only
 *   when it has expired or will within 30 days. A `ca.crt` without its key, or
 *   one that cannot be parsed, is an error rather than silently replaced,
 *   because users may have installed it in their trust stores.
 * - The server certificate (`server.crt`, `server.key`: ECDSA P-256,
 *   serverAuth, digitalSignature, 397 days, never past the CA's expiry) is
 *   reissued when it is missing, unreadable, not signed by the current CA,
 *   does not match its key, is not yet valid, expires within 30 days, or lacks
 *   any requested name or address.
 *
 * Every file is written to a temporary name and renamed into place, keys
 * with mode 0600 as PKCS#8 PEM; keys are written before the certificates that
 * use them, so a crash leaves at worst a key without a matching certificate,
 * which the next call detects and repairs. Concurrent first calls from two
 * processes on one directory are not coordinated: start one server first.
 *
 * @throws LocalTlsError when a name or address is invalid, or the existing CA cannot be used.
 */
export async function ensureLocalTls(options: EnsureLocalTlsOptions): Promise<LocalTls> {
  const now = options.now ?? new Date();
  const names = requestedNames(options.hostnames, options.ipAddresses);
  const { dir } = options;
  const paths = {
    caCert: join(dir, FILES.caCert),
    caKey: join(dir, FILES.caKey),
    serverCert: join(dir, FILES.serverCert),
    serverKey: join(dir, FILES.serverKey),
  };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode does not apply to a directory that already exists, nor escape the umask.
  await chmod(dir, 0o700);

  let ca = await loadCa(paths.caCert, paths.caKey, now);
  const createdCa = ca === undefined;
  if (ca === undefined) ca = await createCa(paths.caCert, paths.caKey, now);

  const existing = createdCa ? undefined : await loadServer(paths.serverCert, paths.serverKey);
  if (existing !== undefined && serverIsUsable(existing.cert, existing.key, ca, names, now)) {
    return {
      certPem: existing.certPem,
      keyPem: existing.keyPem,
      caCertPath: paths.caCert,
      certPath: paths.serverCert,
      keyPath: paths.serverKey,
      created: { ca: false, server: false },
    };
  }

  const issued = await issueServer(ca, names, now);
  await writeFileAtomic(paths.serverKey, issued.keyPem, 0o600);
  await writeFileAtomic(paths.serverCert, issued.certPem, 0o644);
  return {
    certPem: issued.certPem,
    keyPem: issued.keyPem,
    caCertPath: paths.caCert,
    certPath: paths.serverCert,
    keyPath: paths.serverKey,
    created: { ca: createdCa, server: true },
  };
}

/** The always-included names plus the requested ones, normalised and deduplicated. */
function requestedNames(hostnames: readonly string[], ipAddresses: readonly string[]): Names {
  const dns = new Set<string>(ALWAYS_HOSTNAMES);
  const ips = new Set<string>(ALWAYS_IP_ADDRESSES);
  for (const name of hostnames) {
    // An address given as a host name (`--hostname 10.0.0.5`) belongs in an IP SAN: clients never match IPs against DNS SANs.
    const ip = normalizeIpAddress(name);
    if (ip !== undefined) {
      ips.add(ip);
      continue;
    }
    const dnsName = normalizeDnsName(name);
    if (dnsName === undefined) throw new LocalTlsError(`not a valid host name for a certificate: ${JSON.stringify(name)}`);
    dns.add(dnsName);
  }
  for (const address of ipAddresses) {
    const ip = normalizeIpAddress(address);
    if (ip === undefined) throw new LocalTlsError(`not a valid IP address: ${JSON.stringify(address)}`);
    ips.add(ip);
  }
  return { dns: [...dns], ips: [...ips] };
}

/** Reads a file, or returns undefined when it does not exist. */
async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isErrnoException(error) && error.code === 'ENOENT') return undefined;
    throw new LocalTlsError(`cannot read ${path}: ${errorMessage(error)}`, path, { cause: error });
  }
}

/** Loads the CA, or returns undefined when there is none yet (or it must be replaced because it expires). */
async function loadCa(certPath: string, keyPath: string, now: Date): Promise<LoadedCa | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  // Keys are written first: a key alone is the trace of a crash during creation, never a CA anyone trusts.
  if (certPem === undefined) return undefined;
  if (keyPem === undefined) {
    throw new LocalTlsError(
      `${certPath} exists but its key ${keyPath} is missing; restore the key, or delete ${certPath} to create a new CA (clients must then trust the new one)`,
      keyPath,
    );
  }

  let cert: X509Certificate;
  let key: KeyObject;
  try {
    cert = new X509Certificate(certPem);
    key = createPrivateKey(keyPem);
  } catch (error) {
    throw new LocalTlsError(`cannot parse the local CA in ${certPath} / ${keyPath}: ${errorMessage(error)}`, certPath, {
      cause: error,
    });
  }
  if (!cert.ca || !cert.checkPrivateKey(key)) {
    throw new LocalTlsError(`${certPath} is not a CA certificate matching ${keyPath}`, certPath);
  }
  if (cert.validToDate.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return undefined;

  await chmod(keyPath, 0o600);
  const signingKey = await importSigningKey(key, keyPath);
  return { cert, peculiar: new x509.X509Certificate(certPem), signingKey };
}

/** Converts a P-256 private key to a WebCrypto signing key. */
async function importSigningKey(key: KeyObject, path: string): Promise<CryptoKey> {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new LocalTlsError(`${path} is not an ECDSA P-256 key`, path);
  }
  return (await webcrypto.subtle.importKey(
    'pkcs8',
    key.export({ format: 'der', type: 'pkcs8' }),
    EC_ALGORITHM,
    false,
    ['sign'],
  )) as CryptoKey;
}

/** Creates and writes a new CA. */
async function createCa(certPath: string, keyPath: string, now: Date): Promise<LoadedCa> {
  const keys = await generateKeyPair();
  // A random id in the name tells apart the CAs of several Berth installations in one trust store.
  const name = `CN=Berth local CA ${randomBytes(4).toString('hex')}`;
  const generated = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = generated.toString('pem');
  await writeFileAtomic(keyPath, exportPrivateKeyPem(keys.privateKey), 0o600);
  await writeFileAtomic(certPath, certPem, 0o644);
  return { cert: new X509Certificate(certPem), peculiar: generated, signingKey: keys.privateKey };
}

interface ExistingServer {
  cert: X509Certificate;
  key: KeyObject;
  certPem: string;
  keyPem: string;
}

/** Loads the server certificate and key, or returns undefined when either is missing or unreadable (it is then reissued). */
async function loadServer(certPath: string, keyPath: string): Promise<ExistingServer | undefined> {
  const [certPem, keyPem] = await Promise.all([readOptional(certPath), readOptional(keyPath)]);
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    const key = createPrivateKey(keyPem);
    await chmod(keyPath, 0o600);
    return { cert, key, certPem, keyPem };
  } catch {
    // A damaged server certificate is ours to replace; nobody trusts it directly.
    return undefined;
  }
}

/** Whether an existing server certificate can be served as is. */
function serverIsUsable(cert: X509Certificate, key: KeyObject, ca: LoadedCa, names: Names, now: Date): boolean {
  if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) return false;
  if (!cert.checkPrivateKey(key)) return false;
  if (cert.validFromDate.getTime() > now.getTime()) return false;
  if (cert.validToDate.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return false;

  const san = new x509.X509Certificate(cert.raw).getExtension(x509.SubjectAlternativeNameExtension);
  if (san === null) return false;
  const present = new Set<string>();
  for (const entry of san.names.toJSON()) {
    if (entry.type === 'dns') present.add(`dns:${entry.value.toLowerCase()}`);
    if (entry.type === 'ip') present.add(`ip:${normalizeIpAddress(entry.value) ?? entry.value}`);
  }
  return names.dns.every((n) => present.has(`dns:${n}`)) && names.ips.every((ip) => present.has(`ip:${ip}`));
}

/** Issues a server certificate for `names`, signed by `ca`. */
async function issueServer(ca: LoadedCa, names: Names, now: Date): Promise<{ certPem: string; keyPem: string }> {
  const keys = await generateKeyPair();
  // A leaf must not outlive its issuer: clients reject the chain from the CA's expiry on anyway.
  const notAfter = Math.min(now.getTime() + SERVER_VALIDITY_DAYS * DAY_MS, ca.cert.validToDate.getTime());
  const generated = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    // Clients match SANs only; the CN is for people reading the certificate.
    subject: `CN=${names.dns[0] ?? 'localhost'}`,
    issuer: ca.peculiar.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dns.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.peculiar.publicKey),
    ],
  });
  return { certPem: generated.toString('pem'), keyPem: exportPrivateKeyPem(keys.privateKey) };
}

async function generateKeyPair(): Promise<CryptoKeyPair> {
  // Extractable so the private key can be written out; it never leaves this process otherwise.
  return (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
}

function exportPrivateKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** 16 random bytes with the top bit clear: a positive serial of at most 20 octets, as RFC 5280 §4.1.2.2 requires. */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/** Writes `data` to `path` through a temporary file in the same directory, so readers see the old or the new file, never a torn one. */
async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(temporary, 'wx', mode);
    try {
      await handle.writeFile(data, 'utf8');
      // The umask may have narrowed `mode`; keys must end up exactly 0600, certificates readable.
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new LocalTlsError(`cannot write ${path}: ${errorMessage(error)}`, path, { cause: error });
  }
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'code' in error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
