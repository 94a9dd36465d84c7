import { lstatSync, readFileSync, type Stats } from 'node:fs';
import { z } from 'zod';
import { SettingsError } from './errors.js';
import { parseStoreSpec, redact } from './internal/storeSpec.js';

export { SettingsError };

/** The runtime's own settings, from flags and `HOLDFAST_*` environment variables (flags win). */
export const SettingsSchema = z.object({
  /** Port of the admin HTTP listener (`/healthz`, `/readyz`, `/metrics`); 0 picks a free one. */
  adminPort: z.coerce.number().int().min(0).max(65_535).default(9464),
  /** Address the admin listener binds to (loopback by default). */
  adminHost: z.string().min(1).default('127.0.0.1'),
  /** Serve the admin listener at all. */
  admin: z.boolean().default(true),
  /** Path of the debug socket (default: in the temp directory, named after the service and pid). */
  debugSocket: z.string().min(1).optional(),
  /** Serve the debug socket at all. */
  debug: z.boolean().default(true),
  /** Also serve the debug protocol on a loopback TCP address (`host:port`); needs a token. */
  debugTcp: z
    .string()
    .regex(/^(.+):(\d{1,5})$/, 'expected host:port')
    .refine((v) => isLoopback(v.slice(0, v.lastIndexOf(':'))), 'the debug listener only binds to a loopback address (127.0.0.1, ::1, localhost)')
    .optional(),
  /** The token a TCP debug client must present (at least 16 characters). */
  debugToken: z.string().min(16, 'the debug token must have at least 16 characters').optional(),
  /** Let debug clients evaluate code in the service (off by default). */
  allowEval: z.boolean().default(false),
  /** How long the drain may take before the process gives up and exits non-zero. */
  drainTimeoutMs: z.coerce.number().int().positive().default(10_000),
  /**
   * Where durable actors keep their state: `sqlite` (the file `data/SERVICE.db` under the working
   * directory), `sqlite:PATH[?synchronous=normal]`, `postgres://…`, `memory` or `none`. Overrides
   * the service's own `store`.
   */
  store: z
    .string()
    .min(1)
    .superRefine((v, ctx) => {
      const error = storeSpecError(v);
      if (error !== null) ctx.addIssue({ code: 'custom', message: error });
    })
    .optional(),
  /**
   * Run as one node of a cluster on NATS: the servers, `nats://host:4222` (several separated by
   * commas). Needs `--store postgres://…` and `@holdfast/nats` installed.
   */
  cluster: z
    .string()
    .min(1)
    .refine((v) => v.split(',').every((u) => /^(nats|tls):\/\/[^\s,]+$/.test(u.trim())), 'expected nats://host:port (several separated by commas)')
    .optional(),
  /** This node's name in the cluster (default: the host name). Unique among live nodes. */
  node: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "1–64 letters, digits, '-' or '_'")
    .optional(),
  /** How many shards durable actors are spread over: the same on every node. */
  shards: z.coerce.number().int().min(1).max(65_536).default(64),
  /** The cluster's name (its NATS subjects and bucket). */
  clusterName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, "1–64 letters, digits, '-' or '_'")
    .default('holdfast'),
  /** How long a shard lease lives without renewal: the same on every node. */
  leaseTtlMs: z.coerce.number().int().min(200).max(600_000).default(3_000),
  /** Replicas of the lease bucket (3 in production, with three NATS servers). */
  clusterReplicas: z.coerce.number().int().min(1).max(5).default(1),
  /** pino's level. */
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** Pretty logs (default: when stdout is a terminal). */
  pretty: z.boolean().optional(),
});

export type Settings = z.infer<typeof SettingsSchema>;

/** Flag name and environment variable of each setting, for messages. */
export const SETTING_NAMES: Record<keyof Settings, { flag: string; env: string }> = {
  adminPort: { flag: '--admin-port', env: 'HOLDFAST_ADMIN_PORT' },
  adminHost: { flag: '--admin-host', env: 'HOLDFAST_ADMIN_HOST' },
  admin: { flag: '--no-admin', env: 'HOLDFAST_ADMIN' },
  debugSocket: { flag: '--debug-socket', env: 'HOLDFAST_DEBUG_SOCKET' },
  debug: { flag: '--no-debug', env: 'HOLDFAST_DEBUG' },
  debugTcp: { flag: '--debug-tcp', env: 'HOLDFAST_DEBUG_TCP' },
  debugToken: { flag: '--debug-token-file', env: 'HOLDFAST_DEBUG_TOKEN' },
  allowEval: { flag: '--allow-eval', env: 'HOLDFAST_ALLOW_EVAL' },
  drainTimeoutMs: { flag: '--drain-timeout', env: 'HOLDFAST_DRAIN_TIMEOUT_MS' },
  store: { flag: '--store', env: 'HOLDFAST_STORE' },
  cluster: { flag: '--cluster', env: 'HOLDFAST_CLUSTER' },
  node: { flag: '--node', env: 'HOLDFAST_NODE' },
  shards: { flag: '--shards', env: 'HOLDFAST_SHARDS' },
  clusterName: { flag: '--cluster-name', env: 'HOLDFAST_CLUSTER_NAME' },
  leaseTtlMs: { flag: '--lease-ttl', env: 'HOLDFAST_LEASE_TTL_MS' },
  clusterReplicas: { flag: '--cluster-replicas', env: 'HOLDFAST_CLUSTER_REPLICAS' },
  logLevel: { flag: '--log-level', env: 'HOLDFAST_LOG_LEVEL' },
  pretty: { flag: '--pretty', env: 'HOLDFAST_PRETTY' },
};

const BOOL = new Map([
  ['1', true],
  ['true', true],
  ['yes', true],
  ['0', false],
  ['false', false],
  ['no', false],
]);

/**
 * Merge flags over environment variables and check them. Throws a {@link SettingsError} whose
 * message is one line naming the first bad setting.
 */
export function resolveSettings(flags: Partial<Record<keyof Settings, unknown>>, env: NodeJS.ProcessEnv): Settings {
  const raw: Record<string, unknown> = {};
  for (const [key, names] of Object.entries(SETTING_NAMES) as Array<[keyof Settings, { flag: string; env: string }]>) {
    const fromEnv = env[names.env];
    if (fromEnv !== undefined && fromEnv !== '') {
      const isBool = key === 'admin' || key === 'debug' || key === 'pretty' || key === 'allowEval';
      if (isBool) {
        const b = BOOL.get(fromEnv.toLowerCase());
        if (b === undefined) throw new SettingsError(`invalid ${names.env}=${JSON.stringify(fromEnv)}: expected true or false`);
        raw[key] = b;
      } else raw[key] = fromEnv;
    }
    if (flags[key] !== undefined) raw[key] = flags[key];
  }
  const r = SettingsSchema.refine((s) => s.debugTcp === undefined || s.debugToken !== undefined, {
    path: ['debugToken'],
    message: 'a TCP debug listener needs a token (HOLDFAST_DEBUG_TOKEN or --debug-token-file)',
  }).safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue?.path[0] as keyof Settings;
    const names = SETTING_NAMES[key];
    // A connection string may carry a password: never echo it.
    const given = (key === 'store' || key === 'cluster') && typeof raw[key] === 'string' ? redact(raw[key]) : raw[key];
    throw new SettingsError(`invalid setting ${names ? `${names.flag} (${names.env})` : String(key)}=${JSON.stringify(given)}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}

/**
 * The service's own settings: `<NAME>_<KEY>` environment variables (the service name and the
 * key in upper snake case), then `--config key=value` flags, checked by the service's schema.
 */
export function serviceConfigInput(serviceName: string, shape: readonly string[], pairs: readonly string[], env: NodeJS.ProcessEnv): Record<string, unknown> {
  const prefix = `${upperSnake(serviceName)}_`;
  const raw: Record<string, unknown> = {};
  for (const key of shape) {
    const v = env[prefix + upperSnake(key)];
    if (v !== undefined) raw[key] = v;
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SettingsError(`invalid --config ${JSON.stringify(pair)}: expected key=value`);
    raw[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return raw;
}

/**
 * A secret read from a file (a debug token): the file must be a regular file of this user's that
 * no one else may read (like ssh's keys), and its text, without the final line break, is the
 * secret. Secrets never come from the command line, which every local user can see in `ps`.
 */
export function readSecretFile(path: string, flag: string): string {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (e) {
    throw new SettingsError(
      `invalid setting ${flag}=${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
    );
  }
  if (!st.isFile()) throw new SettingsError(`invalid setting ${flag}=${JSON.stringify(path)}: not a regular file (links are not followed)`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid())
    throw new SettingsError(`invalid setting ${flag}=${JSON.stringify(path)}: the file belongs to another user`);
  if ((st.mode & 0o077) !== 0)
    throw new SettingsError(`invalid setting ${flag}=${JSON.stringify(path)}: other users may read it (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

function storeSpecError(spec: string): string | null {
  try {
    parseStoreSpec(spec);
    return null;
  } catch (e) {
    return (e as Error).message.replace(/^invalid store: /, '');
  }
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** `host:port` (an IPv6 host in brackets) as its parts; null when there is no port. */
export function parseHostPort(v: string): { host: string; port: number } | null {
  const i = v.lastIndexOf(':');
  if (i <= 0 || !/^\d{1,5}$/.test(v.slice(i + 1))) return null;
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(v.slice(i + 1)) };
}

/** `drainTimeout` → `DRAIN_TIMEOUT`, `kv-store` → `KV_STORE`. */
export function upperSnake(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toUpperCase();
}
