/**
 * The serial transport end to end over a socat pseudo-terminal pair: our server on one end
 * runs `cat`, our client on the other moves 8 MiB through it and back with matching SHA-256;
 * then the line is cut mid-transfer. Both ports get {@link keepSerialPollerArmed}: without it
 * serialport 13's poller loses a pending write wait and full-duplex transfers stall.
 */

import { SerialPort } from 'serialport';
import { afterEach, describe, expect, it } from 'vitest';
import { generatePrivateKey, sessionDisconnect, sessionLastError } from '../../src/index.js';
import { attachSerial } from '../../transports/serial.js';
import { Recorder } from '../transports/helpers.js';
import {
  catRoundTrip,
  expectCleanBreak,
  expectIntact,
  ourClientConfig,
  ourServerConfig,
  type PtyPair,
  ptyPair,
  sourceBytes,
} from './helpers.js';

const hostKey = generatePrivateKey('ed25519');
const userKey = generatePrivateKey('ed25519');
const BAUD = 4_000_000;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function openPort(path: string): Promise<SerialPort> {
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const p: SerialPort = new SerialPort({ path, baudRate: BAUD }, (e) =>
      e ? reject(e) : resolve(p),
    );
  });
  cleanups.push(() => new Promise<void>((r) => (port.isOpen ? port.close(() => r()) : r())));
  // attachSerial works around the serialport poller bug itself (transports/serial.ts).
  return port;
}

async function serialPair(pty: PtyPair) {
  const serverRec = new Recorder();
  const clientRec = new Recorder();
  // Both ends open before either session speaks: opening a port discards what waits in it.
  const [portA, portB] = await Promise.all([openPort(pty.a), openPort(pty.b)]);
  const server = attachSerial(portA, ourServerConfig(hostKey, userKey, serverRec));
  const client = attachSerial(portB, ourClientConfig(hostKey, userKey, clientRec));
  await clientRec.waitFor('authenticated');
  return { server, client, serverRec, clientRec };
}

describe('a serial line (socat pty pair)', () => {
  it('moves 8 MiB through cat on our server and back, intact', async () => {
    const pty = await ptyPair();
    cleanups.push(pty.stop);
    const { client, clientRec, serverRec } = await serialPair(pty);
    const data = sourceBytes();
    expectIntact('serial (socat pty pair)', data, await catRoundTrip(client, data));
    sessionDisconnect(client);
    await Promise.all([clientRec.waitFor('closed'), serverRec.waitFor('closed')]);
    expect(sessionLastError(client)).toBeUndefined();
  });

  it('reports the line going away mid-transfer as a lost link, bytes so far intact', async () => {
    const pty = await ptyPair();
    cleanups.push(pty.stop);
    const { client, clientRec } = await serialPair(pty);
    await expectCleanBreak('serial (socat killed)', client, clientRec, () =>
      pty.socat.kill('SIGKILL'),
    );
  });
});
