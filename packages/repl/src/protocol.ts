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

/** The arguments of each command. */
export const CommandArgs = {
  hello: z.object({ version: z.number().int(), token: z.string().optional(), client: z.string().optional() }),
  help: z.object({}),
  actors: z.object({ filter: z.string().optional() }),
  tree: z.object({}),
  state: z.object({ id: ActorId }),
  describe: z.object({ id: ActorId }),
  ask: z.object({ id: ActorId, message: z.string().min(1), input: z.unknown(), timeoutMs: z.number().positive().optional() }),
  tell: z.object({ id: ActorId, message: z.string().min(1), input: z.unknown() }),
  restart: z.object({ id: ActorId }),
  stop: z.object({ id: ActorId }),
  stats: z.object({}),
  events: z.object({ id: ActorId.optional(), limit: z.number().int().positive().max(1_000).optional() }),
  trace: z.object({ id: ActorId.optional() }),
  untrace: z.object({ trace: z.number().int().positive() }),
  eval: z.object({ code: z.string() }),
} as const;

/** A command's name. */
export type CommandName = keyof typeof CommandArgs;
export const COMMAND_NAMES = Object.keys(CommandArgs) as CommandName[];

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

/** What `hello` answers. */
export const HelloResult = z.object({ version: z.number(), service: z.string(), pid: z.number(), eval: z.boolean() });
export type HelloResult = z.infer<typeof HelloResult>;

/** One line of `actors`. */
export const ActorRow = z.object({
  id: z.string(),
  type: z.string(),
  steward: z.string(),
  host: z.string(),
  status: z.string(),
  mailbox: z.number(),
  turns: z.number(),
  restarts: z.number(),
  incarnation: z.number(),
  lastTurnAt: z.number().nullable(),
  busy: z.boolean(),
});
export type ActorRow = z.infer<typeof ActorRow>;

/** What `describe` answers: the actor's protocol, for completion and help. */
export const Description = z.object({
  id: z.string(),
  type: z.string(),
  protocol: z.string(),
  messages: z.array(z.object({ name: z.string(), reply: z.boolean() })),
});
export type Description = z.infer<typeof Description>;

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
