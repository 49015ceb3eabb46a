/**
 * @module
 * The connection-protocol targets (RFC 4254): an authenticated server and client with a
 * session channel open (pty-req, exec, data), each reading the other side's payloads.
 */

import {
  channelClose,
  channelEof,
  channelOpenDirectTcpip,
  channelOpenSession,
  channelRequest,
  channelRequestEnv,
  channelRequestShell,
  channelRequestSubsystem,
  channelSendEow,
  channelSendExitSignal,
  channelSendExitStatus,
  channelSignal,
  channelWindowChange,
  channelWrite,
  channelWriteExtended,
  sessionForwardTcpip,
  sessionGlobalRequest,
  sessionNoMoreSessions,
  sessionOpenForwardedTcpip,
} from '../../src/index.js';
import { Monitored } from '../monitor.js';
import { clientConfig, relay, serverConfig } from '../peers.js';
import {
  fixed,
  NEWKEYS,
  openShellChannel,
  QUICK_AUTH,
  REKEY_ECDH_INIT,
  REKEY_KEXINIT,
  sealedTarget,
  text,
} from './sealed.js';

/** The connection protocol with a channel open, attacked from the client's side. */
export const channelsServerTarget = sealedTarget({
  name: 'channels-server',
  description:
    'an authenticated server with a session channel open (pty, exec) reads the client’s payloads',
  create: (scene) => ({
    target: new Monitored((m) => serverConfig(m)),
    peer: new Monitored((m) =>
      clientConfig(m, {
        auth: QUICK_AUTH,
        onEvent: (e) => {
          if (e.type === 'authenticated') openShellChannel(scene, 'peer', m);
          scene.onPeerEvent?.(e);
        },
      }),
    ),
  }),
  drive: (scene) => relay(scene.target, scene.peer),
  scenarios: [
    fixed(REKEY_KEXINIT, REKEY_ECDH_INIT, NEWKEYS),
    {
      play: (scene) => {
        const ch = scene.peerChannels[0]!;
        channelWrite(ch, text('some input\n'));
        channelWindowChange(ch, { cols: 132, rows: 43 });
        channelSignal(ch, 'INT');
        channelEof(ch);
        channelClose(ch);
      },
    },
    {
      play: (scene) => {
        const session = scene.peer.session;
        sessionGlobalRequest(session, 'keepalive@openssh.com', true);
        sessionForwardTcpip(session, '127.0.0.1', 0, () => {});
        channelOpenDirectTcpip(session, {
          host: 'db.internal',
          port: 5432,
          originatorHost: '127.0.0.1',
          originatorPort: 50000,
          onEvent: (event, ch) => {
            if (event.type === 'open') channelWrite(ch, text('SELECT 1;'));
          },
        });
        sessionNoMoreSessions(session);
      },
    },
    {
      play: (scene) => {
        const second = channelOpenSession(scene.peer.session, {
          onEvent: (event, ch) => {
            if (event.type !== 'open') return;
            channelRequestEnv(ch, 'LANG', 'C');
            channelRequestShell(ch);
            channelRequestSubsystem(ch, 'sftp');
            channelRequest(ch, 'auth-agent-req@openssh.com', false);
            channelWriteExtended(ch, 1, text('stderr?'));
          },
        });
        scene.peerChannels.push(second);
      },
    },
  ],
});

/** The connection protocol with a channel open, attacked from the server's side. */
export const channelsClientTarget = sealedTarget({
  name: 'channels-client',
  description:
    'an authenticated client with a session channel open (pty, exec) reads the server’s payloads',
  create: (scene) => ({
    target: new Monitored((m) =>
      clientConfig(m, {
        auth: QUICK_AUTH,
        onEvent: (e) => {
          if (e.type === 'authenticated') openShellChannel(scene, 'target', m);
        },
      }),
    ),
    peer: new Monitored((m) =>
      serverConfig(m, {
        onChannelOpen: (req) => {
          scene.peerChannels.push(
            req.accept({
              onEvent: (event, ch) => {
                if (event.type === 'request' && event.request.wantReply) event.request.accept();
                if (event.type === 'data') channelWrite(ch, event.data);
              },
            }),
          );
        },
      }),
    ),
  }),
  drive: (scene) => relay(scene.target, scene.peer),
  scenarios: [
    fixed(REKEY_KEXINIT),
    {
      play: (scene) => {
        const ch = scene.peerChannels[0]!;
        channelWrite(ch, text('output line\n'));
        channelWriteExtended(ch, 1, text('error line\n'));
        channelSendExitStatus(ch, 3);
        channelEof(ch);
        channelClose(ch);
      },
    },
    {
      play: (scene) => {
        const ch = scene.peerChannels[0]!;
        channelSendEow(ch);
        channelSendExitSignal(ch, { signal: 'TERM', coreDumped: true, message: 'bye' });
        sessionGlobalRequest(scene.peer.session, 'keepalive@openssh.com', true);
        sessionGlobalRequest(scene.peer.session, 'hostkeys-00@openssh.com', false);
        sessionOpenForwardedTcpip(scene.peer.session, {
          address: '127.0.0.1',
          port: 8080,
          originatorHost: '10.0.0.1',
          originatorPort: 40000,
          onEvent: () => {},
        });
      },
    },
  ],
});
