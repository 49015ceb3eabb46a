/**
 * Our client's connection layer against OpenSSH's sshd 9.2, over TCP and over `sshd -i`
 * (transports/ipc.ts spawnSession): key and password login, exec with stdout/stderr/exit
 * status, 64 MiB through `cat` honouring the window, a shell on a pty, the sftp subsystem
 * spoken by hand, a local forward (direct-tcpip) and a remote forward (tcpip-forward, then
 * forwarded-tcpip channels accepted by our client).
 */

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  channelClose,
  channelConsume,
  channelEof,
  channelOpenDirectTcpip,
  channelOpenSession,
  channelRemoteWindow,
  channelRequestEnv,
  channelRequestExec,
  channelRequestPty,
  channelRequestShell,
  channelRequestSubsystem,
  channelState,
  channelWrite,
  generatePrivateKey,
  publicKeyToOpenSSH,
  sessionAlgorithms,
  sessionCancelForwardTcpip,
  sessionForwardTcpip,
  sessionState,
} from '../../src/index.js';
import {
  ChannelProbe,
  echoChannel,
  pipeThrough,
  seededBytes,
  sha256,
  writeAll,
} from './channel-tools.js';
import {
  type ConnSshd,
  connectOurClient,
  type EchoServer,
  ensureTestUser,
  freePort,
  type LinkKind,
  type OurClient,
  type OurClientOptions,
  SFTP,
  sftpInit,
  sftpName,
  sftpParse,
  sftpRealpath,
  sftpVersion,
  startConnSshd,
  startEchoServer,
  TEST_PASSWORD,
  TEST_USER,
  type TestUser,
  tcpRoundTrip,
  until,
} from './helpers.js';

const MiB = 1024 * 1024;
const key = generatePrivateKey('ed25519');
let sshd: ConnSshd;
let echo: EchoServer;
let user: TestUser;

beforeAll(async () => {
  user = ensureTestUser();
  [sshd, echo] = await Promise.all([
    startConnSshd([publicKeyToOpenSSH(key.publicKeyBlob, 'interop-connection')]),
    startEchoServer(),
  ]);
});

afterAll(async () => {
  await Promise.all([sshd?.stop(), echo?.close()]);
  user?.cleanup();
});

function connect(
  link: LinkKind,
  login: 'key' | 'password',
  extra: Partial<OurClientOptions> = {},
): Promise<OurClient> {
  const options: OurClientOptions = {
    username: login === 'key' ? 'root' : TEST_USER,
    methods:
      login === 'key'
        ? [{ type: 'publickey', key }]
        : [{ type: 'password', password: TEST_PASSWORD }],
    fingerprint: sshd.hostKey.fingerprint,
    hostKeyAlgorithms: ['ssh-ed25519'],
    ...extra,
  };
  return link === 'tcp'
    ? connectOurClient({ kind: 'tcp', port: sshd.port, logs: () => sshd.logs() }, options)
    : connectOurClient({ kind: 'sshd -i', configPath: sshd.configPath, dir: sshd.dir }, options);
}

/** Opens a session channel and resolves once it is open. */
async function openSession(client: OurClient, options = {}): Promise<ChannelProbe> {
  const probe = new ChannelProbe(options);
  channelOpenSession(client.session, probe.options);
  await probe.opened();
  return probe;
}

describe.each<LinkKind>(['tcp', 'sshd -i'])('our client → sshd 9.2 over %s', (link) => {
  for (const login of ['key', 'password'] as const) {
    it(`logs in with ${login === 'key' ? 'an ed25519 key (root)' : `a password (${TEST_USER})`} and runs exec: stdout, stderr, exit status 3`, async () => {
      const client = await connect(link, login);
      try {
        const auth = client.events.find((e) => e.type === 'authenticated');
        expect(auth).toEqual({
          type: 'authenticated',
          username: login === 'key' ? 'root' : TEST_USER,
          method: login === 'key' ? 'publickey' : 'password',
        });
        const probe = await openSession(client);
        // OpenSSH confirms a session channel with window 0 and opens it (2 MiB) once the
        // command runs.
        expect(channelRemoteWindow(probe.channel!)).toBe(0);
        channelRequestExec(probe.channel!, 'echo out; echo err >&2; id -un; exit 3');
        expect(await probe.requestResult('exec')).toBe(true);
        const r = await probe.done();
        expect(probe.maxRemoteWindow).toBe(2 * MiB);
        expect(r.stdout.toString()).toBe(`out\n${login === 'key' ? 'root' : TEST_USER}\n`);
        expect(r.stderr.toString()).toBe('err\n');
        expect(r.exitStatus).toBe(3);
        expect(r.eof).toBe(true);
        // exit-status before the close; EOF arrives before the close too.
        expect(r.trace.indexOf('request exit-status')).toBeLessThan(r.trace.indexOf('close'));
        expect(r.trace.indexOf('eof')).toBeLessThan(r.trace.indexOf('close'));
        expect(r.trace.at(-1)).toBe('close');
        expect(client.globalRequests).toContain('hostkeys-00@openssh.com');
        expect(client.logs()).toMatch(
          login === 'key'
            ? /Accepted publickey for root/
            : new RegExp(`Accepted password for ${TEST_USER}`),
        );
      } finally {
        await client.disconnect();
      }
    });
  }

  it('logs in with kexGuess: sshd prefers another kex, drops our guessed ECDH_INIT, takes the real one', async () => {
    const client = await connect(link, 'password', { kexGuess: true });
    try {
      expect(sessionAlgorithms(client.session)?.kex).toBe('curve25519-sha256');
      expect(client.events.some((e) => e.type === 'authenticated')).toBe(true);
      const probe = await openSession(client);
      channelRequestExec(probe.channel!, 'exit 3');
      expect(await probe.requestResult('exec')).toBe(true);
      expect((await probe.done()).exitStatus).toBe(3);
    } finally {
      await client.disconnect();
    }
  });

  it('passes an env request (AcceptEnv PSSH_*) to the command', async () => {
    const client = await connect(link, 'key');
    try {
      const probe = await openSession(client);
      channelRequestEnv(probe.channel!, 'PSSH_GREETING', 'hello-env');
      channelRequestExec(probe.channel!, 'printf %s "$PSSH_GREETING"');
      expect(await probe.requestResult('env')).toBe(true);
      expect(await probe.requestResult('exec')).toBe(true);
      const r = await probe.done();
      expect(r.stdout.toString()).toBe('hello-env');
      expect(r.exitStatus).toBe(0);
    } finally {
      await client.disconnect();
    }
  });

  it('pipes 64 MiB of seeded random data through cat and back, honouring the window', async () => {
    const data = seededBytes(64 * MiB, link === 'tcp' ? 1 : 2);
    const client = await connect(link, 'key');
    try {
      const probe = await openSession(client);
      channelRequestExec(probe.channel!, 'cat');
      expect(await probe.requestResult('exec')).toBe(true);
      const r = await pipeThrough(probe, data);
      console.log(
        `[interop-connection] our client → sshd (${link}) 64 MiB through cat: ${r.ms.toFixed(0)} ms, ` +
          `${r.mibPerSecond.toFixed(1)} MiB/s each way (${probe.shortWrites} short writes, ${probe.writableEvents} writable events)`,
      );
      expect(r.bytes).toBe(data.length);
      expect(r.sha256).toBe(sha256(data));
      expect(r.result.exitStatus).toBe(0);
      // The window (2 MiB) is far below 64 MiB: writes were cut short and resumed on
      // 'writable', and no 'writable' came without a short write owing it.
      expect(probe.shortWrites).toBeGreaterThan(0);
      expect(probe.writableEvents).toBe(probe.shortWrites);
    } finally {
      await client.disconnect();
    }
  });

  it('runs a shell on a pty: echo hi-$((1+2)), exit', async () => {
    const client = await connect(link, 'password');
    try {
      const probe = await openSession(client);
      channelRequestPty(probe.channel!, { term: 'dumb', cols: 80, rows: 24 });
      channelRequestShell(probe.channel!);
      expect(await probe.requestResult('pty-req')).toBe(true);
      expect(await probe.requestResult('shell')).toBe(true);
      await writeAll(probe, new TextEncoder().encode('echo hi-$((1+2))\nexit 7\n'));
      const r = await probe.done();
      // The pty echoes the input ("echo hi-$((1+2))"); the shell's output line is "hi-3",
      // after a prompt, with the terminal's CR LF.
      expect(r.stdout.toString()).toMatch(/hi-3\r\n/);
      expect(r.stderr.length).toBe(0); // a pty merges stderr into the terminal
      expect(r.exitStatus).toBe(7);
    } finally {
      await client.disconnect();
    }
  });

  it('speaks SFTP v3 to the sftp subsystem: INIT → VERSION, REALPATH "." → NAME', async () => {
    const client = await connect(link, 'password');
    try {
      const probe = await openSession(client);
      channelRequestSubsystem(probe.channel!, 'sftp');
      expect(await probe.requestResult('subsystem')).toBe(true);
      await writeAll(probe, sftpInit(3));
      const version = await probe.until('SSH_FXP_VERSION', () => sftpParse(probe.stdout)[0]);
      expect(version.type).toBe(SFTP.VERSION);
      expect(sftpVersion(version.body).version).toBe(3);
      await writeAll(probe, sftpRealpath(7, '.'));
      const name = await probe.until('SSH_FXP_NAME', () => sftpParse(probe.stdout)[1]);
      expect(name.type).toBe(SFTP.NAME);
      expect(sftpName(name.body)).toEqual({ id: 7, count: 1, first: user.home });
      channelEof(probe.channel!);
      const r = await probe.done();
      expect(r.exitStatus).toBe(0);
    } finally {
      await client.disconnect();
    }
  });

  it('forwards a local port: direct-tcpip to a TCP echo server through sshd', async () => {
    const client = await connect(link, 'key');
    try {
      const payload = seededBytes(3 * MiB + 17, 3);
      const probe = new ChannelProbe();
      const seenBefore = echo.connections;
      channelOpenDirectTcpip(client.session, {
        host: '127.0.0.1',
        port: echo.port,
        originatorHost: '127.0.0.1',
        originatorPort: 40000,
        ...probe.options,
      });
      await probe.opened();
      await until(
        () => echo.connections === seenBefore + 1,
        () => `echo server saw ${echo.connections - seenBefore} connections`,
      );
      const r = await pipeThrough(probe, payload);
      expect(r.bytes).toBe(payload.length);
      expect(r.sha256).toBe(sha256(payload));
    } finally {
      await client.disconnect();
    }
  });

  it('refuses direct-tcpip to a closed port with CONNECT_FAILED', async () => {
    const client = await connect(link, 'key');
    try {
      const probe = new ChannelProbe();
      channelOpenDirectTcpip(client.session, {
        host: '127.0.0.1',
        port: 1,
        originatorHost: '127.0.0.1',
        originatorPort: 40001,
        ...probe.options,
      });
      await expect(probe.opened()).rejects.toThrow(/channel open failed: 2 /);
    } finally {
      await client.disconnect();
    }
  });

  it('forwards a remote port: tcpip-forward port 0, then forwarded-tcpip channels we echo', async () => {
    const opens: { address: string; port: number; originatorHost: string }[] = [];
    const echoes: ReturnType<typeof echoChannel>[] = [];
    const client = await connect(link, 'key', {
      onChannelOpen: (request) => {
        if (request.type !== 'forwarded-tcpip') return request.reject();
        opens.push({
          address: request.address,
          port: request.port,
          originatorHost: request.originatorHost,
        });
        const e = echoChannel();
        echoes.push(e);
        request.accept(e);
      },
    });
    try {
      const bound = await new Promise<{ ok: boolean; port: number }>((resolve) =>
        sessionForwardTcpip(client.session, '127.0.0.1', 0, (ok, port) => resolve({ ok, port })),
      );
      expect(bound.ok, client.logs()).toBe(true);
      expect(bound.port).toBeGreaterThan(0);
      const payload = seededBytes(5 * MiB + 3, 4);
      const [back1, back2] = await Promise.all([
        tcpRoundTrip(bound.port, payload),
        tcpRoundTrip(bound.port, new TextEncoder().encode('second connection\n')),
      ]);
      expect(sha256(back1)).toBe(sha256(payload));
      expect(back2.toString()).toBe('second connection\n');
      expect(opens).toHaveLength(2);
      for (const o of opens) {
        expect(o).toMatchObject({
          address: '127.0.0.1',
          port: bound.port,
          originatorHost: '127.0.0.1',
        });
      }
      // Cancel: sshd stops listening.
      const cancelled = await new Promise<boolean>((resolve) =>
        sessionCancelForwardTcpip(client.session, '127.0.0.1', bound.port, resolve),
      );
      expect(cancelled).toBe(true);
      await expect(tcpRoundTrip(bound.port, new Uint8Array(1), 3000)).rejects.toThrow(
        /ECONNREFUSED/,
      );
    } finally {
      await client.disconnect();
    }
  });
});

describe('our client → sshd 9.2: flow control and channel lifecycle', () => {
  it('receives 5 MiB of stderr (extended data) through a 2 MiB window', async () => {
    const data = seededBytes(5 * MiB, 5);
    const client = await connect('tcp', 'key');
    try {
      const probe = await openSession(client);
      channelRequestExec(probe.channel!, 'cat >&2');
      expect(await probe.requestResult('exec')).toBe(true);
      await writeAll(probe, data);
      channelEof(probe.channel!);
      const r = await probe.done();
      expect(r.stdout.length).toBe(0);
      expect(sha256(r.stderr)).toBe(sha256(data));
      expect(r.exitStatus).toBe(0);
    } finally {
      await client.disconnect();
    }
  });

  it('keeps a small manual window (64 KiB, 16 KiB packets) consumed late: sshd stays inside it', async () => {
    const data = seededBytes(4 * MiB, 6);
    const client = await connect('tcp', 'key');
    try {
      const probe = new ChannelProbe({
        window: 64 * 1024,
        maxPacket: 16 * 1024,
        manualWindow: true,
      });
      const hash = createHash('sha256');
      let largest = 0;
      let held = 0;
      let scheduled = false;
      probe.onData = (chunk) => {
        hash.update(chunk);
        largest = Math.max(largest, chunk.length);
        held += chunk.length;
        if (scheduled) return;
        // Give the bytes back a little later, in batches.
        scheduled = true;
        setTimeout(() => {
          scheduled = false;
          const n = held;
          held = 0;
          if (channelState(probe.channel!) === 'open') channelConsume(probe.channel!, n);
        }, 2);
      };
      channelOpenSession(client.session, probe.options);
      await probe.opened();
      channelRequestExec(probe.channel!, 'cat');
      expect(await probe.requestResult('exec')).toBe(true);
      await writeAll(probe, data);
      channelEof(probe.channel!);
      const r = await probe.done();
      expect(hash.digest('hex')).toBe(sha256(data));
      expect(largest).toBeLessThanOrEqual(16 * 1024);
      expect(r.exitStatus).toBe(0);
    } finally {
      await client.disconnect();
    }
  });

  it('runs ten channels at once (sshd MaxSessions 10), 2 MiB through cat on each', async () => {
    const client = await connect('tcp', 'key');
    try {
      const runs = Array.from({ length: 10 }, async (_, i) => {
        const data = seededBytes(2 * MiB + i, 100 + i);
        const probe = await openSession(client);
        channelRequestExec(probe.channel!, 'cat');
        expect(await probe.requestResult('exec')).toBe(true);
        const r = await pipeThrough(probe, data);
        return r.sha256 === sha256(data) && r.result.exitStatus === 0;
      });
      expect(await Promise.all(runs)).toEqual(Array(10).fill(true));
    } finally {
      await client.disconnect();
    }
  });

  it('closes a channel that `yes` floods; the session goes on', async () => {
    const client = await connect('tcp', 'key');
    try {
      const probe = await openSession(client);
      probe.onData = () => {};
      channelRequestExec(probe.channel!, 'yes');
      expect(await probe.requestResult('exec')).toBe(true);
      await probe.until('1 MiB of y', () => (probe.stdoutBytes > MiB ? true : undefined));
      channelClose(probe.channel!);
      const r = await probe.done();
      expect(r.trace.at(-1)).toBe('close');
      expect(channelState(probe.channel!)).toBe('closed');
      const next = await openSession(client);
      channelRequestExec(next.channel!, 'echo still here');
      expect((await next.done()).stdout.toString()).toBe('still here\n');
      expect(sessionState(client.session)).toBe('established');
    } finally {
      await client.disconnect();
    }
  });

  it('reports exit-signal TERM for a command killed by SIGTERM', async () => {
    const client = await connect('tcp', 'key');
    try {
      const probe = await openSession(client);
      channelRequestExec(probe.channel!, 'kill -TERM $$');
      const r = await probe.done();
      expect(r.exitSignal).toBe('TERM');
      expect(r.exitStatus).toBeUndefined();
    } finally {
      await client.disconnect();
    }
  });

  for (const who of ['local', 'peer'] as const) {
    it(`rekeys during 24 MiB through cat, started by ${who === 'local' ? 'our client (every 2 MiB)' : 'sshd (RekeyLimit 1M)'}`, async () => {
      const data = seededBytes(24 * MiB, 7);
      const client =
        who === 'local'
          ? await connect('tcp', 'key', { rekeyAfterBytes: 2 * MiB })
          : await connect('sshd -i', 'key', { sshdArgs: ['-o', 'RekeyLimit=1M'] });
      try {
        const probe = await openSession(client);
        channelRequestExec(probe.channel!, 'cat');
        expect(await probe.requestResult('exec')).toBe(true);
        const r = await pipeThrough(probe, data);
        expect(r.sha256).toBe(sha256(data));
        expect(r.result.exitStatus).toBe(0);
        const started = client.events.filter(
          (e) => e.type === 'rekey-started' && e.initiator === who,
        );
        expect(started.length).toBeGreaterThanOrEqual(who === 'local' ? 10 : 20);
        expect(client.events.filter((e) => e.type === 'rekey-complete').length).toBe(
          client.events.filter((e) => e.type === 'rekey-started').length,
        );
        expect(probe.writableEvents).toBe(probe.shortWrites);
      } finally {
        await client.disconnect();
      }
    });
  }
});

describe('our client → sshd 9.2: keepalives and forwarding corner cases', () => {
  it('answers sshd keepalives (ClientAliveInterval 1, CountMax 2) on an idle session and on a channel', async () => {
    const client = await connect('sshd -i', 'key', {
      sshdArgs: [
        '-o',
        'ClientAliveInterval=1',
        '-o',
        'ClientAliveCountMax=2',
        '-o',
        'LogLevel=DEBUG1',
      ],
    });
    try {
      // No channel: sshd probes with a keepalive@openssh.com global request wanting a reply;
      // the core answers it (REQUEST_FAILURE, 82) without asking the application.
      await new Promise((r) => setTimeout(r, 3500));
      expect(client.globalRequests).not.toContain('keepalive@openssh.com');
      const probe = await openSession(client);
      const channelRequests: string[] = [];
      probe.onRequest = (request) => {
        channelRequests.push(request.name);
        if (request.wantReply) request.reject();
      };
      channelRequestExec(probe.channel!, 'sleep 3.5; echo alive');
      const r = await probe.done();
      expect(r.stdout.toString(), client.logs()).toBe('alive\n');
      expect(r.exitStatus).toBe(0);
      // With a channel open the probe is a channel request, also answered by the core
      // (CHANNEL_FAILURE, 100): the application sees only exit-status.
      expect(channelRequests).toEqual(['exit-status']);
      const logs = client.logs();
      expect(logs).toMatch(/Got 82\/\d+ for keepalive/);
      expect(logs).toMatch(/Got 100\/\d+ for keepalive/);
      expect(logs).not.toMatch(/Timeout, client not responding/);
    } finally {
      await client.disconnect();
    }
  });

  it('closes a channel while it is still opening: close, and no open event', async () => {
    const client = await connect('tcp', 'key');
    try {
      const probe = new ChannelProbe();
      const channel = channelOpenSession(client.session, probe.options);
      channelClose(channel);
      const r = await probe.done();
      expect(r.trace).toEqual(['close']);
      const next = await openSession(client);
      channelRequestExec(next.channel!, 'echo fine');
      expect((await next.done()).stdout.toString()).toBe('fine\n');
    } finally {
      await client.disconnect();
    }
  });

  it('forwards a fixed remote port, and hears a refusal for a port already in use', async () => {
    const opens: number[] = [];
    const client = await connect('tcp', 'key', {
      onChannelOpen: (request) => {
        if (request.type !== 'forwarded-tcpip') return request.reject();
        opens.push(request.port);
        request.accept(echoChannel());
      },
    });
    try {
      const inUse = await new Promise<{ ok: boolean; port: number }>((resolve) =>
        sessionForwardTcpip(client.session, '127.0.0.1', sshd.port, (ok, port) =>
          resolve({ ok, port }),
        ),
      );
      expect(inUse).toEqual({ ok: false, port: 0 });
      const fixed = await freePort();
      const bound = await new Promise<{ ok: boolean; port: number }>((resolve) =>
        sessionForwardTcpip(client.session, '127.0.0.1', fixed, (ok, port) =>
          resolve({ ok, port }),
        ),
      );
      expect(bound).toEqual({ ok: true, port: fixed });
      const back = await tcpRoundTrip(fixed, new TextEncoder().encode('fixed port\n'));
      expect(back.toString()).toBe('fixed port\n');
      expect(opens).toEqual([fixed]);
    } finally {
      await client.disconnect();
    }
  });
});

describe('our client → sshd 9.2: refusals', () => {
  it('fails authentication with a wrong password (SSH_ERR_AUTH_FAILED)', async () => {
    await expect(
      connectOurClient(
        { kind: 'tcp', port: sshd.port },
        {
          username: TEST_USER,
          methods: [{ type: 'password', password: 'wrong' }],
          fingerprint: sshd.hostKey.fingerprint,
          hostKeyAlgorithms: ['ssh-ed25519'],
        },
      ),
    ).rejects.toThrow(/SSH_ERR_AUTH_FAILED/);
  });

  it('writes nothing before the channel is open (channelWrite returns 0)', async () => {
    const client = await connect('tcp', 'key');
    try {
      const probe = new ChannelProbe();
      const channel = channelOpenSession(client.session, probe.options);
      expect(channelWrite(channel, new Uint8Array(10))).toBe(0);
      await probe.opened();
      // OpenSSH's initial window is 0: still nothing until its WINDOW_ADJUST arrives.
      channelRequestExec(channel, 'cat');
      expect(await probe.requestResult('exec')).toBe(true);
      const r = await pipeThrough(probe, new TextEncoder().encode('late\n'));
      expect(r.result.exitStatus).toBe(0);
    } finally {
      await client.disconnect();
    }
  });
});
