import type { DebugClient } from './client.js';
import { ClientError, RemoteError } from './errors.js';
import { ago, type Printer } from './format.js';
import { type CommandName, Commands as ProtocolCommands, type TracePush, type TreeActor, type TreeSteward } from './protocol.js';

/** A REPL command: its argument synopsis, and what it does (the protocol's help, or its own). */
interface Command {
  readonly usage: string;
  readonly help: string;
  /** What its arguments complete to: actor ids, then message names. */
  readonly completes?: 'actor' | 'actor-message';
  run(args: string): Promise<void>;
}

/** The REPL's commands: each is the protocol command of the same name, but `.untrace` (every trace) and `.exit`. */
export const REPL_USAGE = {
  actors: '[filter]',
  nodes: '',
  shards: '',
  tree: '',
  state: '<id>',
  ask: '<id> <message> [json]',
  tell: '<id> <message> [json]',
  trace: '[id]',
  untrace: '',
  restart: '<id>',
  stop: '<id>',
  passivate: '<id>',
  stats: '',
  events: '[id]',
  eval: '<code>',
} as const satisfies Partial<Record<CommandName, string>>;

/** The help of a REPL command: the protocol's, but where the REPL does something of its own. */
const replHelp = (name: keyof typeof REPL_USAGE): string => (name === 'untrace' ? 'stop every trace' : ProtocolCommands[name].help);

/** Every REPL command with its synopsis and help, as `holdfast repl --help` and `.help` list them. */
export function replCommands(): Array<{ command: string; help: string }> {
  return [
    ...(Object.keys(REPL_USAGE) as Array<keyof typeof REPL_USAGE>).map((name) => ({ command: `.${name} ${REPL_USAGE[name]}`.trim(), help: replHelp(name) })),
    { command: '.help', help: 'this list' },
    { command: '.exit', help: 'leave (or Ctrl-D)' },
  ];
}

/** The debug REPL's commands, over one connection. Used by the interactive REPL and by `--eval`. */
export class Commands {
  readonly #traces = new Map<number, string>();
  readonly table: Record<string, Command>;
  #offPush: (() => void) | null = null;

  #clustered: boolean | null = null;

  /** Whether the service runs in a cluster (asked once). */
  async #inCluster(): Promise<boolean> {
    if (this.#clustered === null) {
      this.#clustered = await this.client.call('nodes').then(
        () => true,
        () => false,
      );
    }
    return this.#clustered;
  }

  constructor(
    readonly client: DebugClient,
    readonly out: Printer,
  ) {
    const c = client;
    const out_ = out;
    this.table = {
      actors: {
        usage: REPL_USAGE.actors,
        help: replHelp('actors'),
        run: async (args) => {
          const filter = args.trim();
          const answer = await c.call('actors', { ...(filter !== '' && { filter }), everywhere: true });
          // A service of an older protocol answers with the rows alone.
          const { actors: rows, unreachable } = Array.isArray(answer) ? { actors: answer.map((r) => ({ ...r, node: '' })), unreachable: [] } : answer;
          const clustered = rows.some((r) => r.node !== rows[0]?.node) || unreachable.length > 0 || (await this.#inCluster());
          // For scripts: the rows (in a cluster, each with its node, and the nodes that did not answer).
          const json = clustered ? { actors: rows, unreachable } : rows.map(({ node: _, ...r }) => r);
          out_.result(json, () => {
            out_.table(
              [...(clustered ? ['node'] : []), 'id', 'type', 'steward', 'host', 'status', 'mailbox', 'turns', 'restarts', 'last turn'],
              rows.map((r) => [
                ...(clustered ? [r.node] : []),
                r.id,
                r.type,
                r.steward,
                r.host,
                r.status,
                String(r.mailbox),
                String(r.turns),
                String(r.restarts),
                ago(r.lastTurnAt),
              ]),
            );
            for (const u of unreachable) out_.line(out_.style('dim', `node ${u.node} did not answer: ${u.error}`));
          });
        },
      },
      nodes: {
        usage: REPL_USAGE.nodes,
        help: replHelp('nodes'),
        run: async () => {
          const view = await c.call('nodes');
          out_.result(view, () => {
            out_.line(`${out_.style('bold', view.node)} is ${view.status}; ${view.nodes.length} node(s) seen, ${view.shards} shards`);
            out_.table(
              ['node', 'shards', 'which'],
              view.nodes.map((n) => [n.self ? `${n.node} (this one)` : n.node, String(n.shards.length), ranges(n.shards)]),
            );
            if (view.unowned.length > 0) out_.line(out_.style('dim', `unowned (moving): ${ranges(view.unowned)}`));
          });
        },
      },
      shards: {
        usage: REPL_USAGE.shards,
        help: replHelp('shards'),
        run: async () => {
          const view = await c.call('shards');
          const owner = new Map<number, string>();
          for (const n of view.nodes) for (const s of n.shards) owner.set(s, n.node);
          const rows = Array.from({ length: view.shards }, (_, s) => [String(s), owner.get(s) ?? '(none: moving)']);
          out_.result(view, () => out_.table(['shard', 'node'], rows));
        },
      },
      tree: {
        usage: REPL_USAGE.tree,
        help: replHelp('tree'),
        run: async () => {
          const tree = await c.call('tree');
          out_.result(tree, () => this.#printTree(tree, '', true, true));
        },
      },
      state: {
        usage: REPL_USAGE.state,
        help: replHelp('state'),
        completes: 'actor',
        run: async (args) => {
          const snap = await c.call('state', { id: this.#one(args, '.state <id>') });
          out_.result(snap, () => {
            out_.line(`${out_.style('bold', snap.id)} (${snap.type}) ${snap.status}, incarnation ${snap.incarnation}`);
            out_.line(out_.value(snap.state));
            const d = snap.durable;
            if (d !== undefined) {
              out_.line(
                `${out_.style('dim', 'durable:')} revision ${d.revision}, schema version ${d.version}${d.storedVersion !== 0 && d.storedVersion !== d.version ? ` (stored at ${d.storedVersion})` : ''}, ${d.committing ? 'committing' : d.dirty ? 'changed, not committed yet' : 'committed'}${d.held > 0 ? `, ${d.held} outputs held` : ''}`,
              );
            }
            if (snap.history.length > 0) out_.line(`${out_.style('dim', 'restarts:')} ${out_.value(snap.history)}`);
          });
        },
      },
      ask: {
        usage: REPL_USAGE.ask,
        help: replHelp('ask'),
        completes: 'actor-message',
        run: async (args) => {
          const { id, message, input } = this.#messageArgs(args, '.ask <id> <message> [json]');
          const reply = await c.call('ask', { id, message, input });
          out_.result({ reply }, () => out_.line(out_.value(reply)));
        },
      },
      tell: {
        usage: REPL_USAGE.tell,
        help: replHelp('tell'),
        completes: 'actor-message',
        run: async (args) => {
          const { id, message, input } = this.#messageArgs(args, '.tell <id> <message> [json]');
          await c.call('tell', { id, message, input });
          out_.result({ sent: true }, () => out_.line(`sent ${message} to ${id}`));
        },
      },
      trace: {
        usage: REPL_USAGE.trace,
        help: replHelp('trace'),
        completes: 'actor',
        run: async (args) => {
          const id = args.trim();
          const { trace } = await c.call('trace', id === '' ? {} : { id });
          this.#traces.set(trace, id === '' ? '*' : id);
          this.#offPush ??= c.onPush((p) => this.#printPush(p));
          out_.result({ trace }, () => out_.line(out_.style('dim', `tracing ${id === '' ? 'every actor' : id} (trace ${trace}); .untrace stops`)));
        },
      },
      untrace: {
        usage: REPL_USAGE.untrace,
        help: replHelp('untrace'),
        run: async () => {
          for (const trace of this.#traces.keys()) await c.call('untrace', { trace });
          const n = this.#traces.size;
          this.#traces.clear();
          out_.result({ stopped: n }, () => out_.line(`stopped ${n} trace${n === 1 ? '' : 's'}`));
        },
      },
      restart: {
        usage: REPL_USAGE.restart,
        help: replHelp('restart'),
        completes: 'actor',
        run: async (args) => {
          const id = this.#one(args, '.restart <id>');
          await c.call('restart', { id });
          out_.result({ restarted: id }, () => out_.line(`restarted ${id}`));
        },
      },
      stop: {
        usage: REPL_USAGE.stop,
        help: replHelp('stop'),
        completes: 'actor',
        run: async (args) => {
          const id = this.#one(args, '.stop <id>');
          await c.call('stop', { id });
          out_.result({ stopped: id }, () => out_.line(`stopped ${id}`));
        },
      },
      passivate: {
        usage: REPL_USAGE.passivate,
        help: replHelp('passivate'),
        completes: 'actor',
        run: async (args) => {
          const id = this.#one(args, '.passivate <id>');
          const { passivated } = await c.call('passivate', { id });
          out_.result({ passivated }, () =>
            out_.line(passivated ? `${id} is asleep (its state is stored; its next message wakes it)` : `${id} stayed busy; try again`),
          );
        },
      },
      stats: {
        usage: REPL_USAGE.stats,
        help: replHelp('stats'),
        run: async () => {
          const stats = await c.call('stats');
          out_.result(stats, () =>
            out_.table(
              ['counter', 'value'],
              Object.entries(stats).flatMap(([k, v]) =>
                v !== null && typeof v === 'object' ? Object.entries(v).map(([dk, dv]) => [`${k}.${dk}`, String(dv)]) : [[k, String(v)]],
              ),
            ),
          );
        },
      },
      events: {
        usage: REPL_USAGE.events,
        help: replHelp('events'),
        completes: 'actor',
        run: async (args) => {
          const id = args.trim();
          const events = await c.call('events', id === '' ? {} : { id });
          out_.result(events, () => {
            for (const e of events) out_.line(this.#eventLine(e));
            if (events.length === 0) out_.line(out_.style('dim', '(no events)'));
          });
        },
      },
      eval: {
        usage: REPL_USAGE.eval,
        help: replHelp('eval'),
        run: async (args) => {
          const result = await c.call('eval', { code: args });
          out_.result({ result }, () => out_.line(String(result)));
        },
      },
    };
  }

  get names(): string[] {
    return Object.keys(this.table);
  }

  /** Run `.name args`; prints errors instead of throwing. Returns false when the command failed. */
  async execute(name: string, args: string): Promise<boolean> {
    const command = this.table[name];
    if (command === undefined) {
      this.out.error('UNKNOWN_COMMAND', `no command .${name}; .help lists them`);
      return false;
    }
    try {
      await command.run(args);
      return true;
    } catch (e) {
      if (e instanceof RemoteError) {
        if (e.code === 'EVAL_DISABLED') this.out.error(e.code, 'evaluation is off in this service: start it with --allow-eval to turn it on');
        else this.out.error(e.code, e.message, e.details);
      } else if (e instanceof UsageError) this.out.error('USAGE', e.message);
      else this.out.error('ERROR', e instanceof Error ? e.message : String(e));
      return false;
    }
  }

  /** `.help`: every command with its synopsis. */
  help(): void {
    const rows = replCommands().map((c) => [c.command, c.help]);
    this.out.result(Object.fromEntries(rows), () => this.out.table(['command', 'what it does'], rows));
  }

  /** Completions for a command line (actor ids, message names), with what they replace. */
  async complete(line: string): Promise<[string[], string]> {
    const m = /^\.(\w*)$/.exec(line);
    if (m !== null) {
      const all = [...this.names, 'help', 'exit'].map((n) => `.${n}`);
      const hits = all.filter((n) => n.startsWith(line));
      return [hits.length > 0 ? hits : all, line];
    }
    const parts = /^\.(\w+)\s+(\S*)(?:\s+(\S*))?$/.exec(line);
    if (parts === null) return [[], line];
    const command = this.table[parts[1] as string];
    if (command?.completes === undefined) return [[], line];
    const idPart = parts[2] as string;
    if (parts[3] === undefined) {
      const answer = await this.client.call('actors');
      const actors = Array.isArray(answer) ? answer : answer.actors;
      const ids = actors.map((a) => a.id).filter((id) => id.startsWith(idPart));
      return [ids, idPart];
    }
    if (command.completes !== 'actor-message') return [[], line];
    const d = await this.client.call('describe', { id: idPart }).catch(() => null);
    if (d === null) return [[], parts[3]];
    return [d.messages.map((x) => x.name).filter((n) => n.startsWith(parts[3] as string)), parts[3]];
  }

  #one(args: string, usage: string): string {
    const id = args.trim();
    if (id === '' || /\s/.test(id)) throw new UsageError(`usage: ${usage}`);
    return id;
  }

  #messageArgs(args: string, usage: string): { id: string; message: string; input: unknown } {
    const m = /^\s*(\S+)\s+(\S+)\s*([\s\S]*)$/.exec(args);
    if (m === null) throw new UsageError(`usage: ${usage}`);
    const raw = (m[3] as string).trim();
    let input: unknown = {};
    if (raw !== '') {
      try {
        input = JSON.parse(raw);
      } catch {
        throw new UsageError(`the input is not JSON: ${raw}`);
      }
    }
    return { id: m[1] as string, message: m[2] as string, input };
  }

  /** Called around a trace line that arrives while the prompt is shown (the REPL redraws it). */
  onAsyncOutput: { before(): void; after(): void } | null = null;

  #printPush(p: TracePush): void {
    this.onAsyncOutput?.before();
    try {
      this.#writePush(p);
    } finally {
      this.onAsyncOutput?.after();
    }
  }

  #writePush(p: TracePush): void {
    if (this.out.json) {
      this.out.line(JSON.stringify(p));
      return;
    }
    const e = p.event;
    if (p.kind === 'message') {
      const arrow = e.dir === 'in' ? this.out.style('cyan', '→') : this.out.style('green', '←');
      const body =
        e.kind === 'reply'
          ? this.out.value(e.value)
          : e.kind === 'error'
            ? this.out.style('red', `${(e.error as { code?: string })?.code ?? 'ERROR'}: ${(e.error as { message?: string })?.message ?? ''}`)
            : this.out.value(e.input);
      this.out.line(`${arrow} ${e.actor} ${e.kind} ${e.message} ${body}`);
    } else if (p.kind === 'event') {
      this.out.line(this.out.style('yellow', `• ${this.#eventLine(e)}`));
    } else if (p.kind === 'dropped') {
      this.out.line(this.out.style('red', `… ${String(e.count)} trace lines left out: this client read too slowly`));
    } else {
      this.out.line(this.out.style('magenta', `✉ dead letter to ${e.actor}: ${e.message} (${e.reason})`));
    }
  }

  #eventLine(e: Record<string, unknown>): string {
    const time = typeof e.wall === 'number' ? new Date(e.wall).toISOString().slice(11, 23) : '';
    const extra = ['reason', 'decision', 'incarnation', 'delayMs', 'to']
      .filter((k) => e[k] !== undefined)
      .map((k) => `${k}=${String(e[k])}`)
      .join(' ');
    return `${time} ${e.type} ${e.actor}${extra === '' ? '' : ` ${extra}`}`.trim();
  }

  #printTree(node: TreeSteward | TreeActor, prefix: string, last: boolean, root: boolean): void {
    const branch = root ? '' : last ? '└─ ' : '├─ ';
    if (node.kind === 'steward') {
      const limit = `${node.restartsInWindow}/${node.maxRestarts} restarts in ${node.withinMs} ms`;
      this.out.line(`${prefix}${branch}${this.out.style('bold', node.name)} [${node.strategy}, ${limit}] ${node.status}`);
    } else {
      this.out.line(`${prefix}${branch}${node.id} (${node.type}) ${node.status} #${node.incarnation}, ${node.restarts} restarts`);
    }
    const children = node.kind === 'steward' ? node.children : [];
    const next = root ? '' : `${prefix}${last ? '   ' : '│  '}`;
    for (let i = 0; i < children.length; i++) this.#printTree(children[i] as TreeSteward | TreeActor, next, i === children.length - 1, false);
  }
}

/** A command line the REPL cannot read: code `USAGE`. */
export class UsageError extends ClientError {
  constructor(message: string) {
    super('USAGE', message);
  }
  override get name() {
    return 'UsageError';
  }
}

/** `0-3, 7, 9-10`: a sorted list of shard numbers, short. */
export function ranges(shards: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < shards.length; ) {
    let j = i;
    while (j + 1 < shards.length && (shards[j + 1] as number) === (shards[j] as number) + 1) j++;
    out.push(i === j ? String(shards[i]) : `${shards[i]}-${shards[j]}`);
    i = j + 1;
  }
  return out.join(', ') || '-';
}
