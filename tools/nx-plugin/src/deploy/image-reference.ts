import { existsSync, readFileSync } from 'node:fs';

/** `dist/docker/<svc>/image.json`, written by the docker-build executor. */
export interface BuiltImage {
  /** The exact reference built, `<registry/>ittd/<svc>:<tag>`. */
  image: string;
  tags: string[];
  id: string;
  revision: string;
  created: string;
}

function hasTag(reference: string): boolean {
  return reference.slice(reference.lastIndexOf('/') + 1).includes(':');
}

/**
 * The image a deploy manifest runs: the exact tag just built (image.json) when there is one, else the
 * tag docker-build gives a clean tree, `<registry/>ittd/<svc>:<git sha>`.
 *
 * @example
 * imageReference({ service: 'applets', gitSha: '3f2c1d0', registry: 'registry.example.com' });
 * // 'registry.example.com/ittd/applets:3f2c1d0'
 */
export function imageReference({
  built,
  service,
  gitSha,
  registry,
}: {
  built?: BuiltImage;
  service: string;
  gitSha: string;
  registry?: string;
}): string {
  if (built) {
    if (hasTag(built.image)) return built.image;
    const tagged = built.tags.find(hasTag);
    if (tagged) return tagged;
  }
  const prefix = registry ? `${registry.replace(/\/+$/, '')}/` : '';
  return `${prefix}ittd/${service}:${gitSha}`;
}

/**
 * Reads image.json if docker-build wrote one; `undefined` when absent.
 *
 * @example
 * readBuiltImage('dist/docker/applets/image.json')?.image; // 'ittd/applets:3f2c1d0...'
 */
export function readBuiltImage(file: string): BuiltImage | undefined {
  if (!existsSync(file)) return undefined;
  const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<BuiltImage>;
  if (typeof json.image !== 'string' || !Array.isArray(json.tags)) {
    throw new Error(`${file} is not an image.json of docker-build ({ image, tags, id, revision, created })`);
  }
  return json as BuiltImage;
}
