#!/usr/bin/env node
// The tools the end-to-end tests need beyond Node and npm, installed when missing, visibly:
// tmux (a real terminal for the REPL tests), PostgreSQL's server programs and nats-server (the
// store and cluster tests start servers of their own on loopback). Debian's apt-get; run as root, as CI does.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const has = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const postgres = () => existsSync('/usr/lib/postgresql') && readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
const missing = [
  ['tmux', () => has('tmux', ['-V'])],
  ['postgresql', postgres],
  ['nats-server', () => has('nats-server', ['--version'])],
]
  .filter(([, present]) => !present())
  .map(([pkg]) => pkg);
if (missing.length === 0) {
  console.log('test tools: tmux, postgresql and nats-server present');
  process.exit(0);
}
console.log(`test tools: installing ${missing.join(', ')} with apt-get`);
const sudo = typeof process.getuid === 'function' && process.getuid() !== 0 ? ['sudo'] : [];
const run = (args) => {
  const r = spawnSync(sudo[0] ?? args[0], sudo.length > 0 ? args : args.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) {
    console.error(`test tools: ${args.join(' ')} failed (exit ${r.status}); install ${missing.join(', ')} yourself`);
    process.exit(1);
  }
};
run(['apt-get', 'update', '-qq']);
run(['apt-get', 'install', '-y', '-qq', ...missing]);
console.log(`test tools: ${missing.join(', ')} installed`);
