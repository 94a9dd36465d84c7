// One TCP destination (a carbon receiver), owned by one actor: the connection, the lines waiting
// for it, and its counters. Socket events come back to the owner as messages, so only its turns
// touch the state.
import net from 'node:net';
import { type ActorRef, defineActor, defineProtocol } from '@holdfast/core';
import { z } from 'zod';

export const DestinationProtocol = defineProtocol('relay-destination', {
  /** Lines to forward (each without its `\n`). */
  send: { input: z.object({ lines: z.array(z.string()) }) },
  /** The socket of attempt `attempt` connected. */
  connected: { input: z.object({ attempt: z.number().int() }) },
  /** The socket of attempt `attempt` closed or failed. */
  lost: { input: z.object({ attempt: z.number().int(), error: z.string().nullable() }) },
  /** Try to connect again (scheduled after a loss, with backoff). */
  reconnect: { input: z.object({}) },
  /** No route uses this destination any more: write what is queued, then stop. */
  retire: { input: z.object({}) },
  stats: {
    input: z.object({}),
    reply: z.object({ address: z.string(), connected: z.boolean(), sent: z.number(), dropped: z.number(), waiting: z.number() }),
  },
});

export interface DestinationArgs {
  readonly address: string;
  /** Lines kept while disconnected; beyond this the oldest are dropped (and counted). */
  readonly maxWaiting: number;
  /** Bytes written but not yet taken by the kernel; beyond this new lines are dropped (and counted). */
  readonly maxBufferedBytes: number;
  /** Reconnect backoff: first and largest delay. */
  readonly reconnectMs: { readonly min: number; readonly max: number };
  /**
   * At stop: how long to keep trying to connect for the lines still waiting, and then to flush
   * the socket (keep it under the actor's stop timeout).
   */
  readonly lastChanceMs: number;
}

interface DestinationState {
  readonly args: DestinationArgs;
  readonly host: string;
  readonly port: number;
  socket: net.Socket | null;
  /** Which connection attempt `socket` is (events of older ones are ignored). */
  attempt: number;
  connected: boolean;
  /** Lines waiting for a connection, oldest first. */
  waiting: string[];
  sent: number;
  dropped: number;
  delayMs: number;
}

// Attempts are numbered across incarnations: a restarted actor must not take the events of its
// predecessor's socket for its own.
let attempts = 0;

function connect(s: DestinationState, self: ActorRef<typeof DestinationProtocol>): void {
  const attempt = ++attempts;
  s.attempt = attempt;
  const socket = net.connect({ host: s.host, port: s.port });
  socket.setNoDelay(true);
  s.socket = socket;
  s.connected = false;
  let error: string | null = null;
  socket.on('connect', () => self.tell('connected', { attempt }));
  socket.on('error', (e) => {
    error = e.message;
  });
  socket.on('close', () => self.tell('lost', { attempt, error }));
  // A receiver never talks back; whatever it sends is read and ignored.
  socket.resume();
}

function write(s: DestinationState, lines: readonly string[]): void {
  const socket = s.socket as net.Socket;
  if (socket.writableLength > s.args.maxBufferedBytes) {
    s.dropped += lines.length;
    return;
  }
  socket.write(`${lines.join('\n')}\n`);
  s.sent += lines.length;
}

function keep(s: DestinationState, lines: readonly string[]): void {
  // One at a time: a spread of a large batch could exceed the engine's argument limit.
  for (const line of lines) s.waiting.push(line);
  const over = s.waiting.length - s.args.maxWaiting;
  if (over > 0) {
    s.waiting.splice(0, over);
    s.dropped += over;
  }
}

/** A connected socket to host:port, trying every `everyMs` for up to `ms`; null if none. */
async function connectWithin(host: string, port: number, ms: number, everyMs: number): Promise<net.Socket | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const socket = net.connect({ host, port });
    const up = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.once('error', () => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (up) {
      socket.resume();
      return socket;
    }
    socket.destroy();
    if (Date.now() + everyMs >= deadline) return null;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Ends the socket once what was written has been flushed, within `ms`. True when it was. */
function endWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.end(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * A carbon destination. Lines sent while it is disconnected wait (up to `maxWaiting`) and go out
 * when it reconnects; on stop it writes what it holds and ends the connection, so that a drain
 * loses nothing it had accepted while the receiver is reachable.
 */
export const Destination = defineActor(DestinationProtocol, {
  init: (args: DestinationArgs): DestinationState => {
    const colon = args.address.lastIndexOf(':');
    return {
      args,
      host: args.address.slice(0, colon),
      port: Number(args.address.slice(colon + 1)),
      socket: null,
      attempt: 0,
      connected: false,
      waiting: [],
      sent: 0,
      dropped: 0,
      delayMs: args.reconnectMs.min,
    };
  },
  onStart(s, ctx) {
    connect(s, ctx.self);
  },
  async onStop(s, ctx) {
    let socket = s.socket;
    s.socket = null;
    // Lines still waiting for a connection get one more chance, while the stop allows.
    if (!s.connected && s.waiting.length > 0) {
      socket?.destroy();
      socket = await connectWithin(s.host, s.port, s.args.lastChanceMs, s.args.reconnectMs.min);
      if (socket !== null) {
        socket.write(`${s.waiting.join('\n')}\n`);
        s.sent += s.waiting.length;
        s.waiting = [];
      }
    }
    const flushed = socket === null ? false : await endWithin(socket, s.args.lastChanceMs);
    if (s.waiting.length > 0 || !flushed) {
      ctx.log.error({ destination: s.args.address, lost: s.waiting.length, flushed }, 'stopped with lines the destination did not take');
    } else {
      ctx.log.info({ destination: s.args.address, sent: s.sent, dropped: s.dropped }, 'destination closed');
    }
  },
  handlers: {
    send(s, { lines }) {
      if (s.connected) write(s, lines);
      else keep(s, lines);
    },
    connected(s, { attempt }, ctx) {
      if (attempt !== s.attempt) return;
      s.connected = true;
      s.delayMs = s.args.reconnectMs.min;
      if (s.waiting.length > 0) {
        const lines = s.waiting;
        s.waiting = [];
        write(s, lines);
      }
      ctx.log.info({ destination: s.args.address }, 'connected');
    },
    lost(s, { attempt, error }, ctx) {
      if (attempt !== s.attempt) return;
      const wasConnected = s.connected;
      s.connected = false;
      s.socket = null;
      ctx.log.warn({ destination: s.args.address, error, retryInMs: s.delayMs }, wasConnected ? 'connection lost' : 'cannot connect');
      ctx.schedule('reconnect', {}, { afterMs: s.delayMs });
      s.delayMs = Math.min(s.delayMs * 2, s.args.reconnectMs.max);
    },
    reconnect(s, _input, ctx) {
      if (s.socket === null) connect(s, ctx.self);
    },
    retire(_s, _input, ctx) {
      ctx.stop();
    },
    stats(s) {
      return { address: s.args.address, connected: s.connected, sent: s.sent, dropped: s.dropped, waiting: s.waiting.length };
    },
  },
});
