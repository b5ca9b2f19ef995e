import type { ExecutorContext } from '@nx/devkit';
import { loadDeployInputs, type DeployExecutorOptions, type DeployFile } from '../../deploy/deploy-files';
import { buildChronosJob, ChronosSecretsUnsupportedError } from '../../manifests/chronos-job';
import { buildMetronomeJob } from '../../manifests/metronome-job';
import { serviceOutputs } from '../../service-outputs';
import { runDeployExecutor } from '../run-deploy-executor';

/**
 * The scheduled-job files of a service: the Metronome form of every job, and the Chronos form of every
 * job Chronos can express (a job whose env needs secrets is noted, not written, for Chronos).
 *
 * @example
 * chronosFiles('/repo', 'notifier', { environment: 'staging' }).files.map((f) => f.path);
 * // ['dist/deploy/notifier/chronos/purge.json', 'dist/deploy/notifier/metronome/purge.json']
 */
export function chronosFiles(
  workspaceRoot: string,
  service: string,
  options: DeployExecutorOptions,
): { folders: string[]; files: DeployFile[]; notes: string[] } {
  const { descriptor, context } = loadDeployInputs(workspaceRoot, service, options);
  const out = serviceOutputs(service);
  const files: DeployFile[] = [];
  const notes: string[] = [];
  for (const job of Object.keys(descriptor.jobs ?? {})) {
    try {
      files.push({ path: `${out.chronos}/${job}.json`, content: buildChronosJob(descriptor, job, context) });
    } catch (error) {
      if (!(error instanceof ChronosSecretsUnsupportedError)) throw error;
      notes.push(`${error.message} (${out.metronome}/${job}.json)`);
    }
    files.push({
      path: `${out.metronome}/${job}.json`,
      content: buildMetronomeJob(descriptor, job, context),
    });
  }
  return { folders: [out.chronos, out.metronome], files, notes };
}

/**
 * `nx chronos <svc> [--environment=staging]`: writes dist/deploy/<svc>/{chronos,metronome}/<job>.json.
 *
 * @example
 * // npx nx chronos applets
 */
export default async function chronosExecutor(
  options: DeployExecutorOptions,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  return runDeployExecutor(options, context, chronosFiles);
}
