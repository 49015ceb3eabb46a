/**
 * @module
 * OpenSSH known_hosts files (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"): read them, decide
 * whether a server's host key is known, write lines for newly trusted keys, and answer the
 * core's host-key request from them. Certificates are not supported: `@cert-authority` lines
 * never match a plain key.
 */

import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { type HostKeyRequest, SSH_ERR, SshError } from '../src/index.js';
import { SshReader } from '../src/wire/reader.js';
import {
  decodeBase64,
  type HashedName,
  hashedNameMatch,
  hashName,
  lookupName,
  parseHashedName,
  patternListMatch,
} from './known-hosts-match.js';

/** Bounds on what is read from a known_hosts file. */
export const KNOWN_HOSTS_LIMITS = {
  /**
   * Largest file read: 16 MiB, some 40,000 lines of RSA keys. A larger file is refused with
   * `SSH_ERR_LIMIT_EXCEEDED` (a known_hosts that large is a mistake or an attack).
   */
  FILE_BYTES_MAX: 16 * 1024 * 1024,
  /**
   * Longest line: 16 KiB. An RSA-16384 key is about 2.8 KiB of base64 and a hashed name 60
   * characters; a longer line is reported as a problem and skipped.
   */
  LINE_BYTES_MAX: 16 * 1024,
} as const;

/** A line's marker (sshd(8)): a CA for certificates, or a key that must never be accepted. */
export type KnownHostsMarker = 'cert-authority' | 'revoked';

/** One key line of a known_hosts file. */
export interface KnownHostsEntry {
  /** 1-based line number. */
  readonly line: number;
  readonly marker?: KnownHostsMarker;
  /** The host field as written: patterns, or one hashed name. */
  readonly hosts: string;
  readonly keyType: string;
  readonly keyBlob: Uint8Array;
  readonly comment: string;
}

/** A line that was skipped, and why. */
export interface KnownHostsProblem {
  readonly line: number;
  readonly reason: string;
}

/**
 * The verdict on a host key:
 * - `match`: a plain line for this host holds this key;
 * - `mismatch`: the host is known, but not with this key: refuse (the key may have been
 *   replaced by an attacker);
 * - `revoked`: a `@revoked` line for this host holds this key: refuse, even if another line
 *   matches;
 * - `unknown`: no plain line names this host.
 */
export type KnownHostsVerdict = 'match' | 'mismatch' | 'revoked' | 'unknown';

/** What a verifier is told about the server's key (by `connect` and {@link hostKeyRequestHandler}). */
export interface HostKeyInfo {
  /** The host as the application named it (what known_hosts lines are matched against). */
  readonly host: string;
  /** The port (22 unless given). */
  readonly port: number;
  /** The negotiated host-key algorithm, e.g. `ssh-ed25519`, `rsa-sha2-512`. */
  readonly algorithm: string;
  /** The key type inside the blob, e.g. `ssh-rsa`. */
  readonly keyType: string;
  /** The public key blob (RFC 4253 §6.6); its signature over the exchange was verified. */
  readonly keyBlob: Uint8Array;
  /** `SHA256:…`, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

/** Decides whether to trust a server's host key. */
export type HostKeyVerifier = (info: HostKeyInfo) => boolean | Promise<boolean>;

function limitError(what: string): SshError {
  return new SshError(SSH_ERR.LIMIT_EXCEEDED, 'local', what);
}

function usage(what: string): SshError {
  return new SshError(SSH_ERR.USAGE, 'local', what);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}

/** The key type named in a blob, or undefined when the blob does not start with one. */
function blobKeyType(blob: Uint8Array): string | undefined {
  try {
    const name = new SshReader(blob).ascii(64);
    return name.length > 0 ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Parses one non-comment line into an entry, or returns the reason it is skipped. */
function parseLine(text: string, line: number): KnownHostsEntry | string {
  const fields = text.trim().split(/[ \t]+/);
  let marker: KnownHostsMarker | undefined;
  if (fields[0]!.startsWith('@')) {
    const m = fields.shift()!;
    if (m === '@cert-authority') marker = 'cert-authority';
    else if (m === '@revoked') marker = 'revoked';
    else return `unknown marker ${m.slice(0, 32)}`;
  }
  const [hosts, keyType, b64, ...rest] = fields;
  if (!hosts || !keyType || !b64) return 'expected hosts, key type and base64 key';
  if (hosts.startsWith('|')) {
    const h = parseHashedName(hosts);
    if (typeof h === 'string') return h;
  }
  const keyBlob = decodeBase64(b64);
  if (!keyBlob || keyBlob.length === 0) return 'the key is not base64';
  if (blobKeyType(keyBlob) !== keyType)
    return `the key blob is not of type ${keyType.slice(0, 64)}`;
  return {
    line,
    ...(marker ? { marker } : {}),
    hosts,
    keyType,
    keyBlob,
    comment: rest.join(' '),
  };
}

/** A path with a leading `~/` made absolute under the home directory (`os.homedir()`), as ssh does. */
function expandHome(path: string): string {
  return path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
}

/** Checks a host name for a line we write: no pattern characters, no spaces, not empty. */
function checkHostAndPort(host: string, port: number): void {
  if (typeof host !== 'string' || host.length === 0 || host.length > 1024)
    throw usage('host must be a non-empty string of at most 1024 characters');
  if (/[\s,*?!|@#[\]]/.test(host))
    throw usage(`host ${JSON.stringify(host.slice(0, 64))} holds pattern or separator characters`);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw usage('port must be an integer in 1..65535');
}

/**
 * A parsed known_hosts file. Lines that cannot be used are listed in {@link problems}, not
 * fatal, as ssh(1) skips them.
 *
 * @example
 * ```ts
 * const trusted = key.publicKeyBlob;
 * const revoked = generatePrivateKey('ed25519').publicKeyBlob;
 * const replaced = generatePrivateKey('ed25519').publicKeyBlob;
 * const known = parseKnownHosts( // or: await loadKnownHosts(path)
 *   `example.com,192.0.2.7 ${publicKeyToOpenSSH(trusted)}\n` +
 *     `@revoked * ${publicKeyToOpenSSH(revoked)}\n` +
 *     'not a key line\n',
 * );
 * console.log(known.check('192.0.2.7', 22, trusted)); // prints: match
 * console.log(known.check('example.com', 22, replaced)); // prints: mismatch
 * console.log(known.check('example.com', 22, revoked)); // prints: revoked
 * console.log(known.check('example.com', 2222, trusted)); // prints: unknown ([example.com]:2222)
 * console.log(known.problems); // prints: line: 3
 * ```
 */
export class KnownHosts {
  readonly #entries: { readonly entry: KnownHostsEntry; readonly hashed?: HashedName }[] = [];
  /** The lines that were skipped. */
  readonly problems: readonly KnownHostsProblem[];

  /**
   * Usually made by {@link parseKnownHosts} or {@link loadKnownHosts}. Entries whose hashed
   * name cannot be decoded never match.
   */
  constructor(entries: readonly KnownHostsEntry[], problems: readonly KnownHostsProblem[] = []) {
    for (const e of entries) this.#push(e);
    this.problems = problems;
  }

  #push(entry: KnownHostsEntry): void {
    if (!entry.hosts.startsWith('|')) {
      this.#entries.push({ entry });
      return;
    }
    const hashed = parseHashedName(entry.hosts);
    if (typeof hashed !== 'string') this.#entries.push({ entry, hashed });
  }

  /** Every usable key line, in file order. */
  get entries(): readonly KnownHostsEntry[] {
    return this.#entries.map((e) => e.entry);
  }

  /**
   * The usable lines whose host field matches `host` at `port`, markers included (the lines
   * `ssh-keygen -F` finds). The host is looked up lower-cased, as `host` for port 22 and
   * `[host]:port` otherwise.
   */
  lookup(host: string, port = 22): KnownHostsEntry[] {
    if (typeof host !== 'string' || !Number.isInteger(port) || port < 0 || port > 65535)
      throw usage('lookup needs a host string and a port in 0..65535');
    const name = lookupName(host, port);
    return this.#entries
      .filter((e) =>
        e.hashed ? hashedNameMatch(e.hashed, name) : patternListMatch(name, e.entry.hosts),
      )
      .map((e) => e.entry);
  }

  /**
   * The verdict on `keyBlob` for `host` at `port` ({@link KnownHostsVerdict}). `@revoked`
   * applies to the hosts its line names (`@revoked *` for all); `@cert-authority` lines are
   * ignored (no certificates), so a host named only by them is `unknown`.
   */
  check(host: string, port: number, keyBlob: Uint8Array): KnownHostsVerdict {
    if (!(keyBlob instanceof Uint8Array)) throw usage('keyBlob must be a Uint8Array');
    const lines = this.lookup(host, port);
    if (lines.some((e) => e.marker === 'revoked' && sameBytes(e.keyBlob, keyBlob)))
      return 'revoked';
    const plain = lines.filter((e) => e.marker === undefined);
    if (plain.some((e) => sameBytes(e.keyBlob, keyBlob))) return 'match';
    return plain.length > 0 ? 'mismatch' : 'unknown';
  }

  /**
   * Trusts `keyBlob` for `host` at `port` from now on: adds it to this object and returns the
   * line to append to the file (with {@link appendKnownHostsLine}). `hash: true` writes the
   * name hashed with a fresh salt, like `HashKnownHosts yes`.
   */
  add(
    host: string,
    port: number,
    keyBlob: Uint8Array,
    options: { readonly hash?: boolean; readonly comment?: string } = {},
  ): string {
    const text = knownHostsLine(host, port, keyBlob, options);
    const parsed = parseLine(text, 0);
    if (typeof parsed === 'string') throw usage(`cannot add this key: ${parsed}`);
    this.#push(parsed);
    return text;
  }
}

/**
 * The known_hosts line trusting `keyBlob` for `host` at `port`: `name keytype base64
 * [comment]`, the name hashed when `hash` is set. Throws `SSH_ERR_USAGE` for a host with
 * pattern characters, a bad port or a blob that does not start with a key type.
 */
export function knownHostsLine(
  host: string,
  port: number,
  keyBlob: Uint8Array,
  options: { readonly hash?: boolean; readonly comment?: string } = {},
): string {
  checkHostAndPort(host, port);
  const keyType = keyBlob instanceof Uint8Array ? blobKeyType(keyBlob) : undefined;
  if (!keyType) throw usage('keyBlob is not an SSH public key blob');
  if (options.comment !== undefined && /[\r\n]/.test(options.comment))
    throw usage('the comment must be one line');
  const name = lookupName(host, port);
  const field = options.hash ? hashName(name) : name;
  const comment = options.comment ? ` ${options.comment}` : '';
  return `${field} ${keyType} ${Buffer.from(keyBlob).toString('base64')}${comment}`;
}

/**
 * Parses known_hosts text. Throws `SSH_ERR_LIMIT_EXCEEDED` for text over
 * `KNOWN_HOSTS_LIMITS.FILE_BYTES_MAX` bytes; bad lines are reported in `problems`.
 */
export function parseKnownHosts(text: string): KnownHosts {
  if (Buffer.byteLength(text, 'utf8') > KNOWN_HOSTS_LIMITS.FILE_BYTES_MAX)
    throw limitError(`known_hosts text over ${KNOWN_HOSTS_LIMITS.FILE_BYTES_MAX} bytes`);
  const entries: KnownHostsEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    const max = KNOWN_HOSTS_LIMITS.LINE_BYTES_MAX;
    if (raw.length > max || (raw.length * 3 > max && Buffer.byteLength(raw, 'utf8') > max)) {
      problems.push({ line, reason: `line over ${max} bytes` });
      return;
    }
    const text = raw.trim();
    if (text === '' || text.startsWith('#')) return;
    const parsed = parseLine(text, line);
    if (typeof parsed === 'string') problems.push({ line, reason: parsed });
    else entries.push(parsed);
  });
  return new KnownHosts(entries, problems);
}

/**
 * Reads and parses a known_hosts file; a leading `~/` is the home directory, and a file that
 * does not exist reads as empty. Rejects with `SSH_ERR_LIMIT_EXCEEDED` for a file over
 * `KNOWN_HOSTS_LIMITS.FILE_BYTES_MAX` (checked while reading: a device or a growing file is
 * not read past it).
 */
export async function loadKnownHosts(path: string): Promise<KnownHosts> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(expandHome(path), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return parseKnownHosts('');
    throw e;
  }
  try {
    const max = KNOWN_HOSTS_LIMITS.FILE_BYTES_MAX;
    const buf = Buffer.alloc(Math.min(max + 1, 64 * 1024));
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > max) throw limitError(`${path} is over ${max} bytes`);
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
    }
    return parseKnownHosts(Buffer.concat(chunks).toString('utf8'));
  } finally {
    await handle.close();
  }
}

/**
 * Appends one line to a known_hosts file (a leading `~/` is the home directory), creating it
 * with mode 0600 and its missing parent directories with mode 0700 (as ssh does for `~/.ssh`)
 * if needed, and starting a new line first if the file does not end with one.
 */
export async function appendKnownHostsLine(path: string, line: string): Promise<void> {
  if (/[\r\n]/.test(line)) throw usage('a known_hosts line must not contain a line break');
  const file = expandHome(path);
  let prefix = '';
  try {
    const existing = await readFile(file);
    if (existing.length > 0 && existing[existing.length - 1] !== 0x0a) prefix = '\n';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  }
  await appendFile(file, `${prefix}${line}\n`, { mode: 0o600 });
}

/** Options of {@link knownHostsVerifier}. */
export interface KnownHostsVerifierOptions {
  /**
   * The known_hosts file, read anew for each verification (a missing file is empty); a
   * leading `~/` is the home directory (`os.homedir()`), so `'~/.ssh/known_hosts'` works.
   */
  readonly path: string;
  /**
   * Asked about a host the file does not name (trust on first use). Without it, unknown
   * hosts are refused. `mismatch` and `revoked` are refused without asking.
   */
  readonly onUnknown?: (info: HostKeyInfo) => boolean | Promise<boolean>;
  /** Append a key `onUnknown` accepted to the file (default true). */
  readonly remember?: boolean;
  /** Hash the names of appended lines (default false). */
  readonly hash?: boolean;
}

/**
 * A {@link HostKeyVerifier} backed by a known_hosts file: `match` is trusted, `mismatch` and
 * `revoked` refused, `unknown` left to `onUnknown` (then remembered in the file).
 *
 * @example
 * ```ts
 * import { mkdtempSync, readFileSync } from 'node:fs';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { connectTcp } from 'pluggable-ssh/transports/tcp';
 *
 * const path = join(mkdtempSync(join(tmpdir(), 'ssh-')), 'known_hosts'); // ~/.ssh/known_hosts
 * const verify = knownHostsVerifier({
 *   path,
 *   onUnknown: (info) => {
 *     console.log(`trusting ${fingerprintSha256(info.keyBlob)}`); // prints: trusting SHA256:
 *     return true; // an interactive client asks the user first
 *   },
 * });
 * const session = connectTcp({ host, port }, {
 *   role: 'client',
 *   onHostKey: hostKeyRequestHandler(verify, { host, port }),
 *   auth: { username, methods: [{ type: 'publickey', key }] },
 *   onEvent: (event) => {
 *     if (event.type !== 'authenticated') return;
 *     console.log(readFileSync(path, 'utf8')); // prints: ssh-ed25519 (after [127.0.0.1]:port)
 *     sessionDisconnect(session);
 *   },
 * });
 * ```
 */
export function knownHostsVerifier(options: KnownHostsVerifierOptions): HostKeyVerifier {
  if (typeof options?.path !== 'string') throw usage('knownHostsVerifier needs a path');
  return async (info) => {
    const known = await loadKnownHosts(options.path);
    const verdict = known.check(info.host, info.port, info.keyBlob);
    if (verdict !== 'unknown') return verdict === 'match';
    if (!options.onUnknown || (await options.onUnknown(info)) !== true) return false;
    if (options.remember ?? true) {
      const hash = options.hash ?? false;
      await appendKnownHostsLine(
        options.path,
        knownHostsLine(info.host, info.port, info.keyBlob, { hash }),
      );
    }
    return true;
  };
}

/**
 * Answers the core's `onHostKey` request with a verifier: `accept()` when it returns true,
 * `reject()` when it returns false, throws or rejects. A synchronous verdict is given inside
 * the callback; a promise's when it settles.
 */
export function hostKeyRequestHandler(
  verify: HostKeyVerifier,
  target: { readonly host: string; readonly port?: number },
): (request: HostKeyRequest) => void {
  const port = target.port ?? 22;
  return (request) => {
    const info: HostKeyInfo = {
      host: target.host,
      port,
      algorithm: request.algorithm,
      keyType: request.keyType,
      keyBlob: request.publicKey,
      fingerprint: request.fingerprint,
    };
    const answer = (ok: boolean) => {
      if (ok) request.accept();
      else request.reject(`host key ${request.fingerprint} is not trusted for ${target.host}`);
    };
    const failed = (e: unknown) =>
      request.reject(`host key check failed: ${e instanceof Error ? e.message : String(e)}`);
    let result: boolean | Promise<boolean>;
    try {
      result = verify(info);
    } catch (e) {
      failed(e);
      return;
    }
    if (typeof result === 'boolean') answer(result);
    else Promise.resolve(result).then((ok) => answer(ok === true), failed);
  };
}
