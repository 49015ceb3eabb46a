/**
 * @module
 * The harness's own application: a client that logs in as the scenario says and a server
 * that accepts it, runs `exec` by echoing data, and closes after EOF; plus the monitor that
 * wraps any application's callbacks to record and check events, and the scenario steps.
 */

import type { ClientAuthMethod } from '../auth/types.js';
import {
  channelClose,
  channelEof,
  channelOpenSession,
  channelRequestExec,
  channelSendExitStatus,
  channelState,
  channelWrite,
} from '../connection/api.js';
import type {
  Channel,
  ChannelEvent,
  ChannelOpenRequest,
  ChannelOptions,
} from '../connection/types.js';
import type { PrivateKey } from '../crypto/keys.js';
import { type Session, sessionDisconnect, sessionRekey, sessionState } from '../session.js';
import type { ClientConfig, ServerConfig, SessionEvent } from '../types.js';
import { type Prng, seededRandom } from './random.js';
import { fnv1a, renderChannelEvent, renderSessionEvent } from './render.js';
import type { Scenario, Side, Step } from './scenario.js';
import type { Run } from './wire.js';

/** The password the default server accepts. */
export const HARNESS_PASSWORD = 'correct horse battery staple';

/** What a side still has to write on one channel. */
interface Outbox {
  pending: Uint8Array;
  eofAfter: boolean;
  closeAfter: boolean;
}

/** Per side: channels the harness knows and the data it received. */
interface AppSide {
  readonly channels: Channel[];
  readonly outboxes: Map<Channel, Outbox>;
  authenticated: boolean;
  dataBytes: number;
  digest: number;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The default application and the monitor of one run. */
export class HarnessApp {
  readonly #run: Run;
  readonly #scenario: Scenario;
  readonly #data: Prng;
  readonly #userKey: PrivateKey;
  readonly #sides: Record<Side, AppSide>;

  /** The application of `run`, writing data drawn from `data`. */
  constructor(run: Run, scenario: Scenario, data: Prng, userKey: PrivateKey) {
    this.#run = run;
    this.#scenario = scenario;
    this.#data = data;
    this.#userKey = userKey;
    const side = (): AppSide => ({
      channels: [],
      outboxes: new Map(),
      authenticated: false,
      dataBytes: 0,
      digest: 0x811c9dc5,
    });
    this.#sides = { client: side(), server: side() };
  }

  /** Channel data `side` received. */
  data(side: Side): { bytes: number; digest: string } {
    const s = this.#sides[side];
    return { bytes: s.dataBytes, digest: s.digest.toString(16).padStart(8, '0') };
  }

  /** The channels the harness knows on `side`, as things to close after the end. */
  channelsOf(side: Side): { close(): void }[] {
    return this.#sides[side].channels.map((ch) => ({ close: () => channelClose(ch) }));
  }

  #channel(side: Side): Channel | undefined {
    const list = this.#sides[side].channels;
    return list[list.length - 1];
  }

  #authMethods(): ClientAuthMethod[] {
    switch (this.#scenario.auth) {
      case 'password':
        return [
          { type: 'password', password: 'wrong' },
          { type: 'password', password: HARNESS_PASSWORD },
        ];
      case 'publickey':
        return [{ type: 'publickey', key: this.#userKey }];
      case 'keyboard-interactive':
        return [
          {
            type: 'keyboard-interactive',
            onPrompt: (r) => r.answer(r.prompts.map(() => HARNESS_PASSWORD)),
          },
        ];
      case 'none-then-password':
        return [{ type: 'none' }, { type: 'password', password: HARNESS_PASSWORD }];
      default:
        return [];
    }
  }

  /** The default client: seeded, pins the seeded host key, logs in as the scenario says. */
  clientConfig(seed: number, pinnedFingerprint: string): ClientConfig<Session> {
    const methods = this.#authMethods();
    return {
      role: 'client',
      random: seededRandom(seed),
      onHostKey: (r) =>
        r.fingerprint === pinnedFingerprint ? r.accept() : r.reject('not the seeded host key'),
      ...(methods.length > 0 ? { auth: { username: 'harness', methods } } : {}),
    };
  }

  /** The default server: seeded, accepts the scenario's login, echoes `exec` data. */
  serverConfig(seed: number, hostKey: PrivateKey): ServerConfig<Session> {
    const userBlob = this.#userKey.publicKeyBlob;
    return {
      role: 'server',
      random: seededRandom(seed),
      hostKeys: [hostKey],
      authMethods: ['publickey', 'password', 'keyboard-interactive'],
      onAuth: (r) => {
        if (r.method === 'password')
          return r.password === HARNESS_PASSWORD ? r.accept() : r.reject();
        if (r.method === 'publickey') {
          const blob = r.publicKey?.blob;
          const same = blob?.length === userBlob.length && blob.every((b, i) => b === userBlob[i]);
          return same ? r.accept() : r.reject();
        }
        if (r.method === 'keyboard-interactive' && r.prompt) {
          return r.prompt({ prompts: [{ prompt: 'Password: ', echo: false }] }, (answers) =>
            answers[0] === HARNESS_PASSWORD ? r.accept() : r.reject(),
          );
        }
        r.reject();
      },
      onChannelOpen: (r) => {
        if (r.type !== 'session') return r.reject();
        r.accept(this.#channelOptions('server'));
      },
    };
  }

  #channelOptions(side: Side): ChannelOptions {
    const { window, maxPacket } = this.#scenario;
    return {
      onEvent: (event, channel) => this.#appEvent(side, event, channel),
      ...(window !== undefined ? { window } : {}),
      ...(maxPacket !== undefined ? { maxPacket } : {}),
    };
  }

  /** The default application's reaction to a channel event. */
  #appEvent(side: Side, event: ChannelEvent, channel: Channel): void {
    if (side === 'client') return;
    if (event.type === 'request') {
      if (event.request.wantReply) {
        if (event.request.parsed?.type === 'exec') event.request.accept();
        else event.request.reject();
      }
    } else if (event.type === 'data') {
      this.#queue(side, channel, event.data);
    } else if (event.type === 'eof') {
      channelSendExitStatus(channel, 0);
      const box = this.#outbox(side, channel);
      box.eofAfter = true;
      box.closeAfter = true;
      this.#flush(side, channel);
    }
  }

  #outbox(side: Side, channel: Channel): Outbox {
    const boxes = this.#sides[side].outboxes;
    let box = boxes.get(channel);
    if (!box) {
      box = { pending: new Uint8Array(0), eofAfter: false, closeAfter: false };
      boxes.set(channel, box);
    }
    return box;
  }

  #queue(side: Side, channel: Channel, data: Uint8Array): void {
    const box = this.#outbox(side, channel);
    if (box.eofAfter) return;
    box.pending = concat(box.pending, data);
    this.#flush(side, channel);
  }

  /** Writes what the window allows; EOF and CLOSE once everything left. */
  #flush(side: Side, channel: Channel): void {
    const box = this.#sides[side].outboxes.get(channel);
    if (!box || channelState(channel) !== 'open') return;
    while (box.pending.length > 0) {
      const n = channelWrite(channel, box.pending);
      if (n <= 0) return;
      box.pending = box.pending.subarray(n);
    }
    if (box.eofAfter) {
      box.eofAfter = false;
      channelEof(channel);
    }
    if (box.closeAfter) {
      box.closeAfter = false;
      channelClose(channel);
    }
  }

  /** Records a line of `side`, checking that nothing follows `closed`. */
  #record(side: Side, line: string): void {
    const e = this.#run.ends[side];
    if (e.closedEvents > 0) this.#run.violation(`${side}: '${line}' after 'closed'`);
    e.events.push(line);
  }

  #monitorEvent(side: Side, event: SessionEvent): void {
    const e = this.#run.ends[side];
    if (e.errorEvent !== undefined && event.type !== 'closed')
      this.#run.violation(`${side}: '${event.type}' after 'error'`);
    this.#record(side, renderSessionEvent(event));
    if (event.type === 'closed') e.closedEvents++;
    if (event.type === 'error') e.errorEvent = event.error.code;
    if (event.type === 'authenticated') this.#sides[side].authenticated = true;
  }

  /** Wraps channel options so the monitor sees (and the harness can pump) the channel. */
  #monitorChannel(side: Side, options: ChannelOptions): ChannelOptions {
    const index = this.#sides[side].channels.length;
    return {
      ...options,
      onEvent: (event, channel) => {
        this.#record(side, `ch${index} ${renderChannelEvent(event)}`);
        if (event.type === 'data') {
          const s = this.#sides[side];
          s.dataBytes += event.data.length;
          s.digest = fnv1a(s.digest, event.data);
        }
        options.onEvent(event, channel);
        if (event.type === 'writable') this.#flush(side, channel);
      },
    };
  }

  #monitorOpen(
    side: Side,
    onChannelOpen: ((request: ChannelOpenRequest, session: Session) => void) | undefined,
  ): { onChannelOpen?: (request: ChannelOpenRequest, session: Session) => void } {
    if (!onChannelOpen) return {};
    return {
      onChannelOpen: (request, session) => {
        const wrapped = {
          ...request,
          accept: (options: ChannelOptions) => {
            const channel = request.accept(this.#monitorChannel(side, options));
            this.#sides[side].channels.push(channel);
            return channel;
          },
          reject: (reason?: number, description?: string) => request.reject(reason, description),
        } as ChannelOpenRequest;
        onChannelOpen(wrapped, session);
      },
    };
  }

  /** The client configuration with the monitor around its callbacks. */
  monitorClient(config: ClientConfig<Session>): ClientConfig<Session> {
    return {
      ...config,
      onEvent: (event, session) => {
        this.#monitorEvent('client', event);
        config.onEvent?.(event, session);
      },
      onHostKey: (request, session) => {
        this.#record('client', `host-key ${request.algorithm} ${request.fingerprint}`);
        config.onHostKey(request, session);
      },
      ...this.#monitorOpen('client', config.onChannelOpen),
    };
  }

  /** The server configuration with the monitor around its callbacks. */
  monitorServer(config: ServerConfig<Session>): ServerConfig<Session> {
    return {
      ...config,
      onEvent: (event, session) => {
        this.#monitorEvent('server', event);
        config.onEvent?.(event, session);
      },
      ...this.#monitorOpen('server', config.onChannelOpen),
    };
  }

  /** Runs step `index`; logs what it did or why it was skipped. */
  runStep(step: Step, index: number): void {
    const run = this.#run;
    const log = (line: string): void => void run.steps.push(`${index} ${line}`);
    const client = run.ends.client.session!;
    const server = run.ends.server.session!;
    switch (step.type) {
      case 'open-session': {
        if (!this.#sides.client.authenticated || sessionState(client) === 'closed')
          return log('open-session skipped: not authenticated');
        return run.call('client', 'channelOpenSession', () => {
          const options = this.#monitorChannel('client', this.#channelOptions('client'));
          this.#sides.client.channels.push(channelOpenSession(client, options));
          log('open-session');
        });
      }
      case 'custom':
        return run.call('client', step.name, () =>
          run.call('server', step.name, () => {
            log(step.name);
            step.run({
              client,
              server,
              channel: (side) => this.#channel(side),
              random: this.#data,
              log: (line) => log(`${step.name}: ${line}`),
            });
          }),
        );
      case 'rekey':
        return run.call(step.side, 'sessionRekey', () =>
          log(`rekey ${step.side}: ${sessionRekey(step.side === 'client' ? client : server)}`),
        );
      case 'disconnect':
        return run.call(step.side, 'sessionDisconnect', () => {
          log(`disconnect ${step.side}`);
          sessionDisconnect(step.side === 'client' ? client : server);
        });
      default:
        return this.#channelStep(step, log);
    }
  }

  #channelStep(
    step: Extract<Step, { type: 'exec' | 'write' | 'eof' | 'close-channel' }>,
    log: (line: string) => void,
  ): void {
    const side = step.type === 'exec' ? 'client' : step.side;
    const channel = this.#channel(side);
    const what = `${step.type} ${side}`;
    if (!channel || channelState(channel) !== 'open')
      return log(`${what} skipped: no open channel`);
    const box = this.#outbox(side, channel);
    if (box.eofAfter && (step.type === 'write' || step.type === 'eof'))
      return log(`${what} skipped: EOF pending`);
    this.#run.call(side, step.type, () => {
      log(step.type === 'write' ? `${what} ${step.bytes}` : what);
      if (step.type === 'exec') channelRequestExec(channel, step.command);
      else if (step.type === 'write') this.#queue(side, channel, this.#data.bytes(step.bytes));
      else if (step.type === 'eof') {
        box.eofAfter = true;
        this.#flush(side, channel);
      } else channelClose(channel);
    });
  }
}
