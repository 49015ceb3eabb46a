/**
 * The demonstration: our server and our client complete real SSH sessions with each other
 * (no outside server needed): first over an in-process link, then over loopback TCP with a
 * public-key login, a command run on the server, and a port forwarded through the session.
 */

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import {
  type Channel,
  type ChannelEvent,
  type ChannelOpenRequest,
  type ClientConfig,
  channelClose,
  channelEof,
  channelOpenDirectTcpip,
  channelOpenSession,
  channelRequestExec,
  channelSendExitStatus,
  channelWrite,
  channelWriteExtended,
  generatePrivateKey,
  type ServerConfig,
  type Session,
  type SessionEvent,
  sessionAlgorithms,
  sessionDisconnect,
  sessionRekey,
  sessionStrictKex,
} from '../src/index.js';
import { createMemoryLink } from '../transports/memory.js';
import { connectTcp, listenTcp } from '../transports/tcp.js';

const hostKey = generatePrivateKey('ed25519');
const userKey = generatePrivateKey('ed25519');
const t0 = performance.now();
const say = (who: string, what: string) =>
  console.log(`${(performance.now() - t0).toFixed(1).padStart(7)} ms  ${who.padEnd(6)} ${what}`);

function narrate(who: string, e: SessionEvent, s: Session): void {
  if (e.type === 'identification') say(who, `peer is ${e.peer}`);
  else if (e.type === 'handshake-complete') {
    const a = e.algorithms;
    say(
      who,
      `keys agreed: ${a.kex}, ${a.hostKey}, ${a.cipherClientToServer}${a.macClientToServer ? ` + ${a.macClientToServer}` : ''}, strict kex ${sessionStrictKex(s) ? 'on' : 'off'}`,
    );
  } else if (e.type === 'rekey-complete') say(who, 'rekeyed: fresh keys both ways');
  else if (e.type === 'authenticated') say(who, `authenticated ${e.username} by ${e.method}`);
  else if (e.type === 'disconnected') say(who, `peer disconnected (reason ${e.reason})`);
  else if (e.type === 'error' && e.error.code !== 'SSH_ERR_PEER_DISCONNECTED')
    say(who, `error ${e.error.code}: ${e.error.message}`);
}

/** The server: trusts one user key, runs commands with /bin/sh, forwards to loopback only. */
const serverConfig: ServerConfig<Session> = {
  role: 'server',
  hostKeys: [hostKey],
  authMethods: ['publickey'],
  onAuth: (req) => {
    const ok =
      req.method === 'publickey' &&
      req.username === 'demo' &&
      Buffer.from(req.publicKey!.blob).equals(userKey.publicKeyBlob);
    if (ok) req.accept();
    else req.reject();
  },
  onChannelOpen: (req) =>
    req.type === 'session'
      ? acceptSession(req)
      : req.type === 'direct-tcpip'
        ? acceptForward(req)
        : req.reject(),
  onEvent: (e, s) => narrate('server', e, s),
};

function acceptSession(req: ChannelOpenRequest): void {
  req.accept({
    onEvent: (e, ch) => {
      if (e.type !== 'request') return;
      const p = e.request.parsed;
      if (p?.type !== 'exec') return e.request.reject();
      e.request.accept();
      say('server', `exec ${JSON.stringify(p.command)}`);
      const child = spawn('/bin/sh', ['-c', p.command], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', (d: Buffer) => channelWrite(ch, d));
      child.stderr.on('data', (d: Buffer) => channelWriteExtended(ch, 1, d));
      child.on('close', (code) => {
        channelSendExitStatus(ch, code ?? 255);
        channelEof(ch);
        channelClose(ch);
      });
    },
  });
}

function acceptForward(req: ChannelOpenRequest & { type: 'direct-tcpip' }): void {
  if (req.host !== '127.0.0.1') return req.reject();
  say('server', `forwarding to ${req.host}:${req.port}`);
  const socket = net.connect(req.port, req.host);
  const ch = req.accept({
    onEvent: (e) =>
      e.type === 'data' ? socket.write(e.data) : e.type === 'eof' ? socket.end() : undefined,
  });
  socket.on('data', (d) => channelWrite(ch, d));
  socket.on('end', () => channelEof(ch));
  socket.on('close', () => channelClose(ch));
}

function clientConfig(done: (s: Session) => void): ClientConfig<Session> {
  return {
    role: 'client',
    onHostKey: (r) => {
      say(
        'client',
        `host key ${r.fingerprint}: ${r.fingerprint === fingerprint ? 'matches the pin, accepted' : 'unknown, rejected'}`,
      );
      r.fingerprint === fingerprint ? r.accept() : r.reject();
    },
    auth: { username: 'demo', methods: [{ type: 'publickey', key: userKey }] },
    onEvent: (e, s) => {
      narrate('client', e, s);
      if (e.type === 'authenticated') done(s);
    },
  };
}
const fingerprint = `SHA256:${Buffer.from(
  (await import('node:crypto')).createHash('sha256').update(hostKey.publicKeyBlob).digest(),
)
  .toString('base64')
  .replace(/=+$/, '')}`;

/** Collects a channel's output until it closes. */
function run(ch: (onEvent: (e: ChannelEvent, c: Channel) => void) => Channel) {
  let out = '';
  let status: number | undefined;
  return new Promise<{ out: string; status: number | undefined }>((resolve) => {
    ch((e) => {
      if (e.type === 'data' || e.type === 'extended-data') out += Buffer.from(e.data).toString();
      if (e.type === 'request' && e.request.parsed?.type === 'exit-status')
        status = e.request.parsed.code;
      if (e.type === 'close') resolve({ out, status });
    });
  });
}

console.log(
  'pluggable-ssh demo: this core does no network I/O; each link below is a few lines of transport.\n',
);
console.log('== 1. In-process link: every byte delivered synchronously from inside send ==');
{
  const [a, b] = createMemoryLink({ delivery: 'sync' });
  b.create(serverConfig);
  let client: Session | undefined;
  const start = performance.now();
  a.create(clientConfig((s) => (client = s)));
  say(
    'client',
    `handshake + login in ${(performance.now() - start).toFixed(1)} ms, ${a.bytesSent + b.bytesSent} bytes on the link`,
  );
  sessionRekey(client!);
  sessionDisconnect(client!);
}

console.log('\n== 2. Loopback TCP: login, a command, a forwarded port ==');
const server = listenTcp({ port: 0 }, () => serverConfig);
await once(server, 'listening');
const echo = net.createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
await once(echo, 'listening');
const start = performance.now();
const client = await new Promise<Session>((resolve) =>
  connectTcp({ port: (server.address() as AddressInfo).port }, clientConfig(resolve)),
);
say(
  'client',
  `connected, keyed and logged in over TCP in ${(performance.now() - start).toFixed(1)} ms`,
);
say('client', `algorithms ${JSON.stringify(sessionAlgorithms(client))}`);

const result = await run((onEvent) => {
  const ch = channelOpenSession(client, {
    onEvent: (e, c) =>
      e.type === 'open'
        ? channelRequestExec(
            c,
            'echo "hello from $(uname -s) over SSH"; echo "(stderr too)" >&2; exit 7',
          )
        : onEvent(e, c),
  });
  return ch;
});
say('client', `command output: ${JSON.stringify(result.out)}, exit status ${result.status}`);

const echoPort = (echo.address() as AddressInfo).port;
const forwarded = await run((onEvent) =>
  channelOpenDirectTcpip(client, {
    host: '127.0.0.1',
    port: echoPort,
    originatorHost: '127.0.0.1',
    originatorPort: 0,
    onEvent: (e, c) => {
      if (e.type === 'open') {
        channelWrite(c, new TextEncoder().encode('ping through the tunnel'));
        channelEof(c);
      } else onEvent(e, c);
    },
  }),
);
say('client', `forwarded port 127.0.0.1:${echoPort} echoed ${JSON.stringify(forwarded.out)}`);

sessionDisconnect(client);
await new Promise((r) => setTimeout(r, 50));
server.close();
echo.close();
console.log('\nDone.');
