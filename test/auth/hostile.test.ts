import { describe, expect, it } from 'vitest';
import { AUTH_LIMITS } from '../../src/auth/limits.js';
import {
  encodeBanner,
  encodeFailure,
  encodeInfoRequest,
  encodePkOk,
} from '../../src/auth/messages.js';
import {
  encodeKeyboardInteractiveRequest,
  encodeNoneRequest,
  encodePasswordRequest,
  encodePublicKeyRequest,
} from '../../src/auth/request-messages.js';
import type { AuthRequest, ClientAuthConfig } from '../../src/auth/types.js';
import { SshWriter } from '../../src/wire/writer.js';
import { hostKey } from '../helpers.js';
import {
  authPair,
  disconnectReason,
  ended,
  errorCode,
  eventsOf,
  type RawLayer,
  until,
} from './harness.js';

const SUCCESS = Uint8Array.of(52);

/** A client whose first method waits for the application forever: no request outstanding. */
const waitingClient: ClientAuthConfig = {
  username: 'alice',
  methods: [{ type: 'password', onPassword: () => {} }],
};

/** A raw server that sends `payload` as soon as the client's service is accepted. */
function serverSendsAtStart(payload: Uint8Array) {
  return authPair({
    client: waitingClient,
    server: 'raw',
    serverScript: (layer, pair) => {
      layer.onStart = () => pair.sendFromServer(payload);
    },
  });
}

/** A raw client that sends `payloads` as soon as the service started. */
function clientSends(server: Parameters<typeof authPair>[0]['server'], ...payloads: Uint8Array[]) {
  return authPair({
    client: 'raw',
    server,
    clientScript: (layer, pair) => {
      layer.onStart = () => {
        for (const p of payloads) pair.sendFromClient(p);
      };
    },
  });
}

function request(user: Uint8Array | string, service: string, method: string): SshWriter {
  return new SshWriter().byte(50).string(user).string(service).string(method);
}

describe('out-of-phase messages', () => {
  it('ends a server that receives USERAUTH_SUCCESS (cf. CVE-2018-10933)', async () => {
    let asked = 0;
    const pair = clientSends({ onAuth: () => asked++ }, SUCCESS);
    await until(pair, () => ended(pair));
    expect(errorCode(pair.server)).toBe('SSH_ERR_UNEXPECTED_MESSAGE');
    expect(disconnectReason(pair.clientEvents)).toBe(2);
    expect(eventsOf(pair.serverEvents, 'authenticated')).toEqual([]);
    expect(asked).toBe(0);
  });

  for (const type of [51, 53, 60, 61, 62, 79]) {
    it(`ends a server that receives message ${type} unsolicited`, async () => {
      const pair = clientSends({ onAuth: (r) => r.accept() }, Uint8Array.of(type, 0, 0, 0, 0));
      await until(pair, () => ended(pair));
      expect(errorCode(pair.server)).toBe('SSH_ERR_UNEXPECTED_MESSAGE');
    });
  }

  it('ends a client that receives USERAUTH_SUCCESS before any request (bypass attempt)', async () => {
    const pair = serverSendsAtStart(SUCCESS);
    await until(pair, () => ended(pair));
    expect(errorCode(pair.client)).toBe('SSH_ERR_UNEXPECTED_MESSAGE');
    expect(eventsOf(pair.clientEvents, 'authenticated')).toEqual([]);
    expect(disconnectReason(pair.serverEvents)).toBe(2);
  });

  it('ends a client that receives USERAUTH_FAILURE with no request outstanding', async () => {
    const pair = serverSendsAtStart(encodeFailure(['password'], false));
    await until(pair, () => ended(pair));
    expect(errorCode(pair.client)).toBe('SSH_ERR_UNEXPECTED_MESSAGE');
  });

  it('ends a client that receives PK_OK without a publickey query outstanding', async () => {
    const pair = serverSendsAtStart(encodePkOk('ssh-ed25519', hostKey('ed25519').publicKeyBlob));
    await until(pair, () => ended(pair));
    expect(errorCode(pair.client)).toBe('SSH_ERR_UNEXPECTED_MESSAGE');
  });

  it('ends a client that receives INFO_REQUEST in reply to "none"', async () => {
    const pair = authPair({
      client: { username: 'alice', methods: [{ type: 'none' }] },
      server: 'raw',
      serverScript: (layer, pair) => {
        layer.onMessage = () =>
          pair.sendFromServer(encodeInfoRequest({ name: '', instruction: '', prompts: [] }));
      },
    });
    await until(pair, () => ended(pair));
    expect(errorCode(pair.client)).toBe('SSH_ERR_UNEXPECTED_MESSAGE');
  });

  it('ends a client that receives SUCCESS while its signer has not answered', async () => {
    const key = hostKey('ed25519');
    const pair = authPair({
      client: {
        username: 'alice',
        methods: [
          {
            type: 'publickey',
            signer: {
              publicKeyBlob: key.publicKeyBlob,
              signatureAlgorithms: ['ssh-ed25519'],
              sign: () => {},
            },
          },
        ],
      },
      server: 'raw',
      serverScript: (layer, pair) => {
        layer.onMessage = () => {
          pair.sendFromServer(encodePkOk('ssh-ed25519', key.publicKeyBlob));
          pair.sendFromServer(SUCCESS);
        };
      },
    });
    await until(pair, () => ended(pair));
    expect(errorCode(pair.client)).toBe('SSH_ERR_UNEXPECTED_MESSAGE');
  });

  for (const type of [50, 61, 70]) {
    it(`ends a client that receives message ${type}`, async () => {
      const pair = serverSendsAtStart(Uint8Array.of(type));
      await until(pair, () => ended(pair));
      expect(errorCode(pair.client)).toBe('SSH_ERR_UNEXPECTED_MESSAGE');
    });
  }

  it('refuses a service other than ssh-connection with SERVICE_NOT_AVAILABLE (7)', async () => {
    const pair = clientSends({}, request('alice', 'ssh-userauth', 'none').finish());
    await until(pair, () => ended(pair));
    expect(errorCode(pair.server)).toBe('SSH_ERR_SERVICE_NOT_AVAILABLE');
    expect(disconnectReason(pair.clientEvents)).toBe(7);
  });

  it('ends the session on trailing bytes after a request', async () => {
    const pair = clientSends({}, request('alice', 'ssh-connection', 'none').byte(0).finish());
    await until(pair, () => ended(pair));
    expect(errorCode(pair.server)).toBe('SSH_ERR_MALFORMED_MESSAGE');
  });
});

describe('user names', () => {
  it('refuses an over-long user name with LIMIT_EXCEEDED and reason 15', async () => {
    const user = 'u'.repeat(AUTH_LIMITS.USERNAME_BYTES_MAX + 1);
    const pair = clientSends({}, encodeNoneRequest(user));
    await until(pair, () => ended(pair));
    expect(errorCode(pair.server)).toBe('SSH_ERR_LIMIT_EXCEEDED');
    expect(disconnectReason(pair.clientEvents)).toBe(15);
  });

  it('accepts a user name of exactly the limit', async () => {
    const user = 'u'.repeat(AUTH_LIMITS.USERNAME_BYTES_MAX);
    const pair = clientSends({}, encodeNoneRequest(user));
    await until(pair, () => (pair.clientLayer as RawLayer).received.length > 0);
    expect((pair.clientLayer as RawLayer).received).toEqual([encodeFailure([], false)]);
  });

  it('refuses a user name that is not UTF-8 or contains NUL', async () => {
    for (const user of [Uint8Array.of(0xc3, 0x28), new TextEncoder().encode('root\0evil')]) {
      const pair = clientSends({}, request(user, 'ssh-connection', 'none').finish());
      await until(pair, () => ended(pair));
      expect(errorCode(pair.server)).toBe('SSH_ERR_MALFORMED_MESSAGE');
    }
  });

  it('keeps a leading byte-order mark: "\\uFEFFroot" is not "root"', async () => {
    const users: string[] = [];
    const pair = clientSends(
      {
        onAuth: (r) => {
          users.push(r.username);
          r.reject();
        },
      },
      encodePasswordRequest('\uFEFFroot', 'pw'),
    );
    await until(pair, () => users.length > 0);
    expect(users).toEqual(['\uFEFFroot']);
  });
});

describe('limits', () => {
  it('fails an over-long password without asking the application', async () => {
    const asked: AuthRequest[] = [];
    const pair = clientSends(
      {
        onAuth: (r) => {
          asked.push(r);
          r.accept();
        },
      },
      encodePasswordRequest('alice', 'p'.repeat(AUTH_LIMITS.PASSWORD_BYTES_MAX + 1)),
      encodePasswordRequest('alice', 'p'.repeat(AUTH_LIMITS.PASSWORD_BYTES_MAX)),
    );
    await until(pair, () => (pair.clientLayer as RawLayer).received.length >= 2);
    expect((pair.clientLayer as RawLayer).received).toEqual([
      encodeFailure(['publickey', 'password'], false),
      SUCCESS,
    ]);
    expect(asked.map((r) => r.password?.length)).toEqual([AUTH_LIMITS.PASSWORD_BYTES_MAX]);
  });

  it('ends the session on an over-long public key blob or signature', async () => {
    const big = new Uint8Array(AUTH_LIMITS.PUBLIC_KEY_BLOB_BYTES_MAX + 1);
    const pair1 = clientSends(
      { onAuth: (r) => r.accept() },
      encodePublicKeyRequest('a', 'ssh-ed25519', big),
    );
    const blob = hostKey('ed25519').publicKeyBlob;
    const pair2 = clientSends(
      { onAuth: (r) => r.accept() },
      encodePublicKeyRequest(
        'a',
        'ssh-ed25519',
        blob,
        new Uint8Array(AUTH_LIMITS.SIGNATURE_BYTES_MAX + 1),
      ),
    );
    await until(pair1, () => ended(pair1));
    await until(pair2, () => ended(pair2));
    expect(errorCode(pair1.server)).toBe('SSH_ERR_LIMIT_EXCEEDED');
    expect(errorCode(pair2.server)).toBe('SSH_ERR_LIMIT_EXCEEDED');
  });

  it('truncates a banner to BANNER_BYTES_MAX bytes', async () => {
    const pair = serverSendsAtStart(encodeBanner('b'.repeat(AUTH_LIMITS.BANNER_BYTES_MAX + 100)));
    await until(pair, () => eventsOf(pair.clientEvents, 'auth-banner').length > 0);
    expect(eventsOf(pair.clientEvents, 'auth-banner')[0]?.message).toBe(
      'b'.repeat(AUTH_LIMITS.BANNER_BYTES_MAX),
    );
  });

  it('ends a client on a FAILURE listing more than METHOD_NAMES_MAX methods', async () => {
    const names = Array.from({ length: AUTH_LIMITS.METHOD_NAMES_MAX + 1 }, (_, i) => `m${i}`);
    const pair = authPair({
      client: { username: 'alice', methods: [{ type: 'none' }] },
      server: 'raw',
      serverScript: (layer, pair) => {
        layer.onMessage = () => pair.sendFromServer(encodeFailure(names, false));
      },
    });
    await until(pair, () => ended(pair));
    expect(errorCode(pair.client)).toBe('SSH_ERR_LIMIT_EXCEEDED');
  });

  const kbdCases: [string, Uint8Array][] = [
    [
      'more than KBD_PROMPTS_MAX prompts',
      encodeInfoRequest({
        name: '',
        instruction: '',
        prompts: Array.from({ length: AUTH_LIMITS.KBD_PROMPTS_MAX + 1 }, () => ({
          prompt: 'p',
          echo: false,
        })),
      }),
    ],
    [
      'a prompt over KBD_TEXT_BYTES_MAX',
      encodeInfoRequest({
        name: '',
        instruction: '',
        prompts: [{ prompt: 'p'.repeat(AUTH_LIMITS.KBD_TEXT_BYTES_MAX + 1), echo: false }],
      }),
    ],
    [
      'an instruction over KBD_TEXT_BYTES_MAX',
      encodeInfoRequest({
        name: '',
        instruction: 'i'.repeat(AUTH_LIMITS.KBD_TEXT_BYTES_MAX + 1),
        prompts: [],
      }),
    ],
  ];
  for (const [what, payload] of kbdCases) {
    it(`ends a client on an INFO_REQUEST with ${what}`, async () => {
      let prompted = 0;
      const pair = authPair({
        client: {
          username: 'alice',
          methods: [{ type: 'keyboard-interactive', onPrompt: () => prompted++ }],
        },
        server: 'raw',
        serverScript: (layer, pair) => {
          layer.onMessage = () => pair.sendFromServer(payload);
        },
      });
      await until(pair, () => ended(pair));
      expect(errorCode(pair.client)).toBe('SSH_ERR_LIMIT_EXCEEDED');
      expect(prompted).toBe(0);
    });
  }

  it('ends a server on an INFO_RESPONSE with more than KBD_PROMPTS_MAX responses', async () => {
    const w = new SshWriter().byte(61).uint32(AUTH_LIMITS.KBD_PROMPTS_MAX + 1);
    const pair = authPair({
      client: 'raw',
      server: {
        authMethods: ['keyboard-interactive'],
        onAuth: (r) => r.prompt?.({ prompts: [{ prompt: 'P', echo: false }] }, () => r.accept()),
      },
      clientScript: (layer, pair) => {
        layer.onStart = () => pair.sendFromClient(encodeKeyboardInteractiveRequest('a'));
        layer.onMessage = () => pair.sendFromClient(w.finish());
      },
    });
    await until(pair, () => ended(pair));
    expect(errorCode(pair.server)).toBe('SSH_ERR_LIMIT_EXCEEDED');
  });
});
