/** The image label that ties an image in the engine to the bundle + Dockerfile + build args it was built from. */
export declare const FINGERPRINT_LABEL: string;

/** Label holding the tag part of an image's exact tag (`<sha>`), so a found image can be re-tagged. */
export declare const REVISION_TAG_LABEL: string;

/**
 * Label holding the build ticket: the random value image-present.cjs printed when the image was missing.
 * The build carries it, so after the build image-present.cjs prints the same value again: the Nx hash taken
 * before the build is the one of the state after it, and the next run is a cache hit.
 */
export declare const BUILD_TICKET_LABEL: string;

/**
 * Where image-present.cjs leaves the ticket for the docker-build executor: per machine, keyed by the
 * fingerprint, outside any Nx output folder.
 *
 * @example
 * buildTicketFile(fingerprint); // '/tmp/ittd-image-builds/3f9a...'
 */
export declare function buildTicketFile(fingerprint: string): string;

/**
 * The files of a bundle folder (dist/apps/<svc>), relative, sorted, symlinks followed: the image's `app/`.
 *
 * @example
 * listBundleFiles('dist/apps/applets'); // ['config-schema.json', 'main.js', 'main.js.map', ...]
 */
export declare function listBundleFiles(dir: string): string[];

/**
 * The base image a build starts from: the BASE_IMAGE build arg, else the Dockerfile's `ARG BASE_IMAGE=` default.
 *
 * @example
 * baseImageOf('docker/Dockerfile', {}); // 'node:24-bookworm-slim'
 */
export declare function baseImageOf(
  dockerfile: string,
  buildArgs: Record<string, string>,
): string | undefined;

/**
 * A sha256 over everything that decides an image's content: the service (named in its labels), the
 * Dockerfile's bytes, the build args, the base
 * image's id in the engine (`absent` before its first pull), and each bundle file's path, executable bit and
 * bytes. Same fingerprint, same image; a rebuilt or updated base image changes it.
 *
 * @example
 * bundleFingerprint({ service: 'applets', bundleDir: 'dist/apps/applets', dockerfile: 'docker/Dockerfile', buildArgs: {}, baseImageId });
 */
export declare function bundleFingerprint(input: {
  service: string;
  bundleDir: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  baseImageId: string;
}): string;
