import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MarathonApp } from '../../../src/manifests/marathon-app';
import type { FakeMesosFrameworks } from './fake-mesos-frameworks';

/** The image every generated test workspace runs (`generatedService`'s image.json). */
export const NEW_IMAGE = (service: string) => `registry.example.com/ittd/${service}:abc123`;
/** The image of the release running before, seeded into the fake. */
export const OLD_IMAGE = (service: string) => `registry.example.com/ittd/${service}:0ld0ld0`;

/** A manifest the marathon target wrote in a workspace. */
export function readManifest(root: string, service: string, process: string): MarathonApp {
  return JSON.parse(
    readFileSync(join(root, `dist/deploy/${service}/marathon/${process}.json`), 'utf8'),
  ) as MarathonApp;
}

/** The same app as the release before built it: the previous image and its commit label. */
export function previousRelease(app: MarathonApp, service: string): MarathonApp {
  return {
    ...app,
    container: { ...app.container, docker: { ...app.container.docker, image: OLD_IMAGE(service) } },
    labels: { ...app.labels, 'ittd.git-sha': '0ld0ld0' },
  };
}

/** Seeds the fake with the previous release of every given manifest; returns the versions by app id. */
export function seedPreviousRelease(
  fake: FakeMesosFrameworks,
  apps: MarathonApp[],
  service: string,
): Map<string, string> {
  return new Map(
    apps.map((app) => [
      app.id,
      fake.seedApp(previousRelease(app, service) as unknown as Record<string, unknown>),
    ]),
  );
}
