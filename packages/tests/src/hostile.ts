// Hostile clients, at the byte level: what a test sends when it means to hurt a service.
import net from 'node:net';

/** What came back on one connection. */
export interface RawResult {
  /** The status of the first answer, or 0 when none came. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body of the first answer. */
  readonly body: string;
  /** The server ended the connection. */
  readonly closed: boolean;
  /** A socket error the client saw (ECONNRESET, EPIPE), or null. */
  readonly error: string | null;
}

function endpoint(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) };
}

/**
 * Open a connection to `url`, let `write` send what it likes (it may take its time), and collect
 * the first answer; resolves when the server closes the connection, when a whole answer has come
 * and `write` is done, or after `waitMs`.
 */
export function rawExchange(url: string, write: (socket: net.Socket) => Promise<void> | void, waitMs = 5_000): Promise<RawResult> {
  const { host, port } = endpoint(url);
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    let out = Buffer.alloc(0);
    let closed = false;
    let error: string | null = null;
    let writing = true;
    let done = false;
    const parse = () => {
      const text = out.toString('latin1');
      const at = text.indexOf('\r\n\r\n');
      if (at < 0) return null;
      const [statusLine = '', ...lines] = text.slice(0, at).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
      const body = out.subarray(Buffer.byteLength(text.slice(0, at + 4), 'latin1'));
      const complete = length !== null && body.length >= length;
      return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body: body.subarray(0, length ?? body.length).toString('utf8'), complete };
    };
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const p = parse();
      resolve({ status: p?.status ?? 0, headers: p?.headers ?? {}, body: p?.body ?? '', closed, error });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d: Buffer) => {
      out = Buffer.concat([out, d]);
      if (!writing && parse()?.complete) setTimeout(finish, 30);
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('close', finish);
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.once('connect', () => {
      Promise.resolve(write(socket)).then(
        () => {
          writing = false;
          if (parse()?.complete) setTimeout(finish, 30);
        },
        () => {
          writing = false;
        },
      );
    });
  });
}

/** Send `bytes` as they are, at once. */
export function sendRaw(url: string, bytes: string | Buffer, waitMs?: number): Promise<RawResult> {
  return rawExchange(
    url,
    (s) => {
      s.write(bytes);
    },
    waitMs,
  );
}

/**
 * Write `total` bytes after `head`, in chunks, as fast as the server takes them; stops when the
 * server stops reading, closes, or answers (as an HTTP client does when the answer comes early).
 */
export function sendBig(url: string, head: string, total: number, chunked: boolean, waitMs = 30_000): Promise<RawResult> {
  return rawExchange(
    url,
    async (s) => {
      s.write(head);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const frame = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk;
      let answered = false;
      s.once('data', () => {
        answered = true;
      });
      for (let sent = 0; sent < total && !answered && !s.destroyed && s.writable; sent += chunk.length) {
        if (!s.write(frame)) {
          const ok = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(false), 2_000);
            s.once('drain', () => {
              clearTimeout(t);
              resolve(true);
            });
            s.once('close', () => {
              clearTimeout(t);
              resolve(false);
            });
          });
          // The server stopped reading: it is not buffering what we send.
          if (!ok) return;
        }
      }
    },
    waitMs,
  );
}

/** Send `text` a byte at a time, one every `everyMs` (a slow client). */
export function trickle(url: string, text: string, everyMs: number, waitMs: number): Promise<RawResult> {
  return rawExchange(
    url,
    async (s) => {
      for (const ch of text) {
        if (s.destroyed) return;
        s.write(ch);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    },
    waitMs,
  );
}

/** Open `n` connections that send nothing; resolves with them once all are open (or refused). */
export async function idleConnections(url: string, n: number): Promise<net.Socket[]> {
  const { host, port } = endpoint(url);
  const sockets: net.Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, n - i) }, () => {
        const s = net.connect(port, host);
        s.on('error', () => {});
        // Flowing, so that the server's end of the connection is seen (readableEnded).
        s.resume();
        sockets.push(s);
        return new Promise<void>((resolve) => {
          s.once('connect', () => resolve());
          s.once('close', () => resolve());
        });
      }),
    );
  }
  return sockets;
}

/** An HTTP/1.1 request's text. */
export function request(method: string, target: string, headers: Record<string, string | number> = {}, body = ''): string {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: test', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (body !== '' && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding')) {
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
