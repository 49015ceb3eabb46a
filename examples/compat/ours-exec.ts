/**
 * With pluggable-ssh/node: log in with a password, pin the host key, run one command, print
 * its output and exit with its status. Settings come from the environment: SSH_HOST,
 * SSH_PORT, SSH_USER, SSH_PASSWORD, SSH_HOST_FINGERPRINT (SHA256:…); the command from argv.
 */

// In an application: import { connect } from 'pluggable-ssh/node';
import { connect } from '../../node/index.js';

const env = process.env;

try {
  const client = await connect({
    host: env.SSH_HOST ?? 'localhost',
    port: Number(env.SSH_PORT ?? 22),
    username: env.SSH_USER ?? '',
    password: env.SSH_PASSWORD ?? '',
    verifyHostKey: (info) => info.fingerprint === env.SSH_HOST_FINGERPRINT,
    readyTimeout: 20_000,
    keepaliveInterval: 15_000,
  });
  const stream = await client.exec(process.argv.slice(2).join(' '));
  stream.on('data', (data: Buffer) => process.stdout.write(data));
  stream.stderr.on('data', (data: Buffer) => process.stderr.write(data));
  stream.end();
  stream.on('close', () => {
    process.exitCode = stream.exit?.code ?? 255;
    client.end();
  });
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 255;
}
