/**
 * @module
 * A serial line (the `serialport` package, an optional peer dependency) as the link of a
 * session, in raw mode, with an optional throttle that delivers received bytes at a set rate
 * and in small pieces (a baud-rate-like setting for tests of slow, fragmented links).
 *
 * A serial line has no connection: bytes sent while the other end's port is closed are lost,
 * and opening a port discards what waits in its input queue (serialport flushes the line on
 * open). Open both ends before either side creates its session, or have the side that opens
 * last start the conversation. A line also has no hang-up signal: a peer that goes away is
 * noticed only when the port itself fails (and serialport 13 can miss even that when the
 * hang-up lands while a read is in flight), so pair this transport with `addTimeouts`.
 */

import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import {
  type Session,
  type SessionConfig,
  sessionClose,
  sessionCreate,
  sessionReceive,
} from '../src/index.js';
import { InputBuffer } from './input-buffer.js';

/** How long closing waits for written bytes to drain before closing the port anyway: 2 s. */
export const SERIAL_CLOSE_DRAIN_MS = 2000;

/** Bytes the throttle may hold before it pauses reading the port: 64 KiB. */
export const SERIAL_THROTTLE_HIGH_WATER = 64 * 1024;

/**
 * What {@link attachSerial} needs of a port: a `serialport` `SerialPort` (or its
 * `SerialPortMock`, or any duplex stream with the same `close`).
 */
export type SerialPortLike = Duplex & {
  /** Closes the port; `callback` gets the error, if any. */
  close(callback?: (error: Error | null) => void): void;
};

/** How a serial link behaves. */
export interface SerialLinkOptions {
  /**
   * Deliver at most this many received bytes per second to the session (the rest waits in
   * the transport, and reading pauses past {@link SERIAL_THROTTLE_HIGH_WATER}). Off by
   * default: bytes are delivered as they arrive.
   */
  readonly throttleBytesPerSecond?: number;
  /** Cut received bytes into pieces of at most this many bytes, each fed on its own. */
  readonly readPieceBytes?: number;
  /** Write what the session sends in slices of at most this many bytes. */
  readonly writeSliceBytes?: number;
  /** Called for every chunk read from the port (e.g. `SessionTimeouts.noteActivity`). */
  readonly onActivity?: () => void;
  /** Told about port errors; the session hears only that the link closed. */
  readonly onLinkError?: (error: Error) => void;
}

/** Where and how to open a port with {@link openSerial}. */
export interface SerialOptions extends SerialLinkOptions {
  /** The device, e.g. `/dev/ttyUSB0` or one end of a `socat` pty pair. */
  readonly path: string;
  /** The line speed, e.g. 115200. */
  readonly baudRate: number;
}

/** A session on an open serial port. */
export interface SerialSession {
  readonly session: Session;
  readonly port: SerialPort;
}

/**
 * Opens the port at `path` (raw: 8 data bits, no parity, 1 stop bit, no flow control) and, once
 * it is open, runs a session on it. Rejects when the port cannot be opened; no session is
 * created then. See the module notes on when to open each end.
 *
 * @example
 * ```ts no-run: it needs a serial device (test/transports/serial.test.ts runs this code on a socat pty pair)
 * const { session } = await openSerial({ path: '/dev/ttyUSB0', baudRate: 115200 }, {
 *   role: 'client',
 *   onHostKey: (request) => request.accept(),
 * });
 * ```
 */
export async function openSerial(
  options: SerialOptions,
  config: SessionConfig<Session>,
): Promise<SerialSession> {
  const { path, baudRate, ...link } = options;
  const port = await new Promise<SerialPort>((resolve, reject) => {
    const p: SerialPort = new SerialPort({ path, baudRate }, (error) =>
      error ? reject(error) : resolve(p),
    );
  });
  try {
    return { session: attachSerial(port, config, link), port };
  } catch (e) {
    port.close(() => {});
    throw e;
  }
}

/**
 * Runs a session on a serial port that is open (or opening: writes wait for the open). When
 * the session ends, written bytes are drained and the port is closed; when the port closes
 * or fails, the session hears `sessionClose` once everything received was fed to it.
 *
 * @example
 * ```ts no-run: it needs a serial device (test/transports/serial.test.ts runs this code on a socat pty pair)
 * import { SerialPort } from 'serialport';
 *
 * const port = new SerialPort({ path: '/dev/ttyS0', baudRate: 9600 });
 * const session = attachSerial(port, { role: 'server', hostKeys: [key] }, { readPieceBytes: 1 });
 * ```
 */
export function attachSerial(
  port: SerialPortLike,
  config: SessionConfig<Session>,
  options: SerialLinkOptions = {},
): Session {
  keepPollerArmed(port);
  const link = new SerialLink(port, options);
  try {
    const session = sessionCreate(link, serialSend, serialClose, config);
    link.start(
      (bytes) => sessionReceive(session, bytes),
      () => sessionClose(session),
    );
    return session;
  } catch (e) {
    link.release();
    throw e;
  }
}

/**
 * Works around a bug in `@serialport/bindings-cpp` 13.0.0 (`Poller::poll` restarts the poll
 * with only the events of that call, so a pending "writable" wait is dropped when the reader
 * re-arms "readable"; with full-duplex traffic both ends then hang): every poll asks for all
 * the events someone still waits for. Does nothing for ports without such a poller.
 */
function keepPollerArmed(port: SerialPortLike): void {
  const apply = () => {
    const poller = (port as unknown as { port?: { poller?: PollerLike } }).port?.poller;
    if (!poller || (poller as { armed?: boolean }).armed) return;
    const poll = poller.poll.bind(poller);
    (poller as { armed?: boolean }).armed = true;
    poller.poll = (flag = 0) => {
      let mask = flag;
      if (poller.listenerCount('readable') > 0) mask |= 0b001;
      if (poller.listenerCount('writable') > 0) mask |= 0b010;
      if (poller.listenerCount('disconnect') > 0) mask |= 0b100;
      poll(mask);
    };
  };
  apply();
  (port as unknown as { once?: (e: string, f: () => void) => void }).once?.('open', apply);
}

interface PollerLike {
  poll(flag?: number): void;
  listenerCount(event: string): number;
}

function serialSend(link: SerialLink, bytes: Uint8Array): 0 | -1 {
  return link.write(bytes);
}

function serialClose(link: SerialLink): void {
  link.close();
}

/** One port, its input buffer and its throttle. */
class SerialLink {
  readonly #port: SerialPortLike;
  readonly #options: SerialLinkOptions;
  readonly #input = new InputBuffer();
  #closing = false;
  #portClosed = false;
  #reported = false;
  #onGone: (() => void) | undefined;
  // The throttle: bytes read and not yet fed, and the rate bookkeeping.
  readonly #queue: Uint8Array[] = [];
  #queued = 0;
  #paused = false;
  #timer: NodeJS.Timeout | undefined;
  #since = 0;
  #delivered = 0;

  constructor(port: SerialPortLike, options: SerialLinkOptions) {
    this.#port = port;
    this.#options = options;
    for (const name of ['throttleBytesPerSecond', 'readPieceBytes', 'writeSliceBytes'] as const) {
      const v = options[name];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
        throw new RangeError(`${name} must be a positive integer`);
      }
    }
    port.on('error', this.#onError);
  }

  start(receive: (bytes: Uint8Array) => number, gone: () => void): void {
    this.#onGone = gone;
    this.#input.attach(receive);
    this.#port.on('data', this.#onData);
    this.#port.on('close', this.#onClose);
  }

  /** Detaches from the port (the session could not be created). */
  release(): void {
    this.#port.off('error', this.#onError);
    this.#port.off('data', this.#onData);
    this.#port.off('close', this.#onClose);
    this.#stopThrottle();
  }

  write(bytes: Uint8Array): 0 | -1 {
    if (this.#closing || this.#portClosed || this.#port.destroyed) return -1;
    const slice = this.#options.writeSliceBytes;
    if (slice === undefined || bytes.length <= slice) {
      this.#port.write(bytes);
    } else {
      for (let i = 0; i < bytes.length; i += slice) this.#port.write(bytes.subarray(i, i + slice));
    }
    return 0;
  }

  /** The session ended: drain what it wrote (its DISCONNECT), then close the port. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#stopThrottle();
    if (this.#portClosed) return;
    const port = this.#port;
    const closePort = () => {
      if (!this.#portClosed) port.close(() => {});
    };
    const timer = setTimeout(closePort, SERIAL_CLOSE_DRAIN_MS);
    timer.unref();
    const drain = (port as { drain?: (cb: (error: Error | null) => void) => void }).drain;
    if (typeof drain === 'function') {
      drain.call(port, () => {
        clearTimeout(timer);
        closePort();
      });
    }
  }

  #onData = (chunk: Uint8Array) => {
    if (this.#closing) return;
    this.#options.onActivity?.();
    if (this.#options.throttleBytesPerSecond === undefined) {
      this.#feed(chunk);
      return;
    }
    // Copy: the port may hand out views of a pool it reuses.
    this.#queue.push(new Uint8Array(chunk));
    this.#queued += chunk.length;
    if (this.#queued > SERIAL_THROTTLE_HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#port.pause();
    }
    if (this.#timer === undefined) {
      this.#since = Date.now();
      this.#delivered = 0;
      this.#tick();
    }
  };

  #onError = (error: Error) => {
    this.#options.onLinkError?.(error);
  };

  #onClose = () => {
    this.#portClosed = true;
    // Bytes still in the throttle were received before the close: feed them first.
    if (this.#timer === undefined) this.#reportGone();
  };

  #reportGone(): void {
    this.#input.afterDrain(() => {
      if (this.#reported) return;
      this.#reported = true;
      this.#onGone?.();
    });
  }

  /** Feeds `bytes` in pieces of at most `readPieceBytes`; false once the session ended. */
  #feed(bytes: Uint8Array): boolean {
    const piece = this.#options.readPieceBytes ?? bytes.length;
    for (let i = 0; i < bytes.length; i += piece) {
      if (this.#input.push(bytes.subarray(i, i + piece)) < 0) {
        this.#stopThrottle();
        this.close();
        return false;
      }
    }
    return true;
  }

  /** Delivers what the rate allows since the throttle became busy, then waits for the next byte's turn. */
  #tick = () => {
    this.#timer = undefined;
    const rate = this.#options.throttleBytesPerSecond!;
    const elapsed = Date.now() - this.#since;
    let allowed = Math.floor((rate * elapsed) / 1000) - this.#delivered;
    while (allowed > 0 && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const take = Math.min(allowed, head.length);
      if (take === head.length) this.#queue.shift();
      else this.#queue[0] = head.subarray(take);
      this.#queued -= take;
      this.#delivered += take;
      allowed -= take;
      if (!this.#feed(head.subarray(0, take))) return;
    }
    if (this.#paused && this.#queued <= SERIAL_THROTTLE_HIGH_WATER / 4) {
      this.#paused = false;
      if (!this.#portClosed) this.#port.resume();
    }
    if (this.#queue.length === 0) {
      if (this.#portClosed) this.#reportGone();
      return;
    }
    const due = Math.ceil(((this.#delivered + 1) * 1000) / rate);
    this.#timer = setTimeout(this.#tick, Math.max(1, due - elapsed));
  };

  #stopThrottle(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    this.#queued = 0;
  }
}
