// Routes: which lines go where. A route has a name, a matcher on the metric path and the TCP
// destinations it sends to; a line goes to every route that matches it.
import { RE2JS } from 're2js';
import { z } from 'zod';

/** `host:port` of a carbon receiver. */
export const Destination = z.string().refine((d) => {
  const m = /^[^\s:]+:(\d{1,5})$/.exec(d);
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65_535;
}, 'a destination is host:port, the port 1–65535');

/**
 * How a route picks lines, by their metric path. A `regex` is RE2 syntax, run by a linear-time
 * engine (re2js): no pattern can take time exponential in the path, so a route cannot stall the
 * relay. What RE2 leaves out (back-references, look-around) is refused when the route is given.
 */
export const Matcher = z
  .object({
    kind: z.enum(['prefix', 'substring', 'regex']),
    pattern: z.string().min(1).max(1_024),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.kind !== 'regex') return;
    try {
      RE2JS.compile(m.pattern);
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: `not a regular expression the relay runs (RE2 syntax): ${(e as Error).message}` });
    }
  });
export type Matcher = z.infer<typeof Matcher>;

/** A route as the admin API and the configuration give it. */
export const RouteSpec = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a route name is 1–64 letters, digits, _ or -'),
    match: Matcher,
    destinations: z.array(Destination).min(1).max(64),
  })
  .strict();
export type RouteSpec = z.infer<typeof RouteSpec>;

/** A matcher as a function of the path. */
export function compileMatcher(m: Matcher): (path: string) => boolean {
  switch (m.kind) {
    case 'prefix':
      return (path) => path.startsWith(m.pattern);
    case 'substring':
      return (path) => path.includes(m.pattern);
    case 'regex': {
      const re = RE2JS.compile(m.pattern);
      return (path) => re.test(path);
    }
  }
}
