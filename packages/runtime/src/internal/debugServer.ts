import { chmodSync, closeSync, fchmodSync, constants as fsConstants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { ActorNotFound, type ActorSystem, HoldfastError, InvalidArgument, isHoldfastError, type LifecycleEvent } from '@holdfast/core';
import {
  COMMAND_NAMES,
  CommandArgs,
  type CommandName,
  Commands,
  MAX_CONNECTIONS,
  MAX_LINE_BYTES,
  MAX_TRACES,
  MAX_TRACES_PER_CONNECTION,
  PROTOCOL_VERSION,
  ProtocolError,
  Request,
} from '@holdfast/repl/protocol';
import { RuntimeError } from '../errors.js';
import { jsonLine as stringify } from './jsonLine.js';
import { LineReader } from './LineReader.js';

/** How the debug endpoint listens. */
export interface DebugOptions {
  /** The Unix socket's path, or null for none. */
  readonly socket: string | null;
  /** A loopback TCP listener (host and port) and the token a client must present, or null. */
  readonly tcp: { readonly host: string; readonly port: number; readonly token: string } | null;
  /** Whether `eval` may run code in the service. */
  readonly allowEval: boolean;
  readonly service: string;
}

/**
 * The directory for debug sockets: `holdfast-<uid>` in the temp directory, mode 0700, owned by
 * this user. It is made without following links and checked with `lstat`: another local user
 * who plants a symbolic link or a directory of their own there gets a refusal, never a chmod of
 * their target or our sockets in their directory. (The temp directory is sticky, so a directory
 * of ours there cannot be renamed or replaced by anyone else afterwards.)
 */
export function privateSocketDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : null;
  const dir = join(os.tmpdir(), `holdfast-${uid ?? 'user'}`);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new RuntimeError(
      'UNSAFE_SOCKET_DIR',
      `${dir} is not a directory (it is a ${st.isSymbolicLink() ? 'symbolic link' : 'file'}): refusing to use it; remove it, or choose a --debug-socket path`,
      { dir },
    );
  }
  if (uid !== null && st.uid !== uid)
    throw new RuntimeError('UNSAFE_SOCKET_DIR', `${dir} belongs to another user (uid ${st.uid}): refusing to use it; choose a --debug-socket path`, { dir });
  if ((st.mode & 0o777) !== 0o700) {
    // Tighten it through a descriptor opened without following links, checked to be the same directory.
    const fd = openSync(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY | fsConstants.O_NOFOLLOW);
    try {
      const opened = fstatSync(fd);
      if (opened.ino !== st.ino || opened.dev !== st.dev)
        throw new RuntimeError('UNSAFE_SOCKET_DIR', `${dir} changed while it was being checked: refusing to use it`, { dir });
      fchmodSync(fd, 0o700);
    } finally {
      closeSync(fd);
    }
  }
  return dir;
}

/**
 * Remove the debug sockets in `dir` whose process is gone, and return the others, by name
 * (`<service>-<pid>.sock`). A service killed with SIGKILL cannot remove its own socket. Only
 * sockets are ever removed (checked with `lstat`): a file or link with a socket's name is left.
 */
export function pruneServiceSockets(dir: string): string[] {
  const live: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = /-(\d+)\.sock$/.exec(name);
    if (m === null) continue;
    const path = join(dir, name);
    let isSocket = false;
    try {
      isSocket = lstatSync(path).isSocket();
    } catch {
      continue; // Removed by another client at the same moment.
    }
    if (!isSocket) continue;
    if (processAlive(Number(m[1]))) {
      live.push(name);
    } else {
      try {
        unlinkSync(path);
      } catch {
        // Removed by another client at the same moment: fine.
      }
    }
  }
  return live.sort();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user (not ours to judge).
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A class of error the protocol reports with its own code. */
class ProtocolFailure extends HoldfastError<string, unknown> {
  constructor(code: string, message: string, details?: unknown) {
    super(code, message, details);
  }
}

/**
 * The debug endpoint: JSON lines over a Unix socket (mode 0600, in a 0700 directory) and, when
 * asked for, over a loopback TCP port where the first request must be `hello` with the token.
 * Requests are checked against the protocol's zod schemas (`@holdfast/repl/protocol`).
 */
export async function startDebugServer(
  system: ActorSystem,
  options: DebugOptions,
): Promise<{ socket: string | null; tcp: string | null; close(): Promise<void> }> {
  const connections = new Set<net.Socket>();
  const recent: Array<Record<string, unknown>> = [];
  const offRecent = system.events.subscribe((e) => {
    recent.push(wire(e));
    if (recent.length > 500) recent.shift();
  });
  const traces: TraceBudget = { open: 0 };
  const serve = (needsToken: boolean) => (socket: net.Socket) => {
    connections.add(socket);
    let inFlight = 0;
    // Read requests only while their answers are being taken: a client that never reads stops
    // being read from, and the service's memory for it stays bounded.
    const flow = () => {
      if (socket.destroyed) return;
      if (inFlight < MAX_IN_FLIGHT && socket.writableLength < HIGH_WATER_BYTES) socket.resume();
      else socket.pause();
    };
    const session = new Session(system, options, recent, needsToken, traces, {
      write: (line) => {
        if (!socket.destroyed) socket.write(`${line}\n`);
      },
      congested: () => socket.writableLength >= HIGH_WATER_BYTES,
    });
    // Over TCP, a client that has not said hello with the token soon is not kept.
    const helloTimer = needsToken ? setTimeout(() => session.authorised || socket.destroy(), HELLO_TIMEOUT_MS) : null;
    helloTimer?.unref();
    const lines = new LineReader(MAX_LINE_BYTES);
    socket.on('data', (chunk: Buffer) => {
      const got = lines.push(chunk);
      for (const line of got) {
        inFlight++;
        void session.handle(line).then((keep) => {
          inFlight--;
          if (!keep) socket.end();
          flow();
        });
      }
      if (lines.overflowed) {
        session.sendError(null, ProtocolError.FRAME_TOO_LARGE, `a request line is limited to ${MAX_LINE_BYTES} bytes`);
        socket.end();
        socket.destroySoon();
        return;
      }
      flow();
    });
    socket.on('drain', () => {
      session.reportDropped();
      flow();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (helloTimer !== null) clearTimeout(helloTimer);
      connections.delete(socket);
      session.close();
    });
  };
  const servers: net.Server[] = [];
  let socketPath: string | null = null;
  if (options.socket !== null) {
    removeStaleSocket(options.socket);
    const server = net.createServer(serve(false));
    server.maxConnections = MAX_CONNECTIONS;
    await listen(server, (cb) => server.listen(options.socket as string, cb));
    chmodSync(options.socket, 0o600);
    socketPath = options.socket;
    servers.push(server);
  }
  let tcp: string | null = null;
  if (options.tcp !== null) {
    const { host, port } = options.tcp;
    const server = net.createServer(serve(true));
    server.maxConnections = MAX_CONNECTIONS;
    await listen(server, (cb) => server.listen(port, host, cb));
    const addr = server.address() as net.AddressInfo;
    tcp = `${addr.address}:${addr.port}`;
    servers.push(server);
  }
  return {
    socket: socketPath,
    tcp,
    close: async () => {
      offRecent();
      for (const s of connections) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      if (socketPath !== null) removeStaleSocket(socketPath);
    },
  };
}

function listen(server: net.Server, start: (cb: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    start(() => {
      server.off('error', reject);
      resolve();
    });
  });
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Not there: nothing to remove.
  }
}

const HELP: Record<CommandName, string> = Object.fromEntries(COMMAND_NAMES.map((c) => [c, Commands[c].help])) as Record<CommandName, string>;

/** Unsent output past which a connection stops being read and its trace lines are dropped. */
const HIGH_WATER_BYTES = 1024 * 1024;
/** Requests of one connection being handled at once; past it, the connection stops being read. */
const MAX_IN_FLIGHT = 64;
/** How long a TCP client has to say hello with the token. */
const HELLO_TIMEOUT_MS = 10_000;

/** Traces open over all connections (capped at `MAX_TRACES`). */
interface TraceBudget {
  open: number;
}

/** Where a session writes its lines. */
interface Output {
  write(line: string): void;
  /** The client is not taking what was written: push lines (traces) are dropped, not buffered. */
  congested(): boolean;
}

/** One connection's requests. */
class Session {
  readonly #traces = new Map<number, () => void>();
  /** Trace lines left out while the client was congested, by trace. */
  readonly #dropped = new Map<number, number>();
  #nextTrace = 0;
  #authorised: boolean;

  constructor(
    readonly system: ActorSystem,
    readonly options: DebugOptions,
    readonly recent: ReadonlyArray<Record<string, unknown>>,
    needsToken: boolean,
    readonly budget: TraceBudget,
    readonly out: Output,
  ) {
    this.#authorised = !needsToken;
  }

  get authorised(): boolean {
    return this.#authorised;
  }

  send(line: string): void {
    this.out.write(line);
  }

  /** A trace line: sent, or counted as dropped while the client is congested. */
  push(trace: number, line: () => string): void {
    if (this.out.congested()) {
      this.#dropped.set(trace, (this.#dropped.get(trace) ?? 0) + 1);
      return;
    }
    this.out.write(line());
  }

  /** Tell the client how many trace lines it missed (once it reads again). */
  reportDropped(): void {
    for (const [trace, count] of this.#dropped) {
      if (this.#traces.has(trace)) this.out.write(stringify({ trace, kind: 'dropped', event: { count } }));
    }
    this.#dropped.clear();
  }

  sendError(id: unknown, code: string, message: string, details?: unknown): void {
    this.send(stringify({ id: id ?? null, ok: false, error: { code, message, ...(details === undefined ? {} : { details }) } }));
  }

  /** Handle one line; false when the connection must close (refused). */
  async handle(line: string): Promise<boolean> {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      this.sendError(null, ProtocolError.BAD_REQUEST, 'not a JSON line');
      return this.#authorised;
    }
    const req = Request.safeParse(raw);
    const id = (raw as { id?: unknown })?.id ?? null;
    if (!req.success) {
      this.sendError(id, ProtocolError.BAD_REQUEST, 'not a request of the debug protocol', { issues: req.error.issues });
      return this.#authorised;
    }
    const { cmd } = req.data;
    if (!this.#authorised && cmd !== 'hello') {
      this.sendError(id, ProtocolError.UNAUTHORIZED, 'say hello with the token first');
      return false;
    }
    const args = CommandArgs[cmd].safeParse(req.data.args);
    if (!args.success) {
      this.sendError(id, ProtocolError.BAD_REQUEST, `bad arguments for '${cmd}'`, { issues: args.error.issues });
      return true;
    }
    try {
      const result = await this.#run(cmd, args.data as Record<string, unknown>);
      // What goes out is what the protocol says (clients check it too): JSON first, as the client gets it.
      const line = stringify({ id, ok: true, result });
      const checked = Commands[cmd].result.safeParse((JSON.parse(line) as { result: unknown }).result);
      if (!checked.success) {
        this.sendError(id, 'INTERNAL', `the answer to '${cmd}' does not match the debug protocol`, { issues: checked.error.issues });
        return true;
      }
      this.send(line);
      return true;
    } catch (e) {
      if (e instanceof ProtocolFailure) {
        this.sendError(id, e.code, e.message, e.details);
        return e.code !== ProtocolError.UNAUTHORIZED && e.code !== ProtocolError.VERSION_MISMATCH;
      }
      const err = serialise(e);
      this.sendError(id, err.code, err.message, err.details);
      return true;
    }
  }

  close(): void {
    for (const off of this.#traces.values()) off();
    this.budget.open -= this.#traces.size;
    this.#traces.clear();
  }

  async #run(cmd: CommandName, args: Record<string, unknown>): Promise<unknown> {
    const system = this.system;
    switch (cmd) {
      case 'hello': {
        if (args.version !== PROTOCOL_VERSION)
          throw new ProtocolFailure(ProtocolError.VERSION_MISMATCH, `this service speaks protocol v${PROTOCOL_VERSION}, not v${args.version}`);
        if (!this.#authorised && args.token !== this.options.tcp?.token) throw new ProtocolFailure(ProtocolError.UNAUTHORIZED, 'wrong or missing token');
        this.#authorised = true;
        return { version: PROTOCOL_VERSION, service: this.options.service, pid: process.pid, eval: this.options.allowEval };
      }
      case 'help':
        return HELP;
      case 'actors': {
        const filter = (args.filter as string | undefined) ?? '';
        if (args.everywhere === true) return system.actorsEverywhere(filter);
        return system.actors().filter((a) => filter === '' || a.id.includes(filter) || a.type.includes(filter));
      }
      case 'nodes':
      case 'shards': {
        const view = system.cluster();
        if (view === null) throw new InvalidArgument('this service is not in a cluster (holdfast run --cluster nats://…)');
        return view;
      }
      case 'tree':
        return system.tree();
      case 'stats':
        return system.stats();
      case 'state':
        return system.inspect(await this.#ref(args.id as string));
      case 'describe': {
        const ref = await this.#ref(args.id as string);
        const messages = Object.entries(ref.protocol.messages as Record<string, { reply?: unknown }>).map(([name, spec]) => ({
          name,
          reply: spec.reply !== undefined,
        }));
        return { id: ref.id, type: ref.type, protocol: ref.protocol.name, messages };
      }
      case 'ask': {
        const ref = await this.#ref(args.id as string);
        const timeoutMs = args.timeoutMs as number | undefined;
        return ref.ask(args.message as never, args.input as never, timeoutMs === undefined ? undefined : { timeoutMs });
      }
      case 'tell': {
        // send, not tell: it rejects (INVALID_MESSAGE, MAILBOX_FULL, …) where a tell would make a dead letter.
        await (await this.#ref(args.id as string)).send(args.message as never, args.input as never);
        return null;
      }
      case 'restart':
        await system.restart(args.id as string);
        return null;
      case 'stop':
        await system.stop(args.id as string);
        return null;
      case 'passivate':
        return { passivated: await system.passivate(args.id as string) };
      case 'events': {
        const only = args.id as string | undefined;
        const limit = (args.limit as number | undefined) ?? 50;
        return this.recent.filter((e) => only === undefined || e.actor === only).slice(-limit);
      }
      case 'trace': {
        const only = (args.id as string | undefined) ?? null;
        if (only !== null) await this.#ref(only);
        if (this.#traces.size >= MAX_TRACES_PER_CONNECTION)
          throw new ProtocolFailure(ProtocolError.TOO_MANY_TRACES, `a connection may have ${MAX_TRACES_PER_CONNECTION} traces open; .untrace one first`);
        if (this.budget.open >= MAX_TRACES)
          throw new ProtocolFailure(ProtocolError.TOO_MANY_TRACES, `this service serves ${MAX_TRACES} traces at once over all its debug connections`);
        const trace = ++this.#nextTrace;
        const push = (kind: string, event: { actor: string }) => {
          if (only === null || event.actor === only)
            this.push(trace, () => stringify({ trace, kind, event: kind === 'event' ? wire(event as LifecycleEvent) : event }));
        };
        const offs = [system.events.subscribe((e) => push('event', e)), system.deadLetters.subscribe((d) => push('dead-letter', d))];
        const ids = only === null ? system.actors().map((a) => a.id) : [only];
        for (const id of ids) {
          try {
            offs.push(system.trace(id, (m) => push('message', m)));
          } catch {
            // Stopped meanwhile: nothing to trace.
          }
        }
        this.#traces.set(trace, () => {
          for (const off of offs) off();
        });
        this.budget.open++;
        return { trace };
      }
      case 'untrace': {
        const trace = args.trace as number;
        const off = this.#traces.get(trace);
        if (off === undefined) throw new InvalidArgument(`no trace ${trace}`);
        off();
        this.#traces.delete(trace);
        this.#dropped.delete(trace);
        this.budget.open--;
        return null;
      }
      case 'eval': {
        if (!this.options.allowEval)
          throw new ProtocolFailure(ProtocolError.EVAL_DISABLED, 'evaluation is off: start the service with --allow-eval to turn it on');
        const value = await vm.runInNewContext(args.code as string, { system, console }, { timeout: 5_000 });
        return typeof value === 'string' ? value : (stringify(value) ?? String(value));
      }
      default:
        cmd satisfies never;
        throw new InvalidArgument(`unknown command '${String(cmd)}'`);
    }
  }

  /** The actor `id`: awake, or a durable one woken from the store. */
  async #ref(id: string) {
    const ref = await this.system.find(id);
    if (ref === undefined) throw new ActorNotFound(id);
    return ref;
  }
}

/** A lifecycle event as the protocol carries it: with wall-clock time, errors as plain objects. */
function wire(e: LifecycleEvent): Record<string, unknown> {
  return { ...e, wall: Date.now() };
}

function serialise(e: unknown): { code: string; message: string; details?: unknown } {
  if (isHoldfastError(e)) {
    const j = e.toJSON();
    return { code: j.code, message: j.message, ...(j.details === undefined ? {} : { details: j.details }) };
  }
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}
