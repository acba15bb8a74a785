import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessError } from '../../authz/access-errors.ts';
import type { Authorizer, ProjectScope, RegistryVerb } from '../../authz/authorizer.ts';
import type { ProjectProvisioner } from '../../authz/provisioning-authorizer.ts';
import { AuthenticationError, type Authentication, type Authenticator } from '../../identity/authenticator.ts';
import { grants } from '../../identity/registry-tokens.ts';
import type { ProjectStore } from '../../metadata/stores.ts';
import { OciError } from '../../oci/errors.ts';
import type { RepositoryName } from '../../oci/names.ts';
import { LruCache } from '../../registry/lru-cache.ts';
import { logDenial, requestPath } from '../denial-log.ts';

/** How a /v2 request proves who it is and what it may do (Docker token authentication). */
export interface DistributionAccessOptions {
  readonly authenticator: Authenticator;
  /** Decides requests (the RBAC authorizer with the push-creates-project rule). */
  readonly authorizer: Authorizer;
  /** The bindings alone, for pushes into a project that turned out to exist already. */
  readonly bindings: Authorizer;
  readonly provisioner: ProjectProvisioner;
  readonly projects: Pick<ProjectStore, 'getProject'>;
  /** The `service` named in the Bearer challenge (the tokens' audience). */
  readonly service: string;
}

/** Actions of a registry token's `access` claim, per verb the /v2 routes need. */
const TOKEN_ACTION: Partial<Record<RegistryVerb, string>> = { pull: 'pull', push: 'push', delete: 'delete' };
/** What a client should ask the token endpoint for, per verb (push needs pull too: clients HEAD before they upload). */
const CHALLENGE_ACTIONS: Partial<Record<RegistryVerb, string>> = { pull: 'pull', push: 'pull,push', delete: 'delete' };

/** How long a project's existence is remembered, so pushes do not read it per request. */
const KNOWN_PROJECT_MS = 10_000;

/**
 * Authentication and authorization of /v2 requests.
 *
 * Requests with a registry token are allowed exactly what the token grants
 * (the bindings were consulted when it was issued). Requests with Basic
 * credentials, or none, are decided by the authorizer directly, so that
 * `curl` pulls from a project bound to `system:unauthenticated` work with no
 * token dance. A refused anonymous or token request gets 401 with a Bearer
 * challenge naming the scope to ask for; a refused Basic request gets 403.
 */
export class DistributionAccess {
  readonly #options: DistributionAccessOptions;
  readonly #knownProjects = new LruCache<string, number>({ maxEntries: 10_000 });

  constructor(options: DistributionAccessOptions) {
    this.#options = options;
  }

  async authenticate(request: FastifyRequest, reply: FastifyReply): Promise<Authentication> {
    try {
      return await this.#options.authenticator.fromHeader(request.headers.authorization, request.ip);
    } catch (error) {
      if (!(error instanceof AuthenticationError)) throw error;
      logDenial(request.log, { surface: 'v2', user: error.user ?? '', address: request.ip, verb: 'login', resource: requestPath(request), reason: `${error.reason}: ${error.message}` });
      if (error.reason === 'rate-limited') {
        reply.header('retry-after', String(error.retryAfterSeconds ?? 60));
        throw new OciError('TOOMANYREQUESTS', error.message);
      }
      if (error.reason === 'unavailable') throw new OciError('UNAVAILABLE', error.message);
      reply.header('www-authenticate', this.#challenge(request, undefined, undefined, 'invalid_token'));
      throw new OciError('UNAUTHORIZED', error.message);
    }
  }

  /** `GET /v2/` answers 200 only to an authenticated client: a 401 is what makes clients fetch a token. */
  requireAuthenticated(request: FastifyRequest, reply: FastifyReply, authentication: Authentication): void {
    if (authentication.method !== 'anonymous') return;
    reply.header('www-authenticate', this.#challenge(request, undefined, undefined));
    throw new OciError('UNAUTHORIZED', 'authentication required');
  }

  async allows(authentication: Authentication, verb: RegistryVerb, repository: RepositoryName | undefined): Promise<boolean> {
    const token = authentication.registryToken;
    if (token !== undefined) {
      if (verb === 'catalog') return token.access.some((a) => a.type === 'registry' && a.name === 'catalog');
      const action = TOKEN_ACTION[verb];
      return repository !== undefined && action !== undefined && grants(token, repository.name, action);
    }
    return this.#options.authorizer.can(authentication.principal, verb, repository === undefined ? undefined : { project: repository.project, repository: repository.name });
  }

  /**
   * Whether a repository shows in the catalog: the bindings decide (a token
   * for `registry:catalog:*` names no repositories, so it cannot).
   */
  async visible(authentication: Authentication, repository: RepositoryName): Promise<boolean> {
    return this.#options.authorizer.can(authentication.principal, 'pull', { project: repository.project, repository: repository.name });
  }

  /** The projects whose repositories the catalog may show (a superset of what `visible` admits). */
  async catalogScope(authentication: Authentication): Promise<ProjectScope> {
    return this.#options.authorizer.scopeOf(authentication.principal, 'pull');
  }

  /** The error for a refused request, with the challenge when a token could help. */
  async denial(request: FastifyRequest, reply: FastifyReply, authentication: Authentication, verb: RegistryVerb, repository: RepositoryName | undefined): Promise<OciError> {
    const why = await this.#why(authentication, verb, repository);
    logDenial(request.log, { surface: 'v2', user: authentication.principal.name, address: request.ip, verb, resource: repository?.name, reason: why });
    const detail = repository === undefined ? undefined : [{ Type: 'repository', Name: repository.name, Action: verb }];
    if (authentication.method === 'anonymous' || authentication.method === 'registry-token') {
      const error = authentication.method === 'registry-token' ? 'insufficient_scope' : undefined;
      reply.header('www-authenticate', this.#challenge(request, verb, repository, error));
      return new OciError('UNAUTHORIZED', why, { detail });
    }
    return new OciError('DENIED', why, { detail });
  }

  /**
   * Before anything is written: creates the project of a push when it does
   * not exist yet (and the pusher may create projects). When the project
   * exists, and the pusher was not the one who just created it, its bindings
   * must allow the push, whatever a token said: a token issued while the
   * project was missing does not make someone else's new project writable.
   */
  async beforePush(request: FastifyRequest, authentication: Authentication, repository: RepositoryName): Promise<void> {
    const denied = (reason: string, cause?: unknown): OciError => {
      logDenial(request.log, { surface: 'v2', user: authentication.principal.name, address: request.ip, verb: 'push', resource: repository.name, reason });
      return new OciError('DENIED', reason, { cause });
    };
    const now = Date.now();
    const known = this.#knownProjects.get(repository.project);
    let outcome: 'exists' | 'created' = 'exists';
    if (known === undefined || known <= now) {
      try {
        outcome = await this.#options.provisioner.ensureProjectForPush(repository.project, authentication.principal);
      } catch (error) {
        if (error instanceof OciError) throw error;
        if (error instanceof AccessError) throw denied(error.message, error);
        throw error;
      }
      this.#knownProjects.set(repository.project, now + KNOWN_PROJECT_MS);
    }
    if (outcome === 'created') return;
    const resource = { project: repository.project, repository: repository.name };
    if (!(await this.#options.bindings.can(authentication.principal, 'push', resource))) {
      throw denied(`${authentication.principal.name} may not push ${repository.name}`);
    }
  }

  async #why(authentication: Authentication, verb: RegistryVerb, repository: RepositoryName | undefined): Promise<string> {
    const who = authentication.principal.name;
    if (repository === undefined) return `${who} may not ${verb} the catalog`;
    if (verb === 'push' && (await this.#options.projects.getProject(repository.project)) === undefined) {
      const refusal = await this.#options.provisioner.pushCreationRefusal(repository.project, authentication.principal);
      return `project ${repository.project} does not exist and ${refusal ?? `${who} may not push ${repository.name}`}`;
    }
    return `${who} may not ${verb} ${repository.name}`;
  }

  #challenge(request: FastifyRequest, verb: RegistryVerb | undefined, repository: RepositoryName | undefined, error?: string): string {
    const realm = `${request.protocol}://${request.host}/v2/token`;
    const parts = [`realm="${realm}"`, `service="${this.#options.service}"`];
    const actions = verb === undefined ? undefined : CHALLENGE_ACTIONS[verb];
    if (verb === 'catalog') parts.push('scope="registry:catalog:*"');
    else if (repository !== undefined && actions !== undefined) parts.push(`scope="repository:${repository.name}:${actions}"`);
    if (error !== undefined) parts.push(`error="${error}"`);
    return `Bearer ${parts.join(',')}`;
  }
}
