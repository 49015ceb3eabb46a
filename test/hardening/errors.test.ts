/**
 * The error codes of SPEC.md §10 that no other session-level test reaches: each ends a real
 * session once, with the documented origin and DISCONNECT reason.
 */

import { describe, expect, it } from 'vitest';
import { DISCONNECT_REASON, SSH_ERR, SSH_MSG } from '../../src/index.js';
import { SshWriter } from '../../src/wire/writer.js';
import { concatBytes, enc, plainPacket } from '../helpers.js';
import {
  expectCleanFault,
  expectEstablished,
  expectRawFault,
  kexInit,
  linkedPair,
  muteUpper,
  raw,
} from './harness.js';

const R = DISCONNECT_REASON;

describe('error codes at the session level', () => {
  it('SSH_ERR_NO_COMMON_ALGORITHM: no shared cipher, reason 3, origin negotiation', () => {
    const pair = linkedPair({
      client: { algorithms: { cipher: ['aes128-ctr'] } },
      server: { algorithms: { cipher: ['aes256-gcm@openssh.com'] } },
    });
    for (const side of [pair.server, pair.client]) {
      expect(side.engine.lastError?.origin).toBe('negotiation');
      expectCleanFault(side, undefined, SSH_ERR.NO_COMMON_ALGORITHM, R.KEY_EXCHANGE_FAILED);
    }
  });

  it('SSH_ERR_KEX_FAILED: an all-zero X25519 public value, reason 3', () => {
    const s = raw('server');
    const init = new SshWriter().byte(30).string(new Uint8Array(32)).finish();
    const input = concatBytes(
      enc('SSH-2.0-Zero_1.0\r\n'),
      plainPacket(kexInit('curve25519-sha256')),
      plainPacket(init),
    );
    expectRawFault(s, s.feed(input), SSH_ERR.KEX_FAILED, R.KEY_EXCHANGE_FAILED);
  });

  it('SSH_ERR_HOST_KEY_SIGNATURE_INVALID: a signature over H altered in transit, reason 3', () => {
    let asked = 0;
    let flipped = false;
    const pair = linkedPair({
      client: {
        onHostKey: (r) => {
          asked++;
          r.accept();
        },
      },
      tap: (from, bytes) => {
        // The server's second send starts with KEX_ECDH_REPLY; its signature ends the payload.
        if (from !== 'server' || flipped || bytes[5] !== 31) return bytes;
        flipped = true;
        const copy = bytes.slice();
        const view = new DataView(copy.buffer);
        const payloadEnd = 4 + view.getUint32(0) - copy[4]!;
        copy[payloadEnd - 1]! ^= 0x01;
        return copy;
      },
    });
    expect(flipped).toBe(true);
    expect(asked).toBe(0); // the application is never asked about an unproven key
    expectCleanFault(
      pair.client,
      pair.server,
      SSH_ERR.HOST_KEY_SIGNATURE_INVALID,
      R.KEY_EXCHANGE_FAILED,
    );
  });

  it('SSH_ERR_INTERNAL: an unexpected exception while handling input ends the session, reason 2', () => {
    const pair = linkedPair();
    expectEstablished(pair);
    muteUpper(pair.client);
    pair.server.engine.upper = {
      handleMessage: () => {
        throw new TypeError('a bug in a layer');
      },
    };
    pair.client.inject(new Uint8Array([SSH_MSG.GLOBAL_REQUEST, 0, 0, 0, 1, 0x78, 0]));
    expect(pair.server.engine.lastError?.origin).toBe('local');
    expectCleanFault(pair.server, pair.client, SSH_ERR.INTERNAL, R.PROTOCOL_ERROR);
  });
});
