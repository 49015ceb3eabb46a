/**
 * The serial transport over a real pseudo-terminal pair made by socat (TOOLING.md). A missing
 * socat fails these tests: it is installed by .ci/run.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionDisconnect, sessionLastError, sessionState } from '../../src/index.js';
import { attachSerial, openSerial } from '../../transports/serial.js';
import { addTimeouts } from '../../transports/timeouts.js';
import { makeTempDir, removeDir, requireBinary } from '../interop/peers.js';
import {
  clientConfig,
  delay,
  expectLinkDropped,
  handshakeAndRekey,
  Recorder,
  serverConfig,
} from './helpers.js';

const SOCAT = '/usr/bin/socat';

interface PtyPair {
  readonly a: string;
  readonly b: string;
  readonly socat: ChildProcess;
  readonly exited: Promise<void>;
  stop(): Promise<void>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Starts `socat pty,raw,echo=0,link=A pty,raw,echo=0,link=B` and waits for both links. */
async function ptyPair(): Promise<PtyPair> {
  requireBinary(SOCAT);
  const dir = makeTempDir('serial');
  const a = join(dir, 'A');
  const b = join(dir, 'B');
  const socat = spawn(SOCAT, ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  socat.stderr?.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const exited = new Promise<void>((resolve) => socat.on('exit', () => resolve()));
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + 10_000;
  while (!(existsSync(a) && existsSync(b))) {
    if (gone) throw new Error(`socat exited before making the pty pair: ${log}`);
    if (Date.now() > deadline) throw new Error(`socat made no pty pair within 10 s: ${log}`);
    await delay(10);
  }
  const pair: PtyPair = {
    a,
    b,
    socat,
    exited,
    stop: async () => {
      if (!gone) {
        socat.kill();
        await exited;
      }
      removeDir(dir);
    },
  };
  cleanups.push(pair.stop);
  return pair;
}

/** Opens a port and waits for it (tests open both ends before any session speaks). */
async function openPort(path: string): Promise<SerialPort> {
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const p: SerialPort = new SerialPort({ path, baudRate: 115200 }, (e) =>
      e ? reject(e) : resolve(p),
    );
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if (!port.isOpen) resolve();
        else port.close(() => resolve());
      }),
  );
  return port;
}

describe('a serial line (socat pty pair)', () => {
  it('completes a handshake and a rekey between our server on A and our client on B', async () => {
    const pty = await ptyPair();
    const [portA, portB] = await Promise.all([openPort(pty.a), openPort(pty.b)]);
    const serverRec = new Recorder();
    const clientRec = new Recorder();
    const server = attachSerial(portA, serverConfig(serverRec));
    const client = attachSerial(portB, clientConfig(clientRec));
    await handshakeAndRekey(client, clientRec, serverRec);

    sessionDisconnect(client);
    await serverRec.waitFor('closed');
    expect(sessionLastError(server)?.code).toBe('SSH_ERR_PEER_DISCONNECTED');
    await clientRec.waitFor('closed');
    expect(sessionLastError(client)).toBeUndefined();
  });

  it('opens a port with openSerial when the other end is already open', async () => {
    const pty = await ptyPair();
    const portB = await openPort(pty.b);
    const serverRec = new Recorder();
    const clientRec = new Recorder();
    const { port: portA } = await openSerial(
      { path: pty.a, baudRate: 115200 },
      serverConfig(serverRec),
    );
    cleanups.push(() => {
      if (portA.isOpen) portA.close();
    });
    const client = attachSerial(portB, clientConfig(clientRec));
    await handshakeAndRekey(client, clientRec, serverRec);
    sessionDisconnect(client);
    await serverRec.waitFor('closed');
  });

  it('rejects openSerial for a port that does not exist, creating no session', async () => {
    const rec = new Recorder();
    await expect(
      openSerial({ path: '/dev/no-such-serial-port', baudRate: 9600 }, clientConfig(rec)),
    ).rejects.toThrow();
    expect(rec.events).toEqual([]);
  });

  it('still completes when a throttle feeds every byte on its own, and writes go in slices', async () => {
    const pty = await ptyPair();
    const [portA, portB] = await Promise.all([openPort(pty.a), openPort(pty.b)]);
    const serverRec = new Recorder();
    const clientRec = new Recorder();
    const rate = 20_000;
    const link = { throttleBytesPerSecond: rate, readPieceBytes: 1, writeSliceBytes: 7 } as const;
    let received = 0;
    portB.on('data', (chunk: Uint8Array) => {
      received += chunk.length;
    });
    attachSerial(portA, serverConfig(serverRec), link);
    const client = attachSerial(portB, clientConfig(clientRec), link);
    const started = Date.now();
    await handshakeAndRekey(client, clientRec, serverRec);
    const elapsed = Date.now() - started;
    sessionDisconnect(client);
    await serverRec.waitFor('closed');
    // The client could not have been fed faster than the rate allows.
    expect(received).toBeGreaterThan(2000);
    expect(elapsed).toBeGreaterThanOrEqual(((received - rate / 100) * 1000) / rate);
  });

  it('reports the line vanishing mid-handshake (socat killed) as a lost connection', async () => {
    const pty = await ptyPair();
    const [portA, portB] = await Promise.all([openPort(pty.a), openPort(pty.b)]);
    const serverRec = new Recorder();
    const clientRec = new Recorder();
    const server = attachSerial(portA, serverConfig(serverRec));
    // The client holds its host-key verdict: the handshake stops half-way, the line goes quiet.
    let asked!: () => void;
    const hostKeyAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const client = attachSerial(portB, clientConfig(clientRec, { onHostKey: () => asked() }));
    await hostKeyAsked;
    // serialport 13 can miss a hang-up that lands while a read is in flight (it retries the
    // 0-byte reads forever); a quiet line lets both reads wait in the poller, which sees it.
    await delay(100);
    pty.socat.kill('SIGKILL');
    await Promise.all([expectLinkDropped(serverRec, server), expectLinkDropped(clientRec, client)]);
    expect(sessionState(client)).toBe('closed');
  });

  it('notices a peer that closes its port mid-handshake only through a handshake timeout', async () => {
    const pty = await ptyPair();
    const [portA, portB] = await Promise.all([openPort(pty.a), openPort(pty.b)]);
    const rec = new Recorder();
    const expired: string[] = [];
    const timeouts = addTimeouts(serverConfig(rec), { handshakeMs: 300 }, (kind) =>
      expired.push(kind),
    );
    const server = attachSerial(portA, timeouts.config, { onActivity: timeouts.noteActivity });
    timeouts.attach(server);
    // The "client" says hello and goes away: a serial line carries no hang-up.
    portB.write('SSH-2.0-GoesAway_1.0\r\n');
    await rec.waitFor('identification');
    await new Promise<void>((resolve) => portB.close(() => resolve()));
    await rec.waitFor('closed');
    expect(expired).toEqual(['handshake']);
    expect(sessionState(server)).toBe('closed');
  });
});
