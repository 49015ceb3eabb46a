import fc from 'fast-check';
import { describe, it } from 'vitest';
import { ClientAuth } from '../../src/auth/client-auth.js';
import {
  encodeBanner,
  encodeFailure,
  encodeInfoRequest,
  encodePasswordChangeRequest,
  encodePkOk,
} from '../../src/auth/messages.js';
import {
  encodeInfoResponse,
  encodeKeyboardInteractiveRequest,
  encodeNoneRequest,
  encodePasswordRequest,
  encodePublicKeyRequest,
} from '../../src/auth/request-messages.js';
import { ServerAuth } from '../../src/auth/server-auth.js';
import type { KeyboardInteractiveRequest, PasswordRequest } from '../../src/auth/types.js';
import { SshError } from '../../src/errors.js';
import type { LayerHost } from '../../src/layer.js';
import { hostKey } from '../helpers.js';

const SUCCESS = Uint8Array.of(52);

/** A LayerHost without a transport: records sends, runs callbacks and answers at once. */
function fakeHost(role: 'client' | 'server'): LayerHost {
  return {
    role,
    sessionId: new Uint8Array(32).fill(7),
    peerExtensions: new Map(),
    publicHandle: {},
    canSendUpper: true,
    sendUpper: () => true,
    sendControl: () => {},
    emit: () => {},
    callOut: (fn) => fn(),
    answer: (fn) => fn(),
    disconnect: () => {},
  };
}

describe('fuzz: any authentication message is handled or ends with a typed peer error', () => {
  const key = hostKey('ed25519');
  const raw = fc
    .tuple(fc.integer({ min: 50, max: 79 }), fc.uint8Array({ maxLength: 64 }))
    .map(([type, body]) => Uint8Array.of(type, ...body));
  const methodName = fc.constantFrom('none', 'password', 'publickey', 'keyboard-interactive', 'x');
  const toServer = fc.oneof(
    raw,
    fc.constant(SUCCESS),
    fc.string().map((u) => encodeNoneRequest(u)),
    fc.tuple(fc.string(), fc.string()).map(([u, p]) => encodePasswordRequest(u, p)),
    fc.constant(encodePublicKeyRequest('u', 'ssh-ed25519', key.publicKeyBlob)),
    fc
      .uint8Array({ maxLength: 80 })
      .map((sig) => encodePublicKeyRequest('u', 'ssh-ed25519', key.publicKeyBlob, sig)),
    fc.constant(encodeKeyboardInteractiveRequest('u')),
    fc.array(fc.string(), { maxLength: 3 }).map((r) => encodeInfoResponse(r)),
  );
  const toClient = fc.oneof(
    raw,
    fc.constant(SUCCESS),
    fc
      .tuple(fc.array(methodName, { maxLength: 4 }), fc.boolean())
      .map(([m, p]) => encodeFailure(m, p)),
    fc.string().map((b) => encodeBanner(b)),
    fc.constant(encodePkOk('ssh-ed25519', key.publicKeyBlob)),
    fc.constant(encodePasswordChangeRequest('change it')),
    fc
      .array(fc.record({ prompt: fc.string(), echo: fc.boolean() }), { maxLength: 3 })
      .map((prompts) => encodeInfoRequest({ name: '', instruction: '', prompts })),
  );
  const isPeerError = (e: unknown) =>
    e instanceof SshError && (e.origin === 'peer' || e.origin === 'negotiation');

  it('ServerAuth', () => {
    fc.assert(
      fc.property(fc.array(toServer, { maxLength: 8 }), fc.boolean(), (messages, prompt) => {
        const auth = new ServerAuth(
          fakeHost('server'),
          {
            authMethods: ['password', 'keyboard-interactive', 'publickey'],
            onAuth: (r) => {
              if (prompt && r.prompt)
                r.prompt({ prompts: [{ prompt: 'p', echo: false }] }, () => r.accept());
              else if (r.method === 'password') r.reject();
              else r.accept();
            },
          },
          () => {},
        );
        for (const m of messages) {
          try {
            auth.handleMessage(m[0]!, m);
          } catch (e) {
            if (!isPeerError(e)) throw e;
            return;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('ClientAuth', () => {
    const methods = [
      { type: 'none' as const },
      { type: 'password' as const, password: 'pw' },
      { type: 'password' as const, onPassword: (r: PasswordRequest) => r.answer('x') },
      { type: 'publickey' as const, key },
      {
        type: 'keyboard-interactive' as const,
        onPrompt: (r: KeyboardInteractiveRequest) => r.answer(r.prompts.map(() => '')),
      },
    ];
    fc.assert(
      fc.property(
        fc.array(toClient, { maxLength: 8 }),
        fc.array(fc.constantFrom(...methods), { minLength: 1, maxLength: 4 }),
        (messages, chosen) => {
          const auth = new ClientAuth(
            fakeHost('client'),
            { username: 'u', methods: chosen },
            () => {},
          );
          try {
            auth.start();
            for (const m of messages) auth.handleMessage(m[0]!, m);
          } catch (e) {
            if (!isPeerError(e)) throw e;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
