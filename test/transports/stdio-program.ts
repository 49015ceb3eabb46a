/**
 * Our server on this process's stdin/stdout through `attachStdio`, for OpenSSH's ProxyCommand
 * and for our own client's `spawnSession`:
 *
 *   node --import tsx test/transports/stdio-program.ts <event-log> <host-key-file>
 *
 * Appends each session event to the log as a JSON line (synchronously, so the log survives a
 * kill), and an `exit` line when the process exits. It never calls process.exit: it ends
 * because attachStdio releases stdin once the session is over.
 */

import { appendFileSync, readFileSync } from 'node:fs';
import { parsePrivateKey } from '../../src/index.js';
import { attachStdio } from '../../transports/ipc.js';

const [logPath, keyPath] = process.argv.slice(2);
if (logPath === undefined || keyPath === undefined) {
  process.stderr.write('usage: stdio-program.ts <event-log> <host-key-file>\n');
  process.exit(2);
}
const log = (record: Record<string, unknown>) =>
  appendFileSync(logPath, `${JSON.stringify(record)}\n`);

process.on('exit', (code) => log({ type: 'exit', code }));
attachStdio({
  role: 'server',
  hostKeys: [parsePrivateKey(readFileSync(keyPath, 'utf8'))],
  onEvent: (event) => {
    if (event.type === 'error') log({ type: 'error', code: event.error.code });
    else if (event.type === 'disconnected') log({ type: event.type, reason: event.reason });
    else log({ type: event.type });
  },
});
