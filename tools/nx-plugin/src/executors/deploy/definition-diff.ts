/**
 * Comparing what a deploy would send with what Marathon runs. Marathon answers `GET /v2/apps/{id}` with the
 * whole definition, defaults filled in (`backoffFactor`, `cmd: null`, `container.docker.privileged`,
 * assigned `servicePort`s, ...) plus status fields (`version`, `tasks`, counts). So the comparison is:
 * every field we send must equal Marathon's (recursively: objects by key, arrays element by element),
 * and a field Marathon has that we do not send must hold a default (else it is shown as removed, which
 * is what `partialUpdate=false` would do to it).
 */

/** Fields of `GET /v2/apps/{id}` that describe the running state, not the definition. */
export const STATUS_FIELDS = [
  'version',
  'versionInfo',
  'tasks',
  'tasksRunning',
  'tasksHealthy',
  'tasksStaged',
  'tasksUnhealthy',
  'deployments',
  'lastTaskFailure',
  'readinessCheckResults',
  'taskStats',
  'counts',
] as const;

/** Fields Marathon assigns or defaults on its own when we leave them out (any value is fine then). */
const ASSIGNED_FIELDS = new Set([
  'servicePort',
  'unreachableStrategy',
  'killSelection',
  'acceptedResourceRoles',
  'role',
  'backoffFactor',
  'backoffSeconds',
  'maxLaunchDelaySeconds',
  'executorResources',
  'requirePorts',
  'ipProtocol',
]);

/** One difference: the JSON path (`container.docker.image`), what Marathon has and what would be sent. */
export interface DefinitionChange {
  path: string;
  kind: 'changed' | 'added' | 'removed';
  live?: unknown;
  sent?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDefaultLike(value: unknown): boolean {
  if (value === null || value === undefined || value === '' || value === false || value === 0) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.values(value).every(isDefaultLike);
  return false;
}

/**
 * The definition part of an app read from Marathon: {@link STATUS_FIELDS} removed. What a restore PUTs.
 *
 * @example
 * liveDefinition({ id: '/a', instances: 2, version: '2026-...', tasksRunning: 2 }); // { id: '/a', instances: 2 }
 */
export function liveDefinition(
  status: Record<string, unknown> & { id: string },
): { id: string } & Record<string, unknown> {
  const definition: Record<string, unknown> = { ...status };
  for (const field of STATUS_FIELDS) delete definition[field];
  return definition as { id: string } & Record<string, unknown>;
}

function compare(sent: unknown, live: unknown, path: string, out: DefinitionChange[]): void {
  if (isRecord(sent) && isRecord(live)) {
    for (const key of Object.keys(sent)) {
      if (sent[key] === undefined) continue; // JSON.stringify drops it: not sent
      const at = path ? `${path}.${key}` : key;
      if (!(key in live) || live[key] === undefined) {
        if (!isDefaultLike(sent[key])) out.push({ path: at, kind: 'added', sent: sent[key] });
      } else compare(sent[key], live[key], at, out);
    }
    for (const key of Object.keys(live)) {
      if (sent[key] !== undefined || ASSIGNED_FIELDS.has(key) || isDefaultLike(live[key])) continue;
      out.push({ path: path ? `${path}.${key}` : key, kind: 'removed', live: live[key] });
    }
    return;
  }
  if (Array.isArray(sent) && Array.isArray(live) && sent.length === live.length) {
    sent.forEach((item, index) => compare(item, live[index], `${path}[${index}]`, out));
    return;
  }
  if (JSON.stringify(sent) !== JSON.stringify(live)) out.push({ path, kind: 'changed', live, sent });
}

/**
 * What a PUT of `sent` would change in the app Marathon runs (`live`, as `GET /v2/apps/{id}` gives it);
 * empty when nothing (the deploy is a no-op). Labels are compared like any field.
 *
 * @example
 * diffDefinitions({ id: '/a', instances: 3 }, { id: '/a', instances: 2, version: 'v1', backoffFactor: 1.15 });
 * // [{ path: 'instances', kind: 'changed', live: 2, sent: 3 }]
 */
export function diffDefinitions(
  sent: object,
  live: Record<string, unknown> & { id: string },
): DefinitionChange[] {
  const out: DefinitionChange[] = [];
  compare(sent, liveDefinition(live), '', out);
  return out;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * The changes as readable lines (`~ path: live -> sent`, `+ path: sent`, `- path: live`), secrets are
 * references already so nothing secret is shown.
 *
 * @example
 * formatChanges([{ path: 'instances', kind: 'changed', live: 2, sent: 3 }]); // ['~ instances: 2 -> 3']
 */
export function formatChanges(changes: readonly DefinitionChange[]): string[] {
  return changes.map((c) =>
    c.kind === 'changed'
      ? `~ ${c.path}: ${show(c.live)} -> ${show(c.sent)}`
      : c.kind === 'added'
        ? `+ ${c.path}: ${show(c.sent)}`
        : `- ${c.path}: ${show(c.live)}`,
  );
}
