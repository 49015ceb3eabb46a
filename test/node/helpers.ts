/**
 * @module
 * Helpers for the node-layer tests: a 64 MiB round trip through an echoing channel with
 * SHA-256 on both ends, a hand-written SOCKS5 client (RFC 1928) and a silent TCP server.
 */

import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { Readable } from 'node:stream';
import type { ChannelStream } from '../../node/index.js';

export const MiB = 1024 * 1024;

/** What a bulk round trip measured. */
export interface RoundTrip {
  readonly sentHash: string;
  readonly receivedHash: string;
  readonly bytes: number;
  /** Largest `writableLength` of the channel stream seen while writing. */
  readonly maxWritableLength: number;
  /** How many times `write()` returned false (the sender paused on the window). */
  readonly pauses: number;
  readonly ms: number;
}

/**
 * Writes `total` random bytes into `stream` (an echoing channel: `cat`) with backpressure and
 * hashes what comes back.
 */
export function roundTrip(stream: ChannelStream, total: number): Promise<RoundTrip> {
  const started = Date.now();
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let produced = 0;
  let maxWritableLength = 0;
  let pauses = 0;
  let receivedBytes = 0;
  const source = new Readable({
    highWaterMark: MiB,
    read() {
      if (produced >= total) return void this.push(null);
      const chunk = randomBytes(Math.min(MiB, total - produced));
      produced += chunk.length;
      sent.update(chunk);
      this.push(chunk);
    },
  });
  return new Promise((resolve, reject) => {
    stream.on('error', reject);
    source.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk)) {
        pauses++;
        source.pause();
        stream.once('drain', () => source.resume());
      }
      maxWritableLength = Math.max(maxWritableLength, stream.writableLength);
    });
    source.on('end', () => stream.end());
    stream.on('data', (chunk: Buffer) => {
      receivedBytes += chunk.length;
      received.update(chunk);
    });
    stream.on('end', () =>
      resolve({
        sentHash: sent.digest('hex'),
        receivedHash: received.digest('hex'),
        bytes: receivedBytes,
        maxWritableLength,
        pauses,
        ms: Date.now() - started,
      }),
    );
  });
}

/** Resolves when `check()` holds, testing after each macrotask (no clock involved). */
export async function until(check: () => boolean, limit = 200_000): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i > limit) throw new Error('condition never held');
    await new Promise((r) => setImmediate(r));
  }
}

/** A SOCKS5 address for {@link socksConnect}. */
export type SocksAddress =
  | { readonly ipv4: string }
  | { readonly ipv6: string }
  | { readonly domain: string };

function encodeAddress(address: SocksAddress): Buffer {
  if ('ipv4' in address) return Buffer.from([1, ...address.ipv4.split('.').map(Number)]);
  if ('domain' in address) {
    const name = Buffer.from(address.domain, 'latin1');
    return Buffer.concat([Buffer.from([3, name.length]), name]);
  }
  // Only full or `::`-compressed IPv6 forms are needed here.
  const [head = '', tail = ''] = address.ipv6.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(17);
  out[0] = 4;
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), 1 + 2 * i);
  });
  return out;
}

/**
 * A SOCKS5 client (RFC 1928): greets offering "no authentication", sends CONNECT, and resolves
 * with the reply code and the socket (ready to carry data when the code is 0).
 */
export function socksConnect(
  proxyPort: number,
  address: SocksAddress,
  port: number,
): Promise<{ reply: number; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: proxyPort, host: '127.0.0.1', allowHalfOpen: true });
    let buf = Buffer.alloc(0);
    let phase: 'method' | 'reply' = 'method';
    socket.on('error', reject);
    socket.on('connect', () => socket.write(Buffer.from([5, 1, 0])));
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (phase === 'method') {
        if (buf.length < 2) return;
        if (buf[0] !== 5 || buf[1] !== 0) return reject(new Error(`method reply ${buf[1]}`));
        buf = buf.subarray(2);
        phase = 'reply';
        const portBytes = Buffer.alloc(2);
        portBytes.writeUInt16BE(port);
        socket.write(Buffer.concat([Buffer.from([5, 1, 0]), encodeAddress(address), portBytes]));
      }
      if (buf.length < 10) return; // our server always answers with an IPv4 BND.ADDR
      socket.off('data', onData);
      const rest = buf.subarray(10);
      if (rest.length > 0) socket.unshift(rest);
      resolve({ reply: buf[1]!, socket });
    };
    socket.on('data', onData);
    socket.on('end', () => {
      if (phase === 'method' || buf.length < 10) reject(new Error('proxy closed early'));
    });
  });
}

/** Sends `data` over `socket`, half-closes, and resolves with everything read until the end. */
export function exchange(socket: net.Socket, data: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      socket.destroy();
      resolve(Buffer.concat(chunks));
    });
    socket.on('error', reject);
    socket.end(data);
  });
}

/** A TCP server that accepts and never says anything (a stuck SSH server). */
export function startSilentServer(): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    );
  });
}
