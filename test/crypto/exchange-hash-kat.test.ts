import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CURVE25519_SHA256 } from '../../src/crypto/kex-curve25519.js';
import { MODP_PRIMES } from '../../src/crypto/kex-dh.js';
import { ECDH_SHA2_NISTP256 } from '../../src/crypto/kex-ecdh.js';
import { exchangeHash } from '../../src/transport/exchange-hash.js';
import { SshWriter } from '../../src/wire/writer.js';
import { bigToBytes, bytesToBig, hex, modPow, scriptedRandom, toHex } from './kex-helpers.js';

// paramiko tests/test_kex.py: a FakeTransport whose "KEXINIT payloads" are short strings.
const utf8 = (s: string) => new TextEncoder().encode(s);
const PARAMIKO_VERSION = 'SSH-2.0-paramiko_1.0';
const REMOTE_VERSION = 'SSH-2.0-lame';
const LOCAL_KEXINIT = utf8('local-kex-init');
const REMOTE_KEXINIT = utf8('remote-kex-init');

describe('exchangeHash (RFC 4253 §8, RFC 5656 §4)', () => {
  it('matches paramiko curve25519-sha256 as client (H 05B6F6…5475)', () => {
    const mine = CURVE25519_SHA256.start(
      scriptedRandom(hex('2184abc7eb3e656d2349d2470ee695b570c227340c2b2863b6c9ff427af1f040')),
    );
    const serverPublic = hex('8d13a119452382a1ada8eea4c979f3e63ad3f0c7366786d6c5b54b87219bae49');
    const k = mine.computeSecret(serverPublic);
    expect(bytesToBig(k)).toBe(
      71294722834835117201316639182051104803802881348227506835068888449366462300724n,
    );
    const h = exchangeHash('sha256', {
      clientId: PARAMIKO_VERSION,
      serverId: REMOTE_VERSION,
      clientKexinit: LOCAL_KEXINIT,
      serverKexinit: REMOTE_KEXINIT,
      hostKeyBlob: utf8('fake-host-key'),
      clientPublic: mine.publicValue,
      serverPublic,
      encoding: 'string',
      sharedSecret: k,
    });
    expect(toHex(h).toUpperCase()).toBe(
      '05B6F6437C0CF38D1A6C5A6F6E2558DEB54E7FC62447EBFB1E5D7407326A5475',
    );
  });

  it('matches paramiko curve25519-sha256 as server (H DF08FC…B042)', () => {
    const mine = CURVE25519_SHA256.start(
      scriptedRandom(hex('2184abc7eb3e656d2349d2470ee695b570c227340c2b2863b6c9ff427af1f040')),
    );
    const clientPublic = hex('8d13a119452382a1ada8eea4c979f3e63ad3f0c7366786d6c5b54b87219bae49');
    const h = exchangeHash('sha256', {
      clientId: REMOTE_VERSION,
      serverId: PARAMIKO_VERSION,
      clientKexinit: REMOTE_KEXINIT,
      serverKexinit: LOCAL_KEXINIT,
      hostKeyBlob: utf8('fake-key'),
      clientPublic,
      serverPublic: mine.publicValue,
      encoding: 'string',
      sharedSecret: mine.computeSecret(clientPublic),
    });
    expect(toHex(h).toUpperCase()).toBe(
      'DF08FCFCF31560FEE639D9B6D56D760BC3455B5ADA148E4514181023E7A9B042',
    );
  });

  it('matches paramiko ecdh-sha2-nistp256 as client (H BAF7CE…570A)', () => {
    const d = 94761803665136558137557783047955027733968423115106677159790289642479432803037n;
    const mine = ECDH_SHA2_NISTP256.start(scriptedRandom(bigToBytes(d, 32)));
    const serverPublic = hex(
      '043ae159594ba062efa121480e9ef136203fa9ec6b6e1f8723a321c16e62b945f573f3b822258cbcd094b9fa1c125cbfe5f043280893e66863cc0cb4dccbe70210',
    );
    const h = exchangeHash('sha256', {
      clientId: PARAMIKO_VERSION,
      serverId: REMOTE_VERSION,
      clientKexinit: LOCAL_KEXINIT,
      serverKexinit: REMOTE_KEXINIT,
      hostKeyBlob: utf8('fake-host-key'),
      clientPublic: mine.publicValue,
      serverPublic,
      encoding: 'string',
      sharedSecret: mine.computeSecret(serverPublic),
    });
    expect(toHex(h).toUpperCase()).toBe(
      'BAF7CE243A836037EB5D2221420F35C02B9AB6C957FE3BDE3369307B9612570A',
    );
  });

  it.each([
    {
      name: 'group14-sha256',
      hash: 'sha256' as const,
      prime: MODP_PRIMES.group14(),
      h: 'D007C23686BE8A7737F828DC9E899F8EB5AF423F495F138437BE2529C1B8455F',
    },
    {
      name: 'group16-sha512',
      hash: 'sha512' as const,
      prime: MODP_PRIMES.group16(),
      h: 'F6E2BCC846B9B62591EFB86663D55D4769CA06B2EDABE469DF831639B2DDD5A271985011900A724CB2C87F19F347B3632A7C1536AF3D12EE463E6EA75281AF0C',
    },
  ])('matches paramiko diffie-hellman-$name as client (mpint encoding)', (c) => {
    // paramiko's x (0x4c then 0xcc bytes), e = 2^x mod p, the fake server's f = 69.
    const p = bytesToBig(c.prime);
    const x = bytesToBig(hex('4c' + 'cc'.repeat(127)));
    const e = bigToBytes(modPow(2n, x, p));
    const f = Uint8Array.of(69);
    const k = bigToBytes(modPow(69n, x, p));
    const h = exchangeHash(c.hash, {
      clientId: PARAMIKO_VERSION,
      serverId: REMOTE_VERSION,
      clientKexinit: LOCAL_KEXINIT,
      serverKexinit: REMOTE_KEXINIT,
      hostKeyBlob: utf8('fake-host-key'),
      clientPublic: e,
      serverPublic: f,
      encoding: 'mpint',
      sharedSecret: k,
    });
    expect(toHex(h).toUpperCase()).toBe(c.h);
  });

  it('hashes exactly the RFC 4253 §8 field sequence', () => {
    const p = {
      clientId: 'SSH-2.0-a',
      serverId: 'SSH-2.0-b',
      clientKexinit: Uint8Array.of(20, 1, 2),
      serverKexinit: Uint8Array.of(20, 3),
      hostKeyBlob: Uint8Array.of(9, 9),
      clientPublic: Uint8Array.of(0x80, 1),
      serverPublic: Uint8Array.of(0, 5),
      sharedSecret: Uint8Array.of(0, 0, 0xff),
    };
    const prefix = () =>
      new SshWriter()
        .string(p.clientId)
        .string(p.serverId)
        .string(p.clientKexinit)
        .string(p.serverKexinit)
        .string(p.hostKeyBlob);
    const asString = prefix()
      .string(p.clientPublic)
      .string(p.serverPublic)
      .mpintUnsigned(p.sharedSecret)
      .finish();
    const asMpint = prefix()
      .mpintUnsigned(p.clientPublic)
      .mpintUnsigned(p.serverPublic)
      .mpintUnsigned(p.sharedSecret)
      .finish();
    // K = 0xff is hashed as mpint 00 00 00 02 00 ff.
    expect(toHex(asString.subarray(asString.length - 6))).toBe('0000000200ff');
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(toHex(exchangeHash('sha256', { ...p, encoding: 'string' }))).toBe(sha(asString));
    expect(toHex(exchangeHash('sha256', { ...p, encoding: 'mpint' }))).toBe(sha(asMpint));
    // e = 0x8001 needs a sign byte as an mpint, and f = 5 loses its leading zero.
    expect(toHex(asMpint.subarray(asMpint.length - 18))).toBe(
      '00000003008001' + '0000000105' + '0000000200ff',
    );
  });

  it('uses the hash of the method: SHA-384 and SHA-512 give 48 and 64 bytes', () => {
    const p = {
      clientId: 'a',
      serverId: 'b',
      clientKexinit: Uint8Array.of(20),
      serverKexinit: Uint8Array.of(20),
      hostKeyBlob: Uint8Array.of(),
      clientPublic: Uint8Array.of(4),
      serverPublic: Uint8Array.of(4),
      encoding: 'string' as const,
      sharedSecret: Uint8Array.of(1),
    };
    expect(exchangeHash('sha384', p).length).toBe(48);
    expect(exchangeHash('sha512', p).length).toBe(64);
  });
});
