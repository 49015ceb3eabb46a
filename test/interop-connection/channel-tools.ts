/**
 * @module
 * Channel plumbing for the connection-layer interop tests, shared by the tests and by the
 * ProxyCommand server program (so: no vitest here). A {@link ChannelProbe} records what a
 * channel reports and lets a test await it; {@link writeAll} writes through the window,
 * writing more only after a short write was followed by a `writable` event; bridges connect
 * a channel to a TCP socket or to a child process, honouring both windows.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  type Channel,
  type ChannelEvent,
  type ChannelOptions,
  type ChannelRequest,
  channelClose,
  channelConsume,
  channelEof,
  channelRemoteWindow,
  channelSendExitSignal,
  channelSendExitStatus,
  channelState,
  channelWrite,
  channelWriteExtended,
  SSH_EXTENDED_DATA,
} from '../../src/index.js';

/** What a channel produced, once it closed. */
export interface ChannelResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exitStatus: number | undefined;
  readonly exitSignal: string | undefined;
  /** Event types in order (data events collapsed into one entry per run). */
  readonly trace: readonly string[];
  readonly eof: boolean;
}

type Waiter = () => void;

/**
 * Records the events of one channel. Pass `probe.options` (or `probe.onEvent`) when opening or
 * accepting the channel; then await `opened()`, `requestResult()`, `done()`, ….
 */
export class ChannelProbe {
  channel: Channel | undefined;
  readonly events: ChannelEvent[] = [];
  readonly trace: string[] = [];
  readonly #stdout: Buffer[] = [];
  readonly #stderr: Buffer[] = [];
  stdoutBytes = 0;
  stderrBytes = 0;
  exitStatus: number | undefined;
  exitSignal: string | undefined;
  eof = false;
  closed = false;
  openFailure: { reason: number; description: string } | undefined;
  /** The largest send window (channelRemoteWindow) seen at any event. */
  maxRemoteWindow = 0;
  /** 'writable' events received, and writes that returned less than asked. */
  writableEvents = 0;
  shortWrites = 0;
  /** Data hook: when set, stdout bytes go here instead of being stored. */
  onData: ((data: Uint8Array) => void) | undefined;
  /** Called for every peer request (after the probe recorded exit-status/-signal). */
  onRequest: ((request: ChannelRequest) => void) | undefined;
  readonly #waiters = new Set<Waiter>();
  readonly options: ChannelOptions;

  constructor(options: Omit<ChannelOptions, 'onEvent'> = {}) {
    this.options = { ...options, onEvent: this.onEvent };
  }

  readonly onEvent = (event: ChannelEvent, channel: Channel): void => {
    this.channel = channel;
    this.events.push(event);
    this.maxRemoteWindow = Math.max(this.maxRemoteWindow, channelRemoteWindow(channel));
    const last = this.trace[this.trace.length - 1];
    if (!(event.type === 'data' && last === 'data') && event.type !== 'writable') {
      this.trace.push(
        event.type === 'request'
          ? `request ${event.request.name}`
          : event.type === 'request-result'
            ? `request-result ${event.request} ${event.success}`
            : event.type,
      );
    }
    switch (event.type) {
      case 'data':
        this.stdoutBytes += event.data.length;
        if (this.onData) this.onData(event.data);
        else this.#stdout.push(Buffer.from(event.data));
        break;
      case 'extended-data':
        if (event.dataType === SSH_EXTENDED_DATA.STDERR) {
          this.stderrBytes += event.data.length;
          this.#stderr.push(Buffer.from(event.data));
        }
        break;
      case 'eof':
        this.eof = true;
        break;
      case 'close':
        this.closed = true;
        break;
      case 'open-failed':
        this.closed = true;
        this.openFailure = { reason: event.reason, description: event.description };
        break;
      case 'writable':
        this.writableEvents++;
        break;
      case 'request': {
        const parsed = event.request.parsed;
        if (parsed?.type === 'exit-status') this.exitStatus = parsed.code;
        if (parsed?.type === 'exit-signal') this.exitSignal = parsed.signal;
        if (this.onRequest) this.onRequest(event.request);
        else if (event.request.wantReply) event.request.reject();
        break;
      }
    }
    for (const w of [...this.#waiters]) w();
  };

  /** The stdout collected so far (empty when `onData` takes it). */
  get stdout(): Buffer {
    return Buffer.concat(this.#stdout);
  }
  get stderr(): Buffer {
    return Buffer.concat(this.#stderr);
  }

  /** Resolves when `check()` returns a value other than undefined; rejects on timeout. */
  until<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(test);
        reject(new Error(`timed out waiting for ${what}; channel trace: ${this.trace.join(', ')}`));
      }, timeoutMs);
      const test = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (e) {
          this.#waiters.delete(test);
          clearTimeout(timer);
          reject(e);
          return;
        }
        if (value === undefined) return;
        this.#waiters.delete(test);
        clearTimeout(timer);
        resolve(value);
      };
      this.#waiters.add(test);
      test();
    });
  }

  /** Resolves on `open`; rejects on `open-failed` or close. */
  opened(timeoutMs?: number): Promise<Channel> {
    return this.until(
      'open',
      () => {
        if (this.events.some((e) => e.type === 'open')) return this.channel!;
        if (this.openFailure)
          throw new Error(
            `channel open failed: ${this.openFailure.reason} ${this.openFailure.description}`,
          );
        if (this.closed) throw new Error('channel closed before it opened');
        return undefined;
      },
      timeoutMs,
    );
  }

  /** Resolves with the `index`-th request-result for `name` (0-based); rejects on close. */
  requestResult(name: string, index = 0, timeoutMs?: number): Promise<boolean> {
    return this.until(
      `request-result ${name}`,
      () => {
        const results = this.events.filter(
          (e): e is Extract<ChannelEvent, { type: 'request-result' }> =>
            e.type === 'request-result' && e.request === name,
        );
        const r = results[index];
        if (r) return r.success;
        if (this.closed) throw new Error(`channel closed before the reply to ${name}`);
        return undefined;
      },
      timeoutMs,
    );
  }

  /** Resolves once the stdout collected so far contains `text`. */
  stdoutContains(text: string, timeoutMs?: number): Promise<string> {
    return this.until(
      `stdout containing ${JSON.stringify(text)}`,
      () => {
        const out = this.stdout.toString('utf8');
        if (out.includes(text)) return out;
        if (this.closed) throw new Error(`channel closed; stdout was ${JSON.stringify(out)}`);
        return undefined;
      },
      timeoutMs,
    );
  }

  /** Resolves after the `n`-th 'writable' event. */
  writable(n: number, timeoutMs?: number): Promise<void> {
    return this.until(
      `writable #${n}`,
      () => {
        if (this.writableEvents >= n) return true;
        if (this.closed) throw new Error('channel closed while waiting for writable');
        return undefined;
      },
      timeoutMs,
    ).then(() => undefined);
  }

  /** Resolves with everything the channel produced once it closed (`collectChannel`). */
  done(timeoutMs?: number): Promise<ChannelResult> {
    return this.until('close', () => (this.closed ? this.result() : undefined), timeoutMs);
  }

  result(): ChannelResult {
    return {
      stdout: this.stdout,
      stderr: this.stderr,
      exitStatus: this.exitStatus,
      exitSignal: this.exitSignal,
      trace: [...this.trace],
      eof: this.eof,
    };
  }
}

/**
 * Writes all of `data`, honouring channelWrite's return value: after a short write it writes
 * nothing until the probe saw the next 'writable' event.
 */
export async function writeAll(
  probe: ChannelProbe,
  data: Uint8Array,
  options: { readonly timeoutMs?: number; readonly extended?: number } = {},
): Promise<void> {
  const channel = probe.channel;
  if (!channel) throw new Error('writeAll: the channel has no handle yet');
  let rest = data;
  while (rest.length > 0) {
    const seen = probe.writableEvents;
    const n =
      options.extended === undefined
        ? channelWrite(channel, rest)
        : channelWriteExtended(channel, options.extended, rest);
    if (n < 0 || n > rest.length) throw new Error(`channelWrite returned ${n} for ${rest.length}`);
    rest = rest.subarray(n);
    if (rest.length > 0) {
      probe.shortWrites++;
      await probe.writable(seen + 1, options.timeoutMs);
    }
  }
}

/** What {@link pipeThrough} measured. */
export interface PipeResult {
  readonly sha256: string;
  readonly bytes: number;
  readonly ms: number;
  readonly mibPerSecond: number;
  readonly result: ChannelResult;
}

/**
 * Sends `data` through an open channel whose peer echoes it (e.g. `cat`), then EOF, and
 * hashes what comes back until the channel closes.
 */
export async function pipeThrough(
  probe: ChannelProbe,
  data: Uint8Array,
  timeoutMs = 120_000,
): Promise<PipeResult> {
  const hash = createHash('sha256');
  probe.onData = (chunk) => hash.update(chunk);
  const started = performance.now();
  await writeAll(probe, data, { timeoutMs });
  channelEof(probe.channel!);
  const result = await probe.done(timeoutMs);
  const ms = performance.now() - started;
  return {
    sha256: hash.digest('hex'),
    bytes: probe.stdoutBytes,
    ms,
    mibPerSecond: data.length / (1024 * 1024) / (ms / 1000),
    result,
  };
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes: the AES-128-CTR keystream under a key made from `seed`. */
export function seededBytes(length: number, seed: number): Buffer {
  const key = createHash('sha256').update(`seed-${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(length));
}

// ---- channel <-> channel echo, socket, process ---------------------------------------------

/** Writes queued chunks to a channel in order as its window allows ('writable' resumes). */
class ChannelWriter {
  readonly #queue: { data: Uint8Array; dataType: number | undefined }[] = [];
  channel: Channel | undefined;
  /** Called whenever the queue became empty. */
  onDrained: (() => void) | undefined;

  get idle(): boolean {
    return this.#queue.length === 0;
  }

  /** Queues data; returns true when everything queued so far went out. */
  push(data: Uint8Array, dataType?: number): boolean {
    if (data.length > 0) this.#queue.push({ data, dataType });
    return this.flush();
  }

  /** Writes what the window allows; call again on 'writable'. */
  flush(): boolean {
    const channel = this.channel;
    if (!channel) return this.idle;
    while (this.#queue.length > 0) {
      if (channelState(channel) !== 'open') {
        this.#queue.length = 0;
        break;
      }
      const head = this.#queue[0]!;
      const n =
        head.dataType === undefined
          ? channelWrite(channel, head.data)
          : channelWriteExtended(channel, head.dataType, head.data);
      if (n < head.data.length) {
        head.data = head.data.subarray(n);
        return false;
      }
      this.#queue.shift();
    }
    this.onDrained?.();
    return true;
  }
}

/**
 * Channel options that echo every byte received back to the peer (window honoured both ways:
 * received data is consumed only once it was written back), then EOF and close after the
 * peer's EOF.
 */
export function echoChannel(
  onClose?: () => void,
): ChannelOptions & { readonly stats: { bytes: number } } {
  const writer = new ChannelWriter();
  const stats = { bytes: 0 };
  let peerEof = false;
  let finished = false;
  const finish = () => {
    if (finished || !peerEof || !writer.idle || !writer.channel) return;
    finished = true;
    channelEof(writer.channel);
    channelClose(writer.channel);
  };
  writer.onDrained = finish;
  let unconsumed = 0;
  return {
    stats,
    manualWindow: true,
    onEvent: (event, channel) => {
      writer.channel = channel;
      switch (event.type) {
        case 'data':
          stats.bytes += event.data.length;
          unconsumed += event.data.length;
          writer.push(event.data);
          if (writer.idle) {
            channelConsume(channel, unconsumed);
            unconsumed = 0;
          }
          break;
        case 'writable':
          if (writer.flush() && unconsumed > 0) {
            channelConsume(channel, unconsumed);
            unconsumed = 0;
          }
          break;
        case 'eof':
          peerEof = true;
          finish();
          break;
        case 'request':
          if (event.request.wantReply) event.request.reject();
          break;
        case 'close':
          onClose?.();
          break;
      }
    },
  };
}

/**
 * Connects a channel to a TCP socket in both directions. Socket data goes out as the peer's
 * window allows (the socket pauses meanwhile); channel data is consumed from our window once
 * the socket wrote it. EOF maps to half-close both ways; the channel closes when the socket
 * has closed, and a channel close ends the socket. Use sockets made with `allowHalfOpen`.
 * For a channel we open, the socket waits for 'open'; for one we accepted call `start`.
 */
export class SocketBridge {
  readonly #socket: Socket;
  readonly #writer = new ChannelWriter();
  #open = false;
  #socketEnded = false;
  #socketClosed = false;
  #eofSent = false;
  #resolve!: () => void;
  /** Resolves when the channel closed (or failed to open). */
  readonly done: Promise<void>;
  readonly options: ChannelOptions;

  constructor(socket: Socket) {
    this.#socket = socket;
    this.done = new Promise((r) => {
      this.#resolve = r;
    });
    socket.pause();
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      if (!this.#writer.push(new Uint8Array(chunk))) socket.pause();
    });
    socket.on('end', () => {
      this.#socketEnded = true;
      this.#maybeEof();
    });
    socket.on('close', () => {
      this.#socketClosed = true;
      this.#maybeClose();
    });
    this.#writer.onDrained = () => {
      if (this.#open && !this.#socketClosed) socket.resume();
      this.#maybeEof();
    };
    this.options = { manualWindow: true, onEvent: (e, ch) => this.#onEvent(e, ch) };
  }

  /** For a channel we accepted (already open). */
  start(channel: Channel): void {
    this.#writer.channel = channel;
    this.#open = true;
    this.#socket.resume();
  }

  #onEvent(event: ChannelEvent, channel: Channel): void {
    this.#writer.channel = channel;
    const socket = this.#socket;
    switch (event.type) {
      case 'open':
        this.start(channel);
        break;
      case 'open-failed':
        socket.destroy();
        this.#resolve();
        break;
      case 'data': {
        const n = event.data.length;
        socket.write(event.data, () => {
          if (channelState(channel) === 'open') channelConsume(channel, n);
        });
        break;
      }
      case 'eof':
        socket.end();
        break;
      case 'writable':
        this.#writer.flush();
        break;
      case 'request':
        if (event.request.wantReply) event.request.reject();
        break;
      case 'close':
        socket.end();
        setTimeout(() => socket.destroy(), 2000).unref();
        this.#resolve();
        break;
    }
  }

  #maybeEof(): void {
    const channel = this.#writer.channel;
    if (!this.#open || !channel || !this.#socketEnded || this.#eofSent || !this.#writer.idle)
      return;
    this.#eofSent = true;
    channelEof(channel);
    this.#maybeClose();
  }

  #maybeClose(): void {
    const channel = this.#writer.channel;
    if (!channel || !this.#socketClosed) return;
    if (this.#socketEnded && !this.#eofSent) return; // still flushing the socket's last bytes
    channelClose(channel);
  }
}

/**
 * Serves a session channel we accepted (server side): answers pty-req/env, runs `exec`
 * commands with `/bin/sh -c`, `shell` as `/bin/sh`, and subsystems through `subsystems`
 * (name → argv); stdout/stderr go out as data/extended data through the window, channel data
 * goes to the child's stdin (consumed once written), then exit-status, EOF and close.
 */
export class ProcessChannel {
  readonly #writer = new ChannelWriter();
  readonly #subsystems: Readonly<Record<string, readonly string[]>>;
  readonly #cwd: string;
  child: ChildProcess | undefined;
  #childClosed: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #finished = false;
  readonly #env: Record<string, string> = {};
  /** Commands and subsystems started, for the tests to check. */
  readonly started: string[] = [];
  readonly options: ChannelOptions;

  constructor(subsystems: Readonly<Record<string, readonly string[]>>, cwd: string) {
    this.#subsystems = subsystems;
    this.#cwd = cwd;
    this.#writer.onDrained = () => {
      this.child?.stdout?.resume();
      this.child?.stderr?.resume();
      this.#maybeFinish();
    };
    this.options = { manualWindow: true, onEvent: (e, ch) => this.#onEvent(e, ch) };
  }

  #onEvent(event: ChannelEvent, channel: Channel): void {
    this.#writer.channel = channel;
    switch (event.type) {
      case 'request':
        this.#onRequest(event.request);
        break;
      case 'data': {
        const stdin = this.child?.stdin;
        const n = event.data.length;
        if (!stdin || stdin.destroyed) {
          channelConsume(channel, n);
          break;
        }
        stdin.write(event.data, () => {
          if (channelState(channel) === 'open') channelConsume(channel, n);
        });
        break;
      }
      case 'eof':
        this.child?.stdin?.end();
        break;
      case 'writable':
        this.#writer.flush();
        break;
      case 'close':
        if (this.child && this.#childClosed === undefined) this.child.kill('SIGHUP');
        break;
    }
  }

  #onRequest(request: ChannelRequest): void {
    const p = request.parsed;
    const ok = (yes: boolean) => {
      if (request.wantReply) (yes ? request.accept : request.reject).call(request);
    };
    if (!p) return ok(false);
    switch (p.type) {
      case 'pty-req':
      case 'window-change':
        return ok(true);
      case 'env':
        this.#env[p.name] = p.value;
        return ok(true);
      case 'exec':
        return ok(this.#start(`exec ${p.command}`, '/bin/sh', ['-c', p.command]));
      case 'shell':
        return ok(this.#start('shell', '/bin/sh', []));
      case 'subsystem': {
        const argv = this.#subsystems[p.name];
        if (!argv) return ok(false);
        return ok(this.#start(`subsystem ${p.name}`, argv[0]!, argv.slice(1)));
      }
      case 'signal':
        this.child?.kill(`SIG${p.name}` as NodeJS.Signals);
        return ok(true);
      default:
        return ok(false);
    }
  }

  #start(label: string, file: string, args: readonly string[]): boolean {
    if (this.child) return false;
    this.started.push(label);
    const child = spawn(file, args, {
      cwd: this.#cwd,
      env: { ...process.env, ...this.#env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdin.on('error', () => {});
    child.on('error', () => {});
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.#writer.push(new Uint8Array(chunk))) {
        child.stdout.pause();
        child.stderr.pause();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (!this.#writer.push(new Uint8Array(chunk), SSH_EXTENDED_DATA.STDERR)) {
        child.stdout.pause();
        child.stderr.pause();
      }
    });
    child.on('close', (code, signal) => {
      this.#childClosed = { code, signal };
      this.#maybeFinish();
    });
    return true;
  }

  /** Once the child closed its output and everything went out: exit status, EOF, close. */
  #maybeFinish(): void {
    const channel = this.#writer.channel;
    const closed = this.#childClosed;
    if (this.#finished || !closed || !channel || !this.#writer.idle) return;
    this.#finished = true;
    if (channelState(channel) !== 'open') return;
    if (closed.signal) {
      channelSendExitSignal(channel, { signal: closed.signal.replace(/^SIG/, '') });
    } else {
      channelSendExitStatus(channel, closed.code ?? 255);
    }
    channelEof(channel);
    channelClose(channel);
  }
}
