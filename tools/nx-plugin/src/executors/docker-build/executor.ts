import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logger, type ExecutorContext } from '@nx/devkit';
import type Docker from 'dockerode';
import { packBuildContext } from '../../docker/build-context';
import {
  baseImageOf,
  buildTicketFile,
  bundleFingerprint,
  listBundleFiles,
  REVISION_TAG_LABEL,
} from '../../docker/bundle-fingerprint.cjs';
import {
  baseImageId,
  buildImage,
  connectDocker,
  findImageByFingerprint,
  pushImage,
  tagImage,
  type EngineEvent,
  type EngineImage,
} from '../../docker/docker-engine';
import { readGitRevision, readSourceUrl } from '../../docker/git-revision';
import { createImageSpec, imageRepository } from '../../docker/image-spec';
import {
  resolveDockerBuildOptions,
  type DockerBuildExecutorOptions,
  type ResolvedDockerBuildOptions,
} from './docker-build-options';

/** dist/docker/<svc>/image.json: what deploy targets read to know which image to run. */
export interface ImageRecord {
  /** The immutable tag to deploy: `<registry/>ittd/<svc>:<git sha>`. */
  image: string;
  tags: string[];
  id: string;
  revision: string;
  created: string;
}

/** The executor's result; `error` carries the engine's message when the build or push failed. */
export interface DockerBuildResult {
  success: boolean;
  error?: string;
  record?: ImageRecord;
}

/**
 * `nx run <svc>:docker-build`: the service image from its bundle, through the Engine API; see schema.json.
 *
 * @example
 * const { success, record } = await dockerBuildExecutor({ baseImage: 'ittd/node-base:24-local' }, context);
 * record?.image; // 'ittd/applets:8e7408b...'
 */
export default async function dockerBuildExecutor(
  options: DockerBuildExecutorOptions,
  context: ExecutorContext,
): Promise<DockerBuildResult> {
  let resolved: ResolvedDockerBuildOptions | undefined;
  try {
    resolved = resolveDockerBuildOptions(options, context, process.env);
    const record = await buildServiceImage(resolved, connectDocker());
    mkdirSync(resolved.outputPath, { recursive: true });
    writeFileSync(join(resolved.outputPath, 'image.json'), `${JSON.stringify(record, null, 2)}\n`);
    logger.info(`docker-build: ${record.image} (${record.id.slice(7, 19)})`);
    return { success: true, record };
  } catch (error) {
    const message = (error as Error).message;
    const hint =
      resolved &&
      !resolved.baseImage &&
      /pull access denied|not found|dial tcp|no such host|lookup /.test(message)
        ? ' (no registry here? build the local base image with `npm run docker:base-image` and set BASE_IMAGE=ittd/node-base:24-local)'
        : '';
    logger.error(`docker-build failed: ${message}${hint}`);
    return { success: false, error: message };
  }
}

async function buildServiceImage(options: ResolvedDockerBuildOptions, docker: Docker): Promise<ImageRecord> {
  if (!existsSync(join(options.bundlePath, 'main.js'))) {
    throw new Error(`no bundle in ${options.bundlePath}; run \`nx run ${options.service}:bundle\` first`);
  }
  const bundleFiles = listBundleFiles(options.bundlePath);
  const buildArgs: Record<string, string> = options.baseImage ? { BASE_IMAGE: options.baseImage } : {};
  const fingerprint = bundleFingerprint({
    service: options.service,
    bundleDir: options.bundlePath,
    dockerfile: options.dockerfile,
    buildArgs,
    baseImageId: await baseImageId(docker, baseImageOf(options.dockerfile, buildArgs)),
  });

  const existing = options.noCache ? undefined : await findImageByFingerprint(docker, fingerprint);
  const record = existing
    ? await retagExisting(docker, options, existing)
    : await buildNew(docker, options, bundleFiles, fingerprint);
  if (options.push) {
    for (const tag of record.tags) await pushImage(docker, tag, options.auth, printEvent);
  }
  return record;
}

async function buildNew(
  docker: Docker,
  options: ResolvedDockerBuildOptions,
  bundleFiles: string[],
  fingerprint: string,
): Promise<ImageRecord> {
  // The ticket image-present.cjs handed out for this build when Nx runs it (absent when called directly).
  const ticketFile = buildTicketFile(fingerprint);
  const buildTicket = existsSync(ticketFile) ? readFileSync(ticketFile, 'utf8').trim() : undefined;
  const spec = createImageSpec({
    service: options.service,
    bundleDir: options.bundlePath,
    bundleFiles,
    dockerfile: options.dockerfile,
    fingerprint,
    revision: readGitRevision(options.workspaceRoot),
    created: new Date(),
    sourceUrl: readSourceUrl(options.workspaceRoot),
    registry: options.registry,
    baseImage: options.baseImage,
    buildTicket,
  });
  const id = await buildImage(docker, packBuildContext(spec.context), spec, {
    onEvent: printEvent,
    noCache: options.noCache,
  });
  rmSync(ticketFile, { force: true });
  return recordOf(spec.exactTag, spec.tags, id, spec.labels);
}

/** The image of this very bundle is in the engine: no build, only make the tags point at it. */
async function retagExisting(
  docker: Docker,
  options: ResolvedDockerBuildOptions,
  existing: EngineImage,
): Promise<ImageRecord> {
  const repository = imageRepository(options.service, options.registry);
  const exactTag = `${repository}:${existing.labels[REVISION_TAG_LABEL]}`;
  const tags = [exactTag, `${repository}:latest`];
  await tagImage(
    docker,
    existing.id,
    tags.filter((tag) => !existing.tags.includes(tag)),
  );
  logger.info(
    `docker-build: the engine has the image of this bundle already (${existing.id.slice(7, 19)}); not rebuilt`,
  );
  return recordOf(exactTag, tags, existing.id, existing.labels);
}

function recordOf(image: string, tags: string[], id: string, labels: Record<string, string>): ImageRecord {
  return {
    image,
    tags,
    id,
    revision: labels['org.opencontainers.image.revision'],
    created: labels['org.opencontainers.image.created'],
  };
}

/** Build output as `docker build` prints it; push progress one line per status change. */
function printEvent(event: EngineEvent): void {
  if (event.stream) process.stdout.write(event.stream);
  else if (event.status) process.stdout.write(`${event.id ? `${event.id}: ` : ''}${event.status}\n`);
}
