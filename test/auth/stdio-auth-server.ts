/**
 * Our server with ServerAuth over stdin/stdout, for OpenSSH's ProxyCommand:
 *
 *   node --import tsx test/auth/stdio-auth-server.ts config.json
 *
 * config.json: { hostKey, log, methods?, banner?, authorizedKeys? (base64 blobs), password?,
 * kbdCode?, partial? (methods to require after the first success) }. Each event and each
 * authentication request is appended to `log` as a JSON line. Disconnects once authenticated.
 */

import { appendFileSync, readFileSync } from 'node:fs';
import { ServerAuth } from '../../src/auth/server-auth.js';
import type { AuthRequest, ServerAuthMethodName } from '../../src/auth/types.js';
import {
  parsePrivateKey,
  sessionClose,
  sessionCreate,
  sessionDisconnect,
  sessionReceive,
} from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { InputBuffer } from '../../transports/input-buffer.js';
import { AuthLayer } from './harness.js';

interface Config {
  hostKey: string;
  log: string;
  methods?: ServerAuthMethodName[];
  banner?: string;
  authorizedKeys?: string[];
  password?: string;
  kbdCode?: string;
  partial?: ServerAuthMethodName[];
}

const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Config;
const log = (record: unknown) => appendFileSync(config.log, `${JSON.stringify(record)}\n`);
const finish = () => {
  process.stdout.end(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};

function decide(req: AuthRequest): void {
  log({
    type: 'request',
    method: req.method,
    username: req.username,
    algorithm: req.publicKey?.algorithm,
    hasSignature: req.hasSignature,
    completed: req.completedMethods,
  });
  const succeed = () =>
    config.partial && req.completedMethods.length === 0
      ? req.acceptPartially(config.partial)
      : req.accept();
  switch (req.method) {
    case 'publickey': {
      const b64 = Buffer.from(req.publicKey!.blob).toString('base64');
      if (!config.authorizedKeys?.includes(b64)) return req.reject();
      return req.hasSignature ? succeed() : req.accept();
    }
    case 'password':
      return req.password === config.password ? succeed() : req.reject();
    case 'keyboard-interactive':
      return req.prompt?.(
        { name: 'OTP', instruction: 'One-time code', prompts: [{ prompt: 'Code: ', echo: false }] },
        (responses) => (responses[0] === config.kbdCode ? succeed() : req.reject()),
      );
    default:
      req.reject();
  }
}

const input = new InputBuffer();
const session = sessionCreate(
  null,
  (_h, bytes) => {
    process.stdout.write(bytes);
    return 0;
  },
  () => finish(),
  {
    role: 'server',
    hostKeys: [parsePrivateKey(readFileSync(config.hostKey, 'utf8'))],
    onEvent: (e, s) => {
      log(e.type === 'error' ? { type: 'error', code: e.error.code } : e);
      if ((e.type as string) === 'authenticated') sessionDisconnect(s);
    },
  },
);
const engine = engineOf(session);
engine.upper = new AuthLayer(
  (done) =>
    new ServerAuth(
      engine,
      {
        onAuth: decide,
        ...(config.methods ? { authMethods: config.methods } : {}),
        ...(config.banner ? { banner: config.banner } : {}),
      },
      (user) => done(user),
    ),
);
input.attach((bytes) => sessionReceive(session, bytes));
process.stdin.on('data', (chunk: Buffer) => {
  if (input.push(new Uint8Array(chunk)) < 0) finish();
});
process.stdin.on('end', () => {
  sessionClose(session);
  finish();
});
