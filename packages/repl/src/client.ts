import net from 'node:net';
import { z } from 'zod';
import { ClientError, RemoteError } from './errors.js';
import { type ArgsOf, type CommandName, Commands, type HelloResult, PROTOCOL_VERSION, Response, type ResultOf, TracePush, type WireError } from './protocol.js';

/** Where the service's debug endpoint is: a Unix socket, or a loopback TCP port with a token. */
export type Endpoint = { readonly socket: string } | { readonly host: string; readonly port: number; readonly token: string };

/**
 * A connection to a running service's debug endpoint. `connect` says hello (version, and the
 * token over TCP) before it resolves.
 *
 * @example
 * ```ts
 * const client = await DebugClient.connect({ socket: '/tmp/holdfast-0/kv.sock' });
 * console.log(await client.call('actors', {}));
 * client.close();
 * ```
 */
export class DebugClient {
  readonly #socket: net.Socket;
  readonly #waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly #pushListeners = new Set<(push: TracePush) => void>();
  #next = 0;
  #buffer = '';
  #closedError: Error | null = null;
  hello!: HelloResult;
  /** Resolves when the connection is gone. */
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.#receive(chunk));
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#closedError ??= new ClientError('NOT_CONNECTED', 'the service closed the debug connection');
        for (const w of this.#waiting.values()) w.reject(this.#closedError);
        this.#waiting.clear();
        resolve();
      });
    });
    socket.on('error', (e) => {
      this.#closedError = e;
    });
  }

  /** Connect and say hello. Rejects when the endpoint cannot be reached or refuses us. */
  static async connect(endpoint: Endpoint, clientName = 'holdfast-repl'): Promise<DebugClient> {
    const allowed = 'socket' in endpoint ? ['socket'] : ['host', 'port', 'token'];
    const unknown = Object.keys(endpoint).find((k) => !allowed.includes(k));
    if (unknown !== undefined)
      throw new ClientError('USAGE', `DebugClient.connect: unknown option '${unknown}'; an endpoint is { socket } or { host, port, token }`);
    const socket = 'socket' in endpoint ? net.createConnection(endpoint.socket) : net.createConnection(endpoint.port, endpoint.host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new DebugClient(socket);
    const token = 'token' in endpoint ? endpoint.token : undefined;
    client.hello = await client.call('hello', { version: PROTOCOL_VERSION, client: clientName, ...(token === undefined ? {} : { token }) });
    return client;
  }

  /**
   * Send a command; resolves with its result, checked against the protocol's schema for it, or
   * rejects with a {@link RemoteError} (the service's error) or a `ClientError`.
   */
  call<C extends CommandName>(cmd: C, ...rest: {} extends ArgsOf<C> ? [args?: ArgsOf<C>] : [args: ArgsOf<C>]): Promise<ResultOf<C>> {
    if (this.#closedError !== null || this.#socket.destroyed) return Promise.reject(this.#closedError ?? new ClientError('NOT_CONNECTED', 'not connected'));
    const id = ++this.#next;
    const schema = Commands[cmd].result as z.ZodType<ResultOf<C>>;
    return new Promise<unknown>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#socket.write(`${JSON.stringify({ id, cmd, args: rest[0] ?? {} })}\n`);
    }).then((result) => {
      const r = schema.safeParse(result);
      if (!r.success) throw new ClientError('BAD_RESPONSE', `the service's answer to '${cmd}' is not what the protocol says: ${z.prettifyError(r.error)}`);
      return r.data;
    });
  }

  /** Receive trace lines; returns the function that stops. */
  onPush(listener: (push: TracePush) => void): () => void {
    this.#pushListeners.add(listener);
    return () => this.#pushListeners.delete(listener);
  }

  close(): void {
    this.#socket.end();
    this.#socket.destroy();
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    for (let nl = this.#buffer.indexOf('\n'); nl >= 0; nl = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        continue;
      }
      const push = TracePush.safeParse(message);
      if (push.success) {
        for (const l of this.#pushListeners) l(push.data);
        continue;
      }
      const response = Response.safeParse(message);
      if (!response.success) continue;
      const r = response.data;
      const waiter = typeof r.id === 'number' ? this.#waiting.get(r.id) : undefined;
      if (waiter === undefined) {
        // An answer to no request: the server refused the connection (a bad token, a frame too large).
        if (!r.ok) this.#closedError = remoteError(r.error);
        continue;
      }
      this.#waiting.delete(r.id as number);
      if (r.ok) waiter.resolve(r.result);
      else waiter.reject(remoteError(r.error));
    }
  }
}

function remoteError(e: WireError): RemoteError {
  return new RemoteError(e.code, e.message, e.details);
}
