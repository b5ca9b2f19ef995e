#!/usr/bin/env node
// @ts-check
'use strict';
// An Nx runtime input of docker-build: prints what the engine holds for the service's current bundle, so
// that a cached docker-build still guarantees the image is in the engine.
//
//   node tools/nx-plugin/src/docker/image-present.cjs <svc> [--bundle dist/apps/<svc>]
//        [--dockerfile docker/Dockerfile] [--base-image <ref>]   (default: $BASE_IMAGE)
//
// Prints `image <ticket>` when the engine has the image of the current bundle (fingerprint label) under
// its exact tag, <ticket> being the random value this script printed when that image was missing and the
// build then carried as a label. A missing image gets a new ticket (left in buildTicketFile() for the
// executor): a value that no cached hash has, so docker-build runs and builds; and since the build
// carries it, the next run prints the same value and is a cache hit. Plain JS and raw Engine API calls
// over the socket (no dockerode) so it answers in about 0.1 s. Always exits 0: a failure to look prints
// a random value, i.e. "run the task".
const { randomUUID } = require('node:crypto');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const { dirname } = require('node:path');
const { request } = require('node:http');
const {
  BUILD_TICKET_LABEL,
  FINGERPRINT_LABEL,
  REVISION_TAG_LABEL,
  baseImageOf,
  buildTicketFile,
  bundleFingerprint,
} = require('./bundle-fingerprint.cjs');

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
  if (!existsSync(bundleDir)) return `no-bundle ${randomUUID()}`;
  const buildArgs = baseImage ? { BASE_IMAGE: baseImage } : {};
  const baseId = await baseImageId(baseImageOf(dockerfile, buildArgs));
  const fingerprint = bundleFingerprint({ service, bundleDir, dockerfile, buildArgs, baseImageId: baseId });
  const filters = encodeURIComponent(JSON.stringify({ label: [`${FINGERPRINT_LABEL}=${fingerprint}`] }));
  /** @type {Array<{ Id: string, RepoTags: string[] | null, Labels: Record<string, string> | null }>} */
  const images = await engineGet(`/images/json?filters=${filters}`);

  // Built by an Nx run and still under its exact tag: the ticket printed before that build.
  for (const image of images) {
    const labels = image.Labels ?? {};
    const exactTag = `ittd/${service}:${labels[REVISION_TAG_LABEL]}`;
    const tagged = (image.RepoTags ?? []).some((tag) => tag === exactTag || tag.endsWith(`/${exactTag}`));
    if (labels[BUILD_TICKET_LABEL] && tagged) return `image ${labels[BUILD_TICKET_LABEL]}`;
  }
  // Built outside Nx, or its exact tag removed: run docker-build once (it re-tags, does not rebuild).
  if (images.length > 0) {
    return images
      .map((image) => `present ${image.Id} ${[...(image.RepoTags ?? [])].sort().join(',')}`)
      .join('\n');
  }
  // Missing: a new ticket, which the build will carry.
  const ticket = randomUUID();
  mkdirSync(dirname(buildTicketFile(fingerprint)), { recursive: true });
  writeFileSync(buildTicketFile(fingerprint), ticket);
  return `image ${ticket}`;
}

main().then(
  (line) => console.log(line),
  (error) =>
    console.log(`unavailable ${randomUUID()} ${error instanceof Error ? error.message : String(error)}`),
);
