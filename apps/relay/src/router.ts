// The route table, owned by one actor. Lines, route changes and counter flushes are all messages to
// it, so a change is never seen half-made by the lines around it: every batch of lines is routed by
// the table as it was before or after the change, never during.
import { type ActorRef, defineActor, defineProtocol, reject } from '@holdfast/core';
import { z } from 'zod';
import { parseLine } from './carbon.js';
import type { DestinationProtocol } from './destination.js';
import { compileMatcher, RouteSpec } from './routes.js';

const RouteInfo = RouteSpec.extend({ lines: z.number().int() });
export type RouteInfo = z.infer<typeof RouteInfo>;

export const RouterProtocol = defineProtocol('relay-router', {
  /** Lines read from an ingest connection (each without its `\n`). */
  lines: { input: z.object({ lines: z.array(z.string()) }) },
  /** Send the counters of the interval just ended as carbon lines, through the table (statsdaemon-style). */
  flush: { input: z.object({}) },
  /** Add a route. `REJECTED` with `ROUTE_EXISTS` when the name is taken. */
  add: { input: z.object({ route: RouteSpec }), reply: z.object({ ok: z.literal(true), route: RouteInfo }) },
  /** Replace a route's matcher and destinations, keeping its place and counters. `ROUTE_NOT_FOUND` when there is none. */
  change: { input: z.object({ route: RouteSpec }), reply: z.object({ ok: z.literal(true), route: RouteInfo }) },
  /** Remove a route. `ROUTE_NOT_FOUND` when there is none. */
  remove: { input: z.object({ name: z.string() }), reply: z.object({ ok: z.literal(true), removed: z.string() }) },
  routes: { input: z.object({}), reply: z.array(RouteInfo) },
  stats: {
    input: z.object({}),
    reply: z.object({
      accepted: z.number(),
      invalid: z.number(),
      unmatched: z.number(),
      routes: z.record(z.string(), z.number()),
      destinations: z.array(z.object({ address: z.string(), actor: z.string() })),
    }),
  },
});

export interface RouterArgs {
  /** Routes at start (already checked against `RouteSpec`). */
  readonly routes: readonly RouteSpec[];
  /** First segment of the counters' metric paths, e.g. `relay` → `relay.route.cpu.lines`. */
  readonly statsPrefix: string;
  readonly flushEveryMs: number;
  /** Start the actor for a destination address (the router keeps the ref while a route uses it). */
  readonly openDestination: (address: string) => ActorRef<typeof DestinationProtocol>;
}

interface Route {
  spec: RouteSpec;
  test: (path: string) => boolean;
  /** Lines this interval, and since start. */
  interval: number;
  total: number;
}

interface RouterState {
  readonly args: RouterArgs;
  readonly routes: Route[];
  readonly destinations: Map<string, ActorRef<typeof DestinationProtocol>>;
  accepted: number;
  invalid: number;
  unmatched: number;
  interval: { invalid: number; unmatched: number; example: string | null };
}

const info = (r: Route): RouteInfo => ({ ...r.spec, lines: r.total });
// Routes arrive checked (by the protocol's schema, or the service's config): compiled, not parsed again.
const compile = (spec: RouteSpec): Route => ({ spec, test: compileMatcher(spec.match), interval: 0, total: 0 });

/** Open the destinations `spec` names that no route had yet. */
function openFor(s: RouterState, spec: RouteSpec): void {
  for (const d of spec.destinations) if (!s.destinations.has(d)) s.destinations.set(d, s.args.openDestination(d));
}

/** Retire the destinations no route names any more: each writes what it was sent, then stops. */
function retireUnused(s: RouterState): void {
  const used = new Set(s.routes.flatMap((r) => r.spec.destinations));
  for (const [address, ref] of s.destinations) {
    if (used.has(address)) continue;
    ref.tell('retire', {});
    s.destinations.delete(address);
  }
}

/** Send each line to every route that matches its path; returns how many matched none. */
function route(s: RouterState, lines: readonly string[], paths: readonly string[]): number {
  const batches = new Map<string, string[]>();
  let unmatched = 0;
  for (let i = 0; i < lines.length; i++) {
    const path = paths[i] as string;
    let matched = false;
    for (const r of s.routes) {
      if (!r.test(path)) continue;
      matched = true;
      r.interval++;
      r.total++;
      for (const d of r.spec.destinations) {
        let batch = batches.get(d);
        if (batch === undefined) batches.set(d, (batch = []));
        batch.push(lines[i] as string);
      }
    }
    if (!matched) unmatched++;
  }
  for (const [d, batch] of batches) s.destinations.get(d)?.tell('send', { lines: batch });
  return unmatched;
}

/**
 * The relay's router: matches every line's path against the routes in order (a line goes to every
 * route that matches) and hands the lines to the destinations' actors in batches.
 */
export const Router = defineActor(RouterProtocol, {
  init: (args: RouterArgs): RouterState => ({
    args,
    routes: [],
    destinations: new Map(),
    accepted: 0,
    invalid: 0,
    unmatched: 0,
    interval: { invalid: 0, unmatched: 0, example: null },
  }),
  onStart(s, ctx) {
    for (const spec of s.args.routes) {
      s.routes.push(compile(spec));
      openFor(s, spec);
    }
    ctx.schedule('flush', {}, { everyMs: s.args.flushEveryMs });
  },
  handlers: {
    lines(s, { lines }) {
      s.accepted += lines.length;
      const valid: string[] = [];
      const paths: string[] = [];
      for (const line of lines) {
        const parsed = parseLine(line);
        if (parsed === null) {
          s.invalid++;
          s.interval.invalid++;
          s.interval.example ??= line.slice(0, 200);
          continue;
        }
        valid.push(line);
        paths.push(parsed.path);
      }
      const unmatched = route(s, valid, paths);
      s.unmatched += unmatched;
      s.interval.unmatched += unmatched;
    },
    flush(s, _input, ctx) {
      const ts = Math.floor(Date.now() / 1000);
      const prefix = s.args.statsPrefix;
      const lines: string[] = [];
      for (const r of s.routes) {
        if (r.interval > 0) lines.push(`${prefix}.route.${r.spec.name}.lines ${r.interval} ${ts}`);
        r.interval = 0;
      }
      const { invalid, unmatched, example } = s.interval;
      if (invalid > 0) {
        lines.push(`${prefix}.invalid ${invalid} ${ts}`);
        ctx.log.warn({ invalid, example }, 'dropped lines that are not carbon plaintext (path value timestamp)');
      }
      if (unmatched > 0) lines.push(`${prefix}.unmatched ${unmatched} ${ts}`);
      s.interval = { invalid: 0, unmatched: 0, example: null };
      // The counters are metrics too: they go through the table like any line (and are counted by
      // the routes they match, in the next interval).
      if (lines.length > 0)
        route(
          s,
          lines,
          lines.map((l) => l.slice(0, l.indexOf(' '))),
        );
    },
    add(s, { route: spec }) {
      if (s.routes.some((r) => r.spec.name === spec.name)) reject('ROUTE_EXISTS', { name: spec.name });
      const r = compile(spec);
      s.routes.push(r);
      openFor(s, spec);
      return { ok: true as const, route: info(r) };
    },
    change(s, { route: spec }) {
      const r = s.routes.find((x) => x.spec.name === spec.name);
      if (r === undefined) reject('ROUTE_NOT_FOUND', { name: spec.name });
      const next = compile(spec);
      r.spec = next.spec;
      r.test = next.test;
      openFor(s, spec);
      retireUnused(s);
      return { ok: true as const, route: info(r) };
    },
    remove(s, { name }) {
      const at = s.routes.findIndex((x) => x.spec.name === name);
      if (at < 0) reject('ROUTE_NOT_FOUND', { name });
      s.routes.splice(at, 1);
      retireUnused(s);
      return { ok: true as const, removed: name };
    },
    routes(s) {
      return s.routes.map(info);
    },
    stats(s) {
      return {
        accepted: s.accepted,
        invalid: s.invalid,
        unmatched: s.unmatched,
        routes: Object.fromEntries(s.routes.map((r) => [r.spec.name, r.total])),
        destinations: [...s.destinations].map(([address, ref]) => ({ address, actor: ref.id })),
      };
    },
  },
});
