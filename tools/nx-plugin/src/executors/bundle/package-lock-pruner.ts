/** One entry of an npm v3 lockfile's `packages` map (only the fields the pruner reads are typed). */
export interface LockfilePackage {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

/** An npm lockfile, version 2 or 3 (the `packages` map; v1's `dependencies` tree is not read). */
export interface PackageLock {
  name?: string;
  version?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockfilePackage>;
}

/** What {@link prunePackageLock} returns: the production lockfile of an image and its root dependencies. */
export interface PrunedPackageLock {
  /** The `dependencies` of the pruned package.json: each requested package at its locked version. */
  dependencies: Record<string, string>;
  /** A v3 lockfile holding exactly the requested packages and their production closure. */
  lock: PackageLock;
  /** Lockfile locations (`node_modules/a`, `node_modules/a/node_modules/b`) to install, sorted. */
  locations: string[];
  /** Requested packages that the lockfile does not hold (optional imports such as `pg-native`). */
  missing: string[];
}

/**
 * Cuts the workspace's package-lock.json down to the production closure of `packageNames`, resolving each
 * dependency as Node does (nearest `node_modules` up the tree), so the result is what `npm ci --omit=dev`
 * would install from it, and what the bundle executor copies from the root node_modules. Dependencies and
 * installed peer and optional dependencies are followed; `dev` flags are dropped and `optional` is recomputed
 * (a package is optional when only optional edges reach it).
 *
 * @example
 * const pruned = prunePackageLock(rootLock, ['pg'], { name: '@ittd/applets', version: '0.0.0' });
 * pruned.dependencies; // { pg: '8.23.1' }
 * pruned.locations;    // ['node_modules/pg', 'node_modules/pg-pool', ...]
 */
export function prunePackageLock(
  rootLock: PackageLock,
  packageNames: readonly string[],
  root: { name: string; version: string },
): PrunedPackageLock {
  if (rootLock.lockfileVersion < 2 || !rootLock.packages) {
    throw new Error(`package-lock.json v${rootLock.lockfileVersion} has no "packages" map; run npm >= 7`);
  }
  const dependencies: Record<string, string> = {};
  const missing: string[] = [];
  const roots: string[] = [];
  for (const name of [...new Set(packageNames)].sort()) {
    const location = `node_modules/${name}`;
    const entry = rootLock.packages[location];
    if (!entry) {
      missing.push(name);
      continue;
    }
    if (entry.link) {
      throw new Error(
        `${name} is a workspace package (${entry.resolved}); workspace code is bundled, never external`,
      );
    }
    dependencies[name] = entry.version ?? '*';
    roots.push(location);
  }

  const required = closure(rootLock, roots, false);
  const all = closure(rootLock, roots, true);
  const locations = [...all].sort();
  const packages: Record<string, LockfilePackage> = {
    '': { name: root.name, version: root.version, dependencies },
  };
  for (const location of locations) {
    const {
      dev: _dev,
      devOptional: _devOptional,
      optional: _optional,
      peer: _peer,
      ...entry
    } = rootLock.packages[location];
    packages[location] = required.has(location) ? entry : { ...entry, optional: true };
  }
  return {
    dependencies,
    lock: { name: root.name, version: root.version, lockfileVersion: 3, requires: true, packages },
    locations,
    missing,
  };
}

/**
 * Locations reachable from `roots` through installed dependencies and required peers; with
 * `followOptional`, through optional dependencies and optional peers too. A missing peer is not an error
 * (npm reports those at install time).
 */
function closure(lock: PackageLock, roots: readonly string[], followOptional: boolean): Set<string> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const location = queue.pop() as string;
    if (seen.has(location)) continue;
    seen.add(location);
    const entry = lock.packages[location];
    const edges = [
      ...Object.keys(entry.dependencies ?? {}).map((name) => ({ name, optional: false, peer: false })),
      ...Object.keys(entry.optionalDependencies ?? {}).map((name) => ({ name, optional: true, peer: false })),
      ...Object.keys(entry.peerDependencies ?? {}).map((name) => ({
        name,
        optional: entry.peerDependenciesMeta?.[name]?.optional === true,
        peer: true,
      })),
    ];
    for (const edge of edges) {
      const target = resolveFrom(lock, location, edge.name);
      if (target) {
        if (!edge.optional || followOptional) queue.push(target);
      } else if (!edge.optional && !edge.peer) {
        throw new Error(`package-lock.json: ${location} needs ${edge.name}, which is not installed`);
      }
    }
  }
  return seen;
}

/** Node's lookup in lockfile terms: `a/node_modules/b/node_modules/<name>`, then `a/node_modules/<name>`... */
function resolveFrom(lock: PackageLock, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = `${base}/node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    const index = base.lastIndexOf('/node_modules/');
    if (index < 0) break;
    base = base.slice(0, index);
  }
  return lock.packages[`node_modules/${name}`] ? `node_modules/${name}` : undefined;
}
