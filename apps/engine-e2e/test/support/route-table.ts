import type { Express } from 'express';

/** One route of an Express app: an upper-case HTTP method (`ALL` for `router.all`) and its full path template. */
export interface RouteEntry {
  method: string;
  /** Express 5 path syntax, mount paths included, e.g. `/v1/applets/:id`. */
  path: string;
}

/** The parts of an Express 5 (router 2) layer this reads. */
interface RouterLayer {
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
  rawPath?: unknown;
  handle?: { stack?: unknown };
}

function pathsOf(path: unknown, where: string): string[] {
  const paths = Array.isArray(path) ? path : [path];
  for (const one of paths) {
    if (typeof one !== 'string')
      throw new Error(`${where}: a route path that is not a string (${String(one)})`);
  }
  return paths as string[];
}

/**
 * Every route of an Express 5 app, read from its router stack (`app.router.stack`): each layer with a
 * `route` gives its methods and path, each mounted router (`app.use('/v1', router)`) is walked with its mount
 * path (the layer's `rawPath`) as prefix. So a route added to a service later shows up here without anyone
 * listing it. Sorted by path, then method; no duplicates.
 *
 * @throws Error when a route or mount path is a RegExp (the table cannot fill it in; give the route a string path).
 * @example
 *   listRoutes(app); // [{ method: 'GET', path: '/health/live' }, { method: 'POST', path: '/v1/applets' }, ...]
 */
export function listRoutes(app: Express): RouteEntry[] {
  const found = new Map<string, RouteEntry>();
  const walk = (stack: unknown, prefix: string): void => {
    if (!Array.isArray(stack)) return;
    for (const layer of stack as RouterLayer[]) {
      if (layer.route) {
        for (const path of pathsOf(layer.route.path, `route under ${prefix || '/'}`)) {
          for (const [method, on] of Object.entries(layer.route.methods)) {
            if (!on) continue;
            const entry = {
              method: method === '_all' ? 'ALL' : method.toUpperCase(),
              path: `${prefix}${path}`,
            };
            found.set(`${entry.method} ${entry.path}`, entry);
          }
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        const [mount] = pathsOf(layer.rawPath ?? '/', `router mounted under ${prefix || '/'}`);
        walk(layer.handle.stack, `${prefix}${mount === '/' ? '' : mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: unknown } }).router.stack, '');
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** The names of a path template's parameters (`:id`, `*rest`), in order. */
export function routeParams(path: string): string[] {
  return [...path.matchAll(/[:*]([A-Za-z_$][\w$]*)/g)].map((match) => match[1]);
}

/**
 * A concrete path for `template`: each parameter replaced by `values[name]` (sent as given, so already
 * percent-encoded where meant to be) and optional groups `{...}` kept.
 *
 * @example
 *   fillPath('/v1/applets/:id', { id: '42' }); // '/v1/applets/42'
 */
export function fillPath(template: string, values: Record<string, string>): string {
  return template
    .replace(/[:*]([A-Za-z_$][\w$]*)/g, (_match, name: string) => values[name] ?? '')
    .replace(/[{}]/g, '');
}
