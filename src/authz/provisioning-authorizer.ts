import type { ProjectStore } from '../metadata/stores.ts';
import type { Clock } from '../registry/clock.ts';
import { LruCache } from '../registry/lru-cache.ts';
import type { Authorizer, Principal, RegistryResource, RegistryVerb } from './authorizer.ts';

/** Creates a project on the first push into it (implemented by the access service). */
export interface ProjectProvisioner {
  /**
   * Makes sure `project` exists before `pusher` writes into it: creates it,
   * owned by the pusher, when the pusher may create projects; otherwise throws
   * an error whose message says why the push is refused.
   */
  ensureProjectForPush(project: string, pusher: Principal): Promise<'exists' | 'created'>;
}

/** How long "this project does not exist" is believed before asking the database again. */
const MISSING_TTL_MS = 2_000;

/**
 * Wraps the RBAC authorizer with the push-creates-project rule: pushing (and
 * so pulling back) into a project that does not exist yet is allowed to
 * whoever may create projects, because the push will create it with them as
 * its registry-admin. Everything else is the inner authorizer's answer.
 */
export class ProvisioningAuthorizer implements Authorizer {
  readonly #inner: Authorizer;
  readonly #projects: Pick<ProjectStore, 'getProject'>;
  readonly #enabled: boolean;
  readonly #clock: Clock;
  readonly #missing = new LruCache<string, number>({ maxEntries: 10_000 });

  constructor(options: { inner: Authorizer; projects: Pick<ProjectStore, 'getProject'>; createProjectOnPush: boolean; clock: Clock }) {
    this.#inner = options.inner;
    this.#projects = options.projects;
    this.#enabled = options.createProjectOnPush;
    this.#clock = options.clock;
  }

  async can(principal: Principal, verb: RegistryVerb, resource?: RegistryResource): Promise<boolean> {
    if (await this.#inner.can(principal, verb, resource)) return true;
    if (!this.#enabled || resource === undefined || (verb !== 'push' && verb !== 'pull')) return false;
    if (!(await this.#projectMissing(resource.project))) return false;
    return this.#inner.can(principal, 'create-project');
  }

  /** Call when a project is created, so the "missing" answer is not reused. */
  forget(project: string): void {
    this.#missing.delete(project);
  }

  async #projectMissing(project: string): Promise<boolean> {
    const now = this.#clock();
    const until = this.#missing.get(project);
    if (until !== undefined && until > now) return true;
    const exists = (await this.#projects.getProject(project)) !== undefined;
    if (!exists) this.#missing.set(project, now + MISSING_TTL_MS);
    else this.#missing.delete(project);
    return !exists;
  }
}
