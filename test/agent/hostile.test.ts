/**
 * node/agent.ts against a hostile fake agent on a Unix socket: oversized lengths (refused on
 * the 4-byte prefix, so nothing more is buffered), truncated replies, wrong message types,
 * unsolicited replies, floods, and a slow but honest agent dripping one byte at a time.
 */

import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshAgent } from '../../node/agent.js';
import { generatePrivateKey, SSH_ERR } from '../../src/index.js';
import { SshWriter } from '../../src/wire/writer.js';
import { makeTempDir, removeDir } from '../interop/peers.js';

let dir: string;
let counter = 0;
const key = generatePrivateKey('ed25519');

beforeAll(() => {
  dir = makeTempDir('agent-hostile');
});
afterAll(() => removeDir(dir));

interface Fake {
  readonly path: string;
  /** Resolves when our client closed the connection; with the bytes the fake could write. */
  readonly peerClosed: Promise<void>;
  close(): Promise<void>;
}

/** A fake agent: `onRequest` runs for each whole request it receives. */
async function fakeAgent(
  onRequest: (socket: Socket, type: number) => void,
  onConnect?: (socket: Socket) => void,
): Promise<Fake> {
  const path = join(dir, `fake-${++counter}.sock`);
  let markClosed!: () => void;
  const peerClosed = new Promise<void>((r) => {
    markClosed = r;
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      markClosed();
    });
    let held = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      held = Buffer.concat([held, chunk]);
      while (held.length >= 4 && held.length >= 4 + held.readUInt32BE(0)) {
        const n = held.readUInt32BE(0);
        const type = held[4]!;
        held = held.subarray(4 + n);
        onRequest(socket, type);
      }
    });
    onConnect?.(socket);
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    peerClosed,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const frame = (body: Uint8Array) =>
  Buffer.from(new SshWriter().uint32(body.length).raw(body).finish());
const u32 = (n: number) => Buffer.from(new SshWriter().uint32(n).finish());
const answer = frame(
  new SshWriter().byte(12).uint32(1).string(key.publicKeyBlob).string('k').finish(),
);

async function failureOf(fake: Fake): Promise<unknown> {
  const a = await SshAgent.connect({ path: fake.path, timeoutMs: 10_000 });
  return a.identities().then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('a hostile agent', () => {
  it('declaring a 4 GiB reply: LIMIT_EXCEEDED on the prefix alone, and the link is closed', async () => {
    const fake = await fakeAgent((s) => s.write(u32(0xffffffff)));
    expect(await failureOf(fake)).toMatchObject({ code: SSH_ERR.LIMIT_EXCEEDED, origin: 'peer' });
    await fake.peerClosed;
    await fake.close();
  });

  it('streaming a body past 256 KiB: refused before the body is buffered', async () => {
    let written = 0;
    const fake = await fakeAgent((s) => {
      s.write(u32(256 * 1024 + 1));
      const chunk = Buffer.alloc(64 * 1024);
      const pump = () => {
        while (!s.destroyed && written < 64 * 1024 * 1024) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      setImmediate(pump);
    });
    expect(await failureOf(fake)).toMatchObject({ code: SSH_ERR.LIMIT_EXCEEDED });
    await fake.peerClosed;
    // The fake could not push its 64 MiB: we stopped reading and closed.
    expect(written).toBeLessThan(64 * 1024 * 1024);
    await fake.close();
  });

  it('answering with the wrong message type: UNEXPECTED_MESSAGE', async () => {
    const fake = await fakeAgent((s) =>
      s.write(frame(new SshWriter().byte(14).string(new Uint8Array(8)).finish())),
    );
    expect(await failureOf(fake)).toMatchObject({ code: SSH_ERR.UNEXPECTED_MESSAGE });
    await fake.peerClosed;
    await fake.close();
  });

  it('claiming 100000 identities: LIMIT_EXCEEDED', async () => {
    const fake = await fakeAgent((s) =>
      s.write(frame(new SshWriter().byte(12).uint32(100_000).finish())),
    );
    expect(await failureOf(fake)).toMatchObject({ code: SSH_ERR.LIMIT_EXCEEDED });
    await fake.close();
  });

  it('truncating its reply and hanging up: CONNECTION_LOST', async () => {
    const fake = await fakeAgent((s) => s.end(answer.subarray(0, answer.length - 3)));
    expect(await failureOf(fake)).toMatchObject({ code: SSH_ERR.CONNECTION_LOST });
    await fake.close();
  });

  it('a reply with a truncated field inside a whole frame: MALFORMED_MESSAGE', async () => {
    const body = new SshWriter().byte(12).uint32(1).uint32(500).raw(new Uint8Array(10)).finish();
    const fake = await fakeAgent((s) => s.write(frame(body)));
    expect(await failureOf(fake)).toMatchObject({ code: SSH_ERR.MALFORMED_MESSAGE });
    await fake.close();
  });

  it('speaking before it is asked: UNEXPECTED_MESSAGE for the next request', async () => {
    const fake = await fakeAgent(
      () => {},
      (s) => s.write(answer),
    );
    const a = await SshAgent.connect({ path: fake.path });
    await fake.peerClosed;
    await expect(a.identities()).rejects.toMatchObject({ code: SSH_ERR.UNEXPECTED_MESSAGE });
    await fake.close();
  });

  it('flooding after a good answer: the answer is used, then the link is closed', async () => {
    const fake = await fakeAgent((s) => {
      s.write(answer);
      s.write(Buffer.alloc(1024 * 1024, 0xff));
    });
    const a = await SshAgent.connect({ path: fake.path });
    const ids = await a.identities();
    expect(ids).toHaveLength(1);
    await fake.peerClosed;
    expect(a.lastError?.code).toBe(SSH_ERR.LIMIT_EXCEEDED);
    await fake.close();
  });

  it('dripping a correct answer one byte per tick: the answer arrives whole', async () => {
    const fake = await fakeAgent((s) => {
      let i = 0;
      const drip = () => {
        if (i < answer.length) s.write(answer.subarray(i, ++i), () => setImmediate(drip));
      };
      drip();
    });
    const a = await SshAgent.connect({ path: fake.path });
    const ids = await a.identities();
    expect(Buffer.from(ids[0]!.keyBlob).equals(Buffer.from(key.publicKeyBlob))).toBe(true);
    await a.close();
    await fake.close();
  });

  it('never answering: TIMEOUT; a later request waits behind the unanswered one', async () => {
    let requests = 0;
    const fake = await fakeAgent(() => {
      requests++;
    });
    const a = await SshAgent.connect({ path: fake.path, timeoutMs: 100 });
    await expect(a.identities()).rejects.toMatchObject({ code: SSH_ERR.TIMEOUT });
    // Requests are serialized: the second goes out only after a reply to the first.
    await expect(a.identities()).rejects.toMatchObject({ code: SSH_ERR.TIMEOUT });
    expect(requests).toBe(1);
    expect(a.lastError).toBeUndefined();
    await a.close();
    await fake.close();
  });
});
