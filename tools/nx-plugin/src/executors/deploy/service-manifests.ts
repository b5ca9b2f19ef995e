import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChronosJob } from '../../manifests/chronos-job';
import type { MarathonApp } from '../../manifests/marathon-app';
import type { MetronomeJob } from '../../manifests/metronome-job';
import type { SwarmServiceSpec } from '../../manifests/swarm-service';
import { serviceOutputs } from '../../service-outputs';

/** A manifest read back from dist/deploy, with the file it came from (workspace-relative) for messages. */
export interface ManifestFile<T> {
  file: string;
  /** The process or job name: the file name without `.json`. */
  name: string;
  content: T;
}

/** Everything the marathon and chronos targets wrote for one service. */
export interface ServiceManifests {
  service: string;
  apps: ManifestFile<MarathonApp>[];
  chronosJobs: ManifestFile<ChronosJob>[];
  metronomeJobs: ManifestFile<MetronomeJob>[];
}

function readFolder<T>(workspaceRoot: string, folder: string, idKey: string): ManifestFile<T>[] {
  if (!existsSync(join(workspaceRoot, folder))) return [];
  return readdirSync(join(workspaceRoot, folder))
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const file = `${folder}/${name}`;
      let content: unknown;
      try {
        content = JSON.parse(readFileSync(join(workspaceRoot, file), 'utf8'));
      } catch (error) {
        throw new Error(`${file} is not JSON: ${(error as Error).message}`);
      }
      const record = content as Record<string, unknown> | null;
      if (typeof record !== 'object' || record === null || typeof record[idKey] !== 'string') {
        throw new Error(`${file} has no "${idKey}": not a manifest written by the marathon/chronos targets`);
      }
      return { file, name: name.slice(0, -'.json'.length), content: content as T };
    });
}

/**
 * Reads back the manifests of a service from `dist/deploy/<svc>/{marathon,chronos,metronome}` (they were
 * validated against the upstream schemas when generated). Throws when the marathon folder is missing:
 * the deploy target depends on the marathon target, so that means it was skipped.
 *
 * @example
 * readServiceManifests('/repo', 'applets').apps.map((a) => a.content.id); // ['/ittd/production/applets/web', ...]
 */
export function readServiceManifests(workspaceRoot: string, service: string): ServiceManifests {
  const out = serviceOutputs(service);
  if (!existsSync(join(workspaceRoot, out.marathon))) {
    throw new Error(
      `${out.marathon} is missing: run \`nx marathon ${service}\` (or \`nx deploy ${service}\`) first`,
    );
  }
  return {
    service,
    apps: readFolder<MarathonApp>(workspaceRoot, out.marathon, 'id'),
    chronosJobs: readFolder<ChronosJob>(workspaceRoot, out.chronos, 'name'),
    metronomeJobs: readFolder<MetronomeJob>(workspaceRoot, out.metronome, 'id'),
  };
}

/**
 * Reads back the Swarm service specs of a service from `dist/deploy/<svc>/swarm` (written by the swarm
 * target). Throws when the folder is missing: the deploy target depends on the swarm target.
 *
 * @example
 * readSwarmManifests('/repo', 'applets').map((m) => m.content.Name); // ['local-swarm-applets-web']
 */
export function readSwarmManifests(workspaceRoot: string, service: string): ManifestFile<SwarmServiceSpec>[] {
  const folder = serviceOutputs(service).swarm;
  if (!existsSync(join(workspaceRoot, folder))) {
    throw new Error(`${folder} is missing: run \`nx swarm ${service}\` (or \`nx deploy ${service}\`) first`);
  }
  return readFolder<SwarmServiceSpec>(workspaceRoot, folder, 'Name');
}
