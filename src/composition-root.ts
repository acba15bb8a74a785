import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import { AccessService } from './authz/access-service.ts';
import { ProvisioningAuthorizer } from './authz/provisioning-authorizer.ts';
import { RbacAuthorizer } from './authz/rbac-authorizer.ts';
import { DistributionAccess } from './http/distribution/access-control.ts';
import { Authenticator } from './identity/authenticator.ts';
import { LoginRateLimiter } from './identity/login-rate-limiter.ts';
import { RegistryTokens } from './identity/registry-tokens.ts';
import { loadOrCreateMasterKey, SecretBox } from './identity/secret-box.ts';
import { SigningKeys } from './identity/signing-keys.ts';
import { LocalIdentityProvider } from './identity/local-identity-provider.ts';
import { OAuthTokenService } from './identity/oauth-token-service.ts';
import { PasswordProviderChain } from './identity/password-providers.ts';
import { defaultOAuthClients, oauthPlugin } from './http/oauth/plugin.ts';
import { resolveAddress } from './http/server-address.ts';
import { ImageStreamRecorder } from './imagestreams/push-recorder.ts';
import { ImageStreamService } from './imagestreams/image-stream-service.ts';
import { ImageStreamImporter } from './imagestreams/image-importer.ts';
import { ImportScheduler } from './imagestreams/import-scheduler.ts';
import { PullSecretService } from './imagestreams/pull-secrets.ts';
import { apiPlugin } from './http/api/plugin.ts';
import { consolePlugin } from './http/console/plugin.ts';
import type { BerthConfig } from './config/load-config.ts';
import { createHttpServer } from './http/server.ts';
import { openMetadata } from './metadata/open-metadata.ts';
import type { Metadata } from './metadata/stores.ts';
import { systemClock } from './registry/clock.ts';
import { createRegistry, type Registry } from './registry/registry.ts';
import type { BlobDriver } from './storage/blob-driver.ts';
import { FilesystemDriver } from './storage/filesystem-driver.ts';
import { defaultHostNames } from './tls/host-names.ts';
import { ensureLocalTls } from './tls/local-ca.ts';

/** The console's built files (`npm run build`; `npm install` builds them). */
const CONSOLE_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');

/** Blob drivers by the name `storage.driver` gives; the one place a driver is chosen. */
const BLOB_DRIVERS: Readonly<Record<BerthConfig['storage']['driver'], (config: BerthConfig) => BlobDriver>> = {
  filesystem: (config) => new FilesystemDriver({ root: config.storage.filesystem.root }),
};

export interface RunningBerth {
  /** `https://host:port` or `http://host:port` as bound (port 0 resolved). */
  readonly url: string;
  /** Where clients reach it (`externalUrl`, or the bound URL with `localhost` for a wildcard host). */
  readonly externalUrl: string;
  /** The local CA's certificate, when Berth issued its own server certificate. */
  readonly caCertPath: string | undefined;
  /** The administrator account, and its password when this start created it with a generated one (print it once). */
  readonly admin: { readonly name: string; readonly created: boolean; readonly generatedPassword?: string | undefined };
  readonly registry: Registry;
  readonly metadata: Metadata;
  readonly app: FastifyInstance;
  readonly logger: Logger;
  close(): Promise<void>;
}

async function serverTls(config: BerthConfig): Promise<{ cert: string; key: string; caCertPath: string | undefined } | undefined> {
  if (!config.tls.enabled) return undefined;
  if (config.tls.certFile !== undefined && config.tls.keyFile !== undefined) {
    return { cert: await readFile(config.tls.certFile, 'utf8'), key: await readFile(config.tls.keyFile, 'utf8'), caCertPath: undefined };
  }
  const names = defaultHostNames();
  const local = await ensureLocalTls({
    dir: join(config.dataDir, 'tls'),
    hostnames: [...names.hostnames, ...config.tls.hostnames],
    ipAddresses: names.ipAddresses,
  });
  return { cert: local.certPem, key: local.keyPem, caCertPath: local.caCertPath };
}

/** Builds every part from validated config, in dependency order, and starts listening. */
export async function startBerth(config: BerthConfig, options: { logger?: Logger } = {}): Promise<RunningBerth> {
  const logger = options.logger ?? pino({ level: config.log.level, base: { service: 'berth' } });
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const tls = await serverTls(config);
  const metadata = await openMetadata({ url: config.database.url });
  await metadata.migrate();
  const driver = BLOB_DRIVERS[config.storage.driver](config);
  const registry = createRegistry({ metadata, driver, clock: systemClock, maxManifestBytes: config.registry.maxManifestBytes });
  const address = await resolveAddress(config, tls !== undefined);
  const pullSpecHost = new URL(address.externalUrl).host;
  registry.manifests.addListener(new ImageStreamRecorder({ driver, pullSpecHost }));

  const box = new SecretBox(await loadOrCreateMasterKey(config.dataDir, { keyBase64: config.auth.masterKey }));
  const keys = new SigningKeys({ store: metadata.signingKeys, box, clock: systemClock });
  const tokens = new RegistryTokens({ keys, issuer: `${config.auth.service}-token-service`, service: config.auth.service, lifetimeSeconds: config.auth.tokenLifetimeSeconds, clock: systemClock });
  const rbac = new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning: config.auth.selfProvisioning, clock: systemClock });
  const limiter = new LoginRateLimiter({ maxFailures: config.auth.maxLoginFailures, windowMs: config.auth.loginFailureWindowSeconds * 1000 });
  // Asked in order for every password (Basic on /v2, /v2/token and /apis, the OAuth login): the local users first.
  const identityProviders = [new LocalIdentityProvider({ users: metadata.users })];
  const authenticator = new Authenticator({ metadata, tokens, limiter, clock: systemClock, providers: new PasswordProviderChain(identityProviders) });
  const access = new AccessService({
    metadata,
    authorizer: rbac,
    clock: systemClock,
    selfProvisioning: config.auth.selfProvisioning,
    createProjectOnPush: config.auth.createProjectOnPush,
    onProjectDeleted: (_project, repositories) => repositories.forEach((name) => registry.forgetRepository(name)),
  });
  // Pushes into missing projects are allowed by what the access service would do with them (its createProjectOnPush).
  const authorizer = new ProvisioningAuthorizer({ inner: rbac, projects: metadata.projects, provisioner: access });
  const admin = await access.bootstrapAdmin({ name: config.auth.adminUser, password: process.env['BERTH_ADMIN_PASSWORD'] });
  const oauthTokens = new OAuthTokenService({ metadata, clock: systemClock });

  const imageStreams = new ImageStreamService({ metadata, manifests: registry.manifests, pullSpecHost, clock: systemClock });
  const pullSecrets = new PullSecretService({ metadata, secretBox: box, clock: systemClock });
  const importIntervalMs = config.imports.intervalMinutes * 60_000;
  // A stream created or changed through the API is imported by this process's scheduler at once, not at its next poll.
  const importer = new ImageStreamImporter({ metadata, secrets: pullSecrets, clock: systemClock, scheduleIntervalMs: importIntervalMs, onImportRequested: () => scheduler.wake() });
  const scheduler = new ImportScheduler({ metadata, importer, intervalMs: importIntervalMs, clock: systemClock, logger });


  const app = await createHttpServer({
    logger,
    tls,
    logRequests: config.log.requests,
    registry,
    access: new DistributionAccess({ authenticator, authorizer, bindings: rbac, provisioner: access, projects: metadata.projects, service: config.auth.service }),
    limits: { maxTagsPage: config.registry.maxTagsPage, maxCatalogPage: config.registry.maxCatalogPage },
    token: {
      tokens,
      keys,
      authenticator,
      authorizer,
      service: config.auth.service,
      refresh: {
        async exchange(refreshToken, clientId) {
          const rotated = await oauthTokens.refresh(refreshToken, clientId);
          return { userName: rotated.userName, refreshToken: rotated.refreshToken };
        },
        async issueRefreshToken(userName, clientId) {
          return (await oauthTokens.issue(userName, clientId, [])).refreshToken;
        },
      },
    },
    surfaces: [
      (app) => apiPlugin(app, { access, authorizer: rbac, authenticator, metadata, externalUrl: address.externalUrl, imageStreams, importer, pullSecrets, signingKeys: keys }),
      (app) => consolePlugin(app, { distDir: CONSOLE_DIST }),
      (app) => oauthPlugin(app, {
        tokens: oauthTokens,
        providers: identityProviders,
        limiter,
        clients: defaultOAuthClients(address.externalUrl),
        issuerUrl: address.externalUrl,
      }),
    ],
  });

  logger.info({ database: metadata.dialect, storage: driver.name, dataDir: config.dataDir }, 'registry ready');
  await app.listen({
    host: address.host,
    port: address.port,
    // Fastify reads http:// off a server it did not create itself; say what this one serves.
    listenTextResolver: (listening) => `Server listening at ${tls === undefined ? listening : listening.replace(/^http:/, 'https:')}`,
  });
  scheduler.start();
  const url = address.boundUrl;

  const expiryMs = config.registry.uploadExpiryHours * 3600_000;
  const sweep = setInterval(() => {
    registry.uploads.expire(Date.now() - expiryMs).then(
      (count) => { if (count > 0) logger.info({ count }, 'expired abandoned upload sessions'); },
      (error: unknown) => logger.error({ err: error }, 'upload expiry failed'),
    );
    oauthTokens.sweepExpired().catch((error: unknown) => logger.error({ err: error }, 'OAuth token sweep failed'));
  }, Math.min(expiryMs, 3600_000));
  sweep.unref();

  return {
    url,
    externalUrl: address.externalUrl,
    caCertPath: tls?.caCertPath,
    admin,
    registry,
    metadata,
    app,
    logger,
    async close() {
      clearInterval(sweep);
      await scheduler.stop();
      await app.close();
      await metadata.close();
      logger.flush();
    },
  };
}
