/**
 * The role-based authorizer: every /v2, /apis and console request is decided
 * here, from role bindings in the metadata database.
 *
 * Order of the decision:
 *   1. `catalog` is allowed to everybody (the catalog is then filtered per
 *      repository by `pull`);
 *   2. cluster-wide bindings (project CLUSTER_SCOPE), e.g. cluster-admin;
 *   3. `create-project` for any user while self-provisioning is on;
 *   4. the bindings of the resource's project, for project verbs only.
 *
 * Bindings are cached per project for a few seconds so that a pull does not
 * query the database per request. Write paths call `invalidate(project)`
 * after changing bindings, so this node sees its own writes at once; other
 * nodes see them within the TTL (cross-node invalidation through
 * PostgreSQL LISTEN/NOTIFY can call `invalidate` later).
 */

import { EVERY_PROJECT, type Authorizer, type Principal, type ProjectScope, type RegistryResource, type RegistryVerb } from './authorizer.ts';
import {
  AUTHENTICATED_GROUP,
  isRoleName,
  REGISTRY_WIDE_VERBS,
  roleGrants,
  SERVICE_ACCOUNT_PREFIX,
  serviceAccountPrincipalName,
  UNAUTHENTICATED_GROUP,
} from './roles.ts';
import { CLUSTER_SCOPE } from '../metadata/stores.ts';
import type { RoleBindingRecord, RoleBindingStore } from '../metadata/stores.ts';
import { LruCache } from '../registry/lru-cache.ts';
import { systemClock, type Clock } from '../registry/clock.ts';

/** How long a project's bindings are served from memory. */
export const DEFAULT_BINDING_CACHE_TTL_MS = 5000;
const DEFAULT_MAX_CACHED_PROJECTS = 10_000;

export interface RbacAuthorizerOptions {
  /** Where bindings are read from: a project's (`can`), and a subject's (`scopeOf`, uncached). */
  readonly bindings: Pick<RoleBindingStore, 'listBindings' | 'listBindingsFor'>;
  /** When true, every authenticated user (not service accounts) may create projects; else only cluster admins. */
  readonly selfProvisioning: boolean;
  /** Lifetime of a cached project's bindings; 0 disables the cache. */
  readonly cacheTtlMs?: number;
  /** Bound on the number of projects whose bindings are cached. */
  readonly maxCachedProjects?: number;
  readonly clock?: Clock;
}

/** A subject of a role binding, as `whoCan` reports it. */
export interface BindingSubject {
  readonly kind: RoleBindingRecord['subjectKind'];
  /** User or group name; `<project>:<name>` for a service account. */
  readonly name: string;
}

interface CacheEntry {
  readonly expiresAt: number;
  readonly bindings: Promise<readonly RoleBindingRecord[]>;
}

/** Authorizer on role bindings (see the file comment for the rules). */
export class RbacAuthorizer implements Authorizer {
  readonly #store: Pick<RoleBindingStore, 'listBindings' | 'listBindingsFor'>;
  readonly #selfProvisioning: boolean;
  readonly #ttl: number;
  readonly #clock: Clock;
  readonly #cache: LruCache<string, CacheEntry>;

  constructor(options: RbacAuthorizerOptions) {
    this.#store = options.bindings;
    this.#selfProvisioning = options.selfProvisioning;
    this.#ttl = options.cacheTtlMs ?? DEFAULT_BINDING_CACHE_TTL_MS;
    this.#clock = options.clock ?? systemClock;
    this.#cache = new LruCache({ maxEntries: options.maxCachedProjects ?? DEFAULT_MAX_CACHED_PROJECTS });
  }

  /** Whether users may create projects (the self-provisioning switch this authorizer was built with). */
  get selfProvisioning(): boolean {
    return this.#selfProvisioning;
  }

  async can(principal: Principal, verb: RegistryVerb, resource?: RegistryResource): Promise<boolean> {
    if (verb === 'catalog') return true;
    const groups = effectiveGroups(principal);
    const grants = (binding: RoleBindingRecord): boolean =>
      isRoleName(binding.role) && roleGrants(binding.role, verb) && matches(binding, principal, groups);

    if ((await this.#bindingsOf(CLUSTER_SCOPE)).some(grants)) return true;
    if (verb === 'create-project') return this.#selfProvisioning && principal.kind === 'user';
    if (REGISTRY_WIDE_VERBS.has(verb) || resource === undefined) return false;
    // A project named '' does not exist; never read the cluster bindings as a project's.
    if (resource.project === CLUSTER_SCOPE) return false;
    return (await this.#bindingsOf(resource.project)).some(grants);
  }

  async scopeOf(principal: Principal, verb: RegistryVerb): Promise<ProjectScope> {
    const groups = effectiveGroups(principal);
    const grants = (binding: RoleBindingRecord): boolean =>
      isRoleName(binding.role) && roleGrants(binding.role, verb) && matches(binding, principal, groups);
    if ((await this.#bindingsOf(CLUSTER_SCOPE)).some(grants)) return EVERY_PROJECT;
    if (REGISTRY_WIDE_VERBS.has(verb)) return { all: false, projects: [] };
    // The principal's own bindings, by subject (an indexed read each), not every project's.
    const subjects: Array<[RoleBindingRecord['subjectKind'], string]> = [...groups].map((group) => ['Group', group]);
    if (principal.kind === 'user') subjects.push(['User', principal.name]);
    const account = serviceAccountBindingName(principal);
    if (account !== undefined) subjects.push(['ServiceAccount', account]);
    const projects = new Set<string>();
    for (const [kind, name] of subjects) {
      for (const binding of await this.#store.listBindingsFor(kind, name)) {
        if (binding.project !== CLUSTER_SCOPE && grants(binding)) projects.add(binding.project);
      }
    }
    return { all: false, projects: [...projects].sort() };
  }

  /**
   * The subjects that may do `verb` (in `project`, for project verbs), for
   * `berth who-can`: cluster bindings first, then the project's, each
   * subject once. Virtual groups appear where the rules (not a binding)
   * grant the verb: both of them for `catalog`, `system:authenticated` for
   * `create-project` under self-provisioning.
   */
  async whoCan(verb: RegistryVerb, project?: string): Promise<BindingSubject[]> {
    const out: BindingSubject[] = [];
    const seen = new Set<string>();
    const add = (subject: BindingSubject): void => {
      const key = `${subject.kind}\u0000${subject.name}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.push(subject);
    };
    if (verb === 'catalog') {
      add({ kind: 'Group', name: AUTHENTICATED_GROUP });
      add({ kind: 'Group', name: UNAUTHENTICATED_GROUP });
      return out;
    }
    const granting = (bindings: readonly RoleBindingRecord[]) =>
      bindings.filter((b) => isRoleName(b.role) && roleGrants(b.role, verb));
    for (const b of granting(await this.#bindingsOf(CLUSTER_SCOPE))) add({ kind: b.subjectKind, name: b.subjectName });
    if (verb === 'create-project' && this.#selfProvisioning) add({ kind: 'Group', name: AUTHENTICATED_GROUP });
    if (!REGISTRY_WIDE_VERBS.has(verb) && project !== undefined && project !== CLUSTER_SCOPE) {
      for (const b of granting(await this.#bindingsOf(project))) add({ kind: b.subjectKind, name: b.subjectName });
    }
    return out;
  }

  /** Forgets the cached bindings of one project (CLUSTER_SCOPE for cluster bindings); call after every write. */
  invalidate(project: string): void {
    this.#cache.delete(project);
  }

  /** Forgets every cached binding (e.g. after a bulk import). */
  invalidateAll(): void {
    this.#cache.deleteWhere(() => true);
  }

  /**
   * One read per project per TTL: concurrent misses share the same query.
   * A failed read is not cached. An invalidation deletes the entry, so a read
   * that was in flight serves only the callers already waiting for it.
   */
  #bindingsOf(project: string): Promise<readonly RoleBindingRecord[]> {
    const now = this.#clock();
    const cached = this.#cache.get(project);
    if (cached !== undefined && cached.expiresAt > now) return cached.bindings;
    const bindings = this.#store.listBindings(project);
    if (this.#ttl <= 0) return bindings;
    const entry: CacheEntry = { expiresAt: now + this.#ttl, bindings };
    this.#cache.set(project, entry);
    bindings.catch(() => {
      if (this.#cache.get(project) === entry) this.#cache.delete(project);
    });
    return bindings;
  }
}

/** A service-account principal's name in role bindings (`<project>:<name>`), undefined for anyone else. */
function serviceAccountBindingName(principal: Principal): string | undefined {
  if (principal.kind !== 'serviceaccount' || !principal.name.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  return principal.name.slice(SERVICE_ACCOUNT_PREFIX.length);
}

/**
 * The principal's groups with exactly the right virtual group: whatever
 * authentication put in `groups`, an anonymous principal is never
 * `system:authenticated` and an authenticated one never `system:unauthenticated`.
 */
function effectiveGroups(principal: Principal): ReadonlySet<string> {
  const groups = new Set(principal.groups);
  if (principal.kind === 'anonymous') {
    groups.delete(AUTHENTICATED_GROUP);
    groups.add(UNAUTHENTICATED_GROUP);
  } else {
    groups.delete(UNAUTHENTICATED_GROUP);
    groups.add(AUTHENTICATED_GROUP);
  }
  return groups;
}

function matches(binding: RoleBindingRecord, principal: Principal, groups: ReadonlySet<string>): boolean {
  switch (binding.subjectKind) {
    case 'User':
      return principal.kind === 'user' && binding.subjectName === principal.name;
    case 'Group':
      return groups.has(binding.subjectName);
    case 'ServiceAccount': {
      if (principal.kind !== 'serviceaccount') return false;
      const colon = binding.subjectName.indexOf(':');
      if (colon <= 0) return false;
      return serviceAccountPrincipalName(binding.subjectName.slice(0, colon), binding.subjectName.slice(colon + 1)) === principal.name;
    }
  }
}
