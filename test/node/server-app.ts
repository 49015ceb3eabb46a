/**
 * @module
 * The server application the node-layer tests run against: `createServer` with password and
 * publickey login, exec through `/bin/sh -c` (stdout, stderr, exit status or signal), a shell
 * that reports its pty, an `echo` subsystem, in-process `hash` (reads everything, answers its
 * SHA-256) and `hold` (does not read until released) commands, and -L/-R forwarding.
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import type { ChannelStream } from '../../node/index.js';
import { createServer, type ServerConnection, type SshServer } from '../../node/index.js';
import { generatePrivateKey, type PrivateKey, publicKeyToOpenSSH } from '../../src/index.js';

export const USER = 'tester';
export const PASSWORD = 'node-layer-pw';

/** What the test server saw, for assertions. */
export interface ServerLog {
  ptys: { term: string; cols: number; rows: number }[];
  env: Record<string, string>;
  /** Streams of `hold` commands, to release them. */
  held: ChannelStream[];
  connections: ServerConnection[];
}

/** Joins a socket and a channel stream both ways. */
export function splice(socket: net.Socket, stream: ChannelStream): void {
  const kill = () => {
    socket.destroy();
    stream.destroy();
  };
  socket.on('error', kill);
  stream.on('error', kill);
  socket.pipe(stream);
  stream.pipe(socket);
}

/** Runs `command` with /bin/sh on `stream` (stdin, stdout, stderr, exit status or signal). */
function runShell(
  stream: ChannelStream,
  command: string | undefined,
  env: NodeJS.ProcessEnv,
): void {
  const child = spawn('/bin/sh', command === undefined ? [] : ['-c', command], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.on('error', () => {});
  stream.pipe(child.stdin);
  child.stdout.pipe(stream, { end: false });
  child.stderr.on('data', (chunk: Buffer) => {
    child.stderr.pause();
    stream.writeStderr(chunk).then(
      () => child.stderr.resume(),
      () => child.stderr.resume(),
    );
  });
  child.on('close', (code, signal) => {
    // An empty write completes after every earlier write left: the status follows the data.
    stream.write(Buffer.alloc(0), () => {
      stream.sendExit(signal ? signal.replace(/^SIG/, '') : (code ?? 255));
      stream.end();
    });
  });
}

/** Starts the test server on a free loopback port. */
export async function startTestServer(
  options: { readonly userKey?: PrivateKey } = {},
): Promise<{ server: SshServer; port: number; hostKey: PrivateKey; log: ServerLog }> {
  const hostKey = generatePrivateKey('ed25519');
  const allowed = options.userKey ? publicKeyToOpenSSH(options.userKey.publicKeyBlob) : undefined;
  const log: ServerLog = { ptys: [], env: {}, held: [], connections: [] };
  const server = createServer(
    {
      hostKeys: [hostKey],
      authenticate: async (c) => {
        if (c.username !== USER) return false;
        if (c.method === 'password') return c.password === PASSWORD;
        if (c.method === 'publickey' && c.publicKey && allowed) {
          return publicKeyToOpenSSH(c.publicKey.blob) === allowed;
        }
        return false;
      },
    },
    (connection) => {
      log.connections.push(connection);
      connection.on('session', (accept) => {
        const session = accept();
        const env: Record<string, string> = {};
        session.on('pty', (ok, _no, info) => {
          log.ptys.push({ term: info.term, cols: info.cols, rows: info.rows });
          env.TERM = info.term;
          ok();
        });
        session.on('env', (ok, _no, info) => {
          env[info.name] = info.value;
          log.env[info.name] = info.value;
          ok();
        });
        session.on('exec', (ok, no, { command }) => {
          if (command === 'refuse-me') return no();
          const stream = ok();
          if (command === 'hash') {
            const hash = createHash('sha256');
            stream.on('data', (c: Buffer) => hash.update(c));
            stream.on('end', () => {
              stream.sendExit(0);
              stream.end(`${hash.digest('hex')}\n`);
            });
          } else if (command === 'hold') {
            stream.pause();
            log.held.push(stream);
            const hash = createHash('sha256');
            stream.on('data', (c: Buffer) => hash.update(c));
            stream.on('end', () => {
              stream.sendExit(0);
              stream.end(`${hash.digest('hex')}\n`);
            });
          } else runShell(stream, command, env);
        });
        session.on('shell', (ok) => runShell(ok(), undefined, env));
        session.on('subsystem', (ok, no, { name }) => {
          if (name !== 'echo') return no();
          const stream = ok();
          stream.pipe(stream);
        });
      });
      connection.on('direct-tcpip', (accept, reject, info) => {
        const socket = net.connect({ host: info.host, port: info.port, allowHalfOpen: true });
        socket.once('connect', () => splice(socket, accept()));
        socket.once('error', () => reject(2, 'connect failed'));
      });
      connection.on('tcpip-forward', (accept, reject, { bindAddress, bindPort }) => {
        const listener = net.createServer({ allowHalfOpen: true }, (socket) => {
          socket.pause();
          connection
            .forwardOut(bindAddress, port(), socket.remoteAddress ?? '', socket.remotePort ?? 0)
            .then(
              (stream) => splice(socket, stream),
              () => socket.destroy(),
            );
        });
        const port = () => (listener.address() as net.AddressInfo).port;
        listener.once('error', () => reject());
        listener.listen(bindPort, '127.0.0.1', () => accept(port()));
        connection.on('close', () => listener.close());
      });
    },
  );
  const address = await server.listen(0);
  return { server, port: address.port, hostKey, log };
}
