import { describe, expect, it } from 'vitest';
import {
  channelClose,
  channelEof,
  channelOpenDirectStreamlocal,
  channelOpenDirectTcpip,
  channelOpenSession,
  channelRequest,
  channelRequestEnv,
  channelRequestExec,
  channelRequestPty,
  channelRequestShell,
  channelRequestSubsystem,
  channelSendEow,
  channelSendExitSignal,
  channelSendExitStatus,
  channelSignal,
  channelState,
  channelWindowChange,
  channelWrite,
  channelWriteExtended,
} from '../../src/connection/api.js';
import { SSH_EXTENDED_DATA, SSH_OPEN } from '../../src/connection/constants.js';
import type { Channel, ChannelOpenRequest, ChannelRequest } from '../../src/connection/types.js';
import { SSH_ERR, type SshError } from '../../src/index.js';
import { makePair } from '../helpers.js';
import { connectPair, describeEvent, str, text } from './harness.js';

describe('session channels', () => {
  it('opens a session, runs exec with a reply, moves data and stderr, reports exit-status, EOF and close', async () => {
    const serverLog: string[] = [];
    const clientLog: string[] = [];
    const p = await connectPair({
      server: {
        onChannelOpen: (req) => {
          serverLog.push(`open ${req.type} window ${req.peerWindow}`);
          req.accept({
            onEvent: (e, ch) => {
              serverLog.push(describeEvent(e));
              if (e.type === 'request' && e.request.parsed?.type === 'exec') {
                e.request.accept();
                channelWrite(ch, text(`ran ${e.request.parsed.command}`));
                channelWriteExtended(ch, SSH_EXTENDED_DATA.STDERR, text('warning'));
              }
              if (e.type === 'eof') {
                channelSendExitStatus(ch, 3);
                channelEof(ch);
                channelClose(ch);
              }
            },
          });
        },
      },
    });
    const channel = channelOpenSession(p.client, {
      onEvent: (e, ch) => {
        clientLog.push(describeEvent(e));
        if (e.type === 'open') {
          expect(channelState(ch)).toBe('open');
          channelRequestExec(ch, 'echo hi');
          expect(channelWrite(ch, text('input'))).toBe(5);
          channelEof(ch);
        }
      },
    });
    await p.settle();
    expect(serverLog).toEqual([
      'open session window 2097152',
      'request exec true {"command":"echo hi"}',
      'data input',
      'eof',
      'close',
    ]);
    expect(clientLog).toEqual([
      'open',
      'request-result exec true',
      'data ran echo hi',
      'extended-data 1 warning',
      'request exit-status false {"code":3}',
      'eof',
      'close',
    ]);
    expect(channelState(channel)).toBe('closed');
    expect(p.clientConn.channelCount).toBe(0);
    expect(p.serverConn.channelCount).toBe(0);
  });

  it('keeps the other direction open after an EOF in either direction', async () => {
    const log: string[] = [];
    let server: Channel | undefined;
    const p = await connectPair({
      server: {
        onChannelOpen: (req) => {
          server = req.accept({ onEvent: (e) => log.push(`server ${describeEvent(e)}`) });
        },
      },
    });
    const client = channelOpenSession(p.client, {
      onEvent: (e) => log.push(`client ${describeEvent(e)}`),
    });
    channelEof(client);
    channelWrite(server!, text('after client eof'));
    channelWrite(server!, text('more'));
    channelEof(server!);
    expect(() => channelWrite(server!, text('x'))).toThrow(/after channelEof/);
    channelClose(client);
    expect(log).toEqual([
      'client open',
      'server eof',
      'client data after client eof',
      'client data more',
      'client eof',
      'server close',
      'client close',
    ]);
  });

  it('completes the close handshake when both sides close at once, then reuses the id', async () => {
    const log: string[] = [];
    const chans: Channel[] = [];
    const p = await connectPair({
      link: { delivery: 'deferred' },
      server: {
        onChannelOpen: (req) => {
          chans.push(req.accept({ onEvent: (e) => log.push(`server ${describeEvent(e)}`) }));
        },
      },
    });
    const client = channelOpenSession(p.client, {
      onEvent: (e) => log.push(`client ${describeEvent(e)}`),
    });
    await p.settle();
    channelClose(client);
    channelClose(chans[0]!);
    expect(channelState(client)).toBe('closing');
    await p.settle();
    expect([...log].sort()).toEqual(['client close', 'client open', 'server close']);
    expect(p.clientConn.channelCount + p.serverConn.channelCount).toBe(0);
    // A second channel gets the freed id 0 again on both sides.
    channelOpenSession(p.client, { onEvent: (e) => log.push(`client2 ${describeEvent(e)}`) });
    await p.settle();
    expect(log.at(-1)).toBe('client2 open');
    expect(p.serverConn.channelCount).toBe(1);
  });

  it('drops data arriving after our CLOSE and delivers only close afterwards', async () => {
    const log: string[] = [];
    let server: Channel | undefined;
    const p = await connectPair({
      link: { delivery: 'deferred' },
      server: { onChannelOpen: (req) => (server = req.accept({ onEvent: () => {} })) },
    });
    const client = channelOpenSession(p.client, { onEvent: (e) => log.push(describeEvent(e)) });
    await p.settle();
    channelWrite(server!, text('in flight'));
    channelClose(client);
    await p.settle();
    expect(log).toEqual(['open', 'close']);
  });

  it('closes a channel asked to close while still opening, without an open event', async () => {
    const log: string[] = [];
    const p = await connectPair({
      link: { delivery: 'deferred' },
      server: { onChannelOpen: (req) => req.accept({ onEvent: () => {} }) },
    });
    const client = channelOpenSession(p.client, { onEvent: (e) => log.push(describeEvent(e)) });
    expect(channelState(client)).toBe('opening');
    expect(channelWrite(client, text('early'))).toBe(0);
    channelEof(client);
    channelClose(client);
    await p.settle();
    expect(log).toEqual(['close']);
    expect(p.serverConn.channelCount).toBe(0);
  });

  it('sends replies in request order even when the application answers out of order', async () => {
    const held: ChannelRequest[] = [];
    const results: string[] = [];
    const p = await connectPair({
      server: {
        onChannelOpen: (req) =>
          req.accept({ onEvent: (e) => e.type === 'request' && held.push(e.request) }),
      },
    });
    channelOpenSession(p.client, {
      onEvent: (e, ch) => {
        if (e.type === 'open') {
          channelRequestEnv(ch, 'A', '1');
          channelRequestEnv(ch, 'B', '2');
          channelRequestExec(ch, 'true');
        }
        if (e.type === 'request-result') results.push(`${e.request} ${e.success}`);
      },
    });
    expect(held.map((r) => r.name)).toEqual(['env', 'env', 'exec']);
    held[2]!.accept();
    held[1]!.accept();
    expect(results).toEqual([]);
    held[0]!.reject();
    expect(results).toEqual(['env false', 'env true', 'exec true']);
    expect(() => held[0]!.accept()).toThrow(/already answered/);
  });

  it('parses the request types it knows and passes others through raw', async () => {
    const seen: string[] = [];
    let server: Channel | undefined;
    const p = await connectPair({
      server: {
        onChannelOpen: (req) =>
          (server = req.accept({
            onEvent: (e) => {
              if (e.type !== 'request') return;
              seen.push(describeEvent(e));
              if (e.request.wantReply) e.request.accept();
            },
          })),
      },
    });
    const client = channelOpenSession(p.client, { onEvent: () => {} });
    const modes = new Uint8Array([53, 0, 0, 0, 1, 0]);
    channelRequestPty(client, {
      term: 'xterm',
      cols: 80,
      rows: 24,
      width: 640,
      height: 480,
      modes,
    });
    channelRequestShell(client);
    channelRequestSubsystem(client, 'sftp');
    channelWindowChange(client, { cols: 100, rows: 30 });
    channelSignal(client, 'INT');
    channelSendEow(client);
    channelRequest(client, 'custom@example.com', false, new Uint8Array([1, 2]));
    expect(seen).toEqual([
      'request pty-req true {"term":"xterm","cols":80,"rows":24,"width":640,"height":480,"modes":{"0":53,"1":0,"2":0,"3":0,"4":1,"5":0}}',
      'request shell true {}',
      'request subsystem true {"name":"sftp"}',
      'request window-change false {"cols":100,"rows":30,"width":0,"height":0}',
      'request signal false {"name":"INT"}',
      'request eow@openssh.com false {}',
      'request custom@example.com false -',
    ]);
    const clientSeen: string[] = [];
    const client2 = channelOpenSession(p.client, {
      onEvent: (e) => e.type === 'request' && clientSeen.push(describeEvent(e)),
    });
    expect(client2).toBeDefined();
    // The second accepted channel is the latest `server`.
    channelSendExitSignal(server!, { signal: 'KILL', coreDumped: true, message: 'killed' });
    expect(clientSeen).toEqual([
      'request exit-signal false {"signal":"KILL","coreDumped":true,"message":"killed","language":""}',
    ]);
  });
});

describe('channel opens', () => {
  it('refuses opens beyond maxChannels with RESOURCE_SHORTAGE', async () => {
    const log: string[] = [];
    const p = await connectPair({
      server: { maxChannels: 2, onChannelOpen: (req) => req.accept({ onEvent: () => {} }) },
    });
    for (let i = 0; i < 3; i++)
      channelOpenSession(p.client, { onEvent: (e) => log.push(`${i} ${describeEvent(e)}`) });
    expect(log).toEqual([
      '0 open',
      '1 open',
      `2 open-failed ${SSH_OPEN.RESOURCE_SHORTAGE} too many channels`,
    ]);
    expect(p.serverConn.channelCount).toBe(2);
    expect(p.clientConn.channelCount).toBe(2);
  });

  it('refuses every open when the application has no onChannelOpen', async () => {
    const log: string[] = [];
    const p = await connectPair();
    channelOpenSession(p.client, { onEvent: (e) => log.push(describeEvent(e)) });
    expect(log).toEqual([`open-failed ${SSH_OPEN.ADMINISTRATIVELY_PROHIBITED} refused`]);
    expect(p.clientConn.channelCount).toBe(0);
  });

  it('delivers direct-tcpip and direct-streamlocal targets, answered later', async () => {
    const requests: ChannelOpenRequest[] = [];
    const log: string[] = [];
    const p = await connectPair({ server: { onChannelOpen: (req) => requests.push(req) } });
    channelOpenDirectTcpip(p.client, {
      host: 'db.internal',
      port: 5432,
      originatorHost: '10.0.0.1',
      originatorPort: 40000,
      onEvent: (e) => log.push(`tcp ${describeEvent(e)}`),
    });
    channelOpenDirectStreamlocal(p.client, {
      socketPath: '/run/app.sock',
      onEvent: (e) => log.push(`unix ${describeEvent(e)}`),
    });
    const [tcp, unix] = requests;
    expect(tcp).toMatchObject({ type: 'direct-tcpip', host: 'db.internal', port: 5432 });
    expect(tcp).toMatchObject({ originatorHost: '10.0.0.1', originatorPort: 40000 });
    expect(unix).toMatchObject({
      type: 'direct-streamlocal@openssh.com',
      socketPath: '/run/app.sock',
    });
    expect(log).toEqual([]);
    unix!.reject(SSH_OPEN.CONNECT_FAILED, 'no such socket');
    tcp!.accept({ onEvent: () => {} });
    expect(() => tcp!.reject()).toThrow(/already answered/);
    expect(log).toEqual([`unix open-failed ${SSH_OPEN.CONNECT_FAILED} no such socket`, 'tcp open']);
  });

  it('makes answers after the session ended no-ops', async () => {
    const requests: ChannelOpenRequest[] = [];
    const p = await connectPair({ server: { onChannelOpen: (req) => requests.push(req) } });
    channelOpenSession(p.client, { onEvent: () => {} });
    p.a.hangUp();
    const channel = requests[0]!.accept({ onEvent: () => {} });
    expect(channelState(channel)).toBe('closed');
    expect(channelWrite(channel, text('x'))).toBe(0);
    expect(() => requests[0]!.reject()).toThrow(/already answered/);
  });

  it('closes every live channel once when the session ends', async () => {
    const log: string[] = [];
    const p = await connectPair({
      link: { delivery: 'deferred' },
      server: { onChannelOpen: (req) => req.accept({ onEvent: () => {} }) },
    });
    const a = channelOpenSession(p.client, { onEvent: (e) => log.push(`a ${describeEvent(e)}`) });
    await p.settle();
    const b = channelOpenSession(p.client, { onEvent: (e) => log.push(`b ${describeEvent(e)}`) });
    p.b.hangUp(); // the client's link closes under it: sessionClose
    await p.settle();
    // The transport calls onSessionEnded when the session ends (UpperLayer hook).
    p.clientConn.onSessionEnded();
    p.clientConn.onSessionEnded();
    expect(log).toEqual(['a open', 'a close', 'b close']);
    expect([channelState(a), channelState(b)]).toEqual(['closed', 'closed']);
    expect(channelWrite(a, text('x'))).toBe(0);
    const late = channelOpenSession(p.client, { onEvent: (e) => log.push(`late ${e.type}`) });
    expect(channelState(late)).toBe('closed');
    expect(log).toHaveLength(3);
  });

  it('ends the session when an event handler throws, and delivers nothing more', async () => {
    const log: string[] = [];
    let server: Channel | undefined;
    const p = await connectPair({
      server: { onChannelOpen: (req) => (server = req.accept({ onEvent: () => {} })) },
    });
    channelOpenSession(p.client, {
      onEvent: (e) => {
        log.push(describeEvent(e));
        if (e.type === 'data') throw new Error('application bug');
      },
    });
    channelWrite(server!, text('boom'));
    expect(p.clientLog.filter((l) => l.startsWith('error'))).toEqual([
      `error ${SSH_ERR.CALLBACK_FAILED}`,
    ]);
    expect(p.serverLog).toContain('disconnected 11');
    expect(channelWrite(server!, text('more'))).toBe(0);
    expect(log).toEqual(['open', 'data boom']);
  });

  it('throws a usage error before authentication and for API misuse', () => {
    const p = makePair();
    const usage = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as SshError).code;
      }
      return 'no error';
    };
    expect(usage(() => channelOpenSession(p.client, { onEvent: () => {} }))).toBe(SSH_ERR.USAGE);
    expect(usage(() => channelWrite({} as Channel, text('x')))).toBe(SSH_ERR.USAGE);
  });

  it('keeps data events from aliasing across packets', async () => {
    const got: Uint8Array[] = [];
    let server: Channel | undefined;
    const p = await connectPair({
      server: { onChannelOpen: (req) => (server = req.accept({ onEvent: () => {} })) },
    });
    channelOpenSession(p.client, { onEvent: (e) => e.type === 'data' && got.push(e.data) });
    channelWrite(server!, text('first'));
    channelWrite(server!, text('second'));
    expect(got.map(str)).toEqual(['first', 'second']);
  });
});
