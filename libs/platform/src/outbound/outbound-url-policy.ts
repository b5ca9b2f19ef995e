import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { configField, intField } from '../config/config-field';

/** The environment name under which partner URLs may be `http` and point at this machine (loopback). */
export const LOCAL_ENVIRONMENT = 'local';

/**
 * Settings of partner URLs: the deployment `ENVIRONMENT` (only `local` relaxes the URL rules) and the
 * networks partners may be in although private (`PARTNER_ALLOWED_NETWORKS`). Spread into a service that
 * registers partners; one that calls them takes {@link partnerCallsConfig}.
 *
 * @example
 *   const configSchema = z.object({ ...baseServiceConfig, ...partnerUrlConfig });
 *   const policy = outboundUrlPolicy(ctx.config);
 */
export const partnerUrlConfig = {
  ENVIRONMENT: configField(
    z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,31}$/, { error: 'expected a lower-case name such as production or local' })
      .default('production'),
    {
      description:
        'deployment environment (production, staging, local); only local lets partner URLs be http and loopback',
    },
  ),
  PARTNER_ALLOWED_NETWORKS: configField(
    z
      .string()
      .default('')
      .superRefine((value, ctx) => {
        for (const entry of splitList(value)) {
          if (parseNetwork(entry) === undefined) {
            ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR subnet` });
          }
        }
      }),
    {
      description:
        'comma-separated addresses or CIDR subnets partners may resolve to although loopback, link-local or private (e.g. 10.20.0.0/16)',
    },
  ),
};

/**
 * {@link partnerUrlConfig} plus `PARTNER_MAX_ANSWER_BYTES` (default 1 MiB): for a service that calls
 * partners (read answers with {@link readLimitedBody}).
 *
 * @example
 *   const configSchema = z.object({ ...baseServiceConfig, ...partnerCallsConfig });
 */
export const partnerCallsConfig = {
  ...partnerUrlConfig,
  PARTNER_MAX_ANSWER_BYTES: configField(intField({ min: 1024, max: 33_554_432 }).default(1_048_576), {
    description: 'most bytes of a partner answer read; a longer answer is a failed call',
  }),
};

/** Ranges a partner may not resolve to unless allowed: loopback, link-local, private, and other non-public ones. */
const FORBIDDEN_V4 = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
] as const;
const FORBIDDEN_V6 = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['ff00::', 8, 'multicast'],
  ['2001:db8::', 32, 'documentation'],
] as const;

/** Why an address is not public, or undefined when it is. */
function forbiddenRange(address: string): string | undefined {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  for (const [network, prefix, name] of family === 'ipv4' ? FORBIDDEN_V4 : FORBIDDEN_V6) {
    const list = new BlockList();
    list.addSubnet(network, prefix, family);
    if (list.check(address, family)) return `${name} (${network}/${prefix})`;
  }
  return undefined;
}

/** An address as IPv4 when it is an IPv4-mapped (`::ffff:a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`) IPv6 one. */
function unmapped(address: string): string {
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1] : address;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

/** `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `v6/n`; undefined when malformed. */
function parseNetwork(
  entry: string,
): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, prefixText, extra] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Thrown when a partner URL breaks the policy; the message says which rule and is safe to answer. */
export class OutboundUrlError extends Error {
  override readonly name = 'OutboundUrlError';

  /** `unresolvable`: the name did not resolve (may pass later); `refused`: the URL breaks a rule. */
  constructor(
    message: string,
    readonly kind: 'refused' | 'unresolvable',
  ) {
    super(message);
  }
}

/** Resolves a host name to all its addresses (the system resolver, as `fetch` uses). */
export type HostResolver = (hostname: string) => Promise<string[]>;

/** How long a resolution may take before the name counts as unresolvable (getaddrinfo has no time-out). */
const RESOLVE_TIMEOUT_MS = 3000;

const systemResolver: HostResolver = async (hostname) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('resolution timed out'), { code: 'ETIMEOUT' })),
      RESOLVE_TIMEOUT_MS,
    );
  });
  try {
    const entries = await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
    return entries.map((entry) => entry.address);
  } finally {
    clearTimeout(timer);
  }
};

/** Checks partner URLs against the rules of README "Security"; see {@link outboundUrlPolicy}. */
export interface OutboundUrlPolicy {
  /**
   * Resolves when `url` may be called; throws {@link OutboundUrlError} otherwise. Resolves the host name
   * (every address must pass), so call it at registration and again before each call.
   */
  check(url: string): Promise<void>;
}

/**
 * The partner URL rules (server-side request forgery fence): outside `ENVIRONMENT=local` a partner URL must
 * be `https`; it may carry no user or password; its host must resolve, and every address it resolves to must
 * be public (not loopback, link-local, private, shared, multicast, documentation or reserved) unless inside
 * `PARTNER_ALLOWED_NETWORKS`; in `local`, `http` and loopback (127.0.0.0/8, ::1) are allowed as well (local
 * development and tests). The check resolves the name itself, so a URL that passed at registration is
 * checked again before each call (DNS can change); a rebinding between that check and the connection
 * (milliseconds) is not covered.
 *
 * @example
 *   const policy = outboundUrlPolicy(ctx.config);
 *   await policy.check('https://weather.example'); // resolves
 *   await policy.check('http://10.0.0.1');         // throws OutboundUrlError (outside local: https only)
 */
export function outboundUrlPolicy(
  settings: { ENVIRONMENT: string; PARTNER_ALLOWED_NETWORKS: string },
  resolve: HostResolver = systemResolver,
): OutboundUrlPolicy {
  const local = settings.ENVIRONMENT === LOCAL_ENVIRONMENT;
  const allowed = new BlockList();
  for (const entry of splitList(settings.PARTNER_ALLOWED_NETWORKS)) {
    const network = parseNetwork(entry);
    if (network) allowed.addSubnet(network.address, network.prefix, network.family);
  }
  if (local) {
    allowed.addSubnet('127.0.0.0', 8, 'ipv4');
    allowed.addAddress('::1', 'ipv6');
  }
  const isAllowed = (address: string): boolean =>
    allowed.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');

  return {
    async check(url) {
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw new OutboundUrlError('is not a URL', 'refused');
      }
      if (parsed.protocol !== 'https:' && !(local && parsed.protocol === 'http:')) {
        throw new OutboundUrlError(
          local
            ? 'must be an http(s) URL'
            : `must be https (http only in the ${LOCAL_ENVIRONMENT} environment)`,
          'refused',
        );
      }
      if (parsed.username !== '' || parsed.password !== '') {
        throw new OutboundUrlError('must not carry a user name or password', 'refused');
      }
      const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
      let addresses: string[];
      if (isIP(host) !== 0) addresses = [host];
      else {
        try {
          addresses = await resolve(host);
        } catch (error) {
          const code = (error as { code?: unknown }).code;
          throw new OutboundUrlError(
            `host ${host} does not resolve${typeof code === 'string' ? ` (${code})` : ''}`,
            'unresolvable',
          );
        }
        if (addresses.length === 0)
          throw new OutboundUrlError(`host ${host} does not resolve`, 'unresolvable');
      }
      for (const address of addresses) {
        const plain = unmapped(address);
        if (isAllowed(plain) || isAllowed(address)) continue;
        const range = forbiddenRange(plain);
        if (range !== undefined) {
          throw new OutboundUrlError(
            `resolves to ${address}, a ${range} address; allow it with PARTNER_ALLOWED_NETWORKS`,
            'refused',
          );
        }
      }
    },
  };
}
