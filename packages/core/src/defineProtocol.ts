import type { z } from 'zod';
import { checkKeys } from './checkKeys.js';
import { InvalidArgument } from './errors.js';
import { ASK_ZOD, type CompiledCheck, compileSchema } from './internal/compileSchema.js';
import { MESSAGE_KEYS } from './internal/optionKeys.js';

/** One message of a protocol: the input schema and, for asks that answer a value, the reply schema. */
export interface MessageSpec {
  readonly input: z.ZodType;
  readonly reply?: z.ZodType;
  /**
   * The handler only reads the state. For a durable actor, its turns never write to the store, and
   * its reply leaves at once unless an earlier turn's write is still being committed. (For any
   * actor, a read-only handler that changes the state is a bug the framework does not catch.)
   */
  readonly readonly?: boolean;
}

/** The messages of a protocol, by name. */
export type MessageSpecs = { readonly [name: string]: MessageSpec };

/** @internal What a message's input check gives for a value zod refuses: zod's issues. */
export class Refused {
  constructor(readonly issues: z.core.$ZodIssue[]) {}
}

/**
 * @internal The compiled form of one message, used on the hot path: its schemas, and the checks
 * compiled from them (see internal/compileSchema.ts), which give zod's own output or defer to zod.
 */
export class CompiledMessage {
  /** A brand cheaper to check than `instanceof` (inherited Object.prototype members lack it). */
  readonly compiled = true;
  readonly fastInput: CompiledCheck | null;
  readonly fastReply: CompiledCheck | null;
  constructor(
    readonly name: string,
    readonly input: z.ZodType,
    readonly reply: z.ZodType | undefined,
    compiled?: CompiledMessage,
    /** Declared `readonly: true`: its turns leave the state as they found it. */
    readonly readonly: boolean = compiled?.readonly ?? false,
  ) {
    this.fastInput = compiled !== undefined ? compiled.fastInput : compileSchema(input);
    this.fastReply = compiled !== undefined ? compiled.fastReply : reply === undefined ? null : compileSchema(reply);
  }

  /** The input as the handler gets it (zod's output: defaults applied, unknown keys stripped, a fresh object), or {@link Refused}. */
  checkInput(input: unknown): unknown {
    const fast = this.fastInput;
    if (fast !== null) {
      const value = fast(input);
      if (value !== ASK_ZOD) return value;
    }
    const r = this.input.safeParse(input);
    return r.success ? r.data : new Refused(r.error.issues);
  }

  /** Zod's issues with a reply, or null when it is valid (or there is no reply schema). */
  replyIssues(value: unknown): z.core.$ZodIssue[] | null {
    const schema = this.reply;
    if (schema === undefined) return null;
    const fast = this.fastReply;
    if (fast !== null && fast(value) !== ASK_ZOD) return null;
    const r = schema.safeParse(value);
    return r.success ? null : r.error.issues;
  }
}

/**
 * @internal The message called `name` in `table`, or undefined. Tables are ordinary (fast-mode)
 * objects, so names inherited from Object.prototype are screened out here by the brand.
 */
export function messageIn(table: Protocol['table'], name: string): CompiledMessage | undefined {
  const m = table[name];
  return m !== undefined && m.compiled === true ? m : undefined;
}

/**
 * The messages an actor accepts, shared by callers and the owner, on any thread or node.
 * Create one with {@link defineProtocol}.
 */
export interface Protocol<N extends string = string, M extends MessageSpecs = MessageSpecs> {
  readonly name: N;
  readonly messages: M;
  /** @internal name → compiled message; read it through `messageIn`. */
  readonly table: { readonly [name: string]: CompiledMessage | undefined };
}

/** Any protocol. */
// biome-ignore lint/suspicious/noExplicitAny: the widest protocol type, for constraints.
export type AnyProtocol = Protocol<string, any>;

/** The message names of a protocol. */
export type MessageName<P extends AnyProtocol> = keyof P['messages'] & string;

/** What a caller passes for message `K` (the schema's input type). */
export type InputOf<P extends AnyProtocol, K extends MessageName<P>> = z.input<P['messages'][K]['input']>;

/** What the handler of message `K` receives (the schema's output type). */
export type HandlerInputOf<P extends AnyProtocol, K extends MessageName<P>> = z.output<P['messages'][K]['input']>;

/** What an ask of message `K` resolves to: the reply schema's type, or `void` when it has none. */
export type ReplyOf<P extends AnyProtocol, K extends MessageName<P>> = P['messages'][K] extends {
  readonly reply: infer R extends z.ZodType;
}
  ? z.output<R>
  : void;

const NAME = /^[A-Za-z_$][\w$.:-]*$/;

/**
 * Define a protocol: the typed messages an actor accepts. Each message has an `input` zod
 * schema and, when an ask answers a value, a `reply` schema (no `reply`: the reply is `void`).
 *
 * @param name - the protocol's name; it is also the default type name of actors that speak it.
 * @param messages - message name → `{ input, reply? }`.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * export const CounterProtocol = defineProtocol('counter', {
 *   add: { input: z.object({ key: z.string(), by: z.number().int() }), reply: z.number() },
 *   get: { input: z.object({ key: z.string() }), reply: z.number() },
 *   reset: { input: z.object({}) },
 * });
 * ```
 */
export function defineProtocol<const N extends string, const M extends MessageSpecs>(name: N, messages: M): Protocol<N, M> {
  if (typeof name !== 'string' || !NAME.test(name)) throw new InvalidArgument(`protocol name must be an identifier-like string, got ${JSON.stringify(name)}`);
  if (typeof messages !== 'object' || messages === null) throw new InvalidArgument(`protocol '${name}': messages must be an object`);
  // A plain object, not Object.create(null): V8 keeps null-prototype objects in slow dictionary
  // mode, and this lookup is on every ask and tell.
  const table: Record<string, CompiledMessage> = {};
  for (const [key, spec] of Object.entries(messages)) {
    if (!NAME.test(key) || key in Object.prototype) throw new InvalidArgument(`protocol '${name}': message name ${JSON.stringify(key)} is not identifier-like`);
    if (!isZod(spec?.input)) throw new InvalidArgument(`protocol '${name}': message '${key}' needs an 'input' zod schema`);
    checkKeys(`protocol '${name}': message '${key}'`, spec, MESSAGE_KEYS);
    if (spec.reply !== undefined && !isZod(spec.reply))
      throw new InvalidArgument(`protocol '${name}': message '${key}' has a 'reply' that is not a zod schema`);
    if (spec.readonly !== undefined && typeof spec.readonly !== 'boolean')
      throw new InvalidArgument(`protocol '${name}': message '${key}': 'readonly' must be true or false`);
    table[key] = new CompiledMessage(key, spec.input, spec.reply, undefined, spec.readonly === true);
  }
  if (Object.keys(table).length === 0) throw new InvalidArgument(`protocol '${name}' has no messages`);
  return Object.freeze({ name, messages, table: Object.freeze(table) });
}

function isZod(s: unknown): s is z.ZodType {
  return typeof s === 'object' && s !== null && typeof (s as { safeParse?: unknown }).safeParse === 'function';
}
