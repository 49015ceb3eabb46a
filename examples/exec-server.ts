/**
 * An SSH server that OpenSSH's `ssh` can log in to: it runs each command (or a shell without a
 * terminal) with /bin/sh, and with `--forward` connects `ssh -L`/`ssh -J` channels to loopback.
 * Logins by public key (an authorized_keys file) and/or password.
 *
 *   npx tsx examples/exec-server.ts --port 2222 --authorized-keys ~/.ssh/id_ed25519.pub
 *   ssh -p 2222 -o StrictHostKeyChecking=accept-new 127.0.0.1 uname -a
 *
 * With `--stdio` it serves one connection on stdin/stdout, as OpenSSH's ProxyCommand (keep the
 * host key in a file so `ssh` recognizes it next time: `ssh-keygen -t ed25519 -N '' -f hk`):
 *
 *   ssh -o ProxyCommand='npx tsx examples/exec-server.ts --stdio --host-key hk --password s3cret' anyhost id
 *
 * `--host-key FILE` loads the host key (OpenSSH or PEM format); without it a fresh ed25519 key
 * is made and its fingerprint printed on stderr. `--user NAME` admits only that user. In TCP
 * mode the first line on stdout is `listening on HOST:PORT`.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import {
  type AuthRequest,
  fingerprintSha256,
  generatePrivateKey,
  parsePrivateKey,
  parsePublicKey,
  type ServerAuthMethodName,
  type ServerConfig,
  type Session,
} from '../src/index.js';
import { attachStdio } from '../transports/ipc.js';
import { listenTcp } from '../transports/tcp.js';
import { acceptCommands } from './lib/commands.js';
import { acceptForward } from './lib/forward.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    stdio: { type: 'boolean', default: false },
    'host-key': { type: 'string' },
    'authorized-keys': { type: 'string' },
    password: { type: 'string' },
    user: { type: 'string' },
    forward: { type: 'boolean', default: false },
    verbose: { type: 'boolean', short: 'v', default: false },
  },
});

const log = (line: string) => {
  if (values.verbose || !values.stdio) process.stderr.write(`exec-server: ${line}\n`);
};
const fail = (message: string): never => {
  process.stderr.write(`exec-server: ${message}\n`);
  process.exit(2);
};
if (values.stdio === (values.port !== undefined)) fail('give exactly one of --port N and --stdio');
if (values['authorized-keys'] === undefined && values.password === undefined) {
  fail('give --authorized-keys FILE and/or --password PASSWORD');
}

const hostKey =
  values['host-key'] !== undefined
    ? parsePrivateKey(readFileSync(values['host-key']))
    : generatePrivateKey('ed25519');
if (values['host-key'] === undefined || values.verbose) {
  process.stderr.write(`exec-server: host key ${fingerprintSha256(hostKey.publicKeyBlob)}\n`);
}

/** The key blobs of an authorized_keys file (lines with options: the key after them). */
function readAuthorizedKeys(path: string): Buffer[] {
  const blobs: Buffer[] = [];
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const at = line.search(/(^|\s)(ssh-|ecdsa-|sk-)/);
    try {
      blobs.push(Buffer.from(parsePublicKey(line.slice(Math.max(at, 0)).trim()).blob));
    } catch {
      log(`skipping an unreadable line of ${path}`);
    }
  }
  return blobs;
}

const authorized = values['authorized-keys'] ? readAuthorizedKeys(values['authorized-keys']) : [];
const digest = (s: string) => createHash('sha256').update(s).digest();
const passwordDigest = values.password !== undefined ? digest(values.password) : undefined;

function decide(request: AuthRequest): void {
  const userOk = values.user === undefined || request.username === values.user;
  let ok = false;
  if (request.method === 'publickey' && request.publicKey !== undefined) {
    const blob = request.publicKey.blob;
    ok = authorized.some((k) => k.equals(blob));
  } else if (request.method === 'password' && passwordDigest && request.password !== undefined) {
    ok = timingSafeEqual(digest(request.password), passwordDigest);
  }
  if (ok && userOk) {
    if (request.method !== 'publickey' || request.hasSignature) {
      log(`${request.username} logged in by ${request.method}`);
    }
    request.accept();
  } else {
    request.reject();
  }
}

const methods: ServerAuthMethodName[] = [];
if (authorized.length > 0) methods.push('publickey');
if (passwordDigest) methods.push('password');

const config: ServerConfig<Session> = {
  role: 'server',
  hostKeys: [hostKey],
  authMethods: methods,
  onAuth: decide,
  onChannelOpen: (request) => {
    if (request.type === 'session') acceptCommands(request, log);
    else if (
      request.type === 'direct-tcpip' &&
      values.forward &&
      ['127.0.0.1', 'localhost', '::1'].includes(request.host)
    ) {
      acceptForward(request, { log });
    } else request.reject();
  },
  onEvent: (event) => {
    if (event.type === 'error' && event.error.code !== 'SSH_ERR_PEER_DISCONNECTED') {
      log(`session ended: ${event.error.code}: ${event.error.message}`);
    }
  },
};

if (values.stdio) {
  attachStdio(config);
} else {
  const server = listenTcp({ host: values.host, port: Number(values.port) }, () => config);
  server.on('listening', () => {
    const { address, port } = server.address() as AddressInfo;
    process.stdout.write(`listening on ${address}:${port}\n`);
  });
  server.on('error', (e) => fail(e.message));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      server.close();
      process.exit(0);
    });
  }
}
