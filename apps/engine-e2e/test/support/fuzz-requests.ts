import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { fillPath, routeParams, type RouteEntry } from './route-table';

/** A request as the fuzz test sends it: raw path (query included), headers and body bytes. */
export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** What came back: status, content type and the body text (empty for HEAD). */
export interface FuzzAnswer {
  status: number;
  contentType: string;
  text: string;
}

/** What the generator knows about one service: the credentials that pass and the values that exist. */
export interface FuzzTarget {
  /** Header sets that authenticate somewhere in this service (admin token, user token, service key, ...). */
  credentials: Record<string, string>[];
  /** Valid values by path-parameter name (`id`, `slug`, ...); every value also serves any other parameter. */
  params: Record<string, string[]>;
  /** Valid JSON bodies by route (`POST /v1/applets`); all of them also serve as wrong bodies elsewhere. */
  bodies: Record<string, unknown[]>;
  /** The body limit in bytes (BODY_LIMIT). */
  bodyLimit: number;
}

/** HTTP methods Node's parser accepts (an unknown one is answered 400 by Node itself, before any app code). */
export const FUZZ_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'PROPFIND',
  'SEARCH',
];

/** `"\ud800"`-style JSON escape of a lone surrogate, and its raw UTF-8-ish bytes in a path (invalid UTF-8). */
const LONE_SURROGATE_JSON = '"\\ud800"';
const LONE_SURROGATE_PATH = '%ED%A0%80';

/** Percent-encodes every UTF-16 code unit of `text` (lone surrogates included, as their would-be UTF-8). */
function encodeUnits(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`;
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out.toUpperCase();
}

/** Odd path-parameter values: empty-ish, very long, unicode, lone surrogates, dot segments, out-of-range numbers, uuids. */
function garbageSegment(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(
      '%20',
      '.',
      '..',
      '%2e%2e',
      '..%2f..%2fetc',
      '%2F',
      '%00',
      '%',
      '%zz',
      LONE_SURROGATE_PATH,
      '%ED%B0%80',
      '%C0%AF',
      '0',
      '-1',
      '1e400',
      'NaN',
      'Infinity',
      '9223372036854775808',
      '-9223372036854775809',
      '99999999999999999999999999999999',
      'null',
      'undefined',
      '__proto__',
      'constructor',
      'a'.repeat(5000),
      '%E2%80%8B',
      '%F0%9F%92%A9',
    ),
    fc.uuid().map(String),
    fc.bigInt().map(String),
    fc.string({ unit: 'binary', maxLength: 40 }).map(encodeUnits),
    fc.string({ unit: fc.constantFrom(..."abc-_.~!$&'()+,;=:@"), maxLength: 30 }),
  );
}

/** A query string: repeated keys, bracket arrays and objects, huge, negative and NaN numbers, unicode. */
function queryString(): fc.Arbitrary<string> {
  const key = fc.oneof(
    fc.constantFrom(
      'limit',
      'cursor',
      'before',
      'after',
      'status',
      'list',
      'since',
      'page',
      'q',
      '__proto__',
    ),
    fc.string({ unit: 'binary', maxLength: 8 }).map(encodeUnits),
  );
  const value = fc.oneof(
    fc.constantFrom(
      '',
      '0',
      '1',
      '-1',
      '100',
      '1001',
      'NaN',
      '1e308',
      '1e400',
      '0x10',
      '1.5',
      '99999999999999999999999999',
      '-9223372036854775809',
      'true',
      '%00',
      LONE_SURROGATE_PATH,
      'a'.repeat(3000),
    ),
    fc.integer().map(String),
    fc.string({ unit: 'binary', maxLength: 20 }).map(encodeUnits),
  );
  const pair = fc.tuple(key, fc.constantFrom('', '[]', '[a]', '[0]', '[][x]'), value);
  return fc
    .array(pair, { maxLength: 6 })
    .map((pairs) =>
      pairs.length === 0 ? '' : `?${pairs.map(([k, suffix, v]) => `${k}${suffix}=${v}`).join('&')}`,
    );
}

/** Nested arrays/objects `depth` levels deep around `null`. */
function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}null${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`;
}

/** `value` with one key replaced by a value of another type, or extra (prototype) keys added. */
function mutate(value: unknown): fc.Arbitrary<unknown> {
  const wrong = fc.oneof(
    fc.constantFrom(null, true, 0, -1, 1e308, '', [], {}, '\u0000', 'a'.repeat(2000), [null], {
      __proto__: null,
    }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return wrong;
  const keys = Object.keys(value);
  return fc.oneof(
    keys.length === 0
      ? wrong
      : fc.tuple(fc.constantFrom(...keys), wrong).map(([k, w]) => ({ ...value, [k]: w })),
    fc.tuple(fc.string({ maxLength: 10 }), wrong).map(([k, w]) => ({ ...value, [k]: w })),
    fc.constant({ ...value, extra_key: 'x' }),
  );
}

/** A body: valid, mutated, random JSON, not JSON, deep, near/over the limit, NUL, lone surrogates, prototype keys. */
function body(target: FuzzTarget, route: RouteEntry): fc.Arbitrary<string | Buffer | undefined> {
  const own = target.bodies[`${route.method} ${route.path}`] ?? [];
  const all = Object.values(target.bodies).flat();
  const valid = own.length > 0 ? fc.constantFrom(...own) : fc.constantFrom(...all, {});
  const json = (arb: fc.Arbitrary<unknown>) => arb.map((v) => JSON.stringify(v) ?? 'null');
  const limit = target.bodyLimit;
  const withUnit = (unit: string) =>
    valid.map((v) => JSON.stringify(v).replace(/"([^"]*)"(?!\s*:)/, `"$1${unit}"`));
  return fc.oneof(
    { weight: 8, arbitrary: json(valid) },
    { weight: 5, arbitrary: json(valid.chain(mutate)) },
    { weight: 2, arbitrary: json(fc.jsonValue({ maxDepth: 4 })) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '',
        'not json',
        '{',
        '{"a":1,}',
        "{'a':1}",
        'null',
        '"text"',
        '1e400',
        '[]',
        '-0',
        '\u0000',
        '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
        '{"__proto__":[]}',
        '{"a":1,"a":2}',
        `{"name":${LONE_SURROGATE_JSON},"slug":${LONE_SURROGATE_JSON}}`,
        `{"text":"\\udc00\\ud800"}`,
        '{"name":"a\\u0000b","slug":"a\\u0000"}',
        nested(63, 'array'),
        nested(64, 'object'),
        nested(65, 'object'),
        nested(66, 'array'),
        nested(5000, 'array'),
        nested(20_000, 'object').slice(0, limit - 10),
        `"${'a'.repeat(limit - 10)}"`,
        `"${'a'.repeat(limit + 10)}"`,
        `{"name":"${'é'.repeat(Math.floor(limit / 2) - 20)}"}`,
        `{"name":"${'x'.repeat(limit * 2)}"}`,
      ),
    },
    { weight: 1, arbitrary: withUnit('\\u0000') },
    { weight: 1, arbitrary: withUnit('\\ud800') },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
    {
      weight: 1,
      arbitrary: fc.constant(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
    },
  );
}

/** Headers: no auth, a wrong token, the right credentials, garbage (latin-1 bytes, huge, empty), odd content types. */
function headers(target: FuzzTarget): fc.Arbitrary<Record<string, string>> {
  const garbage = fc.oneof(
    fc.constantFrom(
      '',
      ' ',
      'Bearer',
      'Bearer ',
      'Bearer  x',
      'Basic Zm9vOmJhcg==',
      `Bearer ${'a'.repeat(8000)}`,
    ),
    // Every byte a header value may carry (Node refuses to send the others: CTLs and DEL): visible ASCII and latin-1.
    fc.string({
      unit: fc
        .oneof(fc.integer({ min: 0x21, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
        .map((c) => String.fromCharCode(c)),
      maxLength: 40,
    }),
  );
  const auth = fc.oneof(
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 12, arbitrary: fc.constantFrom(...target.credentials) },
    { weight: 1, arbitrary: fc.constant({ authorization: 'Bearer wrong-token-0123456789abcdef' }) },
    { weight: 1, arbitrary: fc.constant({ 'ifttt-service-key': 'sk_wrong_0123456789abcdef' }) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('authorization', 'ifttt-service-key', 'x-request-id', 'accept'), garbage)
        .map(([name, value]) => ({ [name]: value })),
    },
  );
  const contentType = fc.oneof(
    { weight: 3, arbitrary: fc.constant('application/json') },
    { weight: 2, arbitrary: fc.constantFrom(undefined, 'application/json; charset=utf-8') },
    { weight: 3, arbitrary: oddContentType },
  );
  return fc
    .tuple(auth, contentType)
    .map(([a, type]) => (type === undefined ? { ...a } : { ...a, 'content-type': type }));
}

const oddContentType = fc.constantFrom(
  'application/json; charset=UTF-16',
  'application/json; charset=latin1',
  'application/json; charset=nonsense',
  'application/json; charset=',
  'application/json;;;',
  'application/problem+json',
  'application/merge-patch+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/*',
  '*/*',
  'garbage',
);

/**
 * Requests for one route of `target`: its method (a random one for `ALL`), path parameters from the
 * known values or garbage, a query string, headers and a body, all drawn by fast-check.
 *
 * @example
 *   fc.sample(routeRequests(target, { method: 'GET', path: '/v1/applets/:id' }), { seed: 1, numRuns: 3 });
 */
export function routeRequests(target: FuzzTarget, route: RouteEntry): fc.Arbitrary<FuzzRequest> {
  const known = [...new Set(Object.values(target.params).flat())];
  const names = routeParams(route.path);
  const paramValue = (name: string): fc.Arbitrary<string> =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...(target.params[name] ?? known), ...known) },
      { weight: 2, arbitrary: garbageSegment() },
    );
  const params = fc.record(Object.fromEntries(names.map((name) => [name, paramValue(name)])));
  // Now and then another method than the route's: a known path with an unknown method.
  const method =
    route.method === 'ALL'
      ? fc.constantFrom(...FUZZ_METHODS)
      : fc.oneof(
          { weight: 9, arbitrary: fc.constant(route.method) },
          { weight: 1, arbitrary: fc.constantFrom(...FUZZ_METHODS) },
        );
  return fc
    .record({ method, params, query: queryString(), headers: headers(target), body: body(target, route) })
    .map(({ method: m, params: p, query, headers: h, body: b }) => ({
      method: m,
      path: `${fillPath(route.path, p as Record<string, string>)}${query}`,
      headers: h,
      body: b,
    }));
}

/** Requests to paths no route has (random segments under known prefixes) with any method. */
export function unknownPathRequests(target: FuzzTarget, prefixes: string[]): fc.Arbitrary<FuzzRequest> {
  const route = { method: 'ALL', path: '/*rest' };
  return fc
    .tuple(
      routeRequests(target, route),
      fc.constantFrom('', ...prefixes),
      fc.array(garbageSegment(), { minLength: 1, maxLength: 3 }),
    )
    .map(([req, prefix, segments]) => ({
      ...req,
      path: `${prefix}/${segments.join('/')}${req.path.includes('?') ? req.path.slice(req.path.indexOf('?')) : ''}`,
    }));
}

const agent = new Agent({ keepAlive: true, maxSockets: 4 });

/**
 * Sends `req` to `baseUrl` with node:http (which sends paths and header values as given, unlike fetch)
 * and reads the whole answer; rejects after 10 s.
 */
export function send(baseUrl: string, req: FuzzRequest): Promise<FuzzAnswer> {
  const url = new URL(baseUrl);
  const headers: Record<string, string | number> = { ...req.headers };
  if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: req.method,
        path: req.path,
        headers,
        agent,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    outgoing.on('timeout', () =>
      outgoing.destroy(new Error(`no answer in 10 s to ${req.method} ${req.path}`)),
    );
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

/** Closes the keep-alive sockets of {@link send}. */
export function closeFuzzSockets(): void {
  agent.destroy();
}
