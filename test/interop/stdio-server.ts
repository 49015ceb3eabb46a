/**
 * Our server over stdin/stdout, for OpenSSH's ProxyCommand and dbclient's -J:
 *
 *   node --import tsx test/interop/stdio-server.ts --log events.jsonl --key host_key [--key …]
 *     [--kex a,b] [--host-key-alg a,b] [--cipher a,b] [--mac a,b]
 *
 * Each session event is appended to the --log file as one JSON line (written synchronously,
 * so the log survives the client killing this process). Exits when the session ends.
 */

import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import {
  type AlgorithmPreferences,
  parsePrivateKey,
  sessionClose,
  sessionCreate,
  sessionReceive,
} from '../../src/index.js';
import { InputBuffer } from '../../transports/input-buffer.js';
import { KexInitSniffer, logRecord } from './peers.js';

function parseArgs(argv: readonly string[]): {
  log: string;
  keys: string[];
  algorithms: AlgorithmPreferences;
} {
  let log: string | undefined;
  const keys: string[] = [];
  const algorithms: { kex?: string[]; hostKey?: string[]; cipher?: string[]; mac?: string[] } = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    const list = value.split(',').filter((s) => s !== '');
    switch (flag) {
      case '--log':
        log = value;
        break;
      case '--key':
        keys.push(value);
        break;
      case '--kex':
        algorithms.kex = list;
        break;
      case '--host-key-alg':
        algorithms.hostKey = list;
        break;
      case '--cipher':
        algorithms.cipher = list;
        break;
      case '--mac':
        algorithms.mac = list;
        break;
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  if (log === undefined) throw new Error('--log is required');
  if (keys.length === 0) throw new Error('at least one --key is required');
  return { log, keys, algorithms };
}

const args = parseArgs(process.argv.slice(2));
const logLine = (record: unknown) => appendFileSync(args.log, `${JSON.stringify(record)}\n`);
writeFileSync(args.log, '', { flag: 'a' });

let done = false;
const finish = (code: number) => {
  if (done) return;
  done = true;
  // Let stdout drain, then leave even if stdin is still open.
  process.stdout.end(() => process.exit(code));
  setTimeout(() => process.exit(code), 500).unref();
};

try {
  const hostKeys = args.keys.map((p) => parsePrivateKey(readFileSync(p, 'utf8')));
  const input = new InputBuffer();
  process.stdout.on('error', () => finish(1));
  const session = sessionCreate(
    process.stdout,
    (out, bytes) => {
      if (out.destroyed || out.writableEnded) return -1;
      out.write(bytes);
      return 0;
    },
    () => finish(0),
    {
      role: 'server',
      hostKeys,
      algorithms: args.algorithms,
      onEvent: (event, s) => {
        logLine(logRecord(event, s));
        if (event.type === 'closed') finish(0);
      },
    },
  );
  input.attach((bytes) => sessionReceive(session, bytes));
  // Record the client's KEXINIT as sent (e.g. whether it guessed a first kex packet).
  const sniffer = new KexInitSniffer();
  process.stdin.on('data', (chunk: Buffer) => {
    if (!sniffer.result) {
      sniffer.push(chunk);
      if (sniffer.result) logLine({ type: 'peer-kexinit', kexinit: sniffer.result });
    }
    if (input.push(chunk) < 0) finish(0);
  });
  process.stdin.on('end', () => {
    sessionClose(session);
    finish(0);
  });
  process.stdin.on('error', () => {
    sessionClose(session);
    finish(0);
  });
} catch (e) {
  logLine({ type: 'startup-error', message: e instanceof Error ? e.message : String(e) });
  process.stderr.write(`stdio-server: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
