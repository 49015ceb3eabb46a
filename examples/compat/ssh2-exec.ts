/**
 * With the `ssh2` package: log in with a password, pin the host key, run one command, print
 * its output and exit with its status. Settings come from the environment: SSH_HOST,
 * SSH_PORT, SSH_USER, SSH_PASSWORD, SSH_HOST_FINGERPRINT (SHA256:…); the command from argv.
 */

import { createHash } from 'node:crypto';
import { Client } from 'ssh2';

const env = process.env;
const fingerprint = (key: Buffer) =>
  `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;

const conn = new Client();
conn.on('ready', () => {
  conn.exec(process.argv.slice(2).join(' '), (err, stream) => {
    if (err) throw err;
    stream.on('data', (data: Buffer) => process.stdout.write(data));
    stream.stderr.on('data', (data: Buffer) => process.stderr.write(data));
    stream.on('close', (code: number | null) => {
      process.exitCode = code ?? 255;
      conn.end();
    });
  });
});
conn.on('error', (err) => {
  console.error(err.message);
  process.exitCode = 255;
});
conn.connect({
  host: env.SSH_HOST ?? 'localhost',
  port: Number(env.SSH_PORT ?? 22),
  username: env.SSH_USER ?? '',
  password: env.SSH_PASSWORD ?? '',
  hostVerifier: (key: Buffer) => fingerprint(key) === env.SSH_HOST_FINGERPRINT,
  readyTimeout: 20_000,
  keepaliveInterval: 15_000,
});
