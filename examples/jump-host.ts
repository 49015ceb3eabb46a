/**
 * `ssh -J` with our client: log in to a jump host over TCP, open a `direct-tcpip` channel
 * from it to the target, and run an SSH session inside that channel (transports/channel.ts);
 * several `--jump` hops chain, each session running over a channel of the one before. Every
 * hop's host key is pinned by fingerprint; one key logs in everywhere.
 *
 *   npx tsx examples/jump-host.ts --key ~/.ssh/id_ed25519 \
 *     --jump me@bastion.example:22 --jump-fingerprint SHA256:… \
 *     --target me@10.0.0.5:22 --target-fingerprint SHA256:… -- uname -a
 *
 * It prints the command's output and exits with its status (255 if a hop fails).
 */

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type ClientConfig,
  parsePrivateKey,
  type Session,
  sessionDisconnect,
  sessionLastError,
} from '../src/index.js';
import { attachChannelLink } from '../transports/channel.js';
import { connectTcp } from '../transports/tcp.js';
import { runCommand } from './lib/commands.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    key: { type: 'string' },
    jump: { type: 'string', multiple: true, default: [] },
    'jump-fingerprint': { type: 'string', multiple: true, default: [] },
    target: { type: 'string' },
    'target-fingerprint': { type: 'string' },
  },
});

const fail = (message: string): never => {
  process.stderr.write(`jump-host: ${message}\n`);
  process.exit(255);
};
const command = positionals.join(' ');
if (values.key === undefined || values.target === undefined || command === '') {
  fail('usage: jump-host.ts --key KEY --jump USER@HOST:PORT … --target USER@HOST:PORT -- COMMAND');
}
if (values['jump-fingerprint'].length !== values.jump.length || !values['target-fingerprint']) {
  fail('give one --jump-fingerprint per --jump, and --target-fingerprint');
}

interface Hop {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly fingerprint: string;
}

function hop(spec: string, fingerprint: string): Hop {
  const m = /^([^@]+)@(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec);
  if (!m) return fail(`${spec}: expected USER@HOST[:PORT]`);
  return {
    user: m[1]!,
    host: m[2]!.replace(/^\[|\]$/g, ''),
    port: Number(m[3] ?? 22),
    fingerprint,
  };
}

const hops = [
  ...values.jump.map((spec, i) => hop(spec, values['jump-fingerprint'][i]!)),
  hop(values.target!, values['target-fingerprint']!),
];
const key = parsePrivateKey(readFileSync(values.key!));
const sessions: Session[] = [];
/** Set once the command ended: hops closing after that are not failures. */
let finished = false;

/** Logs in to one hop; resolves once authenticated, exits the program if the hop fails. */
function login(h: Hop, start: (config: ClientConfig<Session>) => Session): Promise<Session> {
  const where = `${h.user}@${h.host}:${h.port}`;
  return new Promise((resolve) => {
    start({
      role: 'client',
      onHostKey: (request) => {
        if (request.fingerprint === h.fingerprint) return request.accept();
        process.stderr.write(`jump-host: ${where} presented ${request.fingerprint}\n`);
        request.reject();
      },
      auth: { username: h.user, methods: [{ type: 'publickey', key }] },
      onEvent: (event, session) => {
        if (event.type === 'authenticated') resolve(session);
        else if (event.type === 'closed' && !finished) {
          const error = sessionLastError(session);
          fail(`${where}: ${error ? `${error.code}: ${error.message}` : 'the session ended'}`);
        }
      },
    });
  });
}

let session = await login(hops[0]!, (config) => connectTcp(hops[0]!, config));
sessions.push(session);
for (const h of hops.slice(1)) {
  const outer = session;
  session = await login(h, (config) => attachChannelLink(outer, h, config).session);
  sessions.push(session);
}

const { status } = await runCommand(session, command, {
  stdout: (data) => process.stdout.write(data),
  stderr: (data) => process.stderr.write(data),
}).catch((error: Error) => fail(error.message));
finished = true;
process.exitCode = status ?? 255;
// Disconnecting the first hop ends every session inside it.
sessionDisconnect(sessions[0]!);
