import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { ActorNotFound, type ActorSystem, InvalidArgument, InvalidMessage, isHoldfastError } from '@holdfast/core';

/**
 * The debug endpoint: a Unix socket (mode 0600) speaking JSON lines. Each request is one line,
 * `{"id": 1, "cmd": "actors", "args": {...}}`; each answer is one line, `{"id": 1, "ok": true,
 * "result": ...}` or `{"id": 1, "ok": false, "error": {"code", "message", "details"}}`. A `trace`
 * subscription sends `{"trace": <id>, "event": ...}` lines until `untrace` or the connection ends.
 * See docs/reference/debug-protocol.md.
 */
export async function startDebugServer(path: string, system: ActorSystem): Promise<{ path: string; close(): Promise<void> }> {
  removeStaleSocket(path);
  const connections = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    connections.add(socket);
    const session = new Session(system, (line) => {
      if (!socket.destroyed) socket.write(`${line}\n`);
    });
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line.length > 0) void session.handle(line);
      }
      if (buffer.length > 1_000_000) socket.destroy(new Error('request line too long'));
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      connections.delete(socket);
      session.close();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of connections) s.destroy();
        server.close(() => {
          removeStaleSocket(path);
          resolve();
        });
      }),
  };
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Not there: nothing to remove.
  }
}

interface Request {
  readonly id?: unknown;
  readonly cmd?: unknown;
  readonly args?: Record<string, unknown>;
}

const COMMANDS = {
  help: 'this list',
  actors: '{ filter? }: every live actor (id, type, steward, status, mailbox, turns, restarts, …)',
  tree: 'the supervision tree',
  state: '{ id }: one actor with its state (as its inspect() renders it) and restart history',
  ask: '{ id, message, input, timeoutMs? }: ask and wait for the reply (input checked first)',
  tell: '{ id, message, input }: tell (input checked first; nothing is sent when it is invalid)',
  restart: '{ id }: restart an actor (not counted against its limit)',
  stop: '{ id }: stop an actor for good',
  stats: "the system's counters",
  trace: '{ id? }: stream lifecycle events and dead letters (of one actor, or all)',
  untrace: '{ trace }: end a trace',
} as const;

/** One connection's requests. */
class Session {
  readonly #traces = new Map<number, () => void>();
  #nextTrace = 0;

  constructor(
    readonly system: ActorSystem,
    readonly send: (line: string) => void,
  ) {}

  async handle(line: string): Promise<void> {
    let req: Request;
    try {
      req = JSON.parse(line) as Request;
    } catch {
      this.send(JSON.stringify({ id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'not a JSON line' } }));
      return;
    }
    const id = req.id ?? null;
    try {
      const result = await this.#run(String(req.cmd), req.args ?? {});
      this.send(stringify({ id, ok: true, result }));
    } catch (e) {
      this.send(stringify({ id, ok: false, error: serialise(e) }));
    }
  }

  close(): void {
    for (const off of this.#traces.values()) off();
    this.#traces.clear();
  }

  async #run(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    const system = this.system;
    switch (cmd) {
      case 'help':
        return COMMANDS;
      case 'actors': {
        const filter = typeof args.filter === 'string' ? args.filter : '';
        return system.actors().filter((a) => filter === '' || a.id.includes(filter) || a.type.includes(filter));
      }
      case 'tree':
        return system.tree();
      case 'stats':
        return system.stats();
      case 'state':
        return system.inspect(this.#id(args));
      case 'ask': {
        const ref = this.#ref(args);
        const timeoutMs = args.timeoutMs === undefined ? undefined : Number(args.timeoutMs);
        return ref.ask(String(args.message) as never, args.input as never, timeoutMs === undefined ? undefined : { timeoutMs });
      }
      case 'tell': {
        const ref = this.#ref(args);
        const message = String(args.message);
        const spec = Object.hasOwn(ref.protocol.messages, message) ? ref.protocol.messages[message] : undefined;
        if (spec === undefined) {
          throw new InvalidMessage(
            { actor: ref.id, message, issues: [{ path: [], message: `unknown message '${message}'` }] },
            `actor '${ref.id}' has no message '${message}'`,
          );
        }
        const r = spec.input.safeParse(args.input);
        if (!r.success) throw new InvalidMessage({ actor: ref.id, message, issues: r.error.issues });
        ref.tell(message as never, args.input as never);
        return null;
      }
      case 'restart':
        await system.restart(this.#id(args));
        return null;
      case 'stop':
        await system.stop(this.#id(args));
        return null;
      case 'trace': {
        const only = typeof args.id === 'string' ? args.id : null;
        const trace = ++this.#nextTrace;
        const push = (kind: string, event: { actor: string }) => {
          if (only === null || event.actor === only) this.send(stringify({ trace, kind, event }));
        };
        const offEvents = system.events.subscribe((e) => push('event', e));
        const offLetters = system.deadLetters.subscribe((d) => push('dead-letter', d));
        this.#traces.set(trace, () => {
          offEvents();
          offLetters();
        });
        return { trace };
      }
      case 'untrace': {
        const trace = Number(args.trace);
        const off = this.#traces.get(trace);
        if (off === undefined) throw new InvalidArgument(`no trace ${args.trace}`);
        off();
        this.#traces.delete(trace);
        return null;
      }
      default:
        throw new InvalidArgument(`unknown command '${cmd}'; try 'help'`);
    }
  }

  #id(args: Record<string, unknown>): string {
    if (typeof args.id !== 'string' || args.id.length === 0) throw new InvalidArgument("'id' must be an actor id");
    return args.id;
  }

  #ref(args: Record<string, unknown>) {
    const id = this.#id(args);
    const ref = this.system.lookup(id);
    if (ref === undefined) throw new ActorNotFound(id);
    return ref;
  }
}

function serialise(e: unknown): { code: string; message: string; details?: unknown } {
  if (isHoldfastError(e)) {
    const j = e.toJSON();
    return { code: j.code, message: j.message, ...(j.details === undefined ? {} : { details: j.details }) };
  }
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** JSON with errors as plain objects and no cycles or bigints to trip over. */
function stringify(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) return isHoldfastError(v) ? v.toJSON() : { name: v.name, message: v.message };
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[cycle]';
      seen.add(v);
    }
    return v;
  });
}
