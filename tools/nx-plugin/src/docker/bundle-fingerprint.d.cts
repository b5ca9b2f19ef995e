/** The image label that ties an image in the engine to the bundle + Dockerfile + build args it was built from. */
export declare const FINGERPRINT_LABEL: string;

/**
 * The files of a bundle folder (dist/apps/<svc>), relative, sorted, symlinks followed: the image's `app/`.
 *
 * @example
 * listBundleFiles('dist/apps/applets'); // ['config-schema.json', 'main.js', 'main.js.map', ...]
 */
export declare function listBundleFiles(dir: string): string[];

/**
 * A sha256 over everything that decides an image's content: the Dockerfile's bytes, the build args, and each
 * bundle file's path, executable bit and bytes. Same fingerprint, same image.
 *
 * @example
 * bundleFingerprint({ bundleDir: 'dist/apps/applets', dockerfile: 'docker/Dockerfile', buildArgs: {} });
 */
export declare function bundleFingerprint(input: {
  bundleDir: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
}): string;
