import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createServer, get } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultHostNames, normalizeIpAddress } from './host-names.ts';
import { ensureLocalTls, LocalTlsError } from './local-ca.ts';
import type { LocalTls } from './local-ca.ts';
import { trustHints } from './trust-hints.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Performs one HTTPS GET against a server using `tls`, with or without trusting the CA. */
async function handshake(tls: LocalTls, caPem: string | undefined): Promise<{ ok: true; body: string } | { ok: false; code: string }> {
  const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (_request, response) => {
    response.end('hello');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise((resolve, reject) => {
      const request = get(
        { host: '127.0.0.1', port, path: '/', servername: 'localhost', ...(caPem === undefined ? {} : { ca: caPem }), agent: false },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ ok: true, body }));
          response.on('error', reject);
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => resolve({ ok: false, code: error.code ?? error.message }));
    });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function sanOf(pem: string): string {
  return new X509Certificate(pem).subjectAltName ?? '';
}

describe('ensureLocalTls', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-tls-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates a CA and a server certificate it signed, covering the names, with private files', async () => {
    const dir = join(root, 'first');
    const tls = await ensureLocalTls({ dir, hostnames: ['registry.example.test'], ipAddresses: ['10.1.2.3', 'fd00::5'] });
    assert.deepEqual(tls.created, { ca: true, server: true });
    assert.equal(tls.caCertPath, join(dir, 'ca.crt'));

    const caPem = await readFile(tls.caCertPath, 'utf8');
    const ca = new X509Certificate(caPem);
    const server = new X509Certificate(tls.certPem);
    assert.equal(await readFile(tls.certPath, 'utf8'), tls.certPem);
    assert.equal(await readFile(tls.keyPath, 'utf8'), tls.keyPem);
    assert.match(tls.keyPem, /^-----BEGIN PRIVATE KEY-----/);

    assert.equal(ca.ca, true);
    assert.match(ca.subject, /^CN=Berth local CA [0-9a-f]{8}$/);
    assert.equal(ca.subject, ca.issuer);
    assert.ok(ca.verify(ca.publicKey), 'the CA is self-signed');
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const caYears = (ca.validToDate.getTime() - Date.now()) / (365 * DAY_MS);
    assert.ok(caYears > 9.9 && caYears < 10.1, `CA valid ~10 years, got ${caYears}`);

    assert.equal(server.ca, false);
    assert.ok(server.checkIssued(ca), 'server certificate issued by the CA');
    assert.ok(server.verify(ca.publicKey), 'server certificate signed by the CA key');
    assert.equal(server.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    const serverDays = (server.validToDate.getTime() - Date.now()) / DAY_MS;
    assert.ok(serverDays > 396 && serverDays <= 397, `server valid 397 days, got ${serverDays}`);

    const san = sanOf(tls.certPem);
    for (const expected of ['DNS:localhost', 'DNS:registry.example.test', 'IP Address:127.0.0.1', 'IP Address:10.1.2.3']) {
      assert.ok(san.includes(expected), `${expected} in ${san}`);
    }
    assert.ok(server.checkIP('::1') !== undefined, `::1 in ${san}`);
    assert.ok(server.checkIP('fd00::5') !== undefined, `fd00::5 in ${san}`);
    assert.equal(server.checkHost('registry.example.test'), 'registry.example.test');

    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'ca.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(tls.keyPath)).mode & 0o777, 0o600);
  });

  it('serves TLS that a client trusting the CA accepts and any other client rejects', async () => {
    const tls = await ensureLocalTls({ dir: join(root, 'handshake'), hostnames: [], ipAddresses: [] });
    const caPem = await readFile(tls.caCertPath, 'utf8');

    assert.deepEqual(await handshake(tls, caPem), { ok: true, body: 'hello' });
    const untrusted = await handshake(tls, undefined);
    assert.equal(untrusted.ok, false);
    assert.ok(!untrusted.ok && /CERT|SIGNATURE|ISSUER|VERIFY/.test(untrusted.code), `certificate error, got ${JSON.stringify(untrusted)}`);
  });

  it('reuses the CA and the server certificate on a second call', async () => {
    const dir = join(root, 'reuse');
    const first = await ensureLocalTls({ dir, hostnames: ['a.example.test'], ipAddresses: [] });
    const caSerial = new X509Certificate(await readFile(first.caCertPath)).serialNumber;
    const second = await ensureLocalTls({ dir, hostnames: ['A.example.test.'], ipAddresses: ['127.0.0.1'] });
    assert.deepEqual(second.created, { ca: false, server: false });
    assert.equal(second.certPem, first.certPem);
    assert.equal(second.keyPem, first.keyPem);
    assert.equal(new X509Certificate(await readFile(second.caCertPath)).serialNumber, caSerial);
  });

  it('reissues the server certificate, with the same CA, when a name or address is added', async () => {
    const dir = join(root, 'rename');
    const first = await ensureLocalTls({ dir, hostnames: [], ipAddresses: [] });
    const caPem = await readFile(first.caCertPath, 'utf8');
    const second = await ensureLocalTls({ dir, hostnames: ['new.example.test'], ipAddresses: [] });
    assert.deepEqual(second.created, { ca: false, server: true });
    assert.notEqual(second.certPem, first.certPem);
    assert.ok(sanOf(second.certPem).includes('DNS:new.example.test'));
    assert.equal(await readFile(second.caCertPath, 'utf8'), caPem);
    assert.ok(new X509Certificate(second.certPem).checkIssued(new X509Certificate(caPem)));

    const third = await ensureLocalTls({ dir, hostnames: ['new.example.test', '192.0.2.7'], ipAddresses: [] });
    assert.equal(third.created.server, true, 'an IP given as a host name is added as an IP SAN');
    assert.ok(sanOf(third.certPem).includes('IP Address:192.0.2.7'));
  });

  it('reissues a server certificate that expires within 30 days, and one that is missing', async () => {
    const dir = join(root, 'expiry');
    const first = await ensureLocalTls({ dir, hostnames: [], ipAddresses: [] });
    const notAfter = new X509Certificate(first.certPem).validToDate.getTime();

    const stillFine = await ensureLocalTls({ dir, hostnames: [], ipAddresses: [], now: new Date(notAfter - 31 * DAY_MS) });
    assert.equal(stillFine.created.server, false);

    const later = new Date(notAfter - 29 * DAY_MS);
    const renewed = await ensureLocalTls({ dir, hostnames: [], ipAddresses: [], now: later });
    assert.deepEqual(renewed.created, { ca: false, server: true });
    const renewedCert = new X509Certificate(renewed.certPem);
    assert.ok(renewedCert.validToDate.getTime() > later.getTime() + 396 * DAY_MS);

    await unlink(renewed.certPath);
    const recreated = await ensureLocalTls({ dir, hostnames: [], ipAddresses: [] });
    assert.deepEqual(recreated.created, { ca: false, server: true });
  });

  it('reissues a server certificate whose key does not match (crash between key and certificate)', async () => {
    const dir = join(root, 'mismatch');
    const first = await ensureLocalTls({ dir, hostnames: [], ipAddresses: [] });
    const other = await ensureLocalTls({ dir: join(root, 'mismatch-other'), hostnames: [], ipAddresses: [] });
    await writeFile(first.keyPath, other.keyPem, { mode: 0o600 });
    const repaired = await ensureLocalTls({ dir, hostnames: [], ipAddresses: [] });
    assert.equal(repaired.created.server, true);
    assert.ok(new X509Certificate(repaired.certPem).checkPrivateKey(createPrivateKey(repaired.keyPem)));
  });

  it('refuses to replace a CA certificate whose key is gone', async () => {
    const dir = join(root, 'lost-key');
    await ensureLocalTls({ dir, hostnames: [], ipAddresses: [] });
    await unlink(join(dir, 'ca.key'));
    await assert.rejects(ensureLocalTls({ dir, hostnames: [], ipAddresses: [] }), LocalTlsError);
  });

  it('rejects names that cannot go into a certificate', async () => {
    await assert.rejects(ensureLocalTls({ dir: join(root, 'bad'), hostnames: ['not a host'], ipAddresses: [] }), LocalTlsError);
    await assert.rejects(ensureLocalTls({ dir: join(root, 'bad'), hostnames: [], ipAddresses: ['300.1.1.1'] }), LocalTlsError);
  });
});

describe('defaultHostNames', () => {
  it('includes localhost and the loopback addresses, normalised and without duplicates', () => {
    const { hostnames, ipAddresses } = defaultHostNames();
    assert.equal(hostnames[0], 'localhost');
    assert.ok(ipAddresses.includes('127.0.0.1') && ipAddresses.includes('::1'));
    assert.equal(new Set(hostnames).size, hostnames.length);
    assert.equal(new Set(ipAddresses).size, ipAddresses.length);
    for (const ip of ipAddresses) assert.equal(normalizeIpAddress(ip), ip);
  });

  it('yields names ensureLocalTls accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-tls-defaults-'));
    try {
      const tls = await ensureLocalTls({ dir, ...defaultHostNames() });
      assert.equal(tls.created.server, true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('normalizeIpAddress', () => {
  it('gives one spelling per address and rejects non-addresses', () => {
    assert.equal(normalizeIpAddress('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(normalizeIpAddress('[FD00::0:5]'), 'fd00::5');
    assert.equal(normalizeIpAddress('fe80::1%eth0'), 'fe80::1');
    assert.equal(normalizeIpAddress('10.0.0.1'), '10.0.0.1');
    assert.equal(normalizeIpAddress('localhost'), undefined);
  });
});

describe('trustHints', () => {
  it('names the CA file and the certs.d directories of podman, docker and the user, and a curl probe', () => {
    const hints = trustHints('/var/lib/berth/tls/ca.crt', 'registry.example.test:5000');
    assert.deepEqual(hints, [
      'sudo mkdir -p /etc/containers/certs.d/registry.example.test:5000 && sudo cp /var/lib/berth/tls/ca.crt /etc/containers/certs.d/registry.example.test:5000/ca.crt',
      'mkdir -p ~/.config/containers/certs.d/registry.example.test:5000 && cp /var/lib/berth/tls/ca.crt ~/.config/containers/certs.d/registry.example.test:5000/ca.crt',
      'sudo mkdir -p /etc/docker/certs.d/registry.example.test:5000 && sudo cp /var/lib/berth/tls/ca.crt /etc/docker/certs.d/registry.example.test:5000/ca.crt',
      'curl --cacert /var/lib/berth/tls/ca.crt https://registry.example.test:5000/v2/',
    ]);
  });

  it('quotes paths with spaces and IPv6 host:port, which contain shell metacharacters', () => {
    const hints = trustHints('/home/me/my data/tls/ca.crt', '[::1]:5000');
    assert.equal(
      hints[0],
      "sudo mkdir -p /etc/containers/certs.d/'[::1]:5000' && sudo cp '/home/me/my data/tls/ca.crt' /etc/containers/certs.d/'[::1]:5000'/ca.crt",
    );
    assert.equal(hints[3], "curl --cacert '/home/me/my data/tls/ca.crt' 'https://[::1]:5000/v2/'");
  });
});
