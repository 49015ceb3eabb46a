/**
 * Our client runs one command on an SSH server (OpenSSH's sshd or any other) over TCP, the
 * way `ssh host command` does: stdin goes to the command, its stdout and stderr come back,
 * and this program exits with the remote exit status (255 when the connection or login fails).
 * The server's host key must match the SHA-256 fingerprint given: nothing is trusted blindly.
 *
 *   npx tsx examples/client-exec.ts --host 10.0.0.5 --port 22 --user me \
 *     --key ~/.ssh/id_ed25519 --fingerprint SHA256:… -- uname -a
 *
 * Every option can come from the environment instead: SSH_HOST, SSH_PORT, SSH_USER, SSH_KEY,
 * SSH_PASSWORD, SSH_HOST_FINGERPRINT. `-n` sends no stdin (like `ssh -n`).
 */

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type ClientAuthMethod,
  parsePrivateKey,
  sessionDisconnect,
  sessionLastError,
} from '../src/index.js';
import { connectTcp } from '../transports/tcp.js';
import { runCommand } from './lib/commands.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    host: { type: 'string', default: process.env.SSH_HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.SSH_PORT ?? '22' },
    user: { type: 'string', default: process.env.SSH_USER ?? process.env.USER ?? 'root' },
    key: { type: 'string', default: process.env.SSH_KEY },
    password: { type: 'string', default: process.env.SSH_PASSWORD },
    fingerprint: { type: 'string', default: process.env.SSH_HOST_FINGERPRINT },
    n: { type: 'boolean', short: 'n', default: false },
  },
});

const command = positionals.join(' ');
const fail = (message: string): never => {
  process.stderr.write(`client-exec: ${message}\n`);
  process.exit(255);
};
if (command === '') fail('no command given (put it after --)');
if (values.fingerprint === undefined) {
  fail('no --fingerprint (SSH_HOST_FINGERPRINT): get it with ssh-keygen -lf <host key>.pub');
}

const methods: ClientAuthMethod[] = [];
if (values.key !== undefined) {
  methods.push({ type: 'publickey', key: parsePrivateKey(readFileSync(values.key)) });
}
if (values.password !== undefined) methods.push({ type: 'password', password: values.password });
if (methods.length === 0) fail('give --key or --password (SSH_KEY, SSH_PASSWORD)');

let finished = false;
connectTcp(
  { host: values.host, port: Number(values.port) },
  {
    role: 'client',
    onHostKey: (request) => {
      if (request.fingerprint === values.fingerprint) return request.accept();
      process.stderr.write(`client-exec: host key ${request.fingerprint} is not the one pinned\n`);
      request.reject();
    },
    auth: { username: values.user, methods },
    onEvent: (event, session) => {
      if (event.type === 'authenticated') {
        runCommand(session, command, {
          ...(values.n ? {} : { stdin: process.stdin }),
          stdout: (data) => process.stdout.write(data),
          stderr: (data) => process.stderr.write(data),
        }).then(
          ({ status, signal }) => {
            finished = true;
            if (signal !== undefined) process.stderr.write(`client-exec: killed by ${signal}\n`);
            process.exitCode = status ?? 255;
            sessionDisconnect(session);
          },
          (error: Error) => {
            finished = true;
            process.stderr.write(`client-exec: ${error.message}\n`);
            process.exitCode = 255;
            sessionDisconnect(session);
          },
        );
      } else if (event.type === 'closed' && !finished) {
        const error = sessionLastError(session);
        fail(error ? `${error.code}: ${error.message}` : 'the session ended');
      }
    },
  },
);
