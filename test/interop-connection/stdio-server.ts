/**
 * Our server (with the test application of ./server-app.ts) over stdin/stdout, for OpenSSH's
 * ProxyCommand, through transports/ipc.ts `attachStdio`:
 *
 *   node --import tsx test/interop-connection/stdio-server.ts config.json
 *
 * config.json: { hostKey (path), log (path), username, authorizedKeys (base64 blobs),
 * password, cwd, maxAuthAttempts? }. Every application record is appended to `log` as a JSON
 * line (synchronously, so it survives ssh killing this process). Exits when the session ends.
 */

import { appendFileSync, readFileSync } from 'node:fs';
import { parsePrivateKey } from '../../src/index.js';
import { attachStdio } from '../../transports/ipc.js';
import { ServerApp } from './server-app.js';

interface Config {
  hostKey: string;
  log: string;
  username: string;
  authorizedKeys: string[];
  password: string;
  cwd: string;
  maxAuthAttempts?: number;
}

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Config;
const log = (record: unknown) => appendFileSync(config.log, `${JSON.stringify(record)}\n`);

const app = new ServerApp({
  hostKeys: [parsePrivateKey(readFileSync(config.hostKey, 'utf8'))],
  username: config.username,
  authorizedKeys: config.authorizedKeys,
  password: config.password,
  cwd: config.cwd,
  ...(config.maxAuthAttempts !== undefined ? { maxAuthAttempts: config.maxAuthAttempts } : {}),
  log,
});

attachStdio(
  app.config({
    onEvent: (event) => {
      if (event.type === 'closed') {
        app.close();
        // attachStdio ended stdout; leave once it drained (children were killed above).
        setTimeout(() => process.exit(0), 200).unref();
      }
    },
  }),
  { onLinkError: (e) => log({ type: 'link-error', message: e.message }) },
);
