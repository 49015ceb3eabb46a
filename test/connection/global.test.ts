import { describe, expect, it } from 'vitest';
import { channelOpenSession, channelWrite } from '../../src/connection/api.js';
import { SSH_OPEN } from '../../src/connection/constants.js';
import {
  sessionCancelForwardTcpip,
  sessionForwardStreamlocal,
  sessionForwardTcpip,
  sessionGlobalRequest,
  sessionNoMoreSessions,
  sessionOpenForwardedStreamlocal,
  sessionOpenForwardedTcpip,
} from '../../src/connection/session-api.js';
import type { Channel, ChannelOpenRequest, GlobalRequest } from '../../src/connection/types.js';
import { SshWriter } from '../../src/wire/writer.js';
import { connectPair, describeEvent, str, text } from './harness.js';

describe('global requests and forwarding', () => {
  it('forwards a port chosen by the server and carries a forwarded-tcpip channel it opens', async () => {
    const log: string[] = [];
    let clientSide: Channel | undefined;
    const p = await connectPair({
      server: {
        onGlobalRequest: (req) => {
          log.push(`server ${req.name} ${JSON.stringify(req.parsed)}`);
          if (req.parsed?.type === 'tcpip-forward') req.accept({ boundPort: 40000 });
          else req.accept();
        },
      },
      client: {
        onChannelOpen: (req) => {
          log.push(`client open ${JSON.stringify({ ...req })}`);
          clientSide = req.accept({
            onEvent: (e) => log.push(`client ${describeEvent(e)}`),
          });
        },
      },
    });
    sessionForwardTcpip(p.client, '127.0.0.1', 0, (ok, port) => log.push(`forward ${ok} ${port}`));
    const serverSide = sessionOpenForwardedTcpip(p.server, {
      address: '127.0.0.1',
      port: 40000,
      originatorHost: '10.1.2.3',
      originatorPort: 5555,
      onEvent: (e) => log.push(`server ${describeEvent(e)}`),
    });
    channelWrite(serverSide, text('from the server'));
    channelWrite(clientSide!, text('from the client'));
    expect(log).toEqual([
      'server tcpip-forward {"type":"tcpip-forward","bindAddress":"127.0.0.1","bindPort":0}',
      'forward true 40000',
      'client open {"type":"forwarded-tcpip","address":"127.0.0.1","port":40000,"originatorHost":"10.1.2.3","originatorPort":5555,"peerWindow":2097152,"peerMaxPacket":261632}',
      'server open',
      'client data from the server',
      'server data from the client',
    ]);
    // After the cancel, the server can no longer open channels for that port.
    sessionCancelForwardTcpip(p.client, '127.0.0.1', 40000, (ok) => log.push(`cancel ${ok}`));
    sessionOpenForwardedTcpip(p.server, {
      address: '127.0.0.1',
      port: 40000,
      originatorHost: '10.1.2.3',
      originatorPort: 5556,
      onEvent: (e) => log.push(`server again ${describeEvent(e)}`),
    });
    expect(log.slice(-2)).toEqual([
      'cancel true',
      `server again open-failed ${SSH_OPEN.ADMINISTRATIVELY_PROHIBITED} no forwarding was requested for port 40000`,
    ]);
  });

  it('refuses forwarded channels the client never asked for', async () => {
    const log: string[] = [];
    const p = await connectPair({ client: { onChannelOpen: () => log.push('asked') } });
    sessionOpenForwardedTcpip(p.server, {
      address: '0.0.0.0',
      port: 22,
      originatorHost: 'x',
      originatorPort: 1,
      onEvent: (e) => log.push(describeEvent(e)),
    });
    sessionOpenForwardedStreamlocal(p.server, {
      socketPath: '/tmp/agent',
      onEvent: (e) => log.push(describeEvent(e)),
    });
    expect(log).toEqual([
      'open-failed 1 no forwarding was requested for port 22',
      'open-failed 1 no forwarding was requested for /tmp/agent',
    ]);
  });

  it('forwards a Unix socket and carries forwarded-streamlocal channels for it', async () => {
    const opens: ChannelOpenRequest[] = [];
    const log: string[] = [];
    const p = await connectPair({
      server: {
        onGlobalRequest: (req) => {
          expect(req.parsed).toEqual({
            type: 'streamlocal-forward@openssh.com',
            socketPath: '/tmp/app.sock',
          });
          req.accept();
        },
      },
      client: { onChannelOpen: (req) => opens.push(req) },
    });
    sessionForwardStreamlocal(p.client, '/tmp/app.sock', (ok) => log.push(`forward ${ok}`));
    sessionOpenForwardedStreamlocal(p.server, {
      socketPath: '/tmp/app.sock',
      onEvent: (e) => log.push(describeEvent(e)),
    });
    expect(opens[0]).toMatchObject({
      type: 'forwarded-streamlocal@openssh.com',
      socketPath: '/tmp/app.sock',
    });
    opens[0]!.accept({ onEvent: () => {} });
    expect(log).toEqual(['forward true', 'open']);
  });

  it('fails keepalive@openssh.com and, without a handler, every request wanting a reply', async () => {
    const results: string[] = [];
    const p = await connectPair();
    sessionGlobalRequest(p.client, 'keepalive@openssh.com', true, undefined, (ok) =>
      results.push(`keepalive ${ok}`),
    );
    sessionGlobalRequest(p.client, 'custom@example.com', true, text('x'), (ok, data) =>
      results.push(`custom ${ok} ${data.length}`),
    );
    sessionGlobalRequest(p.client, 'quiet@example.com', false);
    expect(results).toEqual(['keepalive false', 'custom false 0']);
  });

  it('replies to global requests in order when answered out of order', async () => {
    const held: GlobalRequest[] = [];
    const results: string[] = [];
    const p = await connectPair({ server: { onGlobalRequest: (req) => held.push(req) } });
    for (const n of ['one', 'two', 'three'])
      sessionGlobalRequest(p.client, `${n}@example.com`, true, undefined, (ok, data) =>
        results.push(`${n} ${ok} ${str(data)}`),
      );
    held[2]!.accept({ data: text('3') });
    held[1]!.reject();
    expect(results).toEqual([]);
    held[0]!.accept({ data: text('1') });
    expect(results).toEqual(['one true 1', 'two false ', 'three true 3']);
    expect(() => held[0]!.reject()).toThrow(/already answered/);
  });

  it('honours no-more-sessions@openssh.com on a server', async () => {
    const log: string[] = [];
    const p = await connectPair({
      server: { onChannelOpen: (r) => r.accept({ onEvent: () => {} }) },
    });
    channelOpenSession(p.client, { onEvent: (e) => log.push(`first ${describeEvent(e)}`) });
    sessionNoMoreSessions(p.client);
    channelOpenSession(p.client, { onEvent: (e) => log.push(`second ${describeEvent(e)}`) });
    expect(log).toEqual([
      'first open',
      `second open-failed ${SSH_OPEN.ADMINISTRATIVELY_PROHIBITED} no-more-sessions@openssh.com was sent`,
    ]);
  });

  it('parses hostkeys-00@openssh.com for the client', async () => {
    const keys: number[][] = [];
    const p = await connectPair({
      client: {
        onGlobalRequest: (req) => {
          if (req.parsed?.type === 'hostkeys-00@openssh.com')
            keys.push(req.parsed.hostKeys.map((k) => k.length));
        },
      },
    });
    const data = new SshWriter().string(new Uint8Array(51)).string(new Uint8Array(104)).finish();
    sessionGlobalRequest(p.server, 'hostkeys-00@openssh.com', false, data);
    expect(keys).toEqual([[51, 104]]);
  });

  it('requires the bound port when accepting tcpip-forward for port 0', async () => {
    const held: GlobalRequest[] = [];
    const p = await connectPair({ server: { onGlobalRequest: (req) => held.push(req) } });
    sessionForwardTcpip(p.client, '', 0, () => {});
    expect(() => held[0]!.accept()).toThrow(/boundPort/);
    held[0]!.accept({ boundPort: 2222 });
  });
});
