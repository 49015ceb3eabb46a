import { SerialPort } from 'serialport';
import { it } from 'vitest';
import { generatePrivateKey } from '../../src/index.js';
import { attachSerial } from '../../transports/serial.js';
import { Recorder } from '../transports/helpers.js';
import { catRoundTrip, ourClientConfig, ourServerConfig, ptyPair, sourceBytes } from './helpers.js';

function patch(port: SerialPort) {
  const poller = (
    port.port as unknown as { poller: { poll(f?: number): void; listenerCount(e: string): number } }
  ).poller;
  const orig = poller.poll.bind(poller);
  poller.poll = (flag = 0) => {
    let mask = flag;
    if (poller.listenerCount('readable') > 0) mask |= 1;
    if (poller.listenerCount('writable') > 0) mask |= 2;
    if (poller.listenerCount('disconnect') > 0) mask |= 4;
    orig(mask);
  };
}

it('serial', async () => {
  const hostKey = generatePrivateKey('ed25519');
  const userKey = generatePrivateKey('ed25519');
  const pty = await ptyPair();
  const open = (path: string) =>
    new Promise<SerialPort>((res, rej) => {
      const p: SerialPort = new SerialPort({ path, baudRate: 115200 }, (e) =>
        e ? rej(e) : res(p),
      );
    });
  const [a, b] = await Promise.all([open(pty.a), open(pty.b)]);
  if (process.env.PATCH) {
    patch(a);
    patch(b);
  }
  const sr = new Recorder();
  const cr = new Recorder();
  attachSerial(a, ourServerConfig(hostKey, userKey, sr));
  const client = attachSerial(b, ourClientConfig(hostKey, userKey, cr));
  await cr.waitFor('authenticated');
  let rec = 0;
  const t0 = Date.now();
  const t = await Promise.race([
    catRoundTrip(client, sourceBytes(), {
      onReceived: (n) => {
        rec = n;
      },
    }),
    new Promise((r) => setTimeout(r, 15000)),
  ]);
  console.log(
    'RESULT',
    Date.now() - t0,
    rec,
    t ? 'done' : 'STALLED',
    a.writableLength,
    b.writableLength,
  );
  await pty.stop();
}, 30000);
