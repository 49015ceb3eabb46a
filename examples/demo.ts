/**
 * The demonstration: our server and our client complete SSH sessions with each other, first
 * over an in-process link, then over a loopback TCP port, printing each step with the
 * negotiated algorithms and timings. No outside server is needed.
 */

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import {
  generatePrivateKey,
  type Session,
  type SessionEvent,
  sessionAlgorithms,
  sessionDisconnect,
  sessionHostKeyFingerprint,
  sessionPeerIdentification,
  sessionRekey,
  sessionStrictKex,
} from '../src/index.js';
import { createMemoryLink } from '../transports/memory.js';
import { connectTcp, listenTcp } from '../transports/tcp.js';

const hostKey = generatePrivateKey('ed25519');
const t0 = performance.now();
const ms = () => `${(performance.now() - t0).toFixed(1).padStart(7)} ms`;
const say = (who: string, what: string) => console.log(`${ms()}  ${who.padEnd(6)} ${what}`);

function clientConfig(label: string, done: (s: Session) => void) {
  return {
    role: 'client' as const,
    onHostKey: (request: { fingerprint: string; algorithm: string; accept(): void }) => {
      say(label, `server host key ${request.algorithm} ${request.fingerprint} — trusted (pinned)`);
      request.accept();
    },
    onEvent: (event: SessionEvent, session: Session) => {
      narrate(label, event, session);
      if (event.type === 'service-accepted') done(session);
    },
  };
}

function serverConfig(label: string) {
  return {
    role: 'server' as const,
    hostKeys: [hostKey],
    onEvent: (event: SessionEvent, session: Session) => narrate(label, event, session),
  };
}

function narrate(who: string, event: SessionEvent, session: Session): void {
  switch (event.type) {
    case 'identification':
      say(who, `peer identified as ${event.peer}`);
      break;
    case 'handshake-complete': {
      const a = event.algorithms;
      say(
        who,
        `key exchange done: ${a.kex}, host key ${a.hostKey}, cipher ${a.cipherClientToServer}${a.macClientToServer ? ` + ${a.macClientToServer}` : ''}, strict kex ${sessionStrictKex(session) ? 'on' : 'off'}`,
      );
      break;
    }
    case 'service-accepted':
      say(who, `service ${event.service} started: ready for authentication`);
      break;
    case 'rekey-started':
      say(who, `rekey started (${event.initiator})`);
      break;
    case 'rekey-complete':
      say(who, 'rekey complete: fresh keys in both directions');
      break;
    case 'disconnected':
      say(who, `peer disconnected (reason ${event.reason})`);
      break;
    case 'error':
      say(who, `error ${event.error.code}: ${event.error.message}`);
      break;
    case 'closed':
      say(who, 'session closed');
      break;
    default:
      break;
  }
}

async function overMemory(): Promise<void> {
  console.log(
    '\n== 1. In-process link (synchronous delivery, every byte through sessionReceive) ==',
  );
  const [a, b] = createMemoryLink({ delivery: 'sync' });
  b.create(serverConfig('server'));
  const start = performance.now();
  let ready: Session | undefined;
  a.create(clientConfig('client', (s) => (ready = s)));
  const client = ready!;
  say('client', `handshake took ${(performance.now() - start).toFixed(2)} ms`);
  sessionRekey(client);
  say('client', `sent ${a.bytesSent} bytes, received ${b.bytesSent} bytes`);
  sessionDisconnect(client);
}

async function overTcp(): Promise<void> {
  console.log('\n== 2. Loopback TCP (node:net sockets, same core) ==');
  const server = listenTcp({ port: 0 }, () => serverConfig('server'));
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  say('tcp', `server listening on 127.0.0.1:${port}`);
  const start = performance.now();
  const client = await new Promise<Session>((resolve) =>
    connectTcp({ port }, clientConfig('client', resolve)),
  );
  say(
    'client',
    `connected and keyed in ${(performance.now() - start).toFixed(1)} ms to ${sessionPeerIdentification(client)}`,
  );
  say('client', `host key fingerprint ${sessionHostKeyFingerprint(client)}`);
  const algs = sessionAlgorithms(client)!;
  say('client', `algorithms: ${JSON.stringify(algs)}`);
  sessionDisconnect(client);
  await new Promise((r) => setTimeout(r, 50));
  server.close();
}

console.log(
  'pluggable-ssh demo: this core does no network I/O; each link below is a few lines of transport.',
);
await overMemory();
await overTcp();
console.log('\nDone.');
