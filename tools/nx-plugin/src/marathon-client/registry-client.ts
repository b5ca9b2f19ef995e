/** Where and how to ask a Docker registry (Registry HTTP API V2) whether it has a tag. */
export interface RegistryEndpoint {
  /** Base URL of the registry's API, e.g. `https://registry.example.com` (the `/v2/` routes are below it). */
  baseUrl: string;
  username?: string;
  password?: string;
  /** Per-request time limit in ms; default 15 000. */
  requestTimeoutMs?: number;
}

/** The manifest types a registry may store for a tag (single image, multi-arch, OCI). */
const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/**
 * Splits an image reference into the registry host, the repository name and the tag.
 *
 * @example
 * parseImageReference('registry.example.com:5000/ittd/applets:3f2c1d0');
 * // { registry: 'registry.example.com:5000', name: 'ittd/applets', tag: '3f2c1d0' }
 */
export function parseImageReference(reference: string): { registry?: string; name: string; tag: string } {
  const slash = reference.indexOf('/');
  const first = slash < 0 ? '' : reference.slice(0, slash);
  const hasRegistry = first.includes('.') || first.includes(':') || first === 'localhost';
  const rest = hasRegistry ? reference.slice(slash + 1) : reference;
  const colon = rest.lastIndexOf(':');
  const tagged = colon > rest.lastIndexOf('/');
  return {
    registry: hasRegistry ? first : undefined,
    name: tagged ? rest.slice(0, colon) : rest,
    tag: tagged ? rest.slice(colon + 1) : 'latest',
  };
}

/** `Bearer realm="https://auth/token",service="registry",scope="repository:x:pull"` -> its parameters. */
function bearerChallenge(header: string | null): Record<string, string> | undefined {
  if (!header || !/^bearer /i.test(header)) return undefined;
  const params: Record<string, string> = {};
  for (const match of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) params[match[1]] = match[2];
  return params.realm ? params : undefined;
}

/**
 * Asks the registry whether it has `name:tag`: `HEAD /v2/<name>/manifests/<tag>` (Registry HTTP API V2).
 * 200 -> true, 404 -> false. Authenticates with Basic credentials, or, when the registry answers 401 with
 * a `Bearer` challenge (Docker Hub, GitLab, Harbor), fetches a pull token from its realm first. Any other
 * answer (401 after auth, 5xx, unreachable) throws, naming the URL and status.
 *
 * @example
 * await registryHasTag({ baseUrl: 'https://registry.example.com' }, 'ittd/applets', '3f2c1d0'); // true
 */
export async function registryHasTag(
  endpoint: RegistryEndpoint,
  name: string,
  tag: string,
): Promise<boolean> {
  const url = `${endpoint.baseUrl.replace(/\/+$/, '')}/v2/${name}/manifests/${encodeURIComponent(tag)}`;
  const timeout = endpoint.requestTimeoutMs ?? 15_000;
  const basic =
    endpoint.username !== undefined
      ? `Basic ${Buffer.from(`${endpoint.username}:${endpoint.password ?? ''}`).toString('base64')}`
      : undefined;
  const head = async (authorization?: string) => {
    try {
      return await fetch(url, {
        method: 'HEAD',
        headers: { accept: MANIFEST_TYPES, ...(authorization ? { authorization } : {}) },
        signal: AbortSignal.timeout(timeout),
      });
    } catch (error) {
      const cause = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : '';
      throw new Error(`HEAD ${url} failed: ${cause || (error as Error).message}`, { cause: error });
    }
  };
  let response = await head(basic);
  const challenge =
    response.status === 401 ? bearerChallenge(response.headers.get('www-authenticate')) : undefined;
  if (challenge) {
    const tokenUrl = new URL(challenge.realm);
    if (challenge.service) tokenUrl.searchParams.set('service', challenge.service);
    tokenUrl.searchParams.set('scope', challenge.scope ?? `repository:${name}:pull`);
    const answer = await fetch(tokenUrl, {
      headers: basic ? { authorization: basic } : {},
      signal: AbortSignal.timeout(timeout),
    });
    if (!answer.ok)
      throw new Error(`registry token ${tokenUrl.origin}${tokenUrl.pathname} answered ${answer.status}`);
    const { token, access_token } = (await answer.json()) as { token?: string; access_token?: string };
    response = await head(`Bearer ${token ?? access_token ?? ''}`);
  }
  if (response.status === 200) return true;
  if (response.status === 404) return false;
  throw new Error(`HEAD ${url} answered ${response.status}`);
}
