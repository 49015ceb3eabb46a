/**
 * @module
 * The type-specific data of channel requests (RFC 4254 §6.2–§6.10, OpenSSH PROTOCOL §2.1):
 * encoders for the requests we send, one decoder for the requests we receive.
 */

import { LIMITS } from '../limits.js';
import { SshReader } from '../wire/reader.js';
import { SshWriter } from '../wire/writer.js';
import { CONNECTION_LIMITS } from './limits.js';
import { readText } from './messages.js';
import type { ParsedChannelRequest } from './types.js';

/** A pseudo-terminal request (`pty-req`). */
export interface PtyOptions {
  /** TERM, e.g. `xterm-256color`. */
  readonly term: string;
  readonly cols: number;
  readonly rows: number;
  /** Width in pixels (default 0: unknown). */
  readonly width?: number;
  /** Height in pixels (default 0: unknown). */
  readonly height?: number;
  /** Encoded terminal modes (RFC 4254 §8); default: none (a single TTY_OP_END). */
  readonly modes?: Uint8Array;
}

/** A terminal size change (`window-change`). */
export interface WindowChangeOptions {
  readonly cols: number;
  readonly rows: number;
  readonly width?: number;
  readonly height?: number;
}

/** A process killed by a signal (`exit-signal`). */
export interface ExitSignalOptions {
  /** The signal name without `SIG`, e.g. `TERM` (RFC 4254 §6.10). */
  readonly signal: string;
  readonly coreDumped?: boolean;
  readonly message?: string;
  readonly language?: string;
}

const NO_MODES = new Uint8Array([0]); // TTY_OP_END (RFC 4254 §8)

/*
 * pty-req (RFC 4254 §6.2):
 * string    TERM environment variable value (e.g., vt100)
 * uint32    terminal width, characters (e.g., 80)
 * uint32    terminal height, rows (e.g., 24)
 * uint32    terminal width, pixels (e.g., 640)
 * uint32    terminal height, pixels (e.g., 480)
 * string    encoded terminal modes
 */
export function encodePtyRequest(o: PtyOptions): Uint8Array {
  return new SshWriter(64)
    .string(o.term)
    .uint32(o.cols)
    .uint32(o.rows)
    .uint32(o.width ?? 0)
    .uint32(o.height ?? 0)
    .string(o.modes ?? NO_MODES)
    .finish();
}

/*
 * env (RFC 4254 §6.4):   string variable name, string variable value
 * exec (§6.5):           string command
 * subsystem (§6.5):      string subsystem name
 * signal (§6.9):         string signal name (without the "SIG" prefix)
 */
export function encodeStrings(...values: (string | Uint8Array)[]): Uint8Array {
  const w = new SshWriter(64);
  for (const v of values) w.string(v);
  return w.finish();
}

/*
 * window-change (RFC 4254 §6.7):
 * uint32    terminal width, columns
 * uint32    terminal height, rows
 * uint32    terminal width, pixels
 * uint32    terminal height, pixels
 */
export function encodeWindowChange(o: WindowChangeOptions): Uint8Array {
  return new SshWriter(16)
    .uint32(o.cols)
    .uint32(o.rows)
    .uint32(o.width ?? 0)
    .uint32(o.height ?? 0)
    .finish();
}

/* exit-status (RFC 4254 §6.10): uint32 exit_status */
export function encodeExitStatus(code: number): Uint8Array {
  return new SshWriter(4).uint32(code).finish();
}

/*
 * exit-signal (RFC 4254 §6.10):
 * string    signal name (without the "SIG" prefix)
 * boolean   core dumped
 * string    error message in ISO-10646 UTF-8 encoding
 * string    language tag [RFC3066]
 */
export function encodeExitSignal(o: ExitSignalOptions): Uint8Array {
  return new SshWriter(64)
    .string(o.signal)
    .bool(o.coreDumped ?? false)
    .string(o.message ?? '')
    .string(o.language ?? '')
    .finish();
}

/**
 * Decodes the type-specific data of a request this library knows; `undefined` for other
 * names. A known request with a malformed body ends the session (SSH_ERR_MALFORMED_MESSAGE).
 */
export function decodeRequestFields(
  name: string,
  data: Uint8Array,
): ParsedChannelRequest | undefined {
  const r = new SshReader(data);
  const parsed = decodeKnown(name, r);
  if (parsed) r.finish();
  return parsed;
}

function decodeKnown(name: string, r: SshReader): ParsedChannelRequest | undefined {
  const max = LIMITS.PACKET_LENGTH_MAX;
  switch (name) {
    case 'pty-req': {
      const term = readText(r, CONNECTION_LIMITS.TERM_MAX);
      const [cols, rows, width, height] = [r.uint32(), r.uint32(), r.uint32(), r.uint32()];
      const modes = r.string(CONNECTION_LIMITS.PTY_MODES_BYTES_MAX);
      return { type: name, term, cols, rows, width, height, modes };
    }
    case 'env':
      return {
        type: name,
        name: readText(r, CONNECTION_LIMITS.ENV_NAME_MAX),
        value: readText(r, CONNECTION_LIMITS.ENV_VALUE_MAX),
      };
    case 'shell':
    case 'eow@openssh.com':
      return { type: name };
    case 'exec':
      return { type: name, command: readText(r, max) };
    case 'subsystem':
      return { type: name, name: readText(r, max) };
    case 'window-change': {
      const [cols, rows, width, height] = [r.uint32(), r.uint32(), r.uint32(), r.uint32()];
      return { type: name, cols, rows, width, height };
    }
    case 'xon-xoff':
      return { type: name, clientCanDo: r.bool() };
    case 'signal':
      return { type: name, name: readText(r, CONNECTION_LIMITS.NAME_MAX) };
    case 'exit-status':
      return { type: name, code: r.uint32() };
    case 'exit-signal': {
      const signal = readText(r, CONNECTION_LIMITS.NAME_MAX);
      const coreDumped = r.bool();
      const message = readText(r, max).slice(0, LIMITS.TEXT_MESSAGE_MAX);
      const language = readText(r, max).slice(0, CONNECTION_LIMITS.NAME_MAX);
      return { type: name, signal, coreDumped, message, language };
    }
    default:
      return undefined;
  }
}
