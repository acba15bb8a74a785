/** Who is asking: resolved once per request by authentication, before any route runs. */
export interface Principal {
  readonly kind: 'anonymous' | 'user' | 'serviceaccount';
  /** `system:anonymous` for the anonymous principal. */
  readonly name: string;
  /** Group memberships, virtual groups (`system:authenticated`, `system:unauthenticated`) included. */
  readonly groups: readonly string[];
}

export const ANONYMOUS: Principal = { kind: 'anonymous', name: 'system:anonymous', groups: ['system:unauthenticated'] };

/**
 * Every verb the authorizer decides, in the registry's vocabulary. Project
 * verbs apply to one project (and its repositories); `catalog`,
 * `create-project` and `manage-users` are registry-wide (see roles.ts).
 */
export const REGISTRY_VERBS = [
  'pull',
  'push',
  'delete',
  'tag',
  'catalog',
  'view',
  'manage-bindings',
  'manage-imagestreams',
  'manage-serviceaccounts',
  'delete-project',
  'create-project',
  'manage-users',
] as const;

/** What a request wants to do, in the registry's vocabulary. */
export type RegistryVerb = (typeof REGISTRY_VERBS)[number];

export interface RegistryResource {
  readonly project: string;
  readonly repository?: string;
}

/**
 * The one place that decides whether a principal may do something. Routes
 * ask it (through their preHandler hooks) and never look at role bindings.
 */
export interface Authorizer {
  /** True when `principal` may perform `verb` on `resource` (no resource: registry-wide, e.g. the catalog). */
  can(principal: Principal, verb: RegistryVerb, resource?: RegistryResource): Promise<boolean>;
  /**
   * The projects in which `principal` may perform the project verb `verb`, so
   * that a listing reads only those instead of filtering every row: `all`
   * when a registry-wide grant covers every project. It may name more than
   * `can` allows (never fewer); `can` stays the answer for each item.
   */
  scopeOf(principal: Principal, verb: RegistryVerb): Promise<ProjectScope>;
}

/** Where a principal may do something: every project, or these. */
export type ProjectScope = { readonly all: true } | { readonly all: false; readonly projects: readonly string[] };

export const EVERY_PROJECT: ProjectScope = { all: true };

/**
 * The authorizer of a registry without access control, which is what Berth is
 * until users and role bindings exist: everybody may do everything. It is
 * chosen explicitly in the composition root, never as a fallback.
 */
export class OpenAuthorizer implements Authorizer {
  async can(): Promise<boolean> {
    return true;
  }

  async scopeOf(): Promise<ProjectScope> {
    return EVERY_PROJECT;
  }
}
