import os from 'node:os';
import { join } from 'node:path';
import repl from 'node:repl';
import type { Readable, Writable } from 'node:stream';
import type { DebugClient } from './client.js';
import { Commands } from './commands.js';
import { Printer } from './format.js';

/** Options of {@link runRepl}. */
export interface ReplOptions {
  readonly input?: Readable;
  readonly output?: Writable;
  /** JSON lines instead of tables. */
  readonly json?: boolean;
  /** Where to keep the history (default `~/.holdfast_repl_history`; null keeps none). */
  readonly historyFile?: string | null;
}

/**
 * An interactive session on `client`: dot commands (`.actors`, `.tree`, `.state`, `.ask`, …),
 * history, and tab completion of commands, actor ids and message names. Resolves when the
 * session ends (`.exit`, Ctrl-D, or the service going away).
 */
export async function runRepl(client: DebugClient, options: ReplOptions = {}): Promise<void> {
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const tty = (output as { isTTY?: boolean }).isTTY === true;
  const printer = new Printer((t) => output.write(t), options.json ?? false, tty && !options.json);
  const commands = new Commands(client, printer);
  printer.line(
    `connected to ${printer.style('bold', client.hello.service)} (pid ${client.hello.pid}, protocol v${client.hello.version}); .help lists the commands`,
  );
  const server = repl.start({
    prompt: `${client.hello.service}> `,
    input,
    output,
    terminal: tty,
    useColors: tty,
    ignoreUndefined: true,
    completer: (line: string, callback: (err: Error | null, result: [string[], string]) => void) => {
      commands.complete(line).then(
        (r) => callback(null, r),
        () => callback(null, [[], line]),
      );
    },
    eval: (_cmd, _context, _file, callback) => {
      printer.line('commands start with a dot: .help lists them');
      callback(null, undefined);
    },
  });
  if (tty) {
    // A trace line arrives at any time: clear the prompt line, print, and draw the prompt again.
    commands.onAsyncOutput = {
      before: () => output.write('\r\x1b[K'),
      after: () => server.displayPrompt(true),
    };
  }
  const run = (name: string) => (args: string) => {
    server.clearBufferedCommand();
    void commands.execute(name, args).finally(() => server.displayPrompt());
  };
  for (const [name, c] of Object.entries(commands.table)) server.defineCommand(name, { help: c.help, action: run(name) });
  server.defineCommand('help', {
    help: 'list the commands',
    action: () => {
      commands.help();
      server.displayPrompt();
    },
  });
  const historyFile = options.historyFile === undefined ? join(os.homedir(), '.holdfast_repl_history') : options.historyFile;
  if (historyFile !== null && tty) server.setupHistory(historyFile, () => {});
  void client.closed.then(() => {
    printer.line('\nthe service closed the connection');
    server.close();
  });
  await new Promise<void>((resolve) => server.on('exit', () => resolve()));
  client.close();
}

/**
 * Run one command line (`.actors`, `.ask a add {"by":1}`, …) and return whether it succeeded.
 * A `.trace` keeps printing until `stop` resolves.
 */
export async function runOnce(
  client: DebugClient,
  line: string,
  options: { json?: boolean; write?: (text: string) => void; stop?: Promise<void> } = {},
): Promise<boolean> {
  const write = options.write ?? ((t: string) => process.stdout.write(t));
  const printer = new Printer(write, options.json ?? false, !options.json && process.stdout.isTTY === true && options.write === undefined);
  const commands = new Commands(client, printer);
  const m = /^\s*\.(\w+)\s*([\s\S]*)$/.exec(line);
  if (m === null) {
    printer.error('USAGE', `expected a command such as .actors, got ${JSON.stringify(line)}`);
    return false;
  }
  if (m[1] === 'help') {
    commands.help();
    return true;
  }
  const ok = await commands.execute(m[1] as string, m[2] as string);
  if (ok && m[1] === 'trace') await (options.stop ?? client.closed);
  return ok;
}
