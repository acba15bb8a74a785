import type { ProjectStore } from '../metadata/stores.ts';
import type { Authorizer, Principal, ProjectScope, RegistryResource, RegistryVerb } from './authorizer.ts';

/** Creates a project on the first push into it (implemented by the access service). */
export interface ProjectProvisioner {
  /**
   * Makes sure `project` exists before `pusher` writes into it: creates it,
   * owned by the pusher, when the pusher may create projects; otherwise throws
   * an error whose message says why the push is refused.
   */
  ensureProjectForPush(project: string, pusher: Principal): Promise<'exists' | 'created'>;
  /**
   * Why a push by `pusher` cannot create a missing project (creation on push
   * turned off, anonymous pusher, no `create-project`), as the end of the
   * sentence "project P does not exist and …"; undefined when it can. The one
   * source of this explanation, for /v2 denials and for ensureProjectForPush.
   */
  pushCreationRefusal(project: string, pusher: Principal): Promise<string | undefined>;
}

/**
 * Wraps the RBAC authorizer with the push-creates-project rule: pushing (and
 * so pulling back) into a project that does not exist yet is allowed to
 * whoever the provisioner would let create it by that push, because the push
 * will create it with them as its registry-admin. Everything else is the
 * inner authorizer's answer. Whether a push may create a project (the
 * `auth.createProjectOnPush` switch, `create-project`) is the provisioner's
 * decision alone: this class holds no switch of its own, so the token
 * endpoint and /v2 cannot disagree with what ensureProjectForPush does.
 *
 * The permission is only as good as the moment it was given: if someone else
 * creates the project first, the push must be checked again against the
 * bindings (see DistributionAccess.beforePush).
 */
export class ProvisioningAuthorizer implements Authorizer {
  readonly #inner: Authorizer;
  readonly #projects: Pick<ProjectStore, 'getProject'>;
  readonly #provisioner: Pick<ProjectProvisioner, 'pushCreationRefusal'>;

  constructor(options: { inner: Authorizer; projects: Pick<ProjectStore, 'getProject'>; provisioner: Pick<ProjectProvisioner, 'pushCreationRefusal'> }) {
    this.#inner = options.inner;
    this.#projects = options.projects;
    this.#provisioner = options.provisioner;
  }

  async can(principal: Principal, verb: RegistryVerb, resource?: RegistryResource): Promise<boolean> {
    if (await this.#inner.can(principal, verb, resource)) return true;
    if (resource === undefined || (verb !== 'push' && verb !== 'pull')) return false;
    // The refusal first: it reads no project, and with creation on push turned off it is all there is to ask.
    if ((await this.#provisioner.pushCreationRefusal(resource.project, principal)) !== undefined) return false;
    // Only refused requests get here, so reading the project each time costs the common path nothing;
    // no "missing" answer is cached, because a project created meanwhile must not be pushable by others.
    return (await this.#projects.getProject(resource.project)) === undefined;
  }

  /** The inner scope: what a push may create does not exist yet, so there is nothing in it to list. */
  scopeOf(principal: Principal, verb: RegistryVerb): Promise<ProjectScope> {
    return this.#inner.scopeOf(principal, verb);
  }
}
