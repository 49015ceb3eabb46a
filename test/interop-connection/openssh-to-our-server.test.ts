/**
 * OpenSSH's `ssh`, `sftp` and `scp` (9.2) against our server's connection layer, with our
 * server as a ProxyCommand over stdio (./stdio-server.ts, transports/ipc.ts attachStdio) and
 * in this process over TCP (transports/tcp.ts listenTcp). The server application
 * (./server-app.ts) runs real commands, sftp-server, direct-tcpip and tcpip-forward.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrivateKey } from '../../src/index.js';
import { listenTcp } from '../../transports/tcp.js';
import {
  BIN,
  generateOpenSshKeys,
  type KeyFile,
  knownHostsLine,
  type ProcessResult,
  REPO_ROOT,
  runProcess,
} from '../interop/peers.js';
import { seededBytes, sha256 } from './channel-tools.js';
import {
  askpassEnv,
  askpassScript,
  type EchoServer,
  freePort,
  makeTempDir,
  removeDir,
  requireBinary,
  startEchoServer,
  startProgram,
  tcpRoundTrip,
  until,
  waitForListening,
} from './helpers.js';
import { type AppRecord, ServerApp, SFTP_SERVER } from './server-app.js';

const SCRIPT = join(REPO_ROOT, 'test/interop-connection/stdio-server.ts');
const ALIAS = 'ourserver';
const USER = 'alice';
const PASSWORD = 'open sesame';
const MiB = 1024 * 1024;

type Link = 'ProxyCommand' | 'tcp';

let dir: string;
let hostKey: KeyFile;
let userKey: KeyFile;
let strangerKey: KeyFile;
let knownHosts: string;
let goodAskpass: string;
let badAskpass: string;
let echo: EchoServer;
let counter = 0;

beforeAll(async () => {
  for (const b of [BIN.ssh, '/usr/bin/sftp', '/usr/bin/scp', SFTP_SERVER]) requireBinary(b);
  dir = makeTempDir('conn-openssh');
  const [keys, userKeys, strangerKeys, echoServer] = await Promise.all([
    generateOpenSshKeys(dir, ['ed25519']),
    generateOpenSshKeys(makeSub('user'), ['ed25519']),
    generateOpenSshKeys(makeSub('stranger'), ['ed25519']),
    startEchoServer(),
  ]);
  hostKey = keys[0]!;
  userKey = userKeys[0]!;
  strangerKey = strangerKeys[0]!;
  echo = echoServer;
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, `${knownHostsLine(ALIAS, hostKey.publicKeyLine)}\n`);
  goodAskpass = askpassScript(dir, 'askpass-good.sh', PASSWORD);
  badAskpass = askpassScript(dir, 'askpass-bad.sh', 'not the password');
});

afterAll(async () => {
  await echo?.close();
  if (dir) removeDir(dir);
});

function makeSub(name: string): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Our server, reachable by ssh either way; `records()` is what its application logged. */
interface Target {
  /** ssh/sftp/scp options that reach it (after `-F /dev/null`). */
  readonly options: string[];
  /** The port option: `-p` for ssh, `-P` for sftp/scp (none for ProxyCommand). */
  port(flag: '-p' | '-P'): string[];
  readonly host: string;
  records(): AppRecord[];
  stop(): Promise<void>;
}

async function startTarget(
  link: Link,
  serverOptions: { maxAuthAttempts?: number } = {},
): Promise<Target> {
  const n = ++counter;
  const cwd = join(dir, `cwd-${n}`);
  mkdirSync(cwd);
  const common = {
    username: USER,
    authorizedKeys: [userKey.publicKeyLine.split(/\s+/)[1]!],
    password: PASSWORD,
    cwd,
    ...serverOptions,
  };
  if (link === 'ProxyCommand') {
    const log = join(dir, `server-${n}.jsonl`);
    const config = join(dir, `server-${n}.json`);
    writeFileSync(log, '');
    writeFileSync(config, JSON.stringify({ hostKey: hostKey.path, log, ...common }));
    return {
      options: ['-o', `ProxyCommand=${process.execPath} --import tsx ${SCRIPT} ${config}`],
      port: () => [],
      host: ALIAS,
      records: () =>
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as AppRecord),
      stop: async () => {},
    };
  }
  const app = new ServerApp({
    hostKeys: [parsePrivateKey(readFileSync(hostKey.path, 'utf8'))],
    ...common,
  });
  const server: Server = listenTcp({ host: '127.0.0.1', port: 0 }, () => app.config());
  await new Promise<void>((r) => server.once('listening', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    options: [],
    port: (flag) => [flag, String(port)],
    host: '127.0.0.1',
    records: () => app.records,
    stop: async () => {
      app.close();
      server.close();
    },
  };
}

/** Options every OpenSSH program gets: no user config, pinned host key, no agent. */
function baseOptions(t: Target): string[] {
  return [
    '-F',
    '/dev/null',
    ...t.options,
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `HostKeyAlias=${ALIAS}`,
    '-o',
    'IdentityAgent=none',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'ConnectTimeout=20',
  ];
}

function keyLogin(key: KeyFile = userKey): string[] {
  return ['-i', key.path, '-o', 'BatchMode=yes', '-o', 'PreferredAuthentications=publickey'];
}

const PASSWORD_LOGIN = [
  '-o',
  'PreferredAuthentications=password',
  '-o',
  'PubkeyAuthentication=no',
  '-o',
  'NumberOfPasswordPrompts=1',
];

function ssh(
  t: Target,
  args: readonly string[],
  command: string | undefined,
  askpass = goodAskpass,
): Promise<ProcessResult> {
  return runProcess(
    BIN.ssh,
    [
      ...baseOptions(t),
      ...t.port('-p'),
      ...args,
      `${USER}@${t.host}`,
      ...(command ? [command] : []),
    ],
    { env: { ...askpassEnv(askpass), TERM: 'vt100' }, timeoutMs: 40_000 },
  );
}

/** Key exchanges after the first that our server reported so far. */
const rekeysOf = (t: Target) =>
  t.records().filter((x) => x.type === 'event' && x.event === 'rekey-complete').length;

const describeResult = (r: ProcessResult, t: Target) =>
  `exit ${r.code}\n--- stderr ---\n${r.stderr}\n--- server ---\n${JSON.stringify(t.records())}`;

describe.each<Link>(['ProxyCommand', 'tcp'])('OpenSSH → our server (%s)', (link) => {
  let t: Target;
  beforeAll(async () => {
    t = await startTarget(link);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('key login; ssh host "cmd" prints stdout and stderr and exits with the status', async () => {
    const r = await ssh(t, keyLogin(), 'echo out; echo err >&2; exit 3');
    expect(r.code, describeResult(r, t)).toBe(3);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(t.records()).toContainEqual({
      type: 'auth',
      method: 'publickey',
      username: USER,
      ok: true,
    });
  });

  it('password login through SSH_ASKPASS; ssh host "cmd"', async () => {
    const r = await ssh(t, [...PASSWORD_LOGIN, '-v'], 'printf %s "$((6*7))"; kill -TERM $$');
    expect(r.stdout, describeResult(r, t)).toBe('42');
    expect(r.stderr).toContain('Authenticated to ');
    // The shell died of SIGTERM: our server sends exit-signal TERM instead of exit-status;
    // OpenSSH's client only logs it (debug) and, without an exit status, exits 255.
    expect(r.stderr).toMatch(/client_input_channel_req: channel 0 rtype exit-signal reply 0/);
    expect(r.code).toBe(255);
    expect(t.records()).toContainEqual({
      type: 'auth',
      method: 'password',
      username: USER,
      ok: true,
    });
  });

  it('ssh -tt with SetEnv: pty-req and env reach our server before exec', async () => {
    const r = await ssh(
      t,
      [...keyLogin(), '-tt', '-o', 'SetEnv=PSSH_FROM_SSH=set-env-ok'],
      'printf "%s\\n" "$PSSH_FROM_SSH"',
    );
    expect(r.code, describeResult(r, t)).toBe(0);
    // No real terminal here: the command's "\n" arrives as is.
    expect(r.stdout).toBe('set-env-ok\n');
    // ssh takes the terminal type from TERM and, without a local terminal, sends size 0x0.
    const requests = t.records().filter((x) => x.type === 'channel-request');
    expect(requests.slice(-3)).toEqual([
      { type: 'channel-request', name: 'pty-req', detail: 'vt100 0x0' },
      { type: 'channel-request', name: 'env', detail: 'PSSH_FROM_SSH=set-env-ok' },
      { type: 'channel-request', name: 'exec' },
    ]);
  });

  for (const rekey of [false, true]) {
    it(`pipes 8 MiB through ssh host cat${rekey ? ', with ssh rekeying every 1 MiB (RekeyLimit)' : ''}`, async () => {
      const data = seededBytes(8 * MiB, rekey ? 17 : 11);
      const input = join(dir, `cat-in-${link}-${rekey}.bin`);
      writeFileSync(input, data);
      const rekeysBefore = rekeysOf(t);
      const started = performance.now();
      const r = await runProcess(
        '/bin/sh',
        [
          '-c',
          `"$0" "$@" < ${input} | sha256sum`,
          BIN.ssh,
          ...baseOptions(t),
          ...t.port('-p'),
          ...keyLogin(),
          ...(rekey ? ['-o', 'RekeyLimit=1M'] : []),
          `${USER}@${t.host}`,
          'cat',
        ],
        { timeoutMs: 40_000 },
      );
      const ms = performance.now() - started;
      console.log(
        `[interop-connection] ssh → our server (${link}${rekey ? ', RekeyLimit 1M' : ''}) 8 MiB through cat: ${ms.toFixed(0)} ms including login`,
      );
      expect(r.stdout.split(' ')[0], describeResult(r, t)).toBe(sha256(data));
      expect(r.code).toBe(0);
      const rekeys = rekeysOf(t) - rekeysBefore;
      if (rekey) expect(rekeys).toBeGreaterThanOrEqual(8);
      else expect(rekeys).toBe(0);
    });
  }

  it('sftp: uploads and downloads 1 MiB through the sftp subsystem (sftp-server)', async () => {
    const data = seededBytes(MiB, 12);
    const local = join(dir, `sftp-up-${link}.bin`);
    const remote = join(dir, `sftp-remote-${link}.bin`);
    const back = join(dir, `sftp-down-${link}.bin`);
    writeFileSync(local, data);
    const batch = join(dir, `sftp-batch-${link}`);
    writeFileSync(batch, `put ${local} ${remote}\nget ${remote} ${back}\n`);
    const r = await runProcess(
      '/usr/bin/sftp',
      [...baseOptions(t), ...t.port('-P'), ...keyLogin(), '-b', batch, `${USER}@${t.host}`],
      { timeoutMs: 40_000 },
    );
    expect(r.code, describeResult(r, t)).toBe(0);
    expect(sha256(readFileSync(remote))).toBe(sha256(data));
    expect(sha256(readFileSync(back))).toBe(sha256(data));
    expect(t.records()).toContainEqual({ type: 'started', what: 'subsystem sftp' });
  });

  for (const mode of ['SFTP', 'legacy -O'] as const) {
    it(`scp (${mode}): uploads and downloads 1 MiB`, async () => {
      const data = seededBytes(MiB, mode === 'SFTP' ? 13 : 14);
      const tag = `${link}-${mode === 'SFTP' ? 's' : 'o'}`;
      const local = join(dir, `scp-up-${tag}.bin`);
      const remote = join(dir, `scp-remote-${tag}.bin`);
      const back = join(dir, `scp-down-${tag}.bin`);
      writeFileSync(local, data);
      const flag = mode === 'SFTP' ? '-s' : '-O';
      const scp = (from: string, to: string) =>
        runProcess(
          '/usr/bin/scp',
          [flag, ...baseOptions(t), ...t.port('-P'), ...keyLogin(), from, to],
          { timeoutMs: 40_000 },
        );
      const up = await scp(local, `${USER}@${t.host}:${remote}`);
      expect(up.code, describeResult(up, t)).toBe(0);
      const down = await scp(`${USER}@${t.host}:${remote}`, back);
      expect(down.code, describeResult(down, t)).toBe(0);
      expect(sha256(readFileSync(remote))).toBe(sha256(data));
      expect(sha256(readFileSync(back))).toBe(sha256(data));
      const started = t.records().filter((x) => x.type === 'started');
      if (mode === 'SFTP')
        expect(started).toContainEqual({ type: 'started', what: 'subsystem sftp' });
      else expect(started).toContainEqual({ type: 'started', what: `exec scp -t ${remote}` });
    });
  }

  it('ssh -L: a local forward through our server (direct-tcpip) to a TCP echo server', async () => {
    const localPort = await freePort();
    const p = startProgram(
      BIN.ssh,
      [
        ...baseOptions(t),
        ...t.port('-p'),
        ...keyLogin(),
        '-N',
        '-o',
        'ExitOnForwardFailure=yes',
        '-L',
        `127.0.0.1:${localPort}:127.0.0.1:${echo.port}`,
        `${USER}@${t.host}`,
      ],
      { cwd: REPO_ROOT },
    );
    try {
      await waitForListening(localPort);
      const payload = seededBytes(2 * MiB + 5, 15);
      const [a, b] = await Promise.all([
        tcpRoundTrip(localPort, payload),
        tcpRoundTrip(localPort, new TextEncoder().encode('hello through -L\n')),
      ]);
      expect(sha256(a), p.stderr()).toBe(sha256(payload));
      expect(b.toString()).toBe('hello through -L\n');
      const opens = t
        .records()
        .filter((x) => x.type === 'channel-open' && x.channelType === 'direct-tcpip');
      expect(opens.length).toBeGreaterThanOrEqual(2);
    } finally {
      await p.stop();
    }
  });

  it('ssh -R 0:…: our server listens, opens forwarded-tcpip per connection, ssh connects it', async () => {
    const p = startProgram(
      BIN.ssh,
      [
        ...baseOptions(t),
        ...t.port('-p'),
        ...keyLogin(),
        '-N',
        '-o',
        'ExitOnForwardFailure=yes',
        '-R',
        `0:127.0.0.1:${echo.port}`,
        `${USER}@${t.host}`,
      ],
      { cwd: REPO_ROOT },
    );
    try {
      let port = 0;
      await until(
        () => {
          const m = /Allocated port (\d+) for remote forward/.exec(p.stderr());
          if (m) port = Number(m[1]);
          return port > 0;
        },
        () => `ssh stderr: ${p.stderr()}\nserver: ${JSON.stringify(t.records())}`,
      );
      const payload = seededBytes(2 * MiB + 9, 16);
      const [a, b] = await Promise.all([
        tcpRoundTrip(port, payload),
        tcpRoundTrip(port, new TextEncoder().encode('hello through -R\n')),
      ]);
      expect(sha256(a), p.stderr()).toBe(sha256(payload));
      expect(b.toString()).toBe('hello through -R\n');
      expect(t.records()).toContainEqual({
        type: 'forward',
        bindAddress: 'localhost',
        requestedPort: 0,
        boundPort: port,
      });
    } finally {
      await p.stop();
    }
  });
});

describe('OpenSSH → our server: keepalives, stderr through the window (tcp)', () => {
  let t: Target;
  beforeAll(async () => {
    t = await startTarget('tcp');
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('answers ssh ServerAliveInterval probes while a command sleeps', async () => {
    const r = await ssh(
      t,
      [...keyLogin(), '-v', '-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=2'],
      'sleep 3.5; echo alive',
    );
    expect(r.code, describeResult(r, t)).toBe(0);
    expect(r.stdout).toBe('alive\n');
    expect(r.stderr).not.toMatch(/Timeout, server .* not responding/);
  });

  it('sends 5 MiB of stderr (extended data) through the window to ssh', async () => {
    const data = seededBytes(5 * MiB, 18);
    const input = join(dir, 'stderr-in.bin');
    writeFileSync(input, data);
    const r = await runProcess(
      '/bin/sh',
      [
        '-c',
        `"$0" "$@" < ${input} 2>&1 >/dev/null | sha256sum`,
        BIN.ssh,
        ...baseOptions(t),
        ...t.port('-p'),
        ...keyLogin(),
        `${USER}@${t.host}`,
        'cat >&2',
      ],
      { timeoutMs: 40_000 },
    );
    expect(r.stdout.split(' ')[0], describeResult(r, t)).toBe(sha256(data));
  });
});

describe('OpenSSH → our server: refusals (ProxyCommand)', () => {
  it('wrong key: ssh exits 255 with "Permission denied (publickey,password)"', async () => {
    const t = await startTarget('ProxyCommand');
    const r = await ssh(t, keyLogin(strangerKey), 'true');
    expect(r.code, describeResult(r, t)).toBe(255);
    expect(r.stderr).toContain(`${USER}@${ALIAS}: Permission denied (publickey,password).`);
    expect(t.records()).toContainEqual({
      type: 'auth',
      method: 'publickey',
      username: USER,
      ok: false,
    });
  });

  it('wrong password: ssh exits 255 with "Permission denied (publickey,password)"', async () => {
    const t = await startTarget('ProxyCommand');
    const r = await ssh(t, PASSWORD_LOGIN, 'true', badAskpass);
    expect(r.code, describeResult(r, t)).toBe(255);
    expect(r.stderr).toContain(`${USER}@${ALIAS}: Permission denied (publickey,password).`);
    expect(t.records()).toContainEqual({
      type: 'auth',
      method: 'password',
      username: USER,
      ok: false,
    });
  });

  it('too many attempts: maxAuthAttempts 3 disconnects ssh (reason 14)', async () => {
    const t = await startTarget('ProxyCommand', { maxAuthAttempts: 3 });
    const r = await ssh(
      t,
      [
        '-o',
        'PreferredAuthentications=password',
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'NumberOfPasswordPrompts=6',
      ],
      'true',
      badAskpass,
    );
    expect(r.code, describeResult(r, t)).toBe(255);
    // What OpenSSH 9.2 prints for our DISCONNECT (reason 14, NO_MORE_AUTH_METHODS_AVAILABLE)
    // after the third wrong password (the host is UNKNOWN behind a ProxyCommand; ssh's log
    // lines end in CR LF):
    expect(r.stderr.replace(/\r\n/g, '\n')).toBe(
      'Permission denied, please try again.\n'.repeat(2) +
        'Received disconnect from UNKNOWN port 65535:14: too many authentication failures (3)\n' +
        'Disconnected from UNKNOWN port 65535\n',
    );
    const failures = t.records().filter((x) => x.type === 'auth' && !x.ok);
    expect(failures).toHaveLength(3);
  });
});
