/**
 * What differs between a generated Swarm service spec and the one a service has, as short lines for the
 * deploy log; empty when the service already runs exactly what was generated (the deploy then sends
 * nothing: an update of an equal spec would still restart nothing, but it would record a new version).
 *
 * The comparison is one-sided on objects: only the fields the generated spec sets are compared, because
 * the daemon fills in defaults the generator never writes (`ForceUpdate`, `Runtime`, `Isolation`,
 * `Placement.Platforms`, ...), and a zero value generated (`Delay: 0`) equals the field left out, as the
 * daemon stores it (Go's `omitempty`). Arrays compare element by element (same length), so a removed env var,
 * secret or port is a change. Values of `Env` entries are not printed (only the names).
 *
 * @example
 * specChanges(generated, live.Spec); // ['TaskTemplate.ContainerSpec.Image: ittd/applets:a -> ittd/applets:b']
 */
export function specChanges(wanted: unknown, live: unknown): string[] {
  const out: string[] = [];
  compare(wanted, live, '', out);
  return out;
}

function short(value: unknown): string {
  const text = value === undefined ? 'unset' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function envNames(list: unknown): Map<string, string> {
  const map = new Map<string, string>();
  if (!Array.isArray(list)) return map;
  for (const entry of list) {
    if (typeof entry !== 'string') continue;
    const at = entry.indexOf('=');
    map.set(at < 0 ? entry : entry.slice(0, at), at < 0 ? '' : entry.slice(at + 1));
  }
  return map;
}

/** A value the daemon leaves out of a stored spec (Go's `omitempty`): 0, false, '', [] or {}. */
function isZero(value: unknown): boolean {
  if (value === 0 || value === false || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return value !== null && typeof value === 'object' && Object.values(value).every(isZero);
}

function compare(wanted: unknown, live: unknown, path: string, out: string[]): void {
  if (live === undefined && isZero(wanted)) return;
  if (path.endsWith('.Env')) {
    const a = envNames(wanted);
    const b = envNames(live);
    const names = [...new Set([...a.keys(), ...b.keys()])].filter((n) => a.get(n) !== b.get(n));
    if (names.length > 0 || JSON.stringify(wanted) !== JSON.stringify(live ?? [])) {
      out.push(`${path.slice(1)}: ${names.length > 0 ? names.join(', ') : 'order'} changed`);
    }
    return;
  }
  if (Array.isArray(wanted)) {
    if (!Array.isArray(live) || live.length !== wanted.length) {
      out.push(`${path.slice(1)}: ${short(live)} -> ${short(wanted)}`);
      return;
    }
    wanted.forEach((item, i) => compare(item, live[i], `${path}[${i}]`, out));
    return;
  }
  if (wanted !== null && typeof wanted === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) {
      out.push(`${path.slice(1)}: ${short(live)} -> ${short(wanted)}`);
      return;
    }
    for (const [key, value] of Object.entries(wanted)) {
      compare(value, (live as Record<string, unknown>)[key], `${path}.${key}`, out);
    }
    return;
  }
  if (wanted !== live) out.push(`${path.slice(1)}: ${short(live)} -> ${short(wanted)}`);
}
