/**
 * @module
 * Scripted scenarios for the testing harness: what the client and the server do, step by
 * step, after the handshake. Each step runs once both sides are quiet (every byte sent was
 * delivered and fed), so a scenario means the same thing under every split and delivery.
 */

import {
  channelRequestEnv,
  channelRequestPty,
  channelSendExitSignal,
  channelSignal,
  channelState,
  channelWindowChange,
  channelWriteExtended,
} from '../connection/api.js';
import { sessionGlobalRequest } from '../connection/session-api.js';
import type { Channel } from '../connection/types.js';
import type { Session } from '../session.js';
import type { Prng } from './random.js';

/** One end of the link. */
export type Side = 'client' | 'server';

/**
 * How the default client logs in (the default server accepts each):
 * - `password`: a wrong password first (a failure), then the right one;
 * - `publickey`: the seeded user key (a query, then a signed request);
 * - `keyboard-interactive`: one prompt, answered with the password;
 * - `none-then-password`: the `none` method first (refused with the list), then the password.
 */
export type ScenarioAuth = 'password' | 'publickey' | 'keyboard-interactive' | 'none-then-password';

/** What a custom step can reach. */
export interface StepContext {
  /** The client session. */
  readonly client: Session;
  /** The server session. */
  readonly server: Session;
  /** The session channel the harness knows on `side` (the last one opened or accepted). */
  channel(side: Side): Channel | undefined;
  /** The scenario's data source (seeded by the run's `seed`). */
  readonly random: Prng;
  /** Adds a line to the transcript's step log. */
  log(line: string): void;
}

/**
 * One scenario step. The built-in steps act on the harness's session channel and skip (and
 * say so in the step log) when it does not exist or is not open:
 * - `open-session`: the client opens a session channel (once authenticated);
 * - `exec`: the client sends an `exec` request;
 * - `write`: `side` writes `bytes` seeded bytes (the rest on `writable`); the default server
 *   echoes what it receives;
 * - `eof`, `close-channel`: `side` sends EOF or CLOSE (the default server answers a client EOF
 *   with exit-status 0, EOF and CLOSE once its echo is written);
 * - `rekey`: `side` calls `sessionRekey`;
 * - `disconnect`: `side` calls `sessionDisconnect`;
 * - `custom`: `run(context)` does anything with the sessions.
 */
export type Step =
  | { readonly type: 'open-session' }
  | { readonly type: 'exec'; readonly command: string }
  | { readonly type: 'write'; readonly side: Side; readonly bytes: number }
  | { readonly type: 'eof'; readonly side: Side }
  | { readonly type: 'close-channel'; readonly side: Side }
  | { readonly type: 'rekey'; readonly side: Side }
  | { readonly type: 'disconnect'; readonly side: Side }
  | {
      readonly type: 'custom';
      readonly name: string;
      /** Acts on the sessions; an exception is a contract violation of the run. */
      run(context: StepContext): void;
    };

/** A named script: how the client logs in, the channel settings, then the steps. */
export interface Scenario {
  /** Printed in failure messages: keep it unique among the scenarios you run. */
  readonly name: string;
  /** How the default client authenticates; absent: it stops after `service-accepted`. */
  readonly auth?: ScenarioAuth;
  /** Receive window of the harness's channels (default 2 MiB): small values exercise flow control. */
  readonly window?: number;
  /** Largest data per packet the harness's channels accept (default 261632). */
  readonly maxPacket?: number;
  /** The steps, run in order once both sides are quiet. */
  readonly steps: readonly Step[];
}

const exchange: readonly Step[] = [
  { type: 'open-session' },
  { type: 'exec', command: 'cat' },
  { type: 'write', side: 'client', bytes: 3000 },
  { type: 'write', side: 'server', bytes: 700 },
  { type: 'eof', side: 'client' },
];

/** Runs `act` on `side`'s channel when it is open, else logs that it was skipped. */
function onOpenChannel(context: StepContext, side: Side, act: (channel: Channel) => void): void {
  const channel = context.channel(side);
  if (!channel || channelState(channel) !== 'open') return context.log('skipped: no open channel');
  act(channel);
}

/** Channel and global requests both ways, stderr data and an exit signal. */
const requestSteps: readonly Step[] = [
  { type: 'open-session' },
  {
    type: 'custom',
    name: 'client requests',
    run: (c) =>
      onOpenChannel(c, 'client', (channel) => {
        channelRequestEnv(channel, 'LANG', 'C');
        channelRequestPty(channel, { term: 'xterm', cols: 80, rows: 24 });
        channelWindowChange(channel, { cols: 120, rows: 40 });
        channelSignal(channel, 'INT');
        sessionGlobalRequest(
          c.client,
          'no-such-request@example.com',
          true,
          c.random.bytes(9),
          (ok) => c.log(`global request answered ${ok}`),
        );
      }),
  },
  { type: 'exec', command: 'cat' },
  {
    type: 'custom',
    name: 'server stderr',
    run: (c) =>
      onOpenChannel(c, 'server', (channel) => {
        c.log(`stderr accepted ${channelWriteExtended(channel, 1, c.random.bytes(300))}`);
        sessionGlobalRequest(c.server, 'keepalive@openssh.com', true, undefined, (ok) =>
          c.log(`keepalive answered ${ok}`),
        );
      }),
  },
  { type: 'write', side: 'client', bytes: 400 },
  {
    type: 'custom',
    name: 'exit signal',
    run: (c) =>
      onOpenChannel(c, 'server', (channel) =>
        channelSendExitSignal(channel, { signal: 'TERM', message: 'stopped' }),
      ),
  },
  { type: 'eof', side: 'client' },
];

/**
 * The built-in scenarios, from a bare handshake to data moving both ways across rekeys from
 * either side. Each is small enough to run byte by byte.
 *
 * @example
 * ```ts
 * const transcript = runScenario({ scenario: SCENARIOS.exec, seed: 1, split: 'bytes' });
 * ```
 */
export const SCENARIOS = {
  /** Version exchange and key exchange only. */
  handshake: { name: 'handshake', steps: [] },
  /** A wrong password, then the right one. */
  password: { name: 'password', auth: 'password', steps: [] },
  /** Publickey: query, PK_OK, signed request. */
  publickey: { name: 'publickey', auth: 'publickey', steps: [] },
  /** One keyboard-interactive round. */
  keyboardInteractive: {
    name: 'keyboard-interactive',
    auth: 'keyboard-interactive',
    steps: [],
  },
  /** `none` refused, then password. */
  noneThenPassword: { name: 'none-then-password', auth: 'none-then-password', steps: [] },
  /** A session channel, exec, data both ways with a small window, EOF, exit status, CLOSE. */
  exec: {
    name: 'exec',
    auth: 'publickey',
    window: 1024,
    maxPacket: 512,
    steps: exchange,
  },
  /** A rekey started by the client after authentication. */
  rekeyClient: {
    name: 'rekey-client',
    auth: 'password',
    steps: [{ type: 'rekey', side: 'client' }],
  },
  /** A rekey started by the server after authentication. */
  rekeyServer: {
    name: 'rekey-server',
    auth: 'password',
    steps: [{ type: 'rekey', side: 'server' }],
  },
  /** Both sides start a rekey at once, then data moves. */
  rekeyBoth: {
    name: 'rekey-both',
    auth: 'keyboard-interactive',
    steps: [
      { type: 'rekey', side: 'client' },
      { type: 'rekey', side: 'server' },
      { type: 'open-session' },
      { type: 'write', side: 'client', bytes: 500 },
    ],
  },
  /** Data in flight while each side rekeys in turn; data is refused during the exchange. */
  rekeyDuringData: {
    name: 'rekey-during-data',
    auth: 'publickey',
    window: 2048,
    maxPacket: 256,
    steps: [
      { type: 'open-session' },
      { type: 'exec', command: 'cat' },
      { type: 'write', side: 'client', bytes: 2500 },
      { type: 'rekey', side: 'server' },
      { type: 'write', side: 'server', bytes: 1500 },
      { type: 'rekey', side: 'client' },
      { type: 'write', side: 'client', bytes: 1000 },
      { type: 'eof', side: 'client' },
    ],
  },
  /** Channel requests (env, pty, window-change, signal), global requests both ways, stderr. */
  requests: { name: 'requests', auth: 'password', steps: requestSteps },
  /** The client disconnects with a channel open. */
  disconnectClient: {
    name: 'disconnect-client',
    auth: 'password',
    steps: [{ type: 'open-session' }, { type: 'disconnect', side: 'client' }],
  },
  /** The server disconnects with a channel open. */
  disconnectServer: {
    name: 'disconnect-server',
    auth: 'publickey',
    steps: [
      { type: 'open-session' },
      { type: 'write', side: 'client', bytes: 200 },
      { type: 'disconnect', side: 'server' },
    ],
  },
} as const satisfies Record<string, Scenario>;

/**
 * Every built-in scenario, in a fixed order.
 *
 * @example
 * ```ts
 * for (const scenario of ALL_SCENARIOS) runScenario({ scenario, seed: 1 });
 * ```
 */
export const ALL_SCENARIOS: readonly Scenario[] = Object.values(SCENARIOS);
