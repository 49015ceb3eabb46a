/**
 * The sans-IO agent client (src/agent/): exact request bytes, replies fed whole, split at
 * every byte and coalesced, hostile replies giving typed errors, and the request queue.
 */

import { describe, expect, it } from 'vitest';
import {
  AGENT_LIMITS,
  type AgentResult,
  agentClose,
  agentCreate,
  agentDisconnect,
  agentLastError,
  agentReceive,
  agentRequestIdentities,
  agentSign,
  agentSigner,
  generatePrivateKey,
  type SignRequest,
  SSH_ERR,
  SshError,
} from '../../src/index.js';
import { SshWriter } from '../../src/wire/writer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Frames an agent message body: uint32 length ‖ body. */
function frame(body: Uint8Array): Uint8Array {
  return new SshWriter().uint32(body.length).raw(body).finish();
}

function identitiesAnswer(keys: readonly { blob: Uint8Array; comment: string }[]): Uint8Array {
  const w = new SshWriter().byte(12).uint32(keys.length);
  for (const k of keys) w.string(k.blob).string(k.comment);
  return frame(w.finish());
}

function signResponse(algorithm: string, sig: Uint8Array): Uint8Array {
  return frame(
    new SshWriter()
      .byte(14)
      .string(new SshWriter().string(algorithm).string(sig).finish())
      .finish(),
  );
}

const ed = generatePrivateKey('ed25519');
const rsa = generatePrivateKey('rsa', { bits: 2048 });
const certBlob = new SshWriter()
  .string('ssh-ed25519-cert-v01@openssh.com')
  .string(new Uint8Array(32))
  .finish();

interface Harness {
  sent: Uint8Array[];
  closes: number;
  agent: ReturnType<typeof agentCreate>;
}

function harness(): Harness {
  const h = { sent: [] as Uint8Array[], closes: 0 } as Harness;
  h.agent = agentCreate(
    null,
    (_h, bytes) => {
      h.sent.push(bytes);
      return 0;
    },
    () => {
      h.closes++;
    },
  );
  return h;
}

function collect<T>(): { results: AgentResult<T>[]; done: (r: AgentResult<T>) => void } {
  const results: AgentResult<T>[] = [];
  return { results, done: (r) => results.push(r) };
}

describe('agent requests', () => {
  it('encodes REQUEST_IDENTITIES as 00000001 0b', () => {
    const h = harness();
    agentRequestIdentities(h.agent, () => {});
    expect(h.sent.map(hex)).toEqual(['000000010b']);
  });

  it('encodes SIGN_REQUEST with the RSA SHA-2 flags (2 for 256, 4 for 512, 0 otherwise)', () => {
    const flags: number[] = [];
    for (const alg of ['rsa-sha2-256', 'rsa-sha2-512', 'ssh-rsa', 'ssh-ed25519']) {
      const h = harness();
      agentSign(h.agent, rsa.publicKeyBlob, new Uint8Array([1, 2, 3]), alg, () => {});
      const msg = h.sent[0]!;
      const expected = new SshWriter()
        .byte(13)
        .string(rsa.publicKeyBlob)
        .string(new Uint8Array([1, 2, 3]))
        .uint32(signFlag(alg))
        .finish();
      expect(hex(msg)).toBe(hex(frame(expected)));
      flags.push(new DataView(msg.buffer, msg.byteOffset).getUint32(msg.length - 4));
    }
    expect(flags).toEqual([2, 4, 0, 0]);
  });
});

function signFlag(alg: string): number {
  return alg === 'rsa-sha2-256' ? 2 : alg === 'rsa-sha2-512' ? 4 : 0;
}

describe('agent replies', () => {
  const answer = identitiesAnswer([
    { blob: ed.publicKeyBlob, comment: 'ed key' },
    { blob: certBlob, comment: 'a certificate' },
    { blob: rsa.publicKeyBlob, comment: 'rsa key' },
  ]);

  it('lists identities and leaves certificates out', () => {
    const h = harness();
    const c = collect<{ keyType: string; comment: string }[]>();
    agentRequestIdentities(h.agent, c.done);
    expect(agentReceive(h.agent, answer)).toBe(answer.length);
    const r = c.results[0]!;
    expect(r.ok && r.value.map((i) => [i.keyType, i.comment])).toEqual([
      ['ssh-ed25519', 'ed key'],
      ['ssh-rsa', 'rsa key'],
    ]);
  });

  it('consumes only whole replies when fed one byte at a time', () => {
    const h = harness();
    const c = collect<unknown[]>();
    agentRequestIdentities(h.agent, c.done);
    let held = new Uint8Array(0);
    for (const b of answer) {
      const next = new Uint8Array(held.length + 1);
      next.set(held);
      next[held.length] = b;
      const n = agentReceive(h.agent, next);
      held = next.subarray(n);
      if (held.length > 0) expect(c.results).toHaveLength(0);
    }
    expect(held.length).toBe(0);
    expect(c.results).toHaveLength(1);
  });

  it('serializes requests and handles replies coalesced into one chunk', () => {
    const h = harness();
    const a = collect<unknown[]>();
    const b = collect<Uint8Array>();
    agentRequestIdentities(h.agent, a.done);
    agentSign(h.agent, ed.publicKeyBlob, new Uint8Array([9]), 'ssh-ed25519', b.done);
    expect(h.sent).toHaveLength(1);
    const sig = ed.sign('ssh-ed25519', new Uint8Array([9]));
    const both = Buffer.concat([answer, frame(new SshWriter().byte(14).string(sig).finish())]);
    // The second request goes out once the first reply is in, inside this call.
    expect(agentReceive(h.agent, both)).toBe(both.length);
    expect(h.sent).toHaveLength(2);
    expect(a.results[0]!.ok).toBe(true);
    const r = b.results[0]!;
    expect(r.ok && hex(r.value)).toBe(hex(sig));
  });

  it('reports SSH_AGENT_FAILURE as AGENT_REFUSED and stays usable', () => {
    const h = harness();
    const c = collect<Uint8Array>();
    agentSign(h.agent, ed.publicKeyBlob, new Uint8Array(1), 'ssh-ed25519', c.done);
    expect(agentReceive(h.agent, frame(new Uint8Array([5])))).toBe(5);
    const r = c.results[0]!;
    expect(!r.ok && r.error.code).toBe(SSH_ERR.AGENT_REFUSED);
    expect(agentLastError(h.agent)).toBeUndefined();
    agentRequestIdentities(h.agent, () => {});
    expect(h.sent).toHaveLength(2);
  });

  it('refuses a signature made with another algorithm than asked (no SHA-1 fallback)', () => {
    const h = harness();
    const c = collect<Uint8Array>();
    agentSign(h.agent, rsa.publicKeyBlob, new Uint8Array(1), 'rsa-sha2-512', c.done);
    agentReceive(h.agent, signResponse('ssh-rsa', new Uint8Array(256)));
    const r = c.results[0]!;
    expect(!r.ok && r.error.code).toBe(SSH_ERR.AGENT_REFUSED);
    expect(agentLastError(h.agent)).toBeUndefined();
  });

  it('drops the reply of a cancelled request and sends the next one', () => {
    const h = harness();
    const a = collect<unknown[]>();
    const b = collect<unknown[]>();
    const first = agentRequestIdentities(h.agent, a.done);
    agentRequestIdentities(h.agent, b.done);
    first.cancel();
    agentReceive(h.agent, answer);
    expect(a.results).toHaveLength(0);
    expect(h.sent).toHaveLength(2);
    agentReceive(h.agent, answer);
    expect(b.results).toHaveLength(1);
  });

  it('fails every pending request with CONNECTION_LOST when the link closes', () => {
    const h = harness();
    const a = collect<unknown[]>();
    const b = collect<unknown[]>();
    agentRequestIdentities(h.agent, a.done);
    agentRequestIdentities(h.agent, b.done);
    agentClose(h.agent);
    for (const r of [...a.results, ...b.results])
      expect(!r.ok && r.error.code).toBe(SSH_ERR.CONNECTION_LOST);
    expect(h.closes).toBe(0);
    const late = collect<unknown[]>();
    agentRequestIdentities(h.agent, late.done);
    expect(late.results).toHaveLength(1);
  });

  it('agentDisconnect calls close once and fails what is pending', () => {
    const h = harness();
    const a = collect<unknown[]>();
    agentRequestIdentities(h.agent, a.done);
    agentDisconnect(h.agent);
    agentDisconnect(h.agent);
    expect(h.closes).toBe(1);
    expect(a.results).toHaveLength(1);
  });

  it('throws SSH_ERR_USAGE past AGENT_LIMITS.PENDING_REQUESTS_MAX requests', () => {
    const h = harness();
    for (let i = 0; i < AGENT_LIMITS.PENDING_REQUESTS_MAX; i++)
      agentRequestIdentities(h.agent, () => {});
    expect(() => agentRequestIdentities(h.agent, () => {})).toThrow(
      expect.objectContaining({ code: SSH_ERR.USAGE }),
    );
  });
});

describe('hostile agent replies', () => {
  const u32 = (n: number) => new SshWriter().uint32(n).finish();
  const cases: { name: string; bytes: Uint8Array; code: string; request?: 'sign' }[] = [
    {
      name: 'a length over 256 KiB, before its body',
      bytes: u32(256 * 1024 + 1),
      code: SSH_ERR.LIMIT_EXCEEDED,
    },
    { name: 'a length of 2^32-1', bytes: u32(0xffffffff), code: SSH_ERR.LIMIT_EXCEEDED },
    { name: 'an empty message', bytes: u32(0), code: SSH_ERR.MALFORMED_MESSAGE },
    {
      name: 'a SIGN_RESPONSE to REQUEST_IDENTITIES',
      bytes: signResponse('ssh-ed25519', new Uint8Array(64)),
      code: SSH_ERR.UNEXPECTED_MESSAGE,
    },
    {
      name: 'SSH_AGENT_SUCCESS to REQUEST_IDENTITIES',
      bytes: frame(new Uint8Array([6])),
      code: SSH_ERR.UNEXPECTED_MESSAGE,
    },
    {
      name: 'more identities than AGENT_LIMITS.IDENTITIES_MAX',
      bytes: frame(new SshWriter().byte(12).uint32(2049).finish()),
      code: SSH_ERR.LIMIT_EXCEEDED,
    },
    {
      name: 'a count the body cannot hold',
      bytes: frame(new SshWriter().byte(12).uint32(1000).finish()),
      code: SSH_ERR.MALFORMED_MESSAGE,
    },
    {
      name: 'a truncated identity',
      bytes: frame(new SshWriter().byte(12).uint32(1).string(ed.publicKeyBlob).uint32(10).finish()),
      code: SSH_ERR.MALFORMED_MESSAGE,
    },
    {
      name: 'a key blob over 16 KiB',
      bytes: frame(
        new SshWriter()
          .byte(12)
          .uint32(1)
          .uint32(16 * 1024 + 1)
          .raw(new Uint8Array(16 * 1024 + 1))
          .string('')
          .finish(),
      ),
      code: SSH_ERR.LIMIT_EXCEEDED,
    },
    {
      name: 'a key blob without a type name',
      bytes: frame(
        new SshWriter()
          .byte(12)
          .uint32(1)
          .string(new Uint8Array([0, 0, 0, 9, 1]))
          .string('')
          .finish(),
      ),
      code: SSH_ERR.MALFORMED_MESSAGE,
    },
    {
      name: 'trailing bytes after the identities',
      bytes: frame(new SshWriter().byte(12).uint32(0).byte(0).finish()),
      code: SSH_ERR.MALFORMED_MESSAGE,
    },
    {
      name: 'a FAILURE with a body',
      bytes: frame(new Uint8Array([5, 0])),
      code: SSH_ERR.MALFORMED_MESSAGE,
    },
    {
      name: 'a signature that is not `string alg ‖ string sig`',
      bytes: frame(
        new SshWriter()
          .byte(14)
          .string(new Uint8Array([0, 0, 0, 1, 0x41]))
          .finish(),
      ),
      code: SSH_ERR.MALFORMED_MESSAGE,
      request: 'sign',
    },
    {
      name: 'a signature over 16 KiB',
      bytes: frame(
        new SshWriter()
          .byte(14)
          .string(new Uint8Array(16 * 1024 + 1))
          .finish(),
      ),
      code: SSH_ERR.LIMIT_EXCEEDED,
      request: 'sign',
    },
  ];
  for (const c of cases) {
    it(`ends with ${c.code} on ${c.name}`, () => {
      const h = harness();
      const got = collect<unknown>();
      if (c.request === 'sign')
        agentSign(h.agent, ed.publicKeyBlob, new Uint8Array(1), 'ssh-ed25519', got.done);
      else agentRequestIdentities(h.agent, got.done);
      expect(agentReceive(h.agent, c.bytes)).toBe(-1);
      const err = agentLastError(h.agent);
      expect(err).toBeInstanceOf(SshError);
      expect(err?.code).toBe(c.code);
      expect(h.closes).toBe(1);
      const r = got.results[0]!;
      expect(!r.ok && r.error).toBe(err);
      expect(agentReceive(h.agent, c.bytes)).toBe(-1);
      expect(h.closes).toBe(1);
    });
  }

  it('ends with UNEXPECTED_MESSAGE on a reply nobody asked for', () => {
    const h = harness();
    expect(agentReceive(h.agent, frame(new Uint8Array([5])))).toBe(-1);
    expect(agentLastError(h.agent)?.code).toBe(SSH_ERR.UNEXPECTED_MESSAGE);
  });

  it('never throws on random replies (only a typed error or an answer)', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let i = 0; i < 2000; i++) {
      const h = harness();
      agentRequestIdentities(h.agent, () => {});
      const body = new Uint8Array(1 + (rand() % 40));
      for (let j = 0; j < body.length; j++) body[j] = rand() & 0xff;
      body[0] = [5, 12, 14, 6][rand() % 4]!;
      const n = agentReceive(h.agent, frame(body));
      if (n < 0) expect(agentLastError(h.agent)).toBeInstanceOf(SshError);
    }
  });
});

describe('agentSigner', () => {
  function fakeRequest(algorithm: string) {
    const out: { completed?: Uint8Array; failed?: string } = {};
    const request: SignRequest = {
      algorithm,
      data: new Uint8Array([1]),
      complete: (b) => {
        out.completed = b;
      },
      fail: (why) => {
        out.failed = why ?? '';
      },
    };
    return { request, out };
  }

  it('offers rsa-sha2-512 then rsa-sha2-256 for RSA, never ssh-rsa unless asked', () => {
    const h = harness();
    const id = { keyType: 'ssh-rsa', keyBlob: rsa.publicKeyBlob, comment: '' };
    expect(agentSigner(h.agent, id)?.signatureAlgorithms).toEqual(['rsa-sha2-512', 'rsa-sha2-256']);
    expect(agentSigner(h.agent, id, { rsaAlgorithms: ['ssh-rsa'] })?.signatureAlgorithms).toEqual([
      'ssh-rsa',
    ]);
    const { request, out } = fakeRequest('ssh-rsa');
    agentSigner(h.agent, id)!.sign(request);
    expect(out.failed).toMatch(/ssh-rsa/);
    expect(h.sent).toHaveLength(0);
  });

  it('has no signer for key types the core does not sign with', () => {
    const h = harness();
    const dss = new SshWriter().string('ssh-dss').finish();
    expect(agentSigner(h.agent, { keyType: 'ssh-dss', keyBlob: dss, comment: '' })).toBeUndefined();
  });

  it('completes with the agent signature and fails on a refusal', () => {
    const h = harness();
    const signer = agentSigner(h.agent, {
      keyType: 'ssh-ed25519',
      keyBlob: ed.publicKeyBlob,
      comment: '',
    })!;
    const ok = fakeRequest('ssh-ed25519');
    signer.sign(ok.request);
    const sig = ed.sign('ssh-ed25519', new Uint8Array([1]));
    agentReceive(h.agent, frame(new SshWriter().byte(14).string(sig).finish()));
    expect(hex(ok.out.completed!)).toBe(hex(sig));
    const no = fakeRequest('ssh-ed25519');
    signer.sign(no.request);
    agentReceive(h.agent, frame(new Uint8Array([5])));
    expect(no.out.failed).toMatch(/refused/);
  });
});
