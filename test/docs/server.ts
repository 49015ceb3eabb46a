/**
 * @module
 * The SSH server the documentation examples talk to: our own server on a loopback TCP port,
 * running `exec` and `shell` requests with /bin/sh (examples/lib/commands.ts) and forwarding
 * direct-tcpip channels to loopback (examples/lib/forward.ts). It lets in
 * one user by password or by one key, and hangs up on a connection that stays quiet for
 * {@link DOC_SERVER_IDLE_MS}, so an example that connects and stops there still ends.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptCommands } from '../../examples/lib/commands.js';
import { acceptForward } from '../../examples/lib/forward.js';
import {
  type AuthRequest,
  fingerprintSha256,
  generatePrivateKey,
  privateKeyToPem,
} from '../../src/index.js';
import { listenTcp } from '../../transports/tcp.js';
import { addTimeouts, type SessionTimeouts } from '../../transports/timeouts.js';

/** A connection with no received bytes for this long is disconnected by the server. */
export const DOC_SERVER_IDLE_MS = 1_000;

/**
 * The user the doc context logs in as: the same key, but no idle timeout, since the runner
 * ends those sessions itself and a busy machine must not end them first.
 */
export const DOC_CONTEXT_USER = 'doc-context';

/** A running doc server. */
export interface DocServer {
  /** What the examples read: SSH_HOST, SSH_PORT, SSH_USER, SSH_PASSWORD, SSH_KEY_FILE, SSH_HOST_FINGERPRINT. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the doc server on 127.0.0.1 and a free port. */
export async function startDocServer(): Promise<DocServer> {
  const dir = mkdtempSync(join(tmpdir(), 'pluggable-ssh-docs-'));
  const hostKey = generatePrivateKey('ed25519');
  const userKey = generatePrivateKey('ed25519');
  const keyFile = join(dir, 'id_ed25519.pem');
  writeFileSync(keyFile, privateKeyToPem(userKey), { mode: 0o600 });
  const user = 'demo';
  const password = 'demo-password';
  const userBlob = Buffer.from(userKey.publicKeyBlob);

  const decide = (request: AuthRequest) => {
    const ok =
      (request.username === user || request.username === DOC_CONTEXT_USER) &&
      ((request.method === 'password' && request.password === password) ||
        (request.method === 'publickey' &&
          request.publicKey !== undefined &&
          userBlob.equals(request.publicKey.blob)));
    if (ok) request.accept();
    else request.reject();
  };

  const clocks = new WeakMap<object, SessionTimeouts>();
  const server: Server = listenTcp(
    { host: '127.0.0.1', port: 0 },
    (socket) => {
      const timeouts = addTimeouts(
        {
          role: 'server',
          hostKeys: [hostKey],
          authMethods: ['publickey', 'password'],
          onAuth: decide,
          onEvent: (event) => {
            if (event.type === 'authenticated' && event.username === DOC_CONTEXT_USER) {
              timeouts.cancel();
            }
          },
          onChannelOpen: (request) => {
            if (request.type === 'session') acceptCommands(request);
            else if (request.type === 'direct-tcpip' && request.host === '127.0.0.1')
              acceptForward(request);
            else request.reject();
          },
        },
        { idleMs: DOC_SERVER_IDLE_MS },
      );
      clocks.set(socket, timeouts);
      return timeouts.config;
    },
    (session, socket) => {
      const timeouts = clocks.get(socket)!;
      timeouts.attach(session);
      socket.on('data', () => timeouts.noteActivity());
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    env: {
      SSH_HOST: '127.0.0.1',
      SSH_PORT: String(port),
      SSH_USER: user,
      SSH_PASSWORD: password,
      SSH_KEY_FILE: keyFile,
      SSH_HOST_FINGERPRINT: fingerprintSha256(hostKey.publicKeyBlob),
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        rmSync(dir, { recursive: true, force: true });
      }),
  };
}
