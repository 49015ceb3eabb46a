/**
 * @module
 * The plaintext targets: the version exchange (both roles read the same bytes) and the first
 * key exchange, client side and server side, fed raw bytes after a fixed identification line.
 */

import type { AlgorithmPreferences } from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { streamBoundaries } from '../framing.js';
import { Monitored } from '../monitor.js';
import { clientConfig, relay, serverConfig } from '../peers.js';
import type { FuzzTarget } from './types.js';

const text = (s: string) => new TextEncoder().encode(s);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The algorithm choices seed transcripts are made with, so that each method gets a seed. */
export const SEED_ALGORITHMS: readonly AlgorithmPreferences[] = [
  {},
  { kex: ['curve25519-sha256@libssh.org'], cipher: ['aes256-gcm@openssh.com'] },
  { kex: ['ecdh-sha2-nistp256'], cipher: ['aes128-gcm@openssh.com'] },
  { kex: ['ecdh-sha2-nistp384'], cipher: ['aes128-ctr'], mac: ['hmac-sha2-512-etm@openssh.com'] },
  { kex: ['ecdh-sha2-nistp521'], cipher: ['aes256-ctr'], mac: ['hmac-sha2-256'] },
  { kex: ['diffie-hellman-group14-sha256'], cipher: ['aes192-ctr'], mac: ['hmac-sha2-512'] },
  { kex: ['diffie-hellman-group16-sha512'] },
];

/** Both roles read the same bytes from the very start of a connection. */
export const versionTarget: FuzzTarget = {
  name: 'version',
  description: 'a fresh client and a fresh server each read the input from the first byte',
  format: 'stream',
  seeds() {
    const client = new Monitored((m) => clientConfig(m));
    const server = new Monitored((m) => serverConfig(m));
    const fromClient = client.takeOutput();
    const fromServer = server.takeOutput();
    return [
      fromClient,
      fromServer,
      text('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'),
      text('SSH-2.0-dropbear_2022.83\r\n'),
      text('SSH-1.99-OpenSSH_3.9p1\r\n'),
      text('SSH-2.0-ssh2js1.17.0\r\n'),
      concat(text('Welcome to the fuzz host\r\nplease behave\n'), fromServer),
    ];
  },
  run(input, beforeFeed) {
    const boundaries = streamBoundaries(input);
    const parties = [new Monitored((m) => clientConfig(m)), new Monitored((m) => serverConfig(m))];
    for (const p of parties) p.takeOutput();
    beforeFeed?.();
    for (const p of parties) {
      p.feed(input, boundaries);
      p.linkClosed();
    }
  },
};

/**
 * A key-exchange target: the session under test reads the peer's identification line, then
 * the input; seeds are what a real peer of ours sent in a whole handshake.
 */
function kexTarget(role: 'client' | 'server'): FuzzTarget {
  const makeTarget = () =>
    new Monitored((m) => (role === 'client' ? clientConfig(m) : serverConfig(m)));
  const makePeer = (algorithms: AlgorithmPreferences) =>
    new Monitored((m) =>
      role === 'client' ? serverConfig(m, { algorithms }) : clientConfig(m, { algorithms }),
    );
  return {
    name: role === 'client' ? 'kex-client' : 'kex-server',
    description: `a ${role} reads the ${role === 'client' ? 'server' : 'client'}'s identification line and key-exchange packets`,
    format: 'stream',
    seeds() {
      return SEED_ALGORITHMS.map((algorithms) => {
        const target = makeTarget();
        const peer = makePeer(algorithms);
        const recorded: Uint8Array[] = [];
        relay(target, peer, undefined, (bytes) => {
          recorded.push(bytes);
          return bytes;
        });
        if (engineOf(target.session).state !== 'established') {
          throw new Error(`the ${role} seed handshake did not finish`);
        }
        let all: Uint8Array = new Uint8Array(0);
        for (const r of recorded) all = concat(all, r);
        return all;
      });
    },
    run(input, beforeFeed) {
      const target = makeTarget();
      target.takeOutput();
      beforeFeed?.();
      target.feed(input, streamBoundaries(input));
      target.linkClosed();
    },
  };
}

/** The first key exchange, attacked from the server's side. */
export const kexClientTarget = kexTarget('client');
/** The first key exchange, attacked from the client's side. */
export const kexServerTarget = kexTarget('server');
