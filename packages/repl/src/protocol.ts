/**
 * The debug protocol between a running service (`holdfast run`) and its clients (`holdfast repl`,
 * scripts, other tools): JSON lines over a Unix socket, or over a loopback TCP connection with a
 * token. Each request is one line; each answer is one line with the same `id`; a trace sends
 * extra lines with a `trace` number. Every shape here is a zod schema, so both ends check what
 * they receive.
 *
 * @example
 * ```ts
 * import { Request, PROTOCOL_VERSION } from '@holdfast/repl/protocol';
 * socket.write(JSON.stringify(Request.parse({ id: 1, cmd: 'hello', args: { version: PROTOCOL_VERSION } })) + '\n');
 * ```
 * @module @holdfast/repl/protocol
 */
import { z } from 'zod';

/** The protocol's version. A server answers `hello` from a client of another major version with `VERSION_MISMATCH`. */
export const PROTOCOL_VERSION = 1;

/** The longest request line a server reads (1 MiB); a longer one gets `FRAME_TOO_LARGE` and the connection closes. */
export const MAX_LINE_BYTES = 1024 * 1024;

const ActorId = z.string().min(1);

/** One line of `actors`: core's `ActorSummary` (fields a newer service adds are kept). */
export const ActorRow = z.looseObject({
  id: z.string(),
  type: z.string(),
  steward: z.string(),
  host: z.string(),
  status: z.string(),
  mailbox: z.number(),
  waiting: z.number(),
  capacity: z.number(),
  overflow: z.string(),
  turns: z.number(),
  restarts: z.number(),
  incarnation: z.number(),
  lastTurnAt: z.number().nullable(),
  busy: z.boolean(),
  deferred: z.number(),
  dropped: z.number(),
});
export type ActorRow = z.infer<typeof ActorRow>;

/** What `actors` with `everywhere` answers: the actors of every node (each row with its `node`), and the nodes that did not answer. */
export const ActorsEverywhere = z.object({
  actors: z.array(ActorRow.extend({ node: z.string() })),
  unreachable: z.array(z.object({ node: z.string(), error: z.string() })),
});

/** A node's view of its cluster (core's `ClusterInfo`). */
export const ClusterView = z.looseObject({
  status: z.string(),
  node: z.string(),
  shards: z.number(),
  nodes: z.array(z.object({ node: z.string(), shards: z.array(z.number()), self: z.boolean() })),
  unowned: z.array(z.number()),
});

/** A restart in an actor's or a steward's history (core's `RestartRecord`). */
export const RestartRow = z.looseObject({
  at: z.number(),
  incarnation: z.number(),
  reason: z.string(),
  decision: z.string(),
  delayMs: z.number(),
  error: z.string().nullable(),
});

/** What `state` answers: the actor's summary, its `inspect()` view and its restart history (core's `ActorSnapshot`). */
/** A durable actor's standing with the store (core's `DurableActorInfo`). */
export const DurableRow = z.looseObject({
  revision: z.number(),
  version: z.number(),
  storedVersion: z.number(),
  dirty: z.boolean(),
  held: z.number(),
  committing: z.boolean(),
});

export const ActorState = ActorRow.extend({ state: z.unknown(), history: z.array(RestartRow), durable: DurableRow.optional() });
export type ActorState = z.infer<typeof ActorState>;

/** An actor in the supervision tree (core's `ChildActorSnapshot`). */
export const TreeActor = z.looseObject({
  kind: z.literal('actor'),
  id: z.string(),
  type: z.string(),
  status: z.string(),
  restart: z.string(),
  incarnation: z.number(),
  restarts: z.number(),
  history: z.array(RestartRow),
});
export type TreeActor = z.infer<typeof TreeActor>;

/** A steward in the supervision tree, with its children (core's `StewardSnapshot`). */
export interface TreeSteward {
  readonly kind: 'steward';
  readonly name: string;
  readonly path: string;
  readonly status: string;
  readonly strategy: string;
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly restartsInWindow: number;
  readonly incarnation: number;
  readonly history: ReadonlyArray<z.infer<typeof RestartRow>>;
  readonly children: ReadonlyArray<TreeSteward | TreeActor>;
}
export const TreeSteward: z.ZodType<TreeSteward> = z.looseObject({
  kind: z.literal('steward'),
  name: z.string(),
  path: z.string(),
  status: z.string(),
  strategy: z.string(),
  maxRestarts: z.number(),
  withinMs: z.number(),
  restartsInWindow: z.number(),
  incarnation: z.number(),
  history: z.array(RestartRow),
  get children() {
    return z.array(z.union([TreeSteward, TreeActor]));
  },
});

/** What `hello` answers. */
export const HelloResult = z.object({ version: z.number(), service: z.string(), pid: z.number(), eval: z.boolean() });
export type HelloResult = z.infer<typeof HelloResult>;

/** What `describe` answers: the actor's protocol, for completion and help. */
export const Description = z.object({
  id: z.string(),
  type: z.string(),
  protocol: z.string(),
  messages: z.array(z.object({ name: z.string(), reply: z.boolean() })),
});
export type Description = z.infer<typeof Description>;

/** A system's durable actors and store (core's `DurableStats`). */
export const DurableStatsRow = z.looseObject({
  store: z.string(),
  available: z.boolean(),
  active: z.number(),
  activations: z.number(),
  passivations: z.number(),
  commits: z.number(),
  writes: z.number(),
  largestBatch: z.number(),
  storeErrors: z.number(),
});

/** What `stats` answers: core's `SystemStats`, counters by name (and `durable`: the store's, or null). */
export const Stats = z.record(z.string(), z.union([z.number(), z.string(), DurableStatsRow.nullable()]));

/** A lifecycle event as the protocol carries it: the event with its wall-clock time. */
export const WireEvent = z.looseObject({ type: z.string(), actor: z.string(), wall: z.number() });

/**
 * Every command of the protocol: its arguments, its result (both checked: the service encodes
 * with them, clients decode with them) and what it does. The REPL's `.help`, the service's `help`
 * and `holdfast repl --help` all come from here.
 */
export const Commands = {
  hello: {
    args: z.object({ version: z.number().int(), token: z.string().optional(), client: z.string().optional() }),
    result: HelloResult,
    help: 'say who you are: the protocol version (and the token, over TCP); required first over TCP',
  },
  help: { args: z.object({}), result: z.record(z.string(), z.string()), help: 'every command and what it does' },
  actors: {
    args: z.object({ filter: z.string().optional(), everywhere: z.boolean().optional() }),
    result: z.union([z.array(ActorRow), ActorsEverywhere]),
    help: 'every live actor, or those whose id or type contains the filter (id, type, steward, host, status, mailbox, turns, restarts, last turn); in a cluster, on every node',
  },
  nodes: {
    args: z.object({}),
    result: ClusterView,
    help: 'in a cluster: the nodes this node sees alive, and the shards each serves',
  },
  shards: {
    args: z.object({}),
    result: ClusterView,
    help: 'in a cluster: every shard and the node that serves it (or none, while it moves)',
  },
  tree: { args: z.object({}), result: TreeSteward, help: 'the supervision tree, with strategies and restart counts' },
  state: { args: z.object({ id: ActorId }), result: ActorState, help: "an actor's state (its inspect() view), summary and restart history" },
  describe: { args: z.object({ id: ActorId }), result: Description, help: "an actor's protocol: its message names" },
  ask: {
    args: z.object({ id: ActorId, message: z.string().min(1), input: z.unknown(), timeoutMs: z.number().positive().optional() }),
    result: z.unknown(),
    help: 'ask and wait for the reply (the input is checked first: a bad one changes nothing)',
  },
  tell: {
    args: z.object({ id: ActorId, message: z.string().min(1), input: z.unknown() }),
    result: z.null(),
    help: 'tell (the input is checked first: a bad one is not sent)',
  },
  restart: {
    args: z.object({ id: ActorId }),
    result: z.null(),
    help: 'restart an actor (fresh state from init, or a durable one from its store; not counted against its restart limit)',
  },
  stop: { args: z.object({ id: ActorId }), result: z.null(), help: 'stop an actor for good' },
  passivate: {
    args: z.object({ id: ActorId }),
    result: z.object({ passivated: z.boolean() }),
    help: 'put a durable actor to sleep now (its state is stored; its next message wakes it)',
  },
  stats: { args: z.object({}), result: Stats, help: "the system's counters" },
  events: {
    args: z.object({ id: ActorId.optional(), limit: z.number().int().positive().max(1_000).optional() }),
    result: z.array(WireEvent),
    help: 'recent lifecycle events, of one actor or all (newest last)',
  },
  trace: {
    args: z.object({ id: ActorId.optional() }),
    result: z.object({ trace: z.number().int().positive() }),
    help: 'stream messages in and replies out, lifecycle events and dead letters, of one actor or all',
  },
  untrace: { args: z.object({ trace: z.number().int().positive() }), result: z.null(), help: 'end a trace' },
  eval: {
    args: z.object({ code: z.string() }),
    result: z.string(),
    help: 'evaluate JavaScript with `system` in scope (only in a service started with --allow-eval)',
  },
} as const;

/** A command's name. */
export type CommandName = keyof typeof Commands;
export const COMMAND_NAMES = Object.keys(Commands) as CommandName[];
/** What a command takes. */
export type ArgsOf<C extends CommandName> = z.input<(typeof Commands)[C]['args']>;
/** What a command answers. */
export type ResultOf<C extends CommandName> = z.output<(typeof Commands)[C]['result']>;

/** The arguments of each command (the `args` of {@link Commands}). */
export const CommandArgs = Object.fromEntries(COMMAND_NAMES.map((c) => [c, Commands[c].args])) as { [C in CommandName]: (typeof Commands)[C]['args'] };

/** One request line. */
export const Request = z.object({
  id: z.union([z.number(), z.string()]),
  cmd: z.enum(COMMAND_NAMES as [CommandName, ...CommandName[]]),
  args: z.record(z.string(), z.unknown()).default({}),
});
export type Request = z.infer<typeof Request>;

/** An error as the protocol carries it: a Holdfast error code (or a protocol one), a message, details. */
export const WireError = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() });
export type WireError = z.infer<typeof WireError>;

/** One answer line. */
export const Response = z.union([
  z.object({ id: z.union([z.number(), z.string(), z.null()]), ok: z.literal(true), result: z.unknown() }),
  z.object({ id: z.union([z.number(), z.string(), z.null()]), ok: z.literal(false), error: WireError }),
]);
export type Response = z.infer<typeof Response>;

/**
 * A line a trace sends: a message in or out, a lifecycle event, a dead letter, or `dropped`
 * (`event.count` trace lines were left out because the client read too slowly: a service never
 * buffers without bound for a client).
 */
export const TracePush = z.object({
  trace: z.number().int().positive(),
  kind: z.enum(['message', 'event', 'dead-letter', 'dropped']),
  event: z.record(z.string(), z.unknown()),
});
export type TracePush = z.infer<typeof TracePush>;

/** Error codes of the protocol itself (Holdfast's own codes come from `@holdfast/core`). */
export const ProtocolError = {
  BAD_REQUEST: 'BAD_REQUEST',
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  VERSION_MISMATCH: 'VERSION_MISMATCH',
  EVAL_DISABLED: 'EVAL_DISABLED',
  /** The connection, or the service, has as many traces open as it allows. */
  TOO_MANY_TRACES: 'TOO_MANY_TRACES',
} as const;

/** How many traces one connection may have open at once. */
export const MAX_TRACES_PER_CONNECTION = 8;
/** How many traces a service serves at once, over all its connections. */
export const MAX_TRACES = 32;
/** How many debug connections a service serves at once (on each listener). */
export const MAX_CONNECTIONS = 32;
