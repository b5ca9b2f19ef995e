// @ts-check
'use strict';
// Plain CommonJS on purpose: image-present.cjs (an Nx runtime input) must start in milliseconds, without a
// TypeScript loader, and compute exactly what the docker-build executor computes. Types: bundle-fingerprint.d.cts.
const { createHash } = require('node:crypto');
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** The image label that ties an image in the engine to the bundle + Dockerfile + build args it was built from. */
const FINGERPRINT_LABEL = 'dev.ittd.image-fingerprint';

/** Label holding the tag part of an image's exact tag (`<sha>`), so a found image can be re-tagged. */
const REVISION_TAG_LABEL = 'dev.ittd.revision-tag';

/**
 * Label holding the build ticket: the random value image-present.cjs printed when the image was missing.
 * The build carries it, so after the build image-present.cjs prints the same value again: the Nx hash
 * taken before the build is the one of the state after it, and the next run is a cache hit.
 */
const BUILD_TICKET_LABEL = 'dev.ittd.build-ticket';

/**
 * Where image-present.cjs leaves the ticket for the docker-build executor: per machine, keyed by the
 * fingerprint, outside any Nx output folder.
 * @param {string} fingerprint
 * @returns {string}
 * @example buildTicketFile(fingerprint); // '/tmp/ittd-image-builds/3f9a...'
 */
function buildTicketFile(fingerprint) {
  return join(tmpdir(), 'ittd-image-builds', fingerprint);
}

/**
 * The files of a bundle folder (dist/apps/<svc>), relative, sorted, symlinks followed: the image's `app/`.
 * @param {string} dir
 * @returns {string[]}
 * @example listBundleFiles('dist/apps/applets'); // ['config-schema.json', 'main.js', 'main.js.map', ...]
 */
function listBundleFiles(dir) {
  /** @type {string[]} */
  const files = [];
  const walk = (/** @type {string} */ relative) => {
    for (const name of readdirSync(join(dir, relative)).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      if (statSync(join(dir, path)).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk('');
  return files;
}

/**
 * The base image a build starts from: the BASE_IMAGE build arg, else the Dockerfile's `ARG BASE_IMAGE=` default.
 * @param {string} dockerfile
 * @param {Record<string, string>} buildArgs
 * @returns {string | undefined}
 * @example baseImageOf('docker/Dockerfile', {}); // 'node:24-bookworm-slim'
 */
function baseImageOf(dockerfile, buildArgs) {
  return buildArgs.BASE_IMAGE ?? /^ARG\s+BASE_IMAGE=(\S+)/m.exec(readFileSync(dockerfile, 'utf8'))?.[1];
}

/**
 * A sha256 over everything that decides an image's content: the service (named in its labels), the
 * Dockerfile's bytes, the build args, the
 * base image's id in the engine (`absent` before its first pull), and each bundle file's path, executable
 * bit and bytes. Same fingerprint, same image; a rebuilt or updated base image changes it.
 * @param {{ service: string, bundleDir: string, dockerfile: string, buildArgs: Record<string, string>, baseImageId: string }} input
 * @returns {string}
 * @example bundleFingerprint({ service: 'applets', bundleDir: 'dist/apps/applets', dockerfile: 'docker/Dockerfile', buildArgs: {}, baseImageId });
 */
function bundleFingerprint({ service, bundleDir, dockerfile, buildArgs, baseImageId }) {
  const hash = createHash('sha256');
  hash.update(`service\0${service}\n`);
  hash.update(`dockerfile\0${createHash('sha256').update(readFileSync(dockerfile)).digest('hex')}\n`);
  for (const key of Object.keys(buildArgs).sort()) hash.update(`arg\0${key}=${buildArgs[key]}\n`);
  hash.update(`base\0${baseImageId}\n`);
  for (const file of listBundleFiles(bundleDir)) {
    const path = join(bundleDir, file);
    const executable = (statSync(path).mode & 0o111) !== 0 ? 'x' : '-';
    hash.update(
      `file\0${file}\0${executable}\0${createHash('sha256').update(readFileSync(path)).digest('hex')}\n`,
    );
  }
  return hash.digest('hex');
}

module.exports = {
  FINGERPRINT_LABEL,
  REVISION_TAG_LABEL,
  BUILD_TICKET_LABEL,
  buildTicketFile,
  listBundleFiles,
  baseImageOf,
  bundleFingerprint,
};
