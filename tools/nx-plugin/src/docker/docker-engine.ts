import Docker from 'dockerode';
import { FINGERPRINT_LABEL } from './bundle-fingerprint.cjs';
import type { ImageSpec } from './image-spec';

/** One JSON event of a build or push stream (Engine API). */
export interface EngineEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

/** A build or push that the engine refused; `message` is the engine's own error line. */
export class EngineStreamError extends Error {
  override readonly name = 'EngineStreamError';
}

/** An image found in the engine, with the labels docker-build reads back. */
export interface EngineImage {
  id: string;
  tags: string[];
  labels: Record<string, string>;
}

/**
 * The text of a multiplexed log stream (a non-TTY container's or task's logs in the Engine API's "stream
 * format": frames of an 8-byte header, byte 0 the stream, bytes 4-7 the big-endian payload length).
 *
 * @example
 * demultiplexLogs(await container.logs({ stdout: true, stderr: true })); // 'listening on 3000\n'
 */
export function demultiplexLogs(raw: Buffer): string {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length;) {
    const size = raw.readUInt32BE(offset + 4);
    chunks.push(raw.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The engine named by DOCKER_HOST (unix socket or tcp), else /var/run/docker.sock: dockerode's defaults.
 *
 * @example
 * const docker = connectDocker();
 */
export function connectDocker(): Docker {
  return new Docker();
}

/**
 * Follows a build or push stream to its end. The engine reports failures as `{error, errorDetail}` events
 * in a stream that otherwise ends normally, so the last such event, not the callback's error, decides.
 */
function followStream(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (event: EngineEvent) => void,
): Promise<EngineEvent[]> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: EngineEvent[]) => {
        const failed = events.find((event) => event.error || event.errorDetail);
        if (failed)
          reject(new EngineStreamError(failed.errorDetail?.message ?? failed.error ?? 'engine error'));
        else if (error) reject(error);
        else resolve(events);
      },
      onEvent,
    );
  });
}

/**
 * Builds `spec` from the tar `context` through the Engine API (classic builder: no BuildKit session, no
 * frontend image to pull), tags it with all of `spec.tags` and returns the image id. `dockerfile` is its path
 * inside the context (default `Dockerfile`). Every event goes to `onEvent` as it arrives (build
 * output to the terminal); a failed step rejects with an {@link EngineStreamError} holding the engine's line,
 * e.g. "The command '/bin/sh -c exit 3' returned a non-zero code: 3".
 *
 * @example
 * const id = await buildImage(docker, packBuildContext(spec.context), spec, { onEvent: printEvent });
 */
export async function buildImage(
  docker: Docker,
  context: NodeJS.ReadableStream,
  spec: ImageSpec,
  options: { onEvent: (event: EngineEvent) => void; noCache?: boolean; dockerfile?: string },
): Promise<string> {
  const stream = await docker.buildImage(context, {
    dockerfile: options.dockerfile ?? 'Dockerfile',
    t: spec.exactTag,
    labels: spec.labels,
    buildargs: spec.buildArgs,
    rm: true,
    forcerm: true,
    nocache: options.noCache ?? false,
  });
  const events = await followStream(docker, stream, options.onEvent);
  const built = events.map((event) => event.aux?.ID).find(Boolean);
  if (!built) throw new EngineStreamError('the build stream ended without an image id');
  await tagImage(docker, built, spec.tags.slice(1));
  return built;
}

/**
 * The image built from a bundle fingerprint, if the engine still has it (newest first when several).
 *
 * @example
 * const found = await findImageByFingerprint(docker, fingerprint); // { id, tags, labels } | undefined
 */
export async function findImageByFingerprint(
  docker: Docker,
  fingerprint: string,
): Promise<EngineImage | undefined> {
  const images = await docker.listImages({ filters: { label: [`${FINGERPRINT_LABEL}=${fingerprint}`] } });
  const newest = images.sort((a, b) => b.Created - a.Created)[0];
  return newest ? { id: newest.Id, tags: newest.RepoTags ?? [], labels: newest.Labels ?? {} } : undefined;
}

/**
 * The id of `ref` in the engine, or `absent` (not pulled yet, or no base image named): part of the bundle
 * fingerprint, so a rebuilt or updated base image means a rebuilt service image.
 *
 * @example
 * await baseImageId(docker, 'ittd/node-base:24-local'); // 'sha256:5c7f...'
 */
export async function baseImageId(docker: Docker, ref: string | undefined): Promise<string> {
  if (!ref) return 'absent';
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return 'absent';
    throw error;
  }
}

/**
 * Points each `repository:tag` at the image `id` (moving `:latest` there, for instance).
 *
 * @example
 * await tagImage(docker, id, ['ittd/applets:latest']);
 */
export async function tagImage(docker: Docker, id: string, tags: readonly string[]): Promise<void> {
  for (const tag of tags) {
    const separator = tag.lastIndexOf(':');
    await docker.getImage(id).tag({ repo: tag.slice(0, separator), tag: tag.slice(separator + 1) });
  }
}

/** Credentials for a registry push; empty when the registry needs none. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  serveraddress?: string;
}

/**
 * Pushes one `repository:tag` to its registry, following the stream like a build (a refused push rejects
 * with the engine's message).
 *
 * @example
 * await pushImage(docker, 'registry.example.com:5000/ittd/applets:<sha>', {}, printEvent);
 */
export async function pushImage(
  docker: Docker,
  tag: string,
  auth: RegistryAuth,
  onEvent: (event: EngineEvent) => void,
): Promise<void> {
  const separator = tag.lastIndexOf(':');
  // The engine wants an X-Registry-Auth header even when empty; dockerode sends one for any object.
  const stream = await docker
    .getImage(tag.slice(0, separator))
    .push({ tag: tag.slice(separator + 1), authconfig: auth });
  await followStream(docker, stream, onEvent);
}
