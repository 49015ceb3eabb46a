/**
 * @module
 * The machinery of the encrypted targets. Mutating ciphertext would only test the MAC check,
 * so their inputs are payloads: a real peer session, driven to the phase with seeded
 * randomness, seals each payload with its own keys and sequence numbers, and the session
 * under test reads the sealed packets.
 */

import {
  type Channel,
  type ClientAuthConfig,
  channelOpenSession,
  channelRequestExec,
  channelRequestPty,
  channelWrite,
  type SessionEvent,
  SSH_MSG,
} from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { type Boundaries, decodePayloads, encodePayloads } from '../framing.js';
import type { Monitored } from '../monitor.js';
import { PASSWORD, relay, USER } from '../peers.js';
import type { FuzzTarget, TargetName } from './types.js';

/** UTF-8 bytes of a string. */
export const text = (s: string) => new TextEncoder().encode(s);

/** A session under test, its real peer, and the channels each side holds. */
export interface Scene {
  target: Monitored;
  peer: Monitored;
  readonly peerChannels: Channel[];
  readonly targetChannels: Channel[];
  /** Called for each event of the peer (seed scenarios hook in here). */
  onPeerEvent: ((event: SessionEvent) => void) | undefined;
}

/** How one encrypted target is set up and how its seeds are played. */
export interface SealedSpec {
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

export const QUICK_AUTH: ClientAuthConfig = {
  username: USER,
  methods: [{ type: 'password', password: PASSWORD }],
};

/** SSH_MSG_SERVICE_ACCEPT for ssh-userauth (RFC 4253 §10). */
export const SERVICE_ACCEPT = new Uint8Array([
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
export const REKEY_KEXINIT = new Uint8Array([
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
export const REKEY_ECDH_INIT = new Uint8Array([
  SSH_MSG.KEX_ECDH_INIT,
  ...sshString(new Uint8Array(32).fill(9)),
]);

/** NEWKEYS (RFC 4253 §7.3). */
export const NEWKEYS = new Uint8Array([SSH_MSG.NEWKEYS]);

/** A seed scenario that only replays `payloads` (no recording needed). */
export function fixed(...payloads: Uint8Array[]) {
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

export function sealedTarget(spec: SealedSpec): FuzzTarget {
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
export function openShellChannel(scene: Scene, side: 'peer' | 'target', monitor: Monitored): void {
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
