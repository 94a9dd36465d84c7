// An actor type's handlers bound to its messages, so that the turn loop reaches a message's
// handler in one load, and knows how to call it (synchronously, or under AsyncLocalStorage to
// keep the call chain). Every handler is called the same way: (state, input, ctx).
import type { ActorDefinition } from '../../defineActor.js';
import { CompiledMessage, type Protocol } from '../../defineProtocol.js';
import type { HandlerContext } from '../HandlerContext.js';
import { takesContext } from './takesContext.js';

export type AnyHandler = (state: unknown, input: unknown, ctx: HandlerContext) => unknown;

/** A synchronous handler. */
export const SYNC = 0;
/** An async handler (or one that returned a promise once): runs under AsyncLocalStorage. */
export const ASYNC = 2;

/**
 * A message bound to the handler of one actor type: what the mailbox carries, so that the turn
 * loop reaches the handler in one load. `mode` is learned on the first promise.
 */
export class BoundMessage extends CompiledMessage {
  /** How the turn loop calls it: SYNC or ASYNC (one load per turn). */
  mode: number;
  /** Set only on a reminder on its way in (durable.ts: reminderMessage): which reminder it is. */
  readonly reminder: { readonly name: string; readonly at: number; readonly key: string } | null = null;
  constructor(
    message: CompiledMessage,
    readonly fn: AnyHandler,
  ) {
    super(message.name, message.input, message.reply, message);
    this.mode = fn instanceof AsyncFunction ? ASYNC : SYNC;
  }

  /** It returned a promise: later turns run under AsyncLocalStorage to keep the call chain. */
  learnAsync(): void {
    this.mode = ASYNC;
  }
}

/** Message name → bound message, for one actor type (the same shape as a protocol's table). */
export type BoundTable = Protocol['table'];

const compiled = new WeakMap<object, BoundTable>();
export const AsyncFunction = (async () => {}).constructor;

/** On a bound table (not enumerable): some handler of the type takes `ctx`. */
const TAKES_CONTEXT: unique symbol = Symbol('holdfast.takesContext');

/** The bound messages of an actor type (made once per type). */
export function bindHandlers(def: ActorDefinition): BoundTable {
  let table = compiled.get(def);
  if (table === undefined) {
    const handlers = def.behaviour.handlers as Record<string, AnyHandler>;
    const t: Record<string, BoundMessage> = {};
    for (const name of Object.keys(def.protocol.messages)) {
      t[name] = new BoundMessage(def.protocol.table[name] as CompiledMessage, handlers[name] as AnyHandler);
    }
    Object.defineProperty(t, TAKES_CONTEXT, { value: Object.values(t).some((m) => takesContext(m.fn)) });
    table = t;
    compiled.set(def, table);
  }
  return table;
}

/**
 * Whether the actor type of `table` needs a `ctx` for its handlers: false when none of them can
 * see a third argument (see takesContext), and its incarnations then carry no context.
 */
export function typeTakesContext(table: BoundTable): boolean {
  return (table as { readonly [TAKES_CONTEXT]?: boolean })[TAKES_CONTEXT] === true;
}
