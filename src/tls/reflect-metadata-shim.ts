/**
 * The smallest `Reflect` metadata polyfill that `@peculiar/x509` v2 needs.
 *
 * @peculiar/x509 v2 depends on tsyringe, which refuses to load unless
 * `Reflect.getMetadata` exists (it asks for the `reflect-metadata` package,
 * which is not a dependency of Berth). tsyringe only reads constructor
 * parameter metadata that x509's compiled classes never emit, and stores its
 * own injection tokens; a per-target map is enough for both. Import this module
 * before `@peculiar/x509` (ES modules evaluate imports in order). If
 * `reflect-metadata` is ever added, it replaces this file and the guard below
 * leaves it alone.
 */

type MetadataMap = Map<unknown, unknown>;

const store = new WeakMap<object, Map<string | symbol | undefined, MetadataMap>>();

function metadataFor(target: object, property: string | symbol | undefined, create: boolean): MetadataMap | undefined {
  let byProperty = store.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let map = byProperty.get(property);
  if (map === undefined && create) {
    map = new Map();
    byProperty.set(property, map);
  }
  return map;
}

function getOwnMetadata(key: unknown, target: object, property?: string | symbol): unknown {
  return metadataFor(target, property, false)?.get(key);
}

function getMetadata(key: unknown, target: object, property?: string | symbol): unknown {
  // Walks the prototype chain, as reflect-metadata does.
  for (let current: object | null = target; current !== null; current = Object.getPrototypeOf(current) as object | null) {
    const map = metadataFor(current, property, false);
    if (map?.has(key) === true) return map.get(key);
  }
  return undefined;
}

function defineMetadata(key: unknown, value: unknown, target: object, property?: string | symbol): void {
  metadataFor(target, property, true)?.set(key, value);
}

function metadata(key: unknown, value: unknown): (target: object, property?: string | symbol) => void {
  return (target, property) => defineMetadata(key, value, target, property);
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect['getMetadata'] !== 'function') {
  Object.assign(reflect, { getMetadata, getOwnMetadata, defineMetadata, metadata });
}
