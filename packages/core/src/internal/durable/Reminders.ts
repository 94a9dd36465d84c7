// Durable reminders, the system's side: the store is polled for reminders coming due, each is
// armed with a timer, and at its time its message is delivered to its actor (woken if asleep),
// marked as a reminder. A delivery is forgotten once the commit of the turn that handled it lands
// (the same commit removes the stored reminder); if that turn is lost, the next poll delivers it
// again — at least once. The actor's side is in cell/reminders.ts.
import type { TimerHandle } from '../../Clock.js';
import type { ActorDefinition } from '../../defineActor.js';
import { messageIn, Refused } from '../../defineProtocol.js';
import type { ReminderWrite, StoreSession } from '../../store.js';
import { tellQueued } from '../cell/admission.js';
import { reminderMessage } from '../cell/durable.js';
import type { BoundMessage } from '../cell/handlers.js';
import { GATE_REMOTE } from '../cell/parts.js';
import type { SystemCore } from '../SystemCore.js';
import { keyOf } from './Durability.js';

/** A delivered reminder whose turn has not committed after this long is delivered again. */
const REDELIVER_MS = 30_000;

export class Reminders {
  readonly core: SystemCore;
  readonly pollMs: number;
  /** Durable types by name: a reminder of a type is delivered once its definition is known here. */
  readonly types = new Map<string, ActorDefinition>();
  /** Reminders armed (due soon): key → timer. */
  readonly #armed = new Map<string, TimerHandle>();
  /** Reminders delivered and not yet removed by a commit: key → when (ms since the epoch). */
  readonly #firing = new Map<string, number>();
  #poll: TimerHandle | null = null;
  #polling = false;
  #closed = false;
  readonly #unknownTypes = new Set<string>();
  readonly #open: () => Promise<StoreSession>;
  readonly #failed: (what: string, e: unknown) => void;

  constructor(core: SystemCore, pollMs: number, open: () => Promise<StoreSession>, failed: (what: string, e: unknown) => void) {
    this.core = core;
    this.pollMs = pollMs;
    this.#open = open;
    this.#failed = failed;
  }

  /** A durable type in use: its reminders can be delivered. */
  register(def: ActorDefinition): void {
    if (this.types.get(def.name) !== def) this.types.set(def.name, def);
    if (this.#poll === null && !this.#polling && !this.#closed) this.#schedulePoll(0);
  }

  #schedulePoll(ms: number): void {
    this.#poll = this.core.clock.setTimeout(() => {
      this.#poll = null;
      void this.#pollOnce();
    }, ms);
    unref(this.#poll);
  }

  async #pollOnce(): Promise<void> {
    if (this.#closed) return;
    this.#polling = true;
    try {
      const session = await this.#open();
      const placement = this.core.placement;
      const due = await session.dueReminders(Date.now() + 2 * this.pollMs, 1_000, placement === null ? undefined : placement.writing());
      for (const r of due) this.#arm(r.type, r.id, r.name, r.at, r.message, r.input);
    } catch (e) {
      this.#failed('reminder poll', e);
    } finally {
      this.#polling = false;
      if (!this.#closed) this.#schedulePoll(this.pollMs);
    }
  }

  #arm(type: string, id: string, name: string, at: number, message: string, input: unknown): void {
    const key = `${keyOf(type, id)}\u0000${name}`;
    const fired = this.#firing.get(key);
    // Delivered and not committed yet: again only if its turn seems lost (at least once).
    if (fired !== undefined && Date.now() - fired < REDELIVER_MS) return;
    const old = this.#armed.get(key);
    if (old !== undefined) this.core.clock.clearTimeout(old);
    const timer = this.core.clock.setTimeout(
      () => {
        this.#armed.delete(key);
        this.#deliver(key, type, id, name, at, message, input);
      },
      Math.max(0, at - Date.now()),
    );
    unref(timer);
    this.#armed.set(key, timer);
  }

  #deliver(key: string, type: string, id: string, name: string, at: number, message: string, input: unknown): void {
    if (this.#closed || this.core.draining) return;
    const def = this.types.get(type);
    if (def === undefined) {
      if (!this.#unknownTypes.has(type)) {
        this.#unknownTypes.add(type);
        this.core.logger.warn(
          { type },
          'a reminder is due for a durable type this system has not used yet; it is delivered once system.ref() or durable.types names the type',
        );
      }
      return;
    }
    const target = this.core.wakeFor(def, id);
    // Asleep is fine; served by another node of the cluster is not ours to deliver: that node's poll does.
    if (target instanceof Error || (target.gate & GATE_REMOTE) !== 0) return;
    const msg = messageIn(target.table, message) as BoundMessage | undefined;
    const checked = msg?.checkInput(input);
    if (msg === undefined || checked instanceof Refused) {
      // A stored reminder the code no longer accepts: reported once per process, left stored.
      this.#firing.set(key, Number.POSITIVE_INFINITY);
      const error = new Error(
        msg === undefined
          ? `reminder '${name}' delivers '${message}', which is not a message of '${type}'`
          : `reminder '${name}': its stored input fails '${message}'`,
      );
      this.core.logger.error({ err: error, actor: id, type, reminder: name }, 'reminder cannot be delivered');
      this.core.emit({ type: 'error', actor: id, actorType: type, incarnation: 0, where: `reminder '${name}'`, error, at: this.core.clock.now() });
      return;
    }
    this.#firing.set(key, Date.now());
    tellQueued(target, reminderMessage(msg, name, at, key), checked);
  }

  /** A commit landed with reminders set or removed, and deliveries handled. */
  committed(type: string, id: string, ops: readonly ReminderWrite[] | null, delivered: readonly string[] | null): void {
    if (delivered !== null) for (const key of delivered) this.#firing.delete(key);
    if (ops === null) return;
    const horizon = Date.now() + 2 * this.pollMs;
    for (const op of ops) {
      const key = `${keyOf(type, id)}\u0000${op.name}`;
      const timer = this.#armed.get(key);
      if (timer !== undefined) {
        this.core.clock.clearTimeout(timer);
        this.#armed.delete(key);
      }
      if (op.at !== null && op.at < horizon) this.#arm(type, id, op.name, op.at, String(op.message), op.input);
    }
  }

  /** Deliveries whose turns were lost: the next poll delivers them again. */
  failed(keys: readonly string[]): void {
    for (const key of keys) this.#firing.delete(key);
  }

  close(): void {
    this.#closed = true;
    if (this.#poll !== null) this.core.clock.clearTimeout(this.#poll);
    this.#poll = null;
    for (const t of this.#armed.values()) this.core.clock.clearTimeout(t);
    this.#armed.clear();
  }
}

function unref(t: TimerHandle): void {
  (t as { unref?: () => void }).unref?.();
}
