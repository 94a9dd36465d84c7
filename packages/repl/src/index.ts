/**
 * `@holdfast/repl`: the debug REPL for a running Holdfast service (`holdfast repl`), and the
 * client of the debug protocol (`@holdfast/repl/protocol` has the schemas).
 *
 * @example
 * ```ts
 * import { DebugClient, runOnce } from '@holdfast/repl';
 * const client = await DebugClient.connect({ socket: '/tmp/holdfast-0/kv.sock' });
 * await runOnce(client, '.actors', { json: true });
 * client.close();
 * ```
 * @module @holdfast/repl
 */
export { DebugClient, type Endpoint } from './client.js';
export { Commands, REPL_USAGE, replCommands, UsageError } from './commands.js';
export { ClientError, ClientErrorCode, RemoteError } from './errors.js';
export { ago, Printer } from './format.js';
export { type ReplOptions, runOnce, runRepl } from './repl.js';
