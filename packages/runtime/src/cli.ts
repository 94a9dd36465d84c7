#!/usr/bin/env node
// The `holdfast` command line.
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { replCommands } from '@holdfast/repl';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isService, type ServiceDefinition } from './defineService.js';
import { RuntimeError } from './errors.js';
import { privateSocketDir, pruneServiceSockets } from './internal/debugServer.js';
import { ExitCode, runService } from './runService.js';
import { parseHostPort, readSecretFile, resolveSettings, SettingsError, serviceConfigInput } from './settings.js';

const program = new Command();
program
  .name('holdfast')
  .description('Run and inspect Holdfast services: owner-loop actors under stewards, as a long-lived process.')
  // A usage error is one line (commander's own) and exit code 2; --help exits 0.
  .exitOverride((err) => {
    process.exit(err.exitCode === 0 ? 0 : ExitCode.USAGE);
  });

const collect = (value: string, previous: string[]) => [...previous, value];
const integer = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return value;
};

program
  .command('run')
  .description('Load a service module (its default export is a defineService(...)) and run it until SIGTERM or SIGINT, then drain.')
  .argument('<entry>', 'the service module: TypeScript (loaded through tsx) or JavaScript')
  .option(
    '--admin-port <port>',
    'admin HTTP port for /healthz, /readyz, /metrics; 0 picks a free one (env HOLDFAST_ADMIN_PORT, default 9464)',
    integer('--admin-port'),
  )
  .option('--admin-host <host>', 'address the admin listener binds to (env HOLDFAST_ADMIN_HOST, default 127.0.0.1)')
  .option('--no-admin', 'do not start the admin listener (env HOLDFAST_ADMIN=false)')
  .option('--debug-socket <path>', 'Unix socket for `holdfast repl` (env HOLDFAST_DEBUG_SOCKET, default in the temp directory)')
  .option('--no-debug', 'do not open the debug socket (env HOLDFAST_DEBUG=false)')
  .option('--debug-tcp <host:port>', 'also serve the debug protocol on a loopback TCP address; needs a token (env HOLDFAST_DEBUG_TCP)')
  .option(
    '--debug-token-file <path>',
    'a file (mode 600) holding the token TCP debug clients must present, 16+ characters; or env HOLDFAST_DEBUG_TOKEN (never on the command line: ps shows it)',
  )
  .addOption(new Option('--debug-token <token>').hideHelp())
  .option('--allow-eval', 'let debug clients evaluate code in the service (off by default; env HOLDFAST_ALLOW_EVAL)')
  .option(
    '--drain-timeout <ms>',
    'how long the drain may take before exiting non-zero (env HOLDFAST_DRAIN_TIMEOUT_MS, default 10000)',
    integer('--drain-timeout'),
  )
  .addOption(
    new Option('--log-level <level>', 'pino log level (env HOLDFAST_LOG_LEVEL, default info)').choices([
      'trace',
      'debug',
      'info',
      'warn',
      'error',
      'fatal',
      'silent',
    ]),
  )
  .option('--pretty', 'human-readable logs (default when stdout is a terminal; env HOLDFAST_PRETTY)')
  .option('--no-pretty', 'JSON logs even on a terminal')
  .option(
    '--store <spec>',
    "where durable actors keep their state: sqlite (data/<service>.db), sqlite:PATH, postgres://…, memory or none (env HOLDFAST_STORE; default: the service's own)",
  )
  .option('--cluster <servers>', 'run as one node of a cluster on NATS: nats://host:4222[,…] (env HOLDFAST_CLUSTER; needs --store postgres://…)')
  .option('--node <name>', 'this node’s name in the cluster (env HOLDFAST_NODE; default: the host name)')
  .option('--shards <n>', 'shards durable actors are spread over, the same on every node (env HOLDFAST_SHARDS, default 64)')
  .option('--cluster-name <name>', 'the cluster’s name: its NATS subjects and bucket (env HOLDFAST_CLUSTER_NAME, default holdfast)')
  .option('--lease-ttl <ms>', 'how long a shard lease lives without renewal, the same on every node (env HOLDFAST_LEASE_TTL_MS, default 3000)')
  .option('--cluster-replicas <n>', 'replicas of the lease bucket: 3 with three NATS servers in production (env HOLDFAST_CLUSTER_REPLICAS, default 1)')
  .option('-c, --config <key=value>', "a setting of the service's own config (repeatable); env <SERVICE>_<KEY> also works", collect, [])
  .addHelpText(
    'after',
    `
Exit codes: 0 drained cleanly; 1 the drain did not finish in time, the root steward gave up, or start failed;
2 bad settings; 130 a second signal forced the exit.

Example:
  holdfast run src/service.ts --admin-port 9464 --config port=8080`,
  )
  .action(async (entry: string, opts: Record<string, unknown>) => {
    const flags = {
      adminPort: opts.adminPort,
      adminHost: opts.adminHost,
      // commander sets these to true unless --no-… was given: only a given flag overrides the environment.
      admin: process.argv.includes('--no-admin') ? false : undefined,
      debugSocket: opts.debugSocket,
      debug: process.argv.includes('--no-debug') ? false : undefined,
      debugTcp: opts.debugTcp,
      debugToken: undefined as string | undefined,
      allowEval: opts.allowEval === true ? true : undefined,
      drainTimeoutMs: opts.drainTimeout,
      store: opts.store,
      cluster: opts.cluster,
      node: opts.node,
      shards: opts.shards,
      clusterName: opts.clusterName,
      leaseTtlMs: opts.leaseTtl,
      clusterReplicas: opts.clusterReplicas,
      logLevel: opts.logLevel,
      pretty: process.argv.includes('--no-pretty') ? false : opts.pretty === true ? true : undefined,
    };
    if (opts.debugToken !== undefined) {
      process.stderr.write(
        'holdfast: --debug-token is not taken: a token on the command line is visible to every local user (ps). Put it in HOLDFAST_DEBUG_TOKEN or in a file of mode 600 named by --debug-token-file\n',
      );
      process.exit(ExitCode.USAGE);
    }
    let definition: ServiceDefinition;
    let started: Awaited<ReturnType<typeof runService>>;
    try {
      if (opts.debugTokenFile !== undefined) flags.debugToken = readSecretFile(opts.debugTokenFile as string, '--debug-token-file');
      const settings = resolveSettings(flags, process.env);
      definition = await loadService(entry);
      const shape = Object.keys((definition.config as { shape?: Record<string, unknown> }).shape ?? {});
      const config = serviceConfigInput(definition.name, shape, opts.config as string[], process.env);
      started = await runService(definition, config, settings);
    } catch (e) {
      if (e instanceof SettingsError) {
        process.stderr.write(`holdfast: ${e.message}\n`);
        process.exit(ExitCode.USAGE);
      }
      process.stderr.write(`holdfast: could not start ${entry}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(ExitCode.FAILED);
    }
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        process.stderr.write(`holdfast: ${signal} again during the drain: exiting now\n`);
        process.exit(ExitCode.FORCED);
      }
      void started.stop(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    process.exit(await started.done);
  });

program
  .command('repl')
  .description("Attach to a running service's debug endpoint: list, inspect, trace, ask, tell, restart and stop actors.")
  .option('--socket <path>', 'the Unix socket (default: the only one in the private socket directory)')
  .option('--tcp <host:port>', 'a loopback TCP debug listener instead (its token from HOLDFAST_DEBUG_TOKEN or --token-file)')
  .option(
    '--token-file <path>',
    'a file (mode 600) holding the token of the TCP listener; or env HOLDFAST_DEBUG_TOKEN (never on the command line: ps shows it)',
  )
  .addOption(new Option('--token <token>').hideHelp())
  .option('-e, --eval <command>', "run one command (e.g. '.actors') and exit")
  .option('--json', 'print results as JSON lines (for scripts)')
  .addHelpText(
    'after',
    `
Commands inside:
${replCommands()
  .map((c) => `  ${c.command.padEnd(28)} ${c.help}`)
  .join('\n')}

Examples:
  holdfast repl
  holdfast repl --socket /tmp/holdfast-1000/kv-4242.sock --eval '.actors' --json`,
  )
  .action(async (opts: { socket?: string; tcp?: string; token?: string; tokenFile?: string; eval?: string; json?: boolean }) => {
    if (opts.token !== undefined) {
      process.stderr.write(
        'holdfast repl: --token is not taken: a token on the command line is visible to every local user (ps). Put it in HOLDFAST_DEBUG_TOKEN or in a file of mode 600 named by --token-file\n',
      );
      process.exit(ExitCode.USAGE);
    }
    const { DebugClient, RemoteError, runOnce, runRepl } = await import('@holdfast/repl');
    let client: Awaited<ReturnType<typeof DebugClient.connect>>;
    try {
      client = await DebugClient.connect(endpointFor(opts));
    } catch (e) {
      const message = e instanceof RemoteError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
      process.stderr.write(`holdfast repl: cannot attach: ${message}\n`);
      process.exit(ExitCode.FAILED);
    }
    if (opts.eval !== undefined) {
      const stop = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      const ok = await runOnce(client, opts.eval, { json: opts.json === true, stop });
      client.close();
      process.exit(ok ? ExitCode.OK : ExitCode.FAILED);
    }
    await runRepl(client, { json: opts.json === true });
    process.exit(ExitCode.OK);
  });

/** Where `holdfast repl` attaches. */
function endpointFor(opts: { socket?: string; tcp?: string; tokenFile?: string }): { socket: string } | { host: string; port: number; token: string } {
  if (opts.tcp !== undefined) {
    const address = parseHostPort(opts.tcp);
    const token = opts.tokenFile !== undefined ? readSecretFile(opts.tokenFile, '--token-file') : process.env.HOLDFAST_DEBUG_TOKEN;
    if (address === null) throw new SettingsError('--tcp needs host:port');
    if (token === undefined || token === '') throw new SettingsError('--tcp needs a token: HOLDFAST_DEBUG_TOKEN or --token-file');
    return { ...address, token };
  }
  if (opts.socket !== undefined) return { socket: opts.socket };
  const dir = privateSocketDir();
  const sockets = pruneServiceSockets(dir);
  if (sockets.length === 1) return { socket: join(dir, sockets[0] as string) };
  if (sockets.length === 0) throw new RuntimeError('NO_SERVICE', `no running service found in ${dir}; pass --socket`, { dir, live: [] });
  throw new RuntimeError('NO_SERVICE', `several services in ${dir} (${sockets.join(', ')}); pass --socket`, { dir, live: sockets });
}

/** Import the entry and return its service. TypeScript goes through tsx, registered before the import. */
async function loadService(entry: string): Promise<ServiceDefinition> {
  const path = isAbsolute(entry) ? entry : resolve(process.cwd(), entry);
  if (!existsSync(path)) throw new SettingsError(`no such service module: ${entry}`);
  // Registered first, not after a failed import: Node keeps a failed import's error for that URL.
  if (/\.[mc]?tsx?$/.test(path)) await ensureTypeScript();
  const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  if (!isService(mod.default)) throw new SettingsError(`${entry} does not export a service: its default export must be defineService({ ... })`);
  return mod.default;
}

const TSX = Symbol.for('holdfast.tsx');

/** Load TypeScript modules from now on (tsx's loader), once per process. */
async function ensureTypeScript(): Promise<void> {
  const flags = globalThis as { [TSX]?: boolean };
  if (flags[TSX] === true) return;
  flags[TSX] = true;
  const { register } = await import('tsx/esm/api');
  register();
}

await program.parseAsync(process.argv);
