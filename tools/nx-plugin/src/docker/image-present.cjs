#!/usr/bin/env node
// @ts-check
'use strict';
// An Nx runtime input of docker-build: prints what the engine holds for the service's current bundle, so
// that a cached docker-build still guarantees the image is in the engine.
//
//   node tools/nx-plugin/src/docker/image-present.cjs <svc> [--bundle dist/apps/<svc>]
//        [--dockerfile docker/Dockerfile] [--base-image <ref>]   (default: $BASE_IMAGE)
//
// Prints `<image id> <tags>` when an image labelled with the bundle's fingerprint is in the engine, or
// `missing <random>` / `unavailable <random>` otherwise: a random value never matches a cached hash, so a
// missing image always makes docker-build run (and build). Plain JS and raw Engine API calls over the
// socket (no dockerode) so it answers in about 0.1 s. Always exits 0: a failure to look means "run the task".
const { randomUUID } = require('node:crypto');
const { existsSync } = require('node:fs');
const { request } = require('node:http');
const { FINGERPRINT_LABEL, baseImageOf, bundleFingerprint } = require('./bundle-fingerprint.cjs');

/** @param {string[]} argv */
function parseArgs(argv) {
  const [service, ...rest] = argv;
  /** @type {Record<string, string>} */
  const flags = {};
  for (let i = 0; i < rest.length; i += 2) flags[rest[i].replace(/^--/, '')] = rest[i + 1];
  if (!service)
    throw new Error('usage: image-present.cjs <svc> [--bundle dir] [--dockerfile file] [--base-image ref]');
  return {
    service,
    bundleDir: flags.bundle ?? `dist/apps/${service}`,
    dockerfile: flags.dockerfile ?? 'docker/Dockerfile',
    baseImage: flags['base-image'] ?? process.env.BASE_IMAGE,
  };
}

/** Engine endpoint from DOCKER_HOST (unix:// or tcp://, no TLS), like the docker CLI and dockerode. */
function engineTarget() {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  const url = new URL(host.replace(/^tcp:/, 'http:'));
  return { host: url.hostname, port: Number(url.port || 2375) };
}

/**
 * GETs an Engine API path and parses the JSON; a 404 resolves to undefined.
 * @param {string} path
 * @returns {Promise<any>} (the Engine API's JSON)
 */
function engineGet(path) {
  return new Promise((resolve, reject) => {
    const req = request({ ...engineTarget(), path, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode === 200) resolve(JSON.parse(body));
        else if (res.statusCode === 404) resolve(undefined);
        else reject(new Error(body));
      });
    });
    req.on('timeout', () => req.destroy(new Error('engine timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** @param {string | undefined} ref @returns {Promise<string>} the base image's id, or `absent` */
async function baseImageId(ref) {
  const image = ref ? await engineGet(`/images/${encodeURIComponent(ref)}/json`) : undefined;
  return image?.Id ?? 'absent';
}

async function main() {
  const { service, bundleDir, dockerfile, baseImage } = parseArgs(process.argv.slice(2));
  if (!existsSync(bundleDir)) return `missing ${randomUUID()}`;
  const buildArgs = baseImage ? { BASE_IMAGE: baseImage } : {};
  const baseId = await baseImageId(baseImageOf(dockerfile, buildArgs));
  const fingerprint = bundleFingerprint({ service, bundleDir, dockerfile, buildArgs, baseImageId: baseId });
  const filters = encodeURIComponent(JSON.stringify({ label: [`${FINGERPRINT_LABEL}=${fingerprint}`] }));
  /** @type {Array<{ Id: string, RepoTags: string[] | null }>} */
  const images = await engineGet(`/images/json?filters=${filters}`);
  if (images.length === 0) return `missing ${randomUUID()}`;
  return images.map((image) => `${image.Id} ${[...(image.RepoTags ?? [])].sort().join(',')}`).join('\n');
}

main().then(
  (line) => console.log(line),
  (error) =>
    console.log(`unavailable ${randomUUID()} ${error instanceof Error ? error.message : String(error)}`),
);
