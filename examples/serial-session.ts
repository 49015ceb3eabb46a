/**
 * An SSH session over a serial line: our server on one end, our client on the other, a
 * command run through it. Give the two ends of a line (e.g. a null-modem cable between two
 * USB adapters, or a socat pty pair); without them this program makes a pty pair with socat.
 *
 *   npx tsx examples/serial-session.ts -- uname -a
 *   npx tsx examples/serial-session.ts --server /dev/ttyUSB0 --client /dev/ttyUSB1 -- id
 *
 * A serial line has no connection: both ports are opened before either session speaks
 * (opening a port discards what waits in it). It prints the command's output and exits with
 * its status.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SerialPort } from 'serialport';
import {
  fingerprintSha256,
  generatePrivateKey,
  sessionDisconnect,
  sessionLastError,
} from '../src/index.js';
import { attachSerial } from '../transports/serial.js';
import { acceptCommands, runCommand } from './lib/commands.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    server: { type: 'string' },
    client: { type: 'string' },
    baud: { type: 'string', default: '115200' },
  },
});
const command = positionals.length > 0 ? positionals.join(' ') : 'uname -a';

/** Makes a pseudo-terminal pair with socat: two device paths joined back to back. */
async function ptyPair(): Promise<{ a: string; b: string; socat: ChildProcess; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'serial-session-'));
  const [a, b] = [join(dir, 'A'), join(dir, 'B')];
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: 'inherit',
  });
  for (let waited = 0; !(existsSync(a) && existsSync(b)); waited += 10) {
    if (socat.exitCode !== null || waited > 5000) throw new Error('socat made no pty pair');
    await new Promise((r) => setTimeout(r, 10));
  }
  return { a, b, socat, dir };
}

const open = (path: string) =>
  new Promise<SerialPort>((resolve, reject) => {
    const port: SerialPort = new SerialPort({ path, baudRate: Number(values.baud) }, (e) =>
      e ? reject(e) : resolve(port),
    );
  });

const pty = values.server && values.client ? undefined : await ptyPair();
const [serverPort, clientPort] = await Promise.all([
  open(values.server ?? pty!.a),
  open(values.client ?? pty!.b),
]);

// The server: a fresh host key, one password, commands run with /bin/sh.
const hostKey = generatePrivateKey('ed25519');
const password = crypto.randomUUID();
attachSerial(serverPort, {
  role: 'server',
  hostKeys: [hostKey],
  authMethods: ['password'],
  onAuth: (request) => (request.password === password ? request.accept() : request.reject()),
  onChannelOpen: (request) =>
    request.type === 'session' ? acceptCommands(request) : request.reject(),
});

// The client: trusts only that host key, logs in, runs the command.
const pinned = fingerprintSha256(hostKey.publicKeyBlob);
let status: number | undefined;
const client = attachSerial(clientPort, {
  role: 'client',
  onHostKey: (request) => (request.fingerprint === pinned ? request.accept() : request.reject()),
  auth: { username: 'serial', methods: [{ type: 'password', password }] },
  onEvent: (event, session) => {
    if (event.type === 'authenticated') {
      runCommand(session, command, {
        stdout: (data) => process.stdout.write(data),
        stderr: (data) => process.stderr.write(data),
      }).then((result) => {
        status = result.status;
        sessionDisconnect(session);
      });
    } else if (event.type === 'closed') {
      const error = sessionLastError(session);
      if (error) process.stderr.write(`serial-session: ${error.code}: ${error.message}\n`);
      process.exitCode = status ?? 255;
      // Let the ports drain what they hold, then take the line down.
      setTimeout(() => {
        for (const port of [serverPort, clientPort]) if (port.isOpen) port.close();
        pty?.socat.kill();
        if (pty) rmSync(pty.dir, { recursive: true, force: true });
      }, 100);
    }
  },
});
void client;
