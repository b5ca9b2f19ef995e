import { join } from 'node:path';
import { BUILD_TICKET_LABEL, FINGERPRINT_LABEL, REVISION_TAG_LABEL } from './bundle-fingerprint.cjs';

/** The commit an image is built from; `dirty` when the working tree had uncommitted changes. */
export interface GitRevision {
  sha: string;
  dirty: boolean;
}

/** Everything an image spec is derived from; no I/O happens in {@link createImageSpec}. */
export interface ImageSpecInput {
  /** Service name, the folder under apps/ (`applets`). */
  service: string;
  /** Absolute path of the bundle folder (dist/apps/<svc>). */
  bundleDir: string;
  /** The bundle's files relative to `bundleDir` (listBundleFiles). */
  bundleFiles: readonly string[];
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  fingerprint: string;
  revision: GitRevision;
  created: Date;
  /** OCI source label: where the code lives. */
  sourceUrl: string;
  /** `registry.example.com:5000` or `registry.example.com:5000/team`: prefix of every tag. */
  registry?: string;
  /** The BASE_IMAGE build arg; absent = the Dockerfile's default. */
  baseImage?: string;
  /** The ticket image-present.cjs handed out for this build, when Nx runs it (see BUILD_TICKET_LABEL). */
  buildTicket?: string;
}

/** One file of the tar build context: its name in the tar and where its bytes come from. */
export interface ContextEntry {
  name: string;
  source: string;
}

/** What to ask the engine for: context, tags, labels and build args of one service image. */
export interface ImageSpec {
  /** `<registry/>ittd/<svc>` */
  repository: string;
  /** The immutable tag: `<repository>:<git sha>` (`<sha>-dirty-<fingerprint 12>` from a dirty tree). */
  exactTag: string;
  /** `[exactTag, <repository>:latest]` */
  tags: string[];
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  /** `Dockerfile`, then `app/<file>` for every bundle file, in a stable order. */
  context: ContextEntry[];
}

/** Image labels this project adds beside the OCI ones. */
export const SERVICE_LABEL = 'dev.ittd.service';

const SERVICE_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const REGISTRY = /^[a-zA-Z0-9.-]+(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/**
 * The tag part that names an image's source exactly: the commit sha, or for a dirty tree the sha plus the
 * first 12 characters of the fingerprint (the same commit with other uncommitted changes is another image).
 *
 * @example
 * revisionTag({ sha: 'ab12...', dirty: true }, 'f00d...'); // 'ab12...-dirty-f00d12345678'
 */
export function revisionTag(revision: GitRevision, fingerprint: string): string {
  return revision.dirty ? `${revision.sha}-dirty-${fingerprint.slice(0, 12)}` : revision.sha;
}

/**
 * `<registry/>ittd/<svc>`, validated, with a clear error for a name Docker would refuse.
 *
 * @example
 * imageRepository('applets', 'registry.example.com:5000'); // 'registry.example.com:5000/ittd/applets'
 */
export function imageRepository(service: string, registry?: string): string {
  if (!SERVICE_NAME.test(service)) {
    throw new Error(`service name "${service}" is not a valid image name (lowercase letters, digits, . _ -)`);
  }
  const prefix = registry?.replace(/\/+$/, '');
  if (prefix !== undefined && prefix !== '' && !REGISTRY.test(prefix)) {
    throw new Error(`registry "${registry}" is not host[:port][/path] (e.g. registry.example.com:5000)`);
  }
  return prefix ? `${prefix}/ittd/${service}` : `ittd/${service}`;
}

/**
 * The whole recipe of a service image as data, so that it is tested without an engine.
 *
 * @example
 * const spec = createImageSpec({ service: 'applets', bundleDir, bundleFiles, dockerfile, fingerprint,
 *   revision: { sha, dirty: false }, created: new Date(), sourceUrl });
 * spec.tags; // ['ittd/applets:<sha>', 'ittd/applets:latest']
 */
export function createImageSpec(input: ImageSpecInput): ImageSpec {
  const repository = imageRepository(input.service, input.registry);
  const exactTag = `${repository}:${revisionTag(input.revision, input.fingerprint)}`;
  const labels: Record<string, string> = {
    'org.opencontainers.image.title': `ittd/${input.service}`,
    'org.opencontainers.image.source': input.sourceUrl,
    'org.opencontainers.image.revision': input.revision.sha,
    'org.opencontainers.image.created': input.created.toISOString(),
    [SERVICE_LABEL]: input.service,
    [REVISION_TAG_LABEL]: revisionTag(input.revision, input.fingerprint),
    [FINGERPRINT_LABEL]: input.fingerprint,
  };
  if (input.baseImage) labels['org.opencontainers.image.base.name'] = input.baseImage;
  if (input.buildTicket) labels[BUILD_TICKET_LABEL] = input.buildTicket;
  return {
    repository,
    exactTag,
    tags: [exactTag, `${repository}:latest`],
    labels,
    buildArgs: input.baseImage ? { BASE_IMAGE: input.baseImage } : {},
    context: [
      { name: 'Dockerfile', source: input.dockerfile },
      ...input.bundleFiles.map((file) => ({ name: `app/${file}`, source: join(input.bundleDir, file) })),
    ],
  };
}
