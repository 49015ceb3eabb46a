/**
 * @module
 * The ChaCha20 and Poly1305 primitives behind chacha20-poly1305@openssh.com (RFC 8439 §2.4,
 * §2.5; OpenSSH PROTOCOL.chacha20poly1305): libsodium through `sodium-native` where the native
 * addon loads (PERF-NOTES.md: about 10× faster Poly1305), otherwise a portable pair of
 * `node:crypto` ChaCha20 and the `@noble/ciphers` Poly1305.
 */

import { createCipheriv } from 'node:crypto';
import { createRequire } from 'node:module';
import { Poly1305 } from '@noble/ciphers/_poly1305.js';

/**
 * The two primitives the OpenSSH construction needs. ChaCha20 here is the original variant:
 * 64-bit nonce and 64-bit block counter (PROTOCOL.chacha20poly1305), not the RFC 8439 one.
 */
export interface ChaChaPolyProvider {
  /** Which implementation this is, for tests and diagnostics. */
  readonly name: 'sodium-native' | 'portable';
  /**
   * XORs `input` with the ChaCha20 keystream of `key` (32 bytes) and `nonce` (8 bytes),
   * starting at 64-byte block `counter`.
   * @param output - where to write: as long as `input`, and not partially overlapping it.
   */
  chacha20(
    key: Uint8Array,
    nonce: Uint8Array,
    counter: number,
    input: Uint8Array,
    output: Uint8Array,
  ): void;
  /** Writes the 16-byte Poly1305 tag of `message` under the one-time `key` into `output`. */
  poly1305(key: Uint8Array, message: Uint8Array, output: Uint8Array): void;
}

/** The subset of `sodium-native` used here (it ships no type declarations). */
interface SodiumNative {
  crypto_stream_chacha20_xor_ic(
    c: Uint8Array,
    m: Uint8Array,
    n: Uint8Array,
    ic: number,
    k: Uint8Array,
  ): void;
  crypto_onetimeauth(out: Uint8Array, input: Uint8Array, k: Uint8Array): void;
}

/**
 * The portable provider: node's `chacha20` cipher (16-byte IV = LE64(counter) ‖ nonce) and the
 * pure-JS Poly1305 of `@noble/ciphers`. Works wherever node:crypto does.
 *
 * @example
 * ```ts
 * const [oneTimeKey, message] = [new Uint8Array(32).fill(1), new TextEncoder().encode('abc')];
 * const tag = new Uint8Array(16);
 * portableChaChaPoly.poly1305(oneTimeKey, message, tag);
 * ```
 */
export const portableChaChaPoly: ChaChaPolyProvider = {
  name: 'portable',
  chacha20(key, nonce, counter, input, output) {
    // OpenSSL's chacha20 IV: LE64 block counter (ours stay below 2^32), then the nonce.
    const iv = new Uint8Array(16);
    iv[0] = counter & 0xff;
    iv[1] = (counter >>> 8) & 0xff;
    iv[2] = (counter >>> 16) & 0xff;
    iv[3] = (counter >>> 24) & 0xff;
    iv.set(nonce, 8);
    output.set(createCipheriv('chacha20', key, iv).update(input));
  },
  poly1305(key, message, output) {
    new Poly1305(key).update(message).digestInto(output);
  },
};

let sodiumLoaded = false;
let sodiumProvider: ChaChaPolyProvider | undefined;

function loadSodium(): SodiumNative | undefined {
  try {
    // In a CommonJS build `require` exists; in ESM make one. Either may fail (no addon).
    const load = typeof require === 'function' ? require : createRequire(import.meta.url);
    const mod = load('sodium-native') as Partial<SodiumNative>;
    if (
      typeof mod.crypto_stream_chacha20_xor_ic === 'function' &&
      typeof mod.crypto_onetimeauth === 'function'
    ) {
      return mod as SodiumNative;
    }
  } catch {
    // Optional dependency absent or its prebuild does not fit this platform.
  }
  return undefined;
}

/**
 * The libsodium provider, or `undefined` when `sodium-native` cannot be loaded. Loads the
 * addon on first call only, so importing this library never loads native code by itself.
 *
 * @example
 * ```ts
 * const fast = sodiumChaChaPoly(); // undefined in browsers or without the addon
 * ```
 */
export function sodiumChaChaPoly(): ChaChaPolyProvider | undefined {
  if (sodiumLoaded) return sodiumProvider;
  sodiumLoaded = true;
  const sodium = loadSodium();
  if (sodium === undefined) return undefined;
  sodiumProvider = {
    name: 'sodium-native',
    chacha20(key, nonce, counter, input, output) {
      sodium.crypto_stream_chacha20_xor_ic(output, input, nonce, counter, key);
    },
    poly1305(key, message, output) {
      sodium.crypto_onetimeauth(output, message, key);
    },
  };
  return sodiumProvider;
}

let forcePortable = false;

/**
 * Makes {@link defaultChaChaPoly} return the portable provider even where `sodium-native`
 * loads, so tests can run both paths. Affects sealers and openers created afterwards.
 *
 * @example
 * ```ts
 * forcePortableChaChaPoly(true);
 * try {
 *   console.log(defaultChaChaPoly().name); // prints: portable
 * } finally {
 *   forcePortableChaChaPoly(false);
 * }
 * ```
 */
export function forcePortableChaChaPoly(force: boolean): void {
  forcePortable = force;
}

/**
 * The provider new chacha20-poly1305 sealers and openers use: libsodium when it loads (and
 * the portable path is not forced), otherwise the portable one.
 *
 * @example
 * ```ts
 * console.log(defaultChaChaPoly().name); // 'sodium-native' or 'portable'
 * ```
 */
export function defaultChaChaPoly(): ChaChaPolyProvider {
  if (forcePortable) return portableChaChaPoly;
  return sodiumChaChaPoly() ?? portableChaChaPoly;
}
