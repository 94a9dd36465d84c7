// A node's view of the cluster, owned by one actor: who is a member, how fresh each one's
// heartbeat is, and who has left or is taken for dead. Gossip goes out on a timer and comes back
// as messages, so only this actor's turns touch the list.
import { defineActor, defineProtocol } from '@holdfast/core';
import { z } from 'zod';

export const Status = z.enum(['alive', 'left', 'dead']);
export type Status = z.infer<typeof Status>;

/** One member as gossip carries it. `generation` grows when a node restarts; `heartbeat` with every round. */
export const Entry = z.object({
  id: z.string().regex(/^[^\s]+:\d{1,5}$/),
  generation: z.number().int().nonnegative(),
  heartbeat: z.number().int().nonnegative(),
  status: z.enum(['alive', 'left']),
});
export type Entry = z.infer<typeof Entry>;

/** One member as this node sees it. */
export const Member = z.object({
  id: z.string(),
  generation: z.number().int(),
  heartbeat: z.number().int(),
  status: Status,
  /** How long since this node last learnt something new about it. */
  sinceMs: z.number(),
});
export type Member = z.infer<typeof Member>;

export const MembershipProtocol = defineProtocol('membership', {
  /** One gossip round (on a timer): beat, find the silent, forget the long gone, gossip to a few peers. */
  tick: { input: z.object({}) },
  /** What a peer told us (its answer to our gossip): merge it. */
  merge: { input: z.object({ entries: z.array(Entry).max(10_000) }) },
  /** A peer's gossip: merge it and answer with what we know (push-pull). */
  exchange: { input: z.object({ entries: z.array(Entry).max(10_000) }), reply: z.array(Entry) },
  members: { input: z.object({}), reply: z.array(Member) },
  /** Leave the cluster: tell every live peer (within `ms`) before the node goes. Replies with how many took it. */
  leave: { input: z.object({ ms: z.number().int().positive() }), reply: z.object({ told: z.number().int(), acknowledged: z.number().int() }) },
});

/** How a node reaches a peer: posts entries, resolves with the peer's entries. Rejects when it is unreachable. */
export type Transport = (peer: string, entries: readonly Entry[], signal: AbortSignal) => Promise<Entry[]>;

export interface MembershipArgs {
  /** This node's address (host:port): its id in the cluster. */
  readonly self: string;
  /** Where to join: a node of the cluster (host:port), or null for the first node. */
  readonly seed: string | null;
  readonly gossipMs: number;
  /** A member whose heartbeat has not grown for this long is taken for dead. */
  readonly failAfterMs: number;
  /** Dead and departed members are forgotten after this long (long enough for the news to spread). */
  readonly forgetAfterMs: number;
  /** Peers gossiped to per round. */
  readonly fanout: number;
  readonly transport: Transport;
  readonly now?: () => number;
}

interface Known {
  readonly id: string;
  generation: number;
  heartbeat: number;
  status: Status;
  /** Local time when this entry last changed (a newer heartbeat, or a status change). */
  changedAt: number;
}

interface MembershipState {
  readonly args: MembershipArgs;
  readonly me: Known;
  readonly others: Map<string, Known>;
  /**
   * Members forgotten lately, with what was last known of them: gossip that is not newer than
   * this does not bring them back (another node may not have forgotten them yet).
   */
  readonly forgotten: Map<string, { generation: number; heartbeat: number; at: number }>;
  readonly now: () => number;
}

type Version = { readonly generation: number; readonly heartbeat: number };
const newer = (e: Version, k: Version) => e.generation > k.generation || (e.generation === k.generation && e.heartbeat > k.heartbeat);

/** What this node gossips: itself, and the members it believes alive or departed (dead is a local opinion). */
function digest(s: MembershipState): Entry[] {
  const out: Entry[] = [{ id: s.me.id, generation: s.me.generation, heartbeat: s.me.heartbeat, status: s.me.status === 'left' ? 'left' : 'alive' }];
  for (const k of s.others.values()) if (k.status !== 'dead') out.push({ id: k.id, generation: k.generation, heartbeat: k.heartbeat, status: k.status });
  return out;
}

function merge(s: MembershipState, entries: readonly Entry[], log: { info(o: object, m: string): void }): void {
  const now = s.now();
  for (const e of entries) {
    if (e.id === s.me.id) continue; // nobody knows better than this node whether it is alive
    const k = s.others.get(e.id);
    if (k === undefined) {
      const gone = s.forgotten.get(e.id);
      if (gone !== undefined && !newer(e, gone)) continue;
      s.forgotten.delete(e.id);
      s.others.set(e.id, { ...e, changedAt: now });
      log.info({ member: e.id, status: e.status, generation: e.generation }, e.status === 'alive' ? 'member joined' : 'member learnt of (departed)');
    } else if (newer(e, k)) {
      const was = k.status;
      k.generation = e.generation;
      k.heartbeat = e.heartbeat;
      k.status = e.status;
      k.changedAt = now;
      if (was !== e.status)
        log.info({ member: e.id, status: e.status, was, generation: e.generation }, e.status === 'alive' ? 'member is back' : 'member left');
    }
  }
}

function pick<T>(xs: readonly T[], n: number): T[] {
  const copy = [...xs];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

/**
 * A node's membership list (the Dynago-style gossip protocol): every `gossipMs` the node bumps its
 * heartbeat and exchanges its list with `fanout` random live peers (or its seed, while it knows
 * none); entries merge by (generation, heartbeat), the newer wins. A member silent for
 * `failAfterMs` is taken for dead; one that leaves says so, and the others know at once.
 */
export const Membership = defineActor(MembershipProtocol, {
  init: (args: MembershipArgs): MembershipState => {
    const now = args.now ?? Date.now;
    return { args, me: { id: args.self, generation: now(), heartbeat: 0, status: 'alive', changedAt: now() }, others: new Map(), forgotten: new Map(), now };
  },
  onStart(s, ctx) {
    ctx.schedule('tick', {}, { everyMs: s.args.gossipMs, afterMs: 0 });
  },
  handlers: {
    tick(s, _input, ctx) {
      if (s.me.status === 'left') return;
      const now = s.now();
      s.me.heartbeat++;
      for (const k of s.others.values()) {
        if (k.status === 'alive' && now - k.changedAt > s.args.failAfterMs) {
          k.status = 'dead';
          k.changedAt = now;
          ctx.log.warn({ member: k.id, silentMs: s.args.failAfterMs }, 'member taken for dead: no heartbeat');
        } else if (k.status !== 'alive' && now - k.changedAt > s.args.forgetAfterMs) {
          s.others.delete(k.id);
          s.forgotten.set(k.id, { generation: k.generation, heartbeat: k.heartbeat, at: now });
          ctx.log.info({ member: k.id, status: k.status }, 'member forgotten');
        }
      }
      for (const [id, gone] of s.forgotten) if (now - gone.at > s.args.forgetAfterMs) s.forgotten.delete(id);
      const alive = [...s.others.values()].filter((k) => k.status === 'alive').map((k) => k.id);
      const peers = alive.length > 0 ? pick(alive, s.args.fanout) : s.args.seed !== null && s.args.seed !== s.me.id ? [s.args.seed] : [];
      const entries = digest(s);
      const { self, log } = ctx;
      for (const peer of peers) {
        // The answer comes back as a message: the state is touched by this actor's turns only.
        s.args.transport(peer, entries, AbortSignal.timeout(s.args.gossipMs * 5)).then(
          (answer) => self.tell('merge', { entries: answer }),
          (e: Error) => log.debug({ peer, err: e.message }, 'gossip did not get through'),
        );
      }
    },
    merge(s, { entries }, ctx) {
      merge(s, entries, ctx.log);
    },
    exchange(s, { entries }, ctx) {
      merge(s, entries, ctx.log);
      return digest(s);
    },
    members(s) {
      const now = s.now();
      const all = [s.me, ...s.others.values()].map((k) => ({
        id: k.id,
        generation: k.generation,
        heartbeat: k.heartbeat,
        status: k.status,
        sinceMs: k === s.me ? 0 : now - k.changedAt,
      }));
      return all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async leave(s, { ms }, ctx) {
      s.me.status = 'left';
      s.me.heartbeat++;
      const peers = [...s.others.values()].filter((k) => k.status === 'alive').map((k) => k.id);
      const entries = digest(s);
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(ms)]);
      const results = await Promise.allSettled(peers.map((p) => s.args.transport(p, entries, signal)));
      const acknowledged = results.filter((r) => r.status === 'fulfilled').length;
      ctx.log.info({ told: peers.length, acknowledged }, 'left the cluster');
      return { told: peers.length, acknowledged };
    },
  },
});
