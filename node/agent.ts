/**
 * @module
 * An SSH agent client for Node (draft-ietf-sshm-ssh-agent): connects to the agent's Unix
 * socket (`SSH_AUTH_SOCK`) or talks over any Duplex (a forwarded agent channel), lists its
 * keys and signs through the sans-IO client of `src/agent/`, with timeouts and AbortSignals.
 */

import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type AgentClient,
  type AgentIdentity,
  type AgentRequest,
  type AgentResult,
  type AgentSignerOptions,
  agentClose,
  agentCreate,
  agentDisconnect,
  agentLastError,
  agentReceive,
  agentRequestIdentities,
  agentSign,
  agentSigner,
  type Signer,
  SSH_ERR,
  SshError,
} from '../src/index.js';
import { InputBuffer } from '../transports/input-buffer.js';

export type { AgentIdentity } from '../src/index.js';

/** Default time an agent gets to accept the connection or answer one request: 30 s. */
export const AGENT_TIMEOUT_MS_DEFAULT = 30_000;

/** How long {@link SshAgent.close} waits for the link to close after ending it: 2 s. */
const CLOSE_GRACE_MS = 2_000;

/** Options of {@link SshAgent.connect}. */
export interface AgentConnectOptions {
  /** The agent's Unix socket. Default `process.env.SSH_AUTH_SOCK`. */
  readonly path?: string;
  /**
   * An open link to an agent instead of a path, e.g. a forwarded agent channel as a Duplex.
   * The agent then owns it: {@link SshAgent.close} ends it.
   */
  readonly stream?: Duplex;
  /**
   * Milliseconds to connect, and the default time each request may take. Default
   * {@link AGENT_TIMEOUT_MS_DEFAULT}; 0 turns the clock off.
   */
  readonly timeoutMs?: number;
  /** Aborts connecting. */
  readonly signal?: AbortSignal;
}

/** Options of one agent request. */
export interface AgentCallOptions {
  /** Milliseconds this request may take (default: the connection's `timeoutMs`; 0: none). */
  readonly timeoutMs?: number;
  /** Aborts this request: it rejects with `SSH_ERR_ABORTED` and its late reply is dropped. */
  readonly signal?: AbortSignal;
}

function checkTimeout(ms: number | undefined, fallback: number): number {
  const v = ms ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new SshError(SSH_ERR.USAGE, 'local', 'timeoutMs must be a finite number >= 0');
  return v;
}

function aborted(signal: AbortSignal): SshError {
  return new SshError(SSH_ERR.ABORTED, 'local', 'aborted', undefined, { cause: signal.reason });
}

/**
 * Races `start` against a clock and a signal. `start` receives `settle` and returns a cancel
 * function that runs when the clock or the signal wins.
 */
function guarded<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  start: (settle: (result: AgentResult<T>) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted(signal));
      return;
    }
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    let cancel: () => void = () => {};
    const finish = () => {
      done = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      if (done) return;
      finish();
      cancel();
      reject(aborted(signal!));
    };
    const settle = (result: AgentResult<T>) => {
      if (done) return;
      finish();
      if (result.ok) resolve(result.value);
      else reject(result.error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        if (done) return;
        finish();
        cancel();
        reject(new SshError(SSH_ERR.TIMEOUT, 'link', `${what}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
    }
    cancel = start(settle);
  });
}

/** Opens the Unix socket; resolves once connected. */
function openSocket(
  path: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Duplex> {
  return guarded<Duplex>(`connecting to the agent at ${path}`, timeoutMs, signal, (settle) => {
    const socket = netConnect({ path });
    const onError = (e: Error) => {
      settle({
        ok: false,
        error: new SshError(
          SSH_ERR.CONNECTION_LOST,
          'link',
          `cannot connect to the agent at ${path}: ${e.message}`,
          undefined,
          { cause: e },
        ),
      });
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      settle({ ok: true, value: socket });
    });
    return () => socket.destroy();
  });
}

/**
 * A connection to an SSH agent. Requests are serialized on the one connection: each is sent
 * when the previous reply arrived. Errors are {@link SshError}s: `AGENT_REFUSED` (the agent
 * answered SSH_AGENT_FAILURE), `TIMEOUT`, `ABORTED`, `CONNECTION_LOST` (the link closed, or
 * could not be opened), `MALFORMED_MESSAGE` / `UNEXPECTED_MESSAGE` / `LIMIT_EXCEEDED` (the
 * agent broke the protocol: the connection is then closed).
 *
 * @example
 * ```ts
 * import { connectTcp } from 'pluggable-ssh/transports/tcp';
 *
 * const agent = await SshAgent.connect({ path: agentPath }); // no path: $SSH_AUTH_SOCK
 * const signers = await agent.signers();
 * const session = connectTcp({ host, port }, {
 *   role: 'client',
 *   onHostKey,
 *   auth: { username, methods: signers.map((signer) => ({ type: 'publickey', signer })) },
 *   onEvent: (event) => {
 *     if (event.type !== 'authenticated') return;
 *     console.log('logged in with the agent'); // prints: logged in with the agent
 *     void agent.close(); // only authentication needed it
 *     sessionDisconnect(session);
 *   },
 * });
 * ```
 */
export class SshAgent {
  readonly #client: AgentClient;
  readonly #stream: Duplex;
  readonly #timeoutMs: number;
  readonly #closed: Promise<void>;

  private constructor(stream: Duplex, timeoutMs: number) {
    this.#stream = stream;
    this.#timeoutMs = timeoutMs;
    this.#client = agentCreate(
      stream,
      (s, bytes) => {
        if (s.destroyed || s.writableEnded) return -1;
        s.write(bytes);
        return 0;
      },
      (s) => {
        s.end();
        setTimeout(() => s.destroy(), CLOSE_GRACE_MS).unref();
      },
    );
    const input = new InputBuffer((bytes) => agentReceive(this.#client, bytes));
    stream.on('error', () => {
      // 'close' follows; the pending requests learn of it there.
    });
    stream.on('data', (chunk: Buffer) => {
      if (input.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)) < 0)
        stream.destroy();
    });
    this.#closed = new Promise<void>((resolve) => {
      const onClosed = () =>
        input.afterDrain(() => {
          agentClose(this.#client);
          resolve();
        });
      if (stream.destroyed) onClosed();
      else stream.once('close', onClosed);
    });
  }

  /**
   * Connects to the agent at `options.path` (default `$SSH_AUTH_SOCK`), or adopts
   * `options.stream`. Rejects with `SSH_ERR_USAGE` when there is neither, `CONNECTION_LOST`
   * when the socket cannot be opened, `TIMEOUT` or `ABORTED`.
   */
  static async connect(options: AgentConnectOptions = {}): Promise<SshAgent> {
    const timeoutMs = checkTimeout(options.timeoutMs, AGENT_TIMEOUT_MS_DEFAULT);
    if (options.signal?.aborted) throw aborted(options.signal);
    if (options.stream) return new SshAgent(options.stream, timeoutMs);
    const path = options.path ?? process.env.SSH_AUTH_SOCK;
    if (!path)
      throw new SshError(SSH_ERR.USAGE, 'local', 'no agent: SSH_AUTH_SOCK is not set and no path');
    return new SshAgent(await openSocket(path, timeoutMs, options.signal), timeoutMs);
  }

  /** The error that ended the connection, or undefined while it is open. */
  get lastError(): SshError | undefined {
    return agentLastError(this.#client);
  }

  #call<T>(
    what: string,
    options: AgentCallOptions,
    issue: (done: (r: AgentResult<T>) => void) => AgentRequest,
  ): Promise<T> {
    const timeoutMs = checkTimeout(options.timeoutMs, this.#timeoutMs);
    return guarded<T>(what, timeoutMs, options.signal, (settle) => {
      const request = issue(settle);
      return () => request.cancel();
    });
  }

  /** The agent's keys, certificates left out (this library does not do OpenSSH certificates). */
  identities(options: AgentCallOptions = {}): Promise<AgentIdentity[]> {
    return this.#call('listing agent keys', options, (done) =>
      agentRequestIdentities(this.#client, done),
    );
  }

  /**
   * Signs `data` with the agent's key `keyBlob` using `algorithm`; resolves with the signature
   * blob (`string algorithm ‖ string signature`), checked to name `algorithm`.
   */
  sign(
    keyBlob: Uint8Array,
    data: Uint8Array,
    algorithm: string,
    options: AgentCallOptions = {},
  ): Promise<Uint8Array> {
    return this.#call(`signing with ${algorithm}`, options, (done) =>
      agentSign(this.#client, keyBlob, data, algorithm, done),
    );
  }

  /**
   * One {@link Signer} per agent key the core can authenticate with (Ed25519, ECDSA, RSA; RSA
   * offering rsa-sha2-512 then rsa-sha2-256 unless `rsaAlgorithms` says otherwise), in the
   * agent's order. Each signature is one request with this call's `timeoutMs`; a refusal,
   * timeout or lost link fails that method and the core tries the next.
   */
  async signers(
    options: AgentSignerOptions & { readonly timeoutMs?: number } = {},
  ): Promise<Signer[]> {
    const { timeoutMs, ...signerOptions } = options;
    const call = timeoutMs === undefined ? {} : { timeoutMs };
    const identities = await this.identities(call);
    const signers: Signer[] = [];
    for (const identity of identities) {
      const core = agentSigner(this.#client, identity, signerOptions);
      if (!core) continue;
      const { publicKeyBlob, signatureAlgorithms } = core;
      signers.push({
        publicKeyBlob,
        signatureAlgorithms,
        sign: (request) => {
          if (!signatureAlgorithms.includes(request.algorithm)) {
            request.fail(`this agent key does not sign with ${request.algorithm}`);
            return;
          }
          const fail = (e: unknown) => request.fail(e instanceof Error ? e.message : String(e));
          this.sign(publicKeyBlob, request.data, request.algorithm, call)
            .then((signature) => {
              try {
                request.complete(signature);
              } catch (e) {
                fail(e);
              }
            }, fail)
            .catch(() => {
              // Answered already (the session ended meanwhile): nothing is left to tell.
            });
        },
      });
    }
    return signers;
  }

  /**
   * Closes the connection: pending requests fail with `CONNECTION_LOST`, the link is ended
   * (destroyed if it has not closed within 2 s), and the promise resolves once it closed.
   */
  close(): Promise<void> {
    agentDisconnect(this.#client);
    if (this.#stream.destroyed) agentClose(this.#client);
    return this.#closed;
  }
}
