import { describe, expect, it } from 'vitest';
import {
  BUILD_TICKET_LABEL,
  FINGERPRINT_LABEL,
  REVISION_TAG_LABEL,
} from '../../src/docker/bundle-fingerprint.cjs';
import {
  createImageSpec,
  imageRepository,
  revisionTag,
  type ImageSpecInput,
} from '../../src/docker/image-spec';

const sha = '0123456789abcdef0123456789abcdef01234567';
const fingerprint = 'f'.repeat(12) + 'e'.repeat(52);
const input: ImageSpecInput = {
  service: 'applets',
  bundleDir: '/ws/dist/apps/applets',
  bundleFiles: [
    'config-schema.json',
    'main.js',
    'main.js.map',
    'node_modules/pg/package.json',
    'package.json',
  ],
  dockerfile: '/ws/docker/Dockerfile',
  fingerprint,
  revision: { sha, dirty: false },
  created: new Date('2026-01-02T03:04:05.000Z'),
  sourceUrl: 'https://github.com/ittd/ittd.git',
};

describe('createImageSpec', () => {
  it('sends the Dockerfile and the bundle under app/, nothing else', () => {
    expect(createImageSpec(input).context).toEqual([
      { name: 'Dockerfile', source: '/ws/docker/Dockerfile' },
      { name: 'app/config-schema.json', source: '/ws/dist/apps/applets/config-schema.json' },
      { name: 'app/main.js', source: '/ws/dist/apps/applets/main.js' },
      { name: 'app/main.js.map', source: '/ws/dist/apps/applets/main.js.map' },
      {
        name: 'app/node_modules/pg/package.json',
        source: '/ws/dist/apps/applets/node_modules/pg/package.json',
      },
      { name: 'app/package.json', source: '/ws/dist/apps/applets/package.json' },
    ]);
  });

  it('tags ittd/<svc>:<sha> and :latest, with the registry as prefix when given', () => {
    expect(createImageSpec(input).tags).toEqual([`ittd/applets:${sha}`, 'ittd/applets:latest']);
    const remote = createImageSpec({ ...input, registry: 'registry.example.com:5000/' });
    expect(remote.exactTag).toBe(`registry.example.com:5000/ittd/applets:${sha}`);
    expect(remote.tags[1]).toBe('registry.example.com:5000/ittd/applets:latest');
  });

  it('never reuses a commit tag for uncommitted content', () => {
    const dirty = createImageSpec({ ...input, revision: { sha, dirty: true } });
    expect(dirty.exactTag).toBe(`ittd/applets:${sha}-dirty-ffffffffffff`);
    expect(revisionTag({ sha, dirty: true }, fingerprint)).toBe(`${sha}-dirty-ffffffffffff`);
  });

  it('labels source, revision, created and title (OCI) and the fingerprint', () => {
    expect(createImageSpec(input).labels).toEqual({
      'org.opencontainers.image.title': 'ittd/applets',
      'org.opencontainers.image.source': 'https://github.com/ittd/ittd.git',
      'org.opencontainers.image.revision': sha,
      'org.opencontainers.image.created': '2026-01-02T03:04:05.000Z',
      'dev.ittd.service': 'applets',
      [REVISION_TAG_LABEL]: sha,
      [FINGERPRINT_LABEL]: fingerprint,
    });
  });

  it('labels the build ticket when Nx handed one out', () => {
    expect(createImageSpec(input).labels[BUILD_TICKET_LABEL]).toBeUndefined();
    expect(createImageSpec({ ...input, buildTicket: 't-1' }).labels[BUILD_TICKET_LABEL]).toBe('t-1');
  });

  it('passes BASE_IMAGE only when one is chosen (else the Dockerfile default applies)', () => {
    expect(createImageSpec(input).buildArgs).toEqual({});
    const local = createImageSpec({ ...input, baseImage: 'ittd/node-base:24-local' });
    expect(local.buildArgs).toEqual({ BASE_IMAGE: 'ittd/node-base:24-local' });
    expect(local.labels['org.opencontainers.image.base.name']).toBe('ittd/node-base:24-local');
  });

  it('refuses names Docker would refuse, saying which', () => {
    expect(() => imageRepository('Applets')).toThrow(/service name "Applets"/);
    expect(() => imageRepository('applets', 'https://registry.example.com')).toThrow(/registry "https:/);
    expect(imageRepository('applets', 'registry.example.com:5000/team')).toBe(
      'registry.example.com:5000/team/ittd/applets',
    );
  });
});
