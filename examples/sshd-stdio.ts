/**
 * Our client talks to OpenSSH's `sshd -i` over the child's stdin and stdout (no network at
 * all): it spawns sshd in inetd mode with a configuration file, logs in and runs a command.
 * The host keys trusted are the ones the configuration names (`HostKey` lines: their `.pub`
 * files), or the fingerprint given with `--fingerprint`. sshd needs to run as root.
 *
 *   npx tsx examples/sshd-stdio.ts --config /tmp/sshd_config --user root \
 *     --key ~/.ssh/id_ed25519 -- 'echo hello from $(hostname)'
 *
 * It prints the command's output, then exits with its status (255 if the session fails; the
 * sshd log, written with `-E`, is printed then).
 */

import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  fingerprintSha256,
  parsePrivateKey,
  parsePublicKey,
  sessionDisconnect,
  sessionLastError,
} from '../src/index.js';
import { spawnSession } from '../transports/ipc.js';
import { runCommand } from './lib/commands.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    config: { type: 'string' },
    sshd: { type: 'string', default: '/usr/sbin/sshd' },
    user: { type: 'string', default: 'root' },
    key: { type: 'string' },
    fingerprint: { type: 'string', multiple: true, default: [] },
  },
});

const fail = (message: string): never => {
  process.stderr.write(`sshd-stdio: ${message}\n`);
  process.exit(255);
};
const command = positionals.join(' ');
if (values.config === undefined || values.key === undefined || command === '') {
  fail('usage: sshd-stdio.ts --config SSHD_CONFIG --key PRIVATE_KEY [--user root] -- COMMAND');
}
const configPath = values.config!;

/** Fingerprints of the host keys the sshd configuration names (their .pub files). */
function configuredHostKeys(path: string): string[] {
  const fingerprints: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*HostKey\s+(\S+)/i.exec(line);
    if (!m) continue;
    try {
      fingerprints.push(
        fingerprintSha256(parsePublicKey(readFileSync(`${m[1]}.pub`, 'utf8')).blob),
      );
    } catch {
      process.stderr.write(`sshd-stdio: no readable ${m[1]}.pub: use --fingerprint\n`);
    }
  }
  return fingerprints;
}

const trusted = new Set([...values.fingerprint, ...configuredHostKeys(configPath)]);
const key = parsePrivateKey(readFileSync(values.key!));
const logFile = join(tmpdir(), `sshd-stdio-${process.pid}.log`);
const sshdLog = () => {
  try {
    return readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
};

let finished = false;
spawnSession(values.sshd, ['-i', '-f', configPath, '-E', logFile], {
  role: 'client',
  onHostKey: (request) =>
    trusted.has(request.fingerprint) ? request.accept() : request.reject('not a configured key'),
  auth: { username: values.user, methods: [{ type: 'publickey', key }] },
  onEvent: (event, session) => {
    if (event.type === 'authenticated') {
      runCommand(session, command, {
        stdout: (data) => process.stdout.write(data),
        stderr: (data) => process.stderr.write(data),
      }).then(
        ({ status }) => {
          finished = true;
          process.exitCode = status ?? 255;
          sessionDisconnect(session);
        },
        (error: Error) => {
          finished = true;
          process.exitCode = 255;
          process.stderr.write(`sshd-stdio: ${error.message}\n`);
          sessionDisconnect(session);
        },
      );
    } else if (event.type === 'closed' && !finished) {
      const error = sessionLastError(session);
      fail(`${error ? `${error.code}: ${error.message}` : 'the session ended'}\n${sshdLog()}`);
    }
  },
});
