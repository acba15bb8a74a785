/**
 * The access domain: projects, role bindings, service accounts and their
 * tokens, users and groups. The resource API (/apis) and the CLI call this;
 * it enforces the rules (names, which roles bind where, what must exist) and
 * keeps the authorizer's binding cache in step with every binding change.
 *
 * Who may call what is not decided here: the caller has already asked the
 * authorizer (the /apis preHandler), except in `ensureProjectForPush`, whose
 * whole point is that decision. Writes of several rows run in one metadata
 * transaction. Nothing here calls the authorizer (which reads the database
 * outside any transaction) or bcrypt from inside a transaction: on SQLite a
 * transaction holds the only connection, and a read outside it would wait
 * for it forever.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import type { Principal, RegistryVerb } from './authorizer.ts';
import { AccessError, type AccessResourceKind } from './access-errors.ts';
import { checkName, isPrincipalName, isProjectName, MAX_DISPLAY_NAME, nameProblem, VIRTUAL_GROUPS } from './access-names.ts';
import type { BindingSubject, RbacAuthorizer } from './rbac-authorizer.ts';
import { createProjectsRefusal } from './self-provisioning.ts';
import {
  AUTHENTICATED_GROUP,
  CLUSTER_ROLES,
  isRoleName,
  parseServiceAccountName,
  PROJECT_ROLES,
  type RoleName,
  type SubjectKind,
  serviceAccountSubjectName,
  UNAUTHENTICATED_GROUP,
} from './roles.ts';
import { HtpasswdError, parseHtpasswd } from '../identity/htpasswd.ts';
import { hashPassword, InvalidPasswordError, isBcryptHash } from '../identity/passwords.ts';
import { newSecret } from '../identity/secret-tokens.ts';
import { ProjectNotFoundError } from '../metadata/project-store.ts';
import { ServiceAccountNotFoundError } from '../metadata/service-account-store.ts';
import { CLUSTER_SCOPE } from '../metadata/stores.ts';
import type {
  Metadata,
  MetadataStores,
  Page,
  ProjectRecord,
  RoleBindingRecord,
  ServiceAccountRecord,
  ServiceAccountTokenRecord,
} from '../metadata/stores.ts';
import { GroupNotFoundError, UserNotFoundError } from '../metadata/user-store.ts';
import type { Clock } from '../registry/clock.ts';

/** The role an owner gets in a project it creates. */
export const PROJECT_OWNER_ROLE = 'registry-admin' satisfies RoleName;
/** The role of the administrator `bootstrapAdmin` creates. */
export const CLUSTER_ADMIN_ROLE = 'cluster-admin' satisfies RoleName;
/** Length of the administrator password `bootstrapAdmin` generates. */
export const GENERATED_PASSWORD_LENGTH = 24;
/** The longest lifetime a service-account token can be given (ten years); no expiry at all is also allowed. */
export const MAX_TOKEN_LIFETIME_SECONDS = 10 * 365 * 24 * 3600;

/** A subject of a role binding, as API clients write it. */
export interface SubjectRef {
  readonly kind: SubjectKind;
  /** User or group name; for a service account its name within `namespace`. */
  readonly name: string;
  /** For a service account: its project. Defaults to the binding's project; required for cluster bindings. */
  readonly namespace?: string | undefined;
}

/** The subjects of one role in one scope. */
export interface RoleBindingView {
  /** The project, or CLUSTER_SCOPE for a cluster role binding. */
  readonly project: string;
  readonly role: RoleName;
  /** In store order: kind, then name. Service accounts carry their namespace. */
  readonly subjects: readonly SubjectRef[];
}

/** One page of a list that is paged by name. */
export interface PagedResult<T> {
  readonly items: readonly T[];
  /** The name to pass as `after` for the next page; undefined on the last page. */
  readonly next: string | undefined;
}

/** A user as the API shows it: never its password hash. */
export interface UserView {
  readonly name: string;
  readonly createdAt: number;
  readonly disabled: boolean;
  /** Whether a local password is set (users of external identity providers have none). */
  readonly hasPassword: boolean;
  /** Stored group memberships, in byte order (virtual groups are not listed). */
  readonly groups: readonly string[];
}

/** A group as the API shows it. */
export interface GroupView {
  readonly name: string;
  readonly createdAt: number;
  /** Member user names, in byte order. */
  readonly users: readonly string[];
}

/** A service-account token as listed: never its hash or secret. */
export type ServiceAccountTokenView = Omit<ServiceAccountTokenRecord, 'tokenHash'>;

/** A token just created: the only time its secret is seen. */
export interface CreatedToken {
  readonly token: ServiceAccountTokenView;
  /** `berth_sa_…`: give it to the client now; only its hash is stored. */
  readonly secret: string;
}

/** What an htpasswd import did. */
export interface HtpasswdImportResult {
  readonly created: number;
  /** Existing users whose password hash was replaced by the file's. */
  readonly updated: number;
  /** Existing users whose hash was already the file's. */
  readonly unchanged: number;
  /** Names of the users created or updated (whose cached credentials callers should forget). */
  readonly changedUsers: readonly string[];
}

/** What `bootstrapAdmin` did. */
export interface BootstrapResult {
  /** True when the administrator user was created now. */
  readonly created: boolean;
  /** The administrator's name. */
  readonly name: string;
  /** A password generated because none was given: print it once, it is not stored anywhere readable. */
  readonly generatedPassword?: string;
}

export interface AccessServiceOptions {
  /** Where everything is stored; multi-row writes use its `withTransaction`. */
  readonly metadata: Metadata;
  /** Decides `create-project` for pushes; invalidated after every binding change. */
  readonly authorizer: RbacAuthorizer;
  /** Creation, expiry and revocation times. */
  readonly clock: Clock;
  /** Whether users may create projects (the same switch the authorizer was built with; used to explain refusals). */
  readonly selfProvisioning: boolean;
  /**
   * Whether a push into a missing project creates it (`auth.createProjectOnPush`;
   * default true). Off, no push creates a project, not even a cluster admin's.
   */
  readonly createProjectOnPush?: boolean | undefined;
  /**
   * Called after a project was deleted, with the repositories it had, so
   * that in-memory caches of their manifests, tags and blob links (the
   * registry's) can forget them: the metadata store deletes them without
   * going through the registry. A repository pushed between the listing and
   * the delete is deleted but not named here.
   */
  readonly onProjectDeleted?: ((project: string, repositories: readonly string[]) => void) | undefined;
}

function tokenView(record: ServiceAccountTokenRecord): ServiceAccountTokenView {
  const { tokenHash: _hash, ...view } = record;
  return view;
}

function notFound(kind: AccessResourceKind, name: string, message: string): AccessError {
  return new AccessError('NotFound', message, { kind, name });
}

/** Translates the metadata layer's "missing parent" errors; anything else is rethrown as is. */
function translate(error: unknown): never {
  if (error instanceof ProjectNotFoundError) throw notFound('projects', error.project, `project ${JSON.stringify(error.project)} not found`);
  if (error instanceof ServiceAccountNotFoundError) {
    throw notFound('serviceaccounts', error.account, `service account ${JSON.stringify(error.account)} not found in project ${JSON.stringify(error.project)}`);
  }
  if (error instanceof UserNotFoundError) throw notFound('users', error.user, `user ${JSON.stringify(error.user)} not found`);
  if (error instanceof GroupNotFoundError) throw notFound('groups', error.group, `group ${JSON.stringify(error.group)} not found`);
  throw error;
}

async function hashOrInvalid(password: string): Promise<string> {
  try {
    return await hashPassword(password);
  } catch (error) {
    if (error instanceof InvalidPasswordError) throw new AccessError('Invalid', error.message, { kind: 'users', field: 'password' }, { cause: error });
    throw error;
  }
}

function scopeLabel(project: string): string {
  return project === CLUSTER_SCOPE ? 'the cluster' : `project ${JSON.stringify(project)}`;
}

/** The domain operations behind /apis and the CLI (see the file comment). */
export class AccessService {
  readonly #metadata: Metadata;
  readonly #authorizer: RbacAuthorizer;
  readonly #clock: Clock;
  readonly #selfProvisioning: boolean;
  readonly #createProjectOnPush: boolean;
  readonly #onProjectDeleted: AccessServiceOptions['onProjectDeleted'];

  constructor(options: AccessServiceOptions) {
    this.#onProjectDeleted = options.onProjectDeleted;
    this.#metadata = options.metadata;
    this.#authorizer = options.authorizer;
    this.#clock = options.clock;
    this.#selfProvisioning = options.selfProvisioning;
    this.#createProjectOnPush = options.createProjectOnPush ?? true;
  }

  /** Whether users may create projects (to explain refusals). */
  get selfProvisioning(): boolean {
    return this.#selfProvisioning;
  }

  // -------------------------------------------------------------------------
  // Projects

  /**
   * Creates a project owned by `requester`, who is bound `registry-admin` in
   * it, in one transaction. The caller has decided that the requester may
   * (`create-project`).
   *
   * @throws AccessError 'Invalid' (name, displayName), 'AlreadyExists', 'Forbidden' for the anonymous principal.
   */
  async createProject(name: string, requester: Principal, displayName?: string): Promise<ProjectRecord> {
    checkName('projects', name, 'metadata.name');
    if (displayName !== undefined && (displayName.length > MAX_DISPLAY_NAME || /\p{Cc}/u.test(displayName))) {
      throw new AccessError('Invalid', `display name must be at most ${MAX_DISPLAY_NAME} characters without control characters`, {
        kind: 'projects',
        name,
        field: 'spec.displayName',
      });
    }
    const owner = this.#ownerBinding(name, requester);
    const record: ProjectRecord = { name, createdAt: this.#clock(), createdBy: requester.name, displayName: displayName ?? null };
    const created = await this.#metadata
      .withTransaction(async (tx) => {
        if ((await tx.projects.getProject(name)) !== undefined) return undefined;
        const stored = await tx.projects.ensureProject(record);
        // A concurrent creator (PostgreSQL) won the insert: the project is theirs.
        if (!sameRecord(stored, record)) return undefined;
        await tx.roleBindings.addBinding(owner);
        return stored;
      })
      .catch(translate);
    if (created === undefined) throw new AccessError('AlreadyExists', `project ${JSON.stringify(name)} already exists`, { kind: 'projects', name });
    this.#authorizer.invalidate(name);
    return created;
  }

  /**
   * Used by /v2 before the first push into a project: creates the project,
   * owned by the pusher, when it does not exist, creation on push is on
   * (`createProjectOnPush`) and the pusher may `create-project`. Idempotent and safe when pushes race: the project is
   * created once, and only the pusher whose insert won becomes its admin
   * (the others get 'exists' and are then authorized like any pusher).
   *
   * @throws AccessError 'Forbidden' saying why the project cannot be created; 'Invalid' for a bad name.
   */
  async ensureProjectForPush(project: string, pusher: Principal): Promise<'exists' | 'created'> {
    if ((await this.#metadata.projects.getProject(project)) !== undefined) return 'exists';
    checkName('projects', project);
    const why = await this.pushCreationRefusal(project, pusher);
    if (why !== undefined) throw new AccessError('Forbidden', `project ${JSON.stringify(project)} does not exist and ${why}`, { kind: 'projects', name: project });
    const owner = this.#ownerBinding(project, pusher);
    const record: ProjectRecord = { name: project, createdAt: this.#clock(), createdBy: pusher.name, displayName: null };
    const outcome = await this.#metadata
      .withTransaction(async (tx): Promise<'exists' | 'created'> => {
        // Checked again inside: on SQLite transactions run one at a time, so
        // this sees a racing push's project. On PostgreSQL both may get past
        // it; the insert then decides, and only the same pusher (same name,
        // same millisecond) can also see itself as the creator, harmlessly.
        if ((await tx.projects.getProject(project)) !== undefined) return 'exists';
        const stored = await tx.projects.ensureProject(record);
        if (!sameRecord(stored, record)) return 'exists';
        await tx.roleBindings.addBinding(owner);
        return 'created';
      })
      .catch(translate);
    if (outcome === 'created') this.#authorizer.invalidate(project);
    return outcome;
  }

  /**
   * Why a push by `pusher` cannot create the missing `project`, or undefined
   * when it can (see ProjectProvisioner.pushCreationRefusal). The switch
   * comes first: when creation on push is off, nobody's push creates a
   * project, and logging in or being an administrator would not help.
   */
  async pushCreationRefusal(project: string, pusher: Principal): Promise<string | undefined> {
    if (!this.#createProjectOnPush) {
      return `creating projects by pushing is turned off on this registry (auth.createProjectOnPush): create it first, e.g. berth new-project ${project}`;
    }
    if (await this.#authorizer.can(pusher, 'create-project')) return undefined;
    if (pusher.kind === 'anonymous') return 'anonymous users cannot create projects: log in first';
    if (!this.#selfProvisioning) return `${pusher.name} may not ${createProjectsRefusal(this.#selfProvisioning)}`;
    return `${pusher.name} may not create projects: only users and cluster administrators can`;
  }

  /** @throws AccessError 'NotFound' */
  async getProject(name: string): Promise<ProjectRecord> {
    const record = isProjectName(name) ? await this.#metadata.projects.getProject(name) : undefined;
    if (record === undefined) throw notFound('projects', name, `project ${JSON.stringify(name)} not found`);
    return record;
  }

  /**
   * Deletes a project with its role bindings, its service accounts (and
   * their tokens and bindings elsewhere) and its repositories (blob bytes
   * stay for garbage collection). Every cached binding is forgotten, since
   * bindings in other projects may have named its service accounts.
   *
   * @throws AccessError 'NotFound'
   */
  async deleteProject(name: string): Promise<void> {
    if (!isProjectName(name)) throw notFound('projects', name, `project ${JSON.stringify(name)} not found`);
    const repositories = this.#onProjectDeleted === undefined ? [] : await this.#repositoriesOf(name);
    const deleted = await this.#metadata.projects.deleteProject(name);
    this.#authorizer.invalidateAll();
    this.#onProjectDeleted?.(name, repositories);
    if (!deleted) throw notFound('projects', name, `project ${JSON.stringify(name)} not found`);
  }

  async #repositoriesOf(project: string): Promise<string[]> {
    const out: string[] = [];
    for (;;) {
      const names = await this.#metadata.repositories.listProjectRepositories(project, { after: out.at(-1), limit: 1000 });
      out.push(...names);
      if (names.length < 1000) return out;
    }
  }

  /**
   * The projects `principal` may `view`, in byte order of name, keyset-paged
   * on the name. A principal with a cluster-wide grant (cluster-admin) pages
   * through every project; anyone else through the projects named by its
   * bindings (as itself or one of its groups), each still confirmed by the
   * authorizer, so the authorizer alone decides.
   */
  async listProjects(principal: Principal, page: Page): Promise<PagedResult<ProjectRecord>> {
    if (await this.#authorizer.can(principal, 'view')) {
      const rows = await this.#metadata.projects.listProjects({ after: page.after, limit: page.limit + 1 });
      return pageOf(rows, page.limit, (p) => p.name);
    }
    const candidates = new Set<string>();
    for (const [kind, name] of subjectsOf(principal)) {
      for (const binding of await this.#metadata.roleBindings.listBindingsFor(kind, name)) {
        if (binding.project !== CLUSTER_SCOPE) candidates.add(binding.project);
      }
    }
    const names = [...candidates].filter((n) => page.after === undefined || n > page.after).sort(byteOrder);
    const items: ProjectRecord[] = [];
    let next: string | undefined;
    for (const name of names) {
      if (!(await this.#authorizer.can(principal, 'view', { project: name }))) continue;
      const record = await this.#metadata.projects.getProject(name);
      if (record === undefined) continue;
      if (items.length === page.limit) {
        next = items.at(-1)?.name;
        break;
      }
      items.push(record);
    }
    return { items, next };
  }

  // -------------------------------------------------------------------------
  // Role bindings

  /**
   * Binds `role` to `subject` in a project or, with CLUSTER_SCOPE,
   * cluster-wide. Only `cluster-admin` binds cluster-wide and only project
   * roles bind in a project. Users and groups need not exist (they may come
   * from an external identity provider later); a service account must.
   * Idempotent: true when the binding is new.
   *
   * @throws AccessError 'Invalid' (role, subject), 'NotFound' (project, service account).
   */
  async addRoleBinding(project: string, role: string, subject: SubjectRef): Promise<boolean> {
    const checkedRole = checkRoleForScope(project, role);
    await this.#requireScope(project);
    const record = this.#bindingRecord(project, checkedRole, subject);
    if (record.subjectKind === 'ServiceAccount') {
      const parsed = parseServiceAccountName(record.subjectName, true);
      const account = parsed === undefined ? undefined : await this.#metadata.serviceAccounts.getServiceAccount(parsed.project, parsed.name);
      if (account === undefined) {
        throw notFound('serviceaccounts', subject.name, `service account ${JSON.stringify(subject.name)} not found in project ${JSON.stringify(parsed?.project ?? '')}`);
      }
    }
    const added = await this.#metadata.roleBindings.addBinding(record).catch(translate);
    this.#authorizer.invalidate(project);
    return added;
  }

  /**
   * Removes one subject from a role in a project (or CLUSTER_SCOPE).
   * @throws AccessError 'NotFound' when the role is unknown or the subject is not bound to it; 'Invalid' for a malformed subject.
   */
  async removeRoleBinding(project: string, role: string, subject: SubjectRef): Promise<void> {
    if (!isRoleName(role)) throw notFound('roles', role, `role ${JSON.stringify(role)} does not exist`);
    const record = this.#bindingRecord(project, role, subject);
    const removed = await this.#metadata.roleBindings.removeBinding(record);
    this.#authorizer.invalidate(project);
    if (!removed) {
      throw notFound(project === CLUSTER_SCOPE ? 'clusterrolebindings' : 'rolebindings', role, `${subject.kind} ${JSON.stringify(subject.name)} is not bound to ${role} in ${scopeLabel(project)}`);
    }
  }

  /**
   * The bindings of a project (or CLUSTER_SCOPE), one view per role that has
   * subjects, in byte order of role.
   * @throws AccessError 'NotFound' for a missing project.
   */
  async listRoleBindings(project: string): Promise<RoleBindingView[]> {
    await this.#requireScope(project);
    const byRole = new Map<RoleName, SubjectRef[]>();
    for (const binding of await this.#metadata.roleBindings.listBindings(project)) {
      // Rows with a role this version does not know grant nothing; they are not shown either.
      if (!isRoleName(binding.role)) continue;
      const subjects = byRole.get(binding.role) ?? [];
      subjects.push(subjectRefOf(binding));
      byRole.set(binding.role, subjects);
    }
    return [...byRole.entries()].sort(([a], [b]) => byteOrder(a, b)).map(([role, subjects]) => ({ project, role, subjects }));
  }

  /**
   * One role's subjects in a project (or CLUSTER_SCOPE); a role that may be
   * bound there but has no subjects gives an empty list.
   * @throws AccessError 'NotFound' for a missing project or a role that cannot be bound in this scope.
   */
  async getRoleBinding(project: string, role: string): Promise<RoleBindingView> {
    if (!isRoleName(role) || !roleFitsScope(project, role)) {
      throw notFound(project === CLUSTER_SCOPE ? 'clusterrolebindings' : 'rolebindings', role, `role ${JSON.stringify(role)} cannot be bound in ${scopeLabel(project)}`);
    }
    const all = await this.listRoleBindings(project);
    return all.find((b) => b.role === role) ?? { project, role, subjects: [] };
  }

  /**
   * Who may do `verb` (in `project`), for `berth who-can`: the authorizer's
   * answer, unchanged.
   * @throws AccessError 'NotFound' when a project is named and does not exist.
   */
  async whoCan(verb: RegistryVerb, project?: string): Promise<BindingSubject[]> {
    if (project !== undefined) await this.getProject(project);
    return this.#authorizer.whoCan(verb, project);
  }

  // -------------------------------------------------------------------------
  // Service accounts and their tokens

  /** @throws AccessError 'Invalid', 'NotFound' (project), 'AlreadyExists' */
  async createServiceAccount(project: string, name: string): Promise<ServiceAccountRecord> {
    checkName('serviceaccounts', name, 'metadata.name');
    if (!isProjectName(project)) throw notFound('projects', project, `project ${JSON.stringify(project)} not found`);
    const record: ServiceAccountRecord = { project, name, createdAt: this.#clock() };
    const created = await this.#metadata.serviceAccounts.createServiceAccount(record).catch(translate);
    if (!created) {
      throw new AccessError('AlreadyExists', `service account ${JSON.stringify(name)} already exists in project ${JSON.stringify(project)}`, { kind: 'serviceaccounts', name });
    }
    return record;
  }

  /** A project's service accounts in byte order of name. @throws AccessError 'NotFound' (project) */
  async listServiceAccounts(project: string): Promise<ServiceAccountRecord[]> {
    await this.getProject(project);
    return this.#metadata.serviceAccounts.listServiceAccounts(project);
  }

  /** @throws AccessError 'NotFound' */
  async getServiceAccount(project: string, name: string): Promise<ServiceAccountRecord> {
    const record = await this.#metadata.serviceAccounts.getServiceAccount(project, name);
    if (record === undefined) throw this.#accountNotFound(project, name);
    return record;
  }

  /**
   * Deletes a service account, its tokens and every binding naming it (in
   * any project), in one transaction.
   * @throws AccessError 'NotFound'
   */
  async deleteServiceAccount(project: string, name: string): Promise<void> {
    const subjectName = serviceAccountSubjectName(project, name);
    const touched = await this.#metadata.withTransaction(async (tx) => {
      if ((await tx.serviceAccounts.getServiceAccount(project, name)) === undefined) return undefined;
      const touched = await removeBindingsOf(tx, 'ServiceAccount', subjectName);
      await tx.serviceAccounts.deleteServiceAccount(project, name);
      return touched;
    });
    if (touched === undefined) throw this.#accountNotFound(project, name);
    for (const scope of touched) this.#authorizer.invalidate(scope);
  }

  /**
   * Creates a token for a service account. The secret is returned once and
   * only its SHA-256 is stored. A rotation without downtime is create-new,
   * switch the client over, then `revokeToken` the old one (both are valid in
   * between); `rotateToken` does both at once.
   *
   * @param expiresInSeconds lifetime (1 s to ten years); undefined for a token that does not expire.
   * @throws AccessError 'Invalid' (lifetime), 'NotFound' (account)
   */
  async createToken(project: string, account: string, expiresInSeconds?: number): Promise<CreatedToken> {
    checkLifetime(expiresInSeconds);
    const { record, secret } = newTokenRecord(project, account, this.#clock(), expiresInSeconds === undefined ? null : expiresInSeconds * 1000);
    await this.#metadata.serviceAccounts.createToken(record).catch(translate);
    return { token: tokenView(record), secret };
  }

  /**
   * Rotates a token in one transaction: revokes token `id` and creates its
   * successor, whose secret is returned once. The successor lives as long as
   * the old token was given (no expiry when it had none) unless
   * `expiresInSeconds` says otherwise. For a switch-over without a moment in
   * which no token works, use createToken and revokeToken instead.
   *
   * @throws AccessError 'NotFound' (account, or no such token of it), 'Conflict' (the token is already revoked), 'Invalid' (lifetime)
   */
  async rotateToken(project: string, account: string, id: string, expiresInSeconds?: number): Promise<CreatedToken & { readonly revoked: ServiceAccountTokenView }> {
    checkLifetime(expiresInSeconds);
    const now = this.#clock();
    const { secret, revoked, record } = await this.#metadata.withTransaction(async (tx) => {
      if ((await tx.serviceAccounts.getServiceAccount(project, account)) === undefined) throw this.#accountNotFound(project, account);
      const old = (await tx.serviceAccounts.listTokens(project, account)).find((t) => t.id === id);
      if (old === undefined) throw notFound('serviceaccounttokens', id, `service account ${JSON.stringify(account)} has no token ${JSON.stringify(id)}`);
      if (old.revokedAt !== null || !(await tx.serviceAccounts.revokeToken(id, now))) {
        throw new AccessError('Conflict', `token ${JSON.stringify(id)} of service account ${JSON.stringify(account)} is revoked: create a new token instead`, { kind: 'serviceaccounttokens', name: id });
      }
      const lifetimeMs = expiresInSeconds !== undefined ? expiresInSeconds * 1000 : old.expiresAt === null ? null : Math.max(1000, old.expiresAt - old.createdAt);
      const created = newTokenRecord(project, account, now, lifetimeMs);
      await tx.serviceAccounts.createToken(created.record);
      return { ...created, revoked: { ...tokenView(old), revokedAt: now } };
    });
    return { token: tokenView(record), secret, revoked };
  }

  /** An account's tokens (revoked and expired ones included), oldest first, without secrets or hashes. @throws AccessError 'NotFound' */
  async listTokens(project: string, account: string): Promise<ServiceAccountTokenView[]> {
    await this.getServiceAccount(project, account);
    return (await this.#metadata.serviceAccounts.listTokens(project, account)).map(tokenView);
  }

  /**
   * Revokes one of an account's tokens (a second revocation changes nothing)
   * and returns it as it now is.
   * @throws AccessError 'NotFound' when the account has no token with this id.
   */
  async revokeToken(project: string, account: string, id: string): Promise<ServiceAccountTokenView> {
    const tokens = await this.listTokens(project, account);
    const token = tokens.find((t) => t.id === id);
    if (token === undefined) throw notFound('serviceaccounttokens', id, `service account ${JSON.stringify(account)} has no token ${JSON.stringify(id)}`);
    if (token.revokedAt !== null) return token;
    const now = this.#clock();
    await this.#metadata.serviceAccounts.revokeToken(id, now);
    return { ...token, revokedAt: now };
  }

  // -------------------------------------------------------------------------
  // Users and groups

  /**
   * Creates a local user, with a bcrypt password when one is given (a user
   * without one can only log in through an external identity provider).
   * @throws AccessError 'Invalid' (name, password), 'AlreadyExists'
   */
  async createUser(name: string, password?: string): Promise<UserView> {
    checkName('users', name, 'metadata.name');
    const passwordHash = password === undefined ? null : await hashOrInvalid(password);
    const createdAt = this.#clock();
    if (!(await this.#metadata.users.createUser({ name, passwordHash, createdAt, disabled: false }))) {
      throw new AccessError('AlreadyExists', `user ${JSON.stringify(name)} already exists`, { kind: 'users', name });
    }
    return { name, createdAt, disabled: false, hasPassword: passwordHash !== null, groups: [] };
  }

  /**
   * Creates a local user with a bcrypt hash made elsewhere (htpasswd -B),
   * for imports one user at a time.
   * @throws AccessError 'Invalid' (name, hash not bcrypt), 'AlreadyExists'
   */
  async createUserWithHash(name: string, passwordHash: string): Promise<UserView> {
    checkName('users', name, 'metadata.name');
    checkBcrypt(passwordHash);
    const createdAt = this.#clock();
    if (!(await this.#metadata.users.createUser({ name, passwordHash, createdAt, disabled: false }))) {
      throw new AccessError('AlreadyExists', `user ${JSON.stringify(name)} already exists`, { kind: 'users', name });
    }
    return { name, createdAt, disabled: false, hasPassword: true, groups: [] };
  }

  /** Replaces a user's password with a bcrypt hash made elsewhere. @throws AccessError 'Invalid', 'NotFound' */
  async setPasswordHash(name: string, passwordHash: string): Promise<void> {
    checkBcrypt(passwordHash);
    if (!(await this.#metadata.users.setPasswordHash(name, passwordHash))) throw notFound('users', name, `user ${JSON.stringify(name)} not found`);
  }

  /** @throws AccessError 'NotFound' */
  async getUser(name: string): Promise<UserView> {
    const record = await this.#metadata.users.getUser(name);
    if (record === undefined) throw notFound('users', name, `user ${JSON.stringify(name)} not found`);
    return {
      name,
      createdAt: record.createdAt,
      disabled: record.disabled,
      hasPassword: record.passwordHash !== null,
      groups: await this.#metadata.users.groupsOf(name),
    };
  }

  /** Users in byte order of name, keyset-paged. */
  async listUsers(page: Page): Promise<PagedResult<UserView>> {
    const rows = await this.#metadata.users.listUsers({ after: page.after, limit: page.limit + 1 });
    const { items, next } = pageOf(rows, page.limit, (u) => u.name);
    const views: UserView[] = [];
    for (const u of items) {
      views.push({ name: u.name, createdAt: u.createdAt, disabled: u.disabled, hasPassword: u.passwordHash !== null, groups: await this.#metadata.users.groupsOf(u.name) });
    }
    return { items: views, next };
  }

  /**
   * Sets a user's password, or with null removes it (no local login).
   * Callers that cache verified passwords must forget this user's.
   * @throws AccessError 'Invalid' (password), 'NotFound'
   */
  async setPassword(name: string, password: string | null): Promise<void> {
    const hash = password === null ? null : await hashOrInvalid(password);
    if (!(await this.#metadata.users.setPasswordHash(name, hash))) throw notFound('users', name, `user ${JSON.stringify(name)} not found`);
  }

  /**
   * Disables (or re-enables) a user. Disabling also revokes every OAuth
   * token of the user in the same transaction, so it is logged out
   * everywhere; re-enabling does not bring those tokens back.
   * @throws AccessError 'NotFound'
   */
  async setDisabled(name: string, disabled: boolean): Promise<void> {
    const found = await this.#metadata.withTransaction(async (tx) => {
      if (!(await tx.users.setDisabled(name, disabled))) return false;
      if (disabled) await tx.oauthTokens.revokeAllForUser(name, this.#clock());
      return true;
    });
    if (!found) throw notFound('users', name, `user ${JSON.stringify(name)} not found`);
  }

  /**
   * Deletes a user with its group memberships, every role binding naming it
   * (in any project, and cluster-wide) and (revoking) its OAuth tokens, in
   * one transaction: a new user of the same name later starts with no roles.
   * (Bindings may also name users that were never stored here, e.g. of an
   * external identity provider; those are removed with `removeRoleBinding`.)
   * @throws AccessError 'NotFound'
   */
  async deleteUser(name: string): Promise<void> {
    const touched = await this.#metadata.withTransaction(async (tx) => {
      if (!(await tx.users.deleteUser(name))) return undefined;
      await tx.oauthTokens.revokeAllForUser(name, this.#clock());
      return removeBindingsOf(tx, 'User', name);
    });
    if (touched === undefined) throw notFound('users', name, `user ${JSON.stringify(name)} not found`);
    for (const scope of touched) this.#authorizer.invalidate(scope);
  }

  /**
   * Imports an htpasswd file (bcrypt entries only) in one transaction:
   * creates missing users, replaces the password hash of existing ones.
   * A file with any bad line is refused as a whole.
   * @throws AccessError 'Invalid' listing every bad line.
   */
  async importHtpasswd(text: string): Promise<HtpasswdImportResult> {
    let entries;
    try {
      entries = parseHtpasswd(text);
    } catch (error) {
      if (error instanceof HtpasswdError) throw new AccessError('Invalid', error.message, { kind: 'htpasswd', field: 'spec.htpasswd' }, { cause: error });
      throw error;
    }
    const problems = entries.flatMap((e) => {
      const problem = nameProblem('users', e.user);
      return problem === undefined ? [] : [`line ${e.line}: ${problem}`];
    });
    if (problems.length > 0) throw new AccessError('Invalid', `htpasswd file: ${problems.join('; ')}`, { kind: 'htpasswd', field: 'spec.htpasswd' });
    const now = this.#clock();
    return this.#metadata.withTransaction(async (tx) => {
      let created = 0;
      let updated = 0;
      let unchanged = 0;
      const changedUsers: string[] = [];
      for (const entry of entries) {
        const existing = await tx.users.getUser(entry.user);
        if (existing === undefined) {
          await tx.users.createUser({ name: entry.user, passwordHash: entry.hash, createdAt: now, disabled: false });
          created++;
          changedUsers.push(entry.user);
        } else if (existing.passwordHash === entry.hash) {
          unchanged++;
        } else {
          await tx.users.setPasswordHash(entry.user, entry.hash);
          updated++;
          changedUsers.push(entry.user);
        }
      }
      return { created, updated, unchanged, changedUsers };
    });
  }

  /** @throws AccessError 'Invalid' (also for the virtual groups, which cannot be stored), 'AlreadyExists' */
  async createGroup(name: string): Promise<GroupView> {
    if (VIRTUAL_GROUPS.has(name)) throw new AccessError('Invalid', `${name} is a virtual group: it cannot be created, only bound`, { kind: 'groups', name, field: 'metadata.name' });
    checkName('groups', name, 'metadata.name');
    const createdAt = this.#clock();
    if (!(await this.#metadata.users.createGroup({ name, createdAt }))) {
      throw new AccessError('AlreadyExists', `group ${JSON.stringify(name)} already exists`, { kind: 'groups', name });
    }
    return { name, createdAt, users: [] };
  }

  /** @throws AccessError 'NotFound' */
  async getGroup(name: string): Promise<GroupView> {
    const record = await this.#metadata.users.getGroup(name);
    if (record === undefined) throw notFound('groups', name, `group ${JSON.stringify(name)} not found`);
    return { name, createdAt: record.createdAt, users: await this.#metadata.users.listMembers(name) };
  }

  /** Groups with their members, in byte order of name, keyset-paged. */
  async listGroups(page: Page): Promise<PagedResult<GroupView>> {
    const rows = await this.#metadata.users.listGroups({ after: page.after, limit: page.limit + 1 });
    const { items, next } = pageOf(rows, page.limit, (g) => g.name);
    const views: GroupView[] = [];
    for (const g of items) views.push({ name: g.name, createdAt: g.createdAt, users: await this.#metadata.users.listMembers(g.name) });
    return { items: views, next };
  }

  /**
   * Deletes a group with its memberships and every role binding naming it,
   * in one transaction (a new group of the same name starts with no roles).
   * @throws AccessError 'NotFound'
   */
  async deleteGroup(name: string): Promise<void> {
    const touched = await this.#metadata.withTransaction(async (tx) => {
      if (!(await tx.users.deleteGroup(name))) return undefined;
      return removeBindingsOf(tx, 'Group', name);
    });
    if (touched === undefined) throw notFound('groups', name, `group ${JSON.stringify(name)} not found`);
    for (const scope of touched) this.#authorizer.invalidate(scope);
  }

  /** Adds a user to a group (idempotent); true when it was not a member. @throws AccessError 'NotFound' (group or user) */
  async addMember(group: string, user: string): Promise<boolean> {
    return this.#metadata.users.addMember(group, user).catch(translate);
  }

  /** @throws AccessError 'NotFound' when the group does not exist or the user is not a member. */
  async removeMember(group: string, user: string): Promise<void> {
    if (await this.#metadata.users.removeMember(group, user)) return;
    await this.getGroup(group);
    throw notFound('users', user, `user ${JSON.stringify(user)} is not a member of group ${JSON.stringify(group)}`);
  }

  // -------------------------------------------------------------------------
  // First start

  /**
   * Makes sure an administrator exists: when no existing user holds a
   * cluster-wide `cluster-admin` binding, binds `name` (default `admin`) as
   * cluster-admin, creating the user first when missing. The password is
   * `password` when given (it also replaces the password of an existing
   * user, which is how an operator recovers a lost administrator);
   * otherwise a new user gets a generated 24-character password, returned
   * once for the caller to print. Does nothing when an administrator exists.
   *
   * @throws AccessError 'Invalid' for a bad name or password.
   */
  async bootstrapAdmin(options: { name?: string; password?: string } = {}): Promise<BootstrapResult> {
    const name = options.name ?? 'admin';
    checkName('users', name);
    if (await this.#hasAdmin(this.#metadata)) return { created: false, name };
    const generated = options.password === undefined ? generatePassword() : undefined;
    const hash = await hashOrInvalid(options.password ?? generated ?? '');
    const result = await this.#metadata.withTransaction(async (tx): Promise<BootstrapResult> => {
      // Again inside the transaction: another node may have bootstrapped meanwhile.
      if (await this.#hasAdmin(tx)) return { created: false, name };
      const created = await tx.users.createUser({ name, passwordHash: hash, createdAt: this.#clock(), disabled: false });
      if (!created) {
        if (options.password !== undefined) await tx.users.setPasswordHash(name, hash);
        await tx.users.setDisabled(name, false);
      }
      await tx.roleBindings.addBinding({ project: CLUSTER_SCOPE, role: CLUSTER_ADMIN_ROLE, subjectKind: 'User', subjectName: name });
      return created && generated !== undefined ? { created, name, generatedPassword: generated } : { created, name };
    });
    this.#authorizer.invalidate(CLUSTER_SCOPE);
    return result;
  }

  // -------------------------------------------------------------------------

  async #hasAdmin(stores: MetadataStores): Promise<boolean> {
    for (const binding of await stores.roleBindings.listBindings(CLUSTER_SCOPE)) {
      if (binding.role !== CLUSTER_ADMIN_ROLE || binding.subjectKind !== 'User') continue;
      const user = await stores.users.getUser(binding.subjectName);
      if (user !== undefined && !user.disabled) return true;
    }
    return false;
  }

  /** The registry-admin binding that makes `principal` the owner of a new project. */
  #ownerBinding(project: string, principal: Principal): RoleBindingRecord {
    if (principal.kind === 'user') return { project, role: PROJECT_OWNER_ROLE, subjectKind: 'User', subjectName: principal.name };
    if (principal.kind === 'serviceaccount') {
      const parsed = parseServiceAccountName(principal.name);
      if (parsed !== undefined) {
        return { project, role: PROJECT_OWNER_ROLE, subjectKind: 'ServiceAccount', subjectName: serviceAccountSubjectName(parsed.project, parsed.name) };
      }
    }
    throw new AccessError('Forbidden', 'anonymous users cannot create projects', { kind: 'projects', name: project });
  }

  #bindingRecord(project: string, role: RoleName, subject: SubjectRef): RoleBindingRecord {
    switch (subject.kind) {
      case 'User':
        if (!isPrincipalName(subject.name)) throw new AccessError('Invalid', nameProblem('users', subject.name) ?? '', { kind: 'users', name: subject.name, field: 'subject.name' });
        return { project, role, subjectKind: 'User', subjectName: subject.name };
      case 'Group':
        if (!VIRTUAL_GROUPS.has(subject.name) && !isPrincipalName(subject.name)) {
          throw new AccessError('Invalid', nameProblem('groups', subject.name) ?? '', { kind: 'groups', name: subject.name, field: 'subject.name' });
        }
        return { project, role, subjectKind: 'Group', subjectName: subject.name };
      case 'ServiceAccount': {
        const namespace = subject.namespace ?? (project === CLUSTER_SCOPE ? undefined : project);
        if (namespace === undefined) {
          throw new AccessError('Invalid', 'a service account bound cluster-wide needs its namespace (project)', { kind: 'serviceaccounts', name: subject.name, field: 'subject.namespace' });
        }
        checkName('projects', namespace, 'subject.namespace');
        checkName('serviceaccounts', subject.name, 'subject.name');
        return { project, role, subjectKind: 'ServiceAccount', subjectName: serviceAccountSubjectName(namespace, subject.name) };
      }
    }
  }

  async #requireScope(project: string): Promise<void> {
    if (project !== CLUSTER_SCOPE) await this.getProject(project);
  }

  #accountNotFound(project: string, name: string): AccessError {
    return notFound('serviceaccounts', name, `service account ${JSON.stringify(name)} not found in project ${JSON.stringify(project)}`);
  }
}

/** Removes every binding naming the subject (in `stores`, a transaction's); returns the scopes it touched, for cache invalidation. */
async function removeBindingsOf(stores: MetadataStores, kind: RoleBindingRecord['subjectKind'], name: string): Promise<Set<string>> {
  const bindings = await stores.roleBindings.listBindingsFor(kind, name);
  for (const binding of bindings) await stores.roleBindings.removeBinding(binding);
  return new Set(bindings.map((b) => b.project));
}

/** @throws AccessError 'Invalid' unless undefined (no expiry) or a whole number of seconds from 1 to ten years. */
function checkLifetime(expiresInSeconds: number | undefined): void {
  if (expiresInSeconds !== undefined && (!Number.isInteger(expiresInSeconds) || expiresInSeconds < 1 || expiresInSeconds > MAX_TOKEN_LIFETIME_SECONDS)) {
    throw new AccessError('Invalid', `expirationSeconds must be a whole number from 1 to ${MAX_TOKEN_LIFETIME_SECONDS}`, {
      kind: 'serviceaccounttokens',
      field: 'spec.expirationSeconds',
    });
  }
}

/** A new service-account token: its record (only the secret's hash) and the secret, to be shown once. */
function newTokenRecord(project: string, account: string, now: number, lifetimeMs: number | null): { record: ServiceAccountTokenRecord; secret: string } {
  const { secret, hash } = newSecret('serviceAccount');
  const record: ServiceAccountTokenRecord = {
    id: randomUUID(),
    project,
    account,
    tokenHash: hash,
    createdAt: now,
    expiresAt: lifetimeMs === null ? null : now + lifetimeMs,
    revokedAt: null,
    lastUsedAt: null,
  };
  return { record, secret };
}

function checkBcrypt(hash: string): void {
  if (!isBcryptHash(hash)) {
    throw new AccessError('Invalid', 'password hash must be bcrypt ($2y$, $2a$ or $2b$, as htpasswd -B writes it)', { kind: 'users', field: 'spec.passwordHash' });
  }
}

function sameRecord(a: ProjectRecord, b: ProjectRecord): boolean {
  return a.createdBy === b.createdBy && a.createdAt === b.createdAt;
}

function roleFitsScope(project: string, role: RoleName): boolean {
  return project === CLUSTER_SCOPE ? Object.hasOwn(CLUSTER_ROLES, role) : Object.hasOwn(PROJECT_ROLES, role);
}

function checkRoleForScope(project: string, role: string): RoleName {
  if (!isRoleName(role)) throw new AccessError('Invalid', `role ${JSON.stringify(role.slice(0, 100))} does not exist`, { kind: 'roles', name: role, field: 'roleRef.name' });
  if (!roleFitsScope(project, role)) {
    const allowed = Object.keys(project === CLUSTER_SCOPE ? CLUSTER_ROLES : PROJECT_ROLES).join(', ');
    throw new AccessError('Invalid', `role ${role} cannot be bound in ${scopeLabel(project)}: use one of ${allowed}`, { kind: 'roles', name: role, field: 'roleRef.name' });
  }
  return role;
}

function subjectRefOf(binding: RoleBindingRecord): SubjectRef {
  if (binding.subjectKind === 'ServiceAccount') {
    const parsed = parseServiceAccountName(binding.subjectName, true);
    if (parsed !== undefined) return { kind: 'ServiceAccount', name: parsed.name, namespace: parsed.project };
  }
  return { kind: binding.subjectKind, name: binding.subjectName };
}

/**
 * The binding subjects that stand for `principal`: itself and its groups,
 * with exactly one virtual group (as the authorizer counts them).
 */
function subjectsOf(principal: Principal): Array<[RoleBindingRecord['subjectKind'], string]> {
  const out: Array<[RoleBindingRecord['subjectKind'], string]> = [];
  if (principal.kind === 'user') out.push(['User', principal.name]);
  if (principal.kind === 'serviceaccount') {
    const parsed = parseServiceAccountName(principal.name);
    if (parsed !== undefined) out.push(['ServiceAccount', serviceAccountSubjectName(parsed.project, parsed.name)]);
  }
  const groups = new Set(principal.groups.filter((g) => !VIRTUAL_GROUPS.has(g)));
  groups.add(principal.kind === 'anonymous' ? UNAUTHENTICATED_GROUP : AUTHENTICATED_GROUP);
  for (const group of groups) out.push(['Group', group]);
  return out;
}

/** Rows fetched with limit+1: the extra row only says there is a next page. */
function pageOf<T>(rows: readonly T[], limit: number, key: (row: T) => string): PagedResult<T> {
  if (rows.length <= limit) return { items: rows, next: undefined };
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: last === undefined ? undefined : key(last) };
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** 24 characters of base64url: 144 bits of randomness, easy to paste. */
function generatePassword(): string {
  return randomBytes(18).toString('base64url').slice(0, GENERATED_PASSWORD_LENGTH);
}
