/**
 * @module
 * The encrypted targets: user authentication and the connection protocol with a channel
 * open. Mutating ciphertext would only test the MAC check, so the inputs are payloads: a real
 * peer session, driven to the phase with seeded randomness, seals each payload with its own
 * keys and sequence numbers, and the session under test reads the sealed packets.
 */

import {
  type Channel,
  type ClientAuthConfig,
  channelClose,
  channelEof,
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
  channelWindowChange,
  channelWrite,
  channelWriteExtended,
  type SessionEvent,
  SSH_MSG,
  sessionAuthenticate,
  sessionForwardTcpip,
  sessionGlobalRequest,
  sessionNoMoreSessions,
  sessionOpenForwardedTcpip,
} from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { type Boundaries, decodePayloads, encodePayloads } from '../framing.js';
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
import type { FuzzTarget, TargetName } from './types.js';

const text = (s: string) => new TextEncoder().encode(s);

/** A session under test, its real peer, and the channels each side holds. */
interface Scene {
  target: Monitored;
  peer: Monitored;
  readonly peerChannels: Channel[];
  readonly targetChannels: Channel[];
  /** Called for each event of the peer (seed scenarios hook in here). */
  onPeerEvent: ((event: SessionEvent) => void) | undefined;
}

/** How one encrypted target is set up and how its seeds are played. */
interface SealedSpec {
  readonly name: TargetName;
  readonly description: string;
  /** Creates both sessions. */
  create(scene: Scene): { target: Monitored; peer: Monitored };
  /** Drives both sessions to the phase under test. */
  drive(scene: Scene): void;
  /**
   * Seed scenarios: each is played on a fresh scene after `drive` (or instead of it, when
   * `fromStart` is set); the payloads the target's upper layer receives become the seed,
   * after `prefix`.
   */
  readonly scenarios: readonly {
    readonly fromStart?: boolean;
    readonly prefix?: readonly Uint8Array[];
    play(scene: Scene): void;
  }[];
}

const QUICK_AUTH: ClientAuthConfig = {
  username: USER,
  methods: [{ type: 'password', password: PASSWORD }],
};

/** SSH_MSG_SERVICE_ACCEPT for ssh-userauth (RFC 4253 §10). */
const SERVICE_ACCEPT = new Uint8Array([
  SSH_MSG.SERVICE_ACCEPT,
  0,
  0,
  0,
  12,
  ...text('ssh-userauth'),
]);

/** An SSH string (RFC 4251 §5). */
function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length);
  out.set(bytes, 4);
  return out;
}

/** A peer's KEXINIT that starts a re-exchange (RFC 4253 §7.1), offering strict kex. */
const REKEY_KEXINIT = new Uint8Array([
  SSH_MSG.KEXINIT,
  ...new Uint8Array(16).fill(0x5a),
  ...[
    'curve25519-sha256,kex-strict-s-v00@openssh.com',
    'ssh-ed25519',
    'chacha20-poly1305@openssh.com',
    'chacha20-poly1305@openssh.com',
    'hmac-sha2-256-etm@openssh.com',
    'hmac-sha2-256-etm@openssh.com',
    'none',
    'none',
    '',
    '',
  ].flatMap((list) => [...sshString(text(list))]),
  0,
  0,
  0,
  0,
  0,
]);

/** A client's KEX_ECDH_INIT with an X25519 public value (RFC 8731 §3). */
const REKEY_ECDH_INIT = new Uint8Array([
  SSH_MSG.KEX_ECDH_INIT,
  ...sshString(new Uint8Array(32).fill(9)),
]);

/** NEWKEYS (RFC 4253 §7.3). */
const NEWKEYS = new Uint8Array([SSH_MSG.NEWKEYS]);

/** A seed scenario that only replays `payloads` (no recording needed). */
function fixed(...payloads: Uint8Array[]) {
  return { prefix: payloads, play: () => {} };
}

function newScene(spec: SealedSpec): Scene {
  const scene = {
    peerChannels: [],
    targetChannels: [],
    onPeerEvent: undefined,
  } as unknown as Scene;
  const { target, peer } = spec.create(scene);
  scene.target = target;
  scene.peer = peer;
  return scene;
}

/** Records every payload the target's upper layers (auth, connection) receive from now on. */
function recordUpper(target: Monitored): Uint8Array[] {
  const upper = engineOf(target.session).upper;
  if (!upper) throw new Error('the target has no upper layer');
  const original = upper.handleMessage.bind(upper);
  const recorded: Uint8Array[] = [];
  upper.handleMessage = (type: number, payload: Uint8Array) => {
    recorded.push(payload.slice());
    return original(type, payload);
  };
  return recorded;
}

function sealedTarget(spec: SealedSpec): FuzzTarget {
  return {
    name: spec.name,
    description: spec.description,
    format: 'payloads',
    seeds() {
      return spec.scenarios.map((scenario) => {
        const scene = newScene(spec);
        let recorded: Uint8Array[];
        if (scenario.fromStart) {
          recorded = recordUpper(scene.target);
        } else {
          spec.drive(scene);
          recorded = recordUpper(scene.target);
        }
        scenario.play(scene);
        relay(scene.target, scene.peer);
        const payloads = [...(scenario.prefix ?? []), ...recorded];
        if (payloads.length === 0)
          throw new Error(`${spec.name}: a seed scenario recorded nothing`);
        return encodePayloads(payloads);
      });
    },
    run(input, beforeFeed) {
      const scene = newScene(spec);
      spec.drive(scene);
      const peer = engineOf(scene.peer.session);
      scene.target.takeOutput();
      const boundaries: Boundaries = {
        offsets: new Set<number>([0]),
        unknownFrom: Number.POSITIVE_INFINITY,
      };
      const sealed: Uint8Array[] = [];
      let total = 0;
      for (const payload of decodePayloads(input)) {
        if (!peer.sendUpper(payload)) break;
        const wire = scene.peer.takeOutput();
        sealed.push(wire);
        total += wire.length;
        boundaries.offsets.add(total);
      }
      const bytes = new Uint8Array(total);
      let o = 0;
      for (const s of sealed) {
        bytes.set(s, o);
        o += s.length;
      }
      beforeFeed?.();
      scene.target.feed(bytes, boundaries);
      scene.target.linkClosed();
    },
  };
}

/** Opens a session channel with a pty and a command, as a client application would. */
function openShellChannel(scene: Scene, side: 'peer' | 'target', monitor: Monitored): void {
  const session = side === 'peer' ? scene.peer.session : scene.target.session;
  const list = side === 'peer' ? scene.peerChannels : scene.targetChannels;
  const ch = channelOpenSession(session, {
    onEvent: (event, channel) => {
      monitor.appEvent(`channel event ${event.type}`);
      if (event.type === 'data' || event.type === 'extended-data') {
        monitor.appData(event.type, event.data);
      }
      if (event.type === 'open') {
        channelRequestPty(channel, { term: 'xterm', cols: 80, rows: 24 });
        channelRequestExec(channel, 'cat');
        channelWrite(channel, text('hello'));
      }
    },
  });
  list.push(ch);
}

// ---- user authentication ------------------------------------------------------------------

const authServer = sealedTarget({
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

const authClient = sealedTarget({
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

// ---- connection protocol with a channel open ----------------------------------------------

const channelsServer = sealedTarget({
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

const channelsClient = sealedTarget({
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

/** User authentication, server side and client side. */
export const authServerTarget = authServer;
export const authClientTarget = authClient;
/** The connection protocol with a channel open, server side and client side. */
export const channelsServerTarget = channelsServer;
export const channelsClientTarget = channelsClient;
