/**
 * @module
 * `connect()`: runs a client session over TCP or any link, verifies the host key through the
 * application's callback (RFC 4253 §7.1, §8), logs in (RFC 4252) and resolves with the
 * {@link Client}. The clocks come from transports/timeouts.
 */

import net from 'node:net';
import {
  type AlgorithmPreferences,
  type ClientAuthMethod,
  type ClientConfig,
  type KeyboardInteractiveRequest,
  parsePrivateKey,
  type RandomFn,
  type Session,
  type Signer,
  SSH_ERR,
  SshError,
  sessionDisconnect,
  sessionLastError,
} from '../src/index.js';
import { addTimeouts, type TimeoutKind } from '../transports/timeouts.js';
import { SshAgent } from './agent.js';
import { Client, clientClosed, forwardedOpen } from './client.js';
import { abortedError, timeoutError, watchAbort } from './errors.js';
import {
  type HostKeyInfo,
  type HostKeyVerifier,
  type KnownHostsVerifierOptions,
  knownHostsVerifier,
} from './known-hosts.js';
import { attachLink, type Link } from './link.js';
/** Default time for the handshake and login together: 20 s (as ssh2's `readyTimeout`). */
export const DEFAULT_READY_TIMEOUT_MS = 20_000;

/** Session settings passed through to the core (SPEC section 4). */
export interface SessionTuning {
  readonly channelWindow?: number;
  readonly channelMaxPacket?: number;
  readonly maxChannels?: number;
  readonly rekeyAfterBytes?: number;
  readonly rekeyAfterPackets?: number;
  readonly softwareVersion?: string;
  readonly random?: RandomFn;
  /** Client only: `ClientConfig.kexGuess` (one round trip less with servers that prefer what we do). */
  readonly kexGuess?: boolean;
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /**
   * TCP host (default `localhost`); also reported to `verifyHostKey`, and the name `knownHosts`
   * looks the key up under (so required with `link` and `knownHosts`).
   */
  readonly host?: string;
  /** TCP port (default 22). */
  readonly port?: number;
  /** Run over this link instead of a new TCP connection. */
  readonly link?: Link;
  /** The user to log in as. */
  readonly username: string;
  /**
   * Decides whether the server's host key is trusted. With `knownHosts` it is asked only about
   * hosts the file does not name. One of the two is required: nothing is trusted blindly.
   */
  readonly verifyHostKey?: HostKeyVerifier;
  /**
   * An OpenSSH known_hosts file (a path, where a leading `~/` is the home directory, e.g.
   * `'~/.ssh/known_hosts'`, or {@link KnownHostsVerifierOptions}): a listed key is
   * trusted, a different or `@revoked` key refused, an unlisted host left to `verifyHostKey`
   * (or to `onUnknown`; refused when there is neither) and then remembered in the file.
   */
  readonly knownHosts?: string | KnownHostsVerifierOptions;
  /** Keys whose private half is elsewhere (a token, your own agent code), tried first, in order. */
  readonly signers?: readonly Signer[];
  /**
   * An ssh-agent whose keys are tried after `signers`: `true` for `$SSH_AUTH_SOCK`, a socket
   * path, or a connected {@link SshAgent} (left open; one opened here is closed after login).
   */
  readonly agent?: boolean | string | SshAgent;
  /** A private key (OpenSSH, PEM or PKCS#8; SPEC section 12), tried after `signers`. */
  readonly privateKey?: string | Uint8Array;
  /** The passphrase of an encrypted `privateKey`. */
  readonly passphrase?: string;
  /** A password, tried after the keys. */
  readonly password?: string;
  /** Answers keyboard-interactive prompts, tried last. */
  readonly onKeyboardInteractive?: (
    request: KeyboardInteractiveRequest,
  ) => readonly string[] | Promise<readonly string[]>;
  /** The server's banner text (filter control characters before display). */
  readonly onBanner?: (message: string) => void;
  /** Algorithm preferences; default: the core's `DEFAULT_*` lists. */
  readonly algorithms?: AlgorithmPreferences;
  /** Handshake plus login must finish within this many ms (default {@link DEFAULT_READY_TIMEOUT_MS}; 0 = none). */
  readonly readyTimeout?: number;
  /** Send `keepalive@openssh.com` every this many ms once logged in (default 0 = off). */
  readonly keepaliveInterval?: number;
  /** Unanswered keepalives before the connection is dropped (default 3). */
  readonly keepaliveCountMax?: number;
  /** End the connection after this many ms without a byte from the server (default 0 = off). */
  readonly idleTimeout?: number;
  /** Aborts the connection attempt (and, once connected, ends the connection). */
  readonly signal?: AbortSignal;
  /** Core session settings. */
  readonly session?: SessionTuning;
}

/**
 * Connects and logs in; resolves with the {@link Client} once authenticated. TCP to
 * `host:port` by default, or any {@link Link}. Rejects with an `SshError`: the session's own
 * (`SSH_ERR_HOST_KEY_REJECTED`, `SSH_ERR_AUTH_FAILED`, `SSH_ERR_CONNECTION_LOST`, …),
 * `SSH_ERR_TIMEOUT` after `readyTimeout`, `SSH_ERR_ABORTED` when `signal` aborts.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { connect } from 'pluggable-ssh/node';
 *
 * const client = await connect({
 *   host, // e.g. 'example.org'
 *   port, // default 22
 *   username,
 *   privateKey: readFileSync(keyFile), // e.g. ~/.ssh/id_ed25519; or agent: true
 *   verifyHostKey: ({ fingerprint }) => fingerprint === pinned, // or knownHosts: a file path
 * });
 * const { stdout, code } = await client.execResult('echo hello');
 * console.log(stdout.trim(), code); // prints: hello 0
 * await client.end();
 * ```
 */
export async function connect(options: ConnectOptions): Promise<Client> {
  const verify = hostVerifier(options);
  const { signal } = options;
  if (signal?.aborted) throw abortedError(signal, 'connect');
  const agent = await agentSigners(options.agent, signal);
  try {
    return await connectWith(options, verify, authMethods(options, agent.signers));
  } finally {
    if (agent.opened) void agent.opened.close();
  }
}

function hostVerifier(options: ConnectOptions): HostKeyVerifier {
  const { verifyHostKey, knownHosts } = options;
  if (verifyHostKey !== undefined && typeof verifyHostKey !== 'function') {
    throw new SshError(SSH_ERR.USAGE, 'local', 'verifyHostKey must be a function');
  }
  if (knownHosts === undefined) {
    if (!verifyHostKey) {
      throw new SshError(SSH_ERR.USAGE, 'local', 'verifyHostKey or knownHosts is required');
    }
    return verifyHostKey;
  }
  if (options.link !== undefined && options.host === undefined) {
    throw new SshError(
      SSH_ERR.USAGE,
      'local',
      'knownHosts with a link needs host: the name to look the key up under',
    );
  }
  const fileOptions = typeof knownHosts === 'string' ? { path: knownHosts } : knownHosts;
  const onUnknown = fileOptions.onUnknown ?? verifyHostKey;
  return knownHostsVerifier(onUnknown ? { ...fileOptions, onUnknown } : fileOptions);
}

async function agentSigners(
  agent: ConnectOptions['agent'],
  signal: AbortSignal | undefined,
): Promise<{ signers: readonly Signer[]; opened?: SshAgent }> {
  if (agent === undefined || agent === false) return { signers: [] };
  if (agent instanceof SshAgent) return { signers: await agent.signers() };
  const opened = await SshAgent.connect({
    ...(typeof agent === 'string' ? { path: agent } : {}),
    ...(signal ? { signal } : {}),
  });
  try {
    return { signers: await opened.signers(), opened };
  } catch (e) {
    void opened.close();
    throw e;
  }
}

function connectWith(
  options: ConnectOptions,
  verify: HostKeyVerifier,
  methods: ClientAuthMethod[],
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const { signal } = options;
    const host = options.host ?? 'localhost';
    const port = options.port ?? 22;
    let client: Client | undefined;
    let expired: TimeoutKind | undefined;
    let aborted = false;
    let linkError: Error | undefined;
    let unwatch = () => {};
    const failure = (session: Session): SshError => {
      if (expired) return timeoutError(expired);
      if (aborted && signal) return abortedError(signal, 'connect');
      const error = sessionLastError(session);
      if (error && linkError && error.code === SSH_ERR.CONNECTION_LOST) {
        return new SshError(
          error.code,
          error.origin,
          `${error.message}: ${linkError.message}`,
          undefined,
          {
            cause: linkError,
          },
        );
      }
      return (
        error ?? new SshError(SSH_ERR.CONNECTION_LOST, 'link', 'the session ended before login')
      );
    };
    const config: ClientConfig<Session> = {
      role: 'client',
      ...options.session,
      ...(options.algorithms ? { algorithms: options.algorithms } : {}),
      onHostKey: (request) => {
        const info: HostKeyInfo = {
          algorithm: request.algorithm,
          keyType: request.keyType,
          keyBlob: request.publicKey,
          fingerprint: request.fingerprint,
          host,
          port,
        };
        Promise.resolve()
          .then(() => verify(info))
          .then(
            (ok) =>
              ok === true ? request.accept() : request.reject('the host key is not trusted'),
            (e: unknown) => request.reject(`host key check failed: ${String(e)}`),
          );
      },
      auth: { username: options.username, methods },
      onEvent: (event, session) => {
        if (event.type === 'auth-banner') options.onBanner?.(event.message);
        else if (event.type === 'authenticated') {
          client = new Client(session);
          unwatch();
          if (signal) unwatch = watchAbort(signal, () => sessionDisconnect(session, 11, 'aborted'));
          resolve(client);
        } else if (event.type === 'closed') {
          unwatch();
          const error = failure(session);
          if (client)
            clientClosed(client, sessionLastError(session) ?? (expired ? error : undefined));
          else reject(error);
        }
      },
      onChannelOpen: (request) => {
        if (client) forwardedOpen(client, request);
        else request.reject();
      },
    };
    const readyMs = options.readyTimeout ?? DEFAULT_READY_TIMEOUT_MS;
    const timeouts = addTimeouts(
      config,
      {
        handshakeMs: readyMs,
        authenticationMs: readyMs,
        idleMs: options.idleTimeout ?? 0,
        keepaliveMs: options.keepaliveInterval ?? 0,
        ...(options.keepaliveCountMax !== undefined
          ? { keepaliveCountMax: options.keepaliveCountMax }
          : {}),
      },
      (kind) => {
        expired = kind;
      },
    );
    let link = options.link;
    let socket: net.Socket | undefined;
    if (link === undefined) {
      socket = net.connect(port, host);
      socket.once('error', (e) => {
        linkError = e;
      });
      link = socket;
    }
    let session: Session;
    try {
      session = attachLink(link, timeouts.config, {
        onActivity: timeouts.noteActivity,
        onLinkError: (e) => {
          linkError ??= e;
        },
      });
    } catch (e) {
      // A config the core refuses (SSH_ERR_USAGE): nothing may stay open.
      timeouts.cancel();
      socket?.destroy();
      throw e;
    }
    timeouts.attach(session);
    unwatch = watchAbort(signal, () => {
      aborted = true;
      sessionDisconnect(session, 11, 'aborted');
    });
  });
}

function authMethods(options: ConnectOptions, agentSigners: readonly Signer[]): ClientAuthMethod[] {
  const methods: ClientAuthMethod[] = [];
  for (const signer of options.signers ?? []) methods.push({ type: 'publickey', signer });
  for (const signer of agentSigners) methods.push({ type: 'publickey', signer });
  if (options.privateKey !== undefined) {
    try {
      const key = parsePrivateKey(options.privateKey, options.passphrase);
      methods.push({ type: 'publickey', key });
    } catch (e) {
      throw new SshError(SSH_ERR.USAGE, 'local', `privateKey: ${(e as Error).message}`, undefined, {
        cause: e,
      });
    }
  }
  if (options.password !== undefined) {
    methods.push({ type: 'password', password: options.password });
  }
  const answer = options.onKeyboardInteractive;
  if (answer) {
    methods.push({
      type: 'keyboard-interactive',
      onPrompt: (request) => {
        Promise.resolve()
          .then(() => answer(request))
          .then(
            (responses) => request.answer(responses),
            () => request.cancel(),
          );
      },
    });
  }
  if (methods.length === 0) methods.push({ type: 'none' });
  return methods;
}
