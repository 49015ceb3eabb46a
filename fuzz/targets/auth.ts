/**
 * @module
 * The user-authentication targets (RFC 4252, RFC 4256): a server reading a client's
 * requests, and a client reading a server's answers, after the key exchange.
 */

import { sessionAuthenticate } from '../../src/index.js';
import { Monitored } from '../monitor.js';
import {
  clientAuth,
  clientConfig,
  PASSWORD,
  relay,
  serverConfig,
  USER,
  upToNewKeys,
} from '../peers.js';
import { openShellChannel, type Scene, SERVICE_ACCEPT, sealedTarget } from './sealed.js';

/** User authentication, attacked from the client's side. */
export const authServerTarget = sealedTarget({
  name: 'auth-server',
  description:
    'a server after the key exchange and the service request reads the client’s payloads',
  create: (scene) => ({
    target: new Monitored((m) => serverConfig(m)),
    peer: new Monitored((m) =>
      clientConfig(m, {
        onEvent: (e) => scene.onPeerEvent?.(e),
      }),
    ),
  }),
  drive: (scene) => relay(scene.target, scene.peer),
  scenarios: [
    {
      play: (scene) => {
        sessionAuthenticate(scene.peer.session, {
          username: USER,
          methods: [
            { type: 'none' },
            { type: 'password', password: 'wrong' },
            { type: 'password', password: PASSWORD },
          ],
        });
        scene.onPeerEvent = (e) => {
          if (e.type === 'authenticated') openShellChannel(scene, 'peer', scene.peer);
        };
      },
    },
    {
      play: (scene) =>
        sessionAuthenticate(scene.peer.session, {
          username: USER,
          methods: clientAuth(scene.peer).methods.filter((m) => m.type === 'keyboard-interactive'),
        }),
    },
    {
      play: (scene) =>
        sessionAuthenticate(scene.peer.session, {
          username: USER,
          methods: clientAuth(scene.peer).methods.filter((m) => m.type === 'publickey'),
        }),
    },
  ],
});

/** User authentication, attacked from the server's side. */
export const authClientTarget = sealedTarget({
  name: 'auth-client',
  description:
    'a client after the key exchange, with its service request sent, reads the server’s payloads',
  create: () => ({
    target: new Monitored((m) => clientConfig(m, { auth: clientAuth(m) })),
    peer: new Monitored((m) => serverConfig(m)),
  }),
  // The target's SERVICE_REQUEST never reaches the peer: the fuzzer speaks for the server.
  drive: (scene) => relay(scene.target, scene.peer, upToNewKeys()),
  scenarios: [
    { fromStart: true, prefix: [SERVICE_ACCEPT], play: () => {} },
    ...(
      [['password'], ['publickey'], ['keyboard-interactive'], ['password', 'publickey']] as const
    ).map((methods) => ({
      fromStart: true,
      prefix: [SERVICE_ACCEPT],
      play: (scene: Scene) => {
        // A server offering other methods: the peer is replaced before any byte moved.
        scene.peer = new Monitored((m) => serverConfig(m, { authMethods: methods }));
      },
    })),
  ],
});
