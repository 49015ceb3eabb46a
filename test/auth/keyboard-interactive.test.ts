import { describe, expect, it } from 'vitest';
import { encodeFailure, encodeInfoRequest } from '../../src/auth/messages.js';
import {
  encodeInfoResponse,
  encodeKeyboardInteractiveRequest,
} from '../../src/auth/request-messages.js';
import type { AuthRequest, KeyboardInteractiveRequest } from '../../src/auth/types.js';
import {
  authPair,
  ended,
  errorCode,
  eventsOf,
  LINK_MODES,
  type RawLayer,
  until,
} from './harness.js';

/** A server asking a password, then a one-time code, over two rounds. */
function twoRoundServer(log: string[]) {
  return {
    authMethods: ['keyboard-interactive' as const],
    onAuth: (req: AuthRequest) => {
      log.push(`ask ${req.method}`);
      req.prompt?.(
        { name: 'Login', instruction: 'Step 1', prompts: [{ prompt: 'Password: ', echo: false }] },
        (first) => {
          log.push(`round 1 ${first.join(',')}`);
          if (first[0] !== 'pw') return req.reject();
          req.prompt?.(
            {
              prompts: [
                { prompt: 'Code: ', echo: true },
                { prompt: 'Again: ', echo: false },
              ],
            },
            (second) => {
              log.push(`round 2 ${second.join(',')}`);
              if (second[0] === '123456' && second[1] === '123456') req.accept();
              else req.reject();
            },
          );
        },
      );
    },
  };
}

function answering(seen: KeyboardInteractiveRequest[], delay?: number) {
  return (req: KeyboardInteractiveRequest) => {
    seen.push(req);
    const responses = req.prompts.map((p) => (p.prompt === 'Password: ' ? 'pw' : '123456'));
    if (delay === undefined) req.answer(responses);
    else setTimeout(() => req.answer(responses), delay);
  };
}

describe('keyboard-interactive authentication (RFC 4256)', () => {
  for (const mode of LINK_MODES) {
    it(`authenticates over two rounds of prompts (${mode.name})`, async () => {
      const log: string[] = [];
      const seen: KeyboardInteractiveRequest[] = [];
      const pair = authPair({
        link: mode.link,
        client: {
          username: 'kim',
          methods: [{ type: 'keyboard-interactive', onPrompt: answering(seen, 3) }],
        },
        server: twoRoundServer(log),
      });
      await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
      expect(log).toEqual(['ask keyboard-interactive', 'round 1 pw', 'round 2 123456,123456']);
      expect(seen.map((r) => [r.name, r.instruction, r.prompts])).toEqual([
        ['Login', 'Step 1', [{ prompt: 'Password: ', echo: false }]],
        [
          '',
          '',
          [
            { prompt: 'Code: ', echo: true },
            { prompt: 'Again: ', echo: false },
          ],
        ],
      ]);
      expect(eventsOf(pair.serverEvents, 'authenticated')).toEqual([
        { type: 'authenticated', username: 'kim', method: 'keyboard-interactive' },
      ]);
    });
  }

  it('fails when a response is wrong and moves to the next method', async () => {
    const pair = authPair({
      client: {
        username: 'kim',
        methods: [
          { type: 'keyboard-interactive', onPrompt: (r) => r.answer(r.prompts.map(() => 'bad')) },
          { type: 'password', password: 'pw' },
        ],
      },
      server: {
        authMethods: ['keyboard-interactive', 'password'],
        onAuth: (req) => {
          if (req.method === 'password') return req.accept();
          req.prompt?.({ prompts: [{ prompt: 'P: ', echo: false }] }, () => req.reject());
        },
      },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(eventsOf(pair.clientEvents, 'auth-failure').map((e) => e.method)).toEqual([
      'keyboard-interactive',
    ]);
  });

  it('cancelling the prompts gives up the method', async () => {
    const pair = authPair({
      client: {
        username: 'kim',
        methods: [{ type: 'keyboard-interactive', onPrompt: (r) => r.cancel() }],
      },
      server: twoRoundServer([]),
    });
    await until(pair, () => ended(pair));
    expect(errorCode(pair.client)).toBe('SSH_ERR_AUTH_FAILED');
  });

  it('throws SSH_ERR_USAGE for the wrong number of responses', async () => {
    let thrown: unknown;
    const pair = authPair({
      client: {
        username: 'kim',
        methods: [
          {
            type: 'keyboard-interactive',
            onPrompt: (r) => {
              try {
                r.answer([]);
              } catch (e) {
                thrown = e;
              }
              r.answer(r.prompts.map(() => 'pw'));
            },
          },
        ],
      },
      server: {
        authMethods: ['keyboard-interactive'],
        onAuth: (req) =>
          req.prompt?.({ prompts: [{ prompt: 'P', echo: false }] }, () => req.accept()),
      },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(thrown).toMatchObject({ code: 'SSH_ERR_USAGE' });
  });

  it('answers an empty INFO_REQUEST without asking the application', async () => {
    let prompted = 0;
    const pair = authPair({
      client: {
        username: 'kim',
        methods: [{ type: 'keyboard-interactive', onPrompt: () => prompted++ }],
      },
      server: {
        authMethods: ['keyboard-interactive'],
        onAuth: (req) =>
          req.prompt?.({ prompts: [] }, (responses) =>
            responses.length === 0 ? req.accept() : req.reject(),
          ),
      },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(prompted).toBe(0);
  });

  it('refuses an INFO_RESPONSE whose count does not match the prompts (RFC 4256 §3.4)', async () => {
    let answered = 0;
    const pair = authPair({
      client: 'raw',
      server: {
        authMethods: ['keyboard-interactive'],
        onAuth: (req) =>
          req.prompt?.({ prompts: [{ prompt: 'P', echo: false }] }, () => {
            answered++;
            req.accept();
          }),
      },
      clientScript: (layer, pair) => {
        layer.onStart = () => pair.sendFromClient(encodeKeyboardInteractiveRequest('kim'));
        layer.onMessage = (type) => {
          if (type === 60) pair.sendFromClient(encodeInfoResponse(['a', 'b']));
        };
      },
    });
    await until(pair, () => (pair.clientLayer as RawLayer).received.length >= 2);
    expect((pair.clientLayer as RawLayer).received).toEqual([
      encodeInfoRequest({ name: '', instruction: '', prompts: [{ prompt: 'P', echo: false }] }),
      encodeFailure(['keyboard-interactive'], false),
    ]);
    expect(answered).toBe(0);
  });

  it('refuses an over-long response without asking the application', async () => {
    let answered = 0;
    const pair = authPair({
      client: 'raw',
      server: {
        authMethods: ['keyboard-interactive'],
        onAuth: (req) =>
          req.prompt?.({ prompts: [{ prompt: 'P', echo: false }] }, () => {
            answered++;
            req.accept();
          }),
      },
      clientScript: (layer, pair) => {
        layer.onStart = () => pair.sendFromClient(encodeKeyboardInteractiveRequest('kim'));
        layer.onMessage = (type) => {
          if (type === 60) pair.sendFromClient(encodeInfoResponse(['x'.repeat(1025)]));
        };
      },
    });
    await until(pair, () => (pair.clientLayer as RawLayer).received.length >= 2);
    expect((pair.clientLayer as RawLayer).received[1]).toEqual(
      encodeFailure(['keyboard-interactive'], false),
    );
    expect(answered).toBe(0);
  });

  it('throws SSH_ERR_USAGE when the server application answers while prompting', async () => {
    let thrown: unknown;
    const pair = authPair({
      client: {
        username: 'kim',
        methods: [
          { type: 'keyboard-interactive', onPrompt: (r) => setTimeout(() => r.answer(['x']), 5) },
        ],
      },
      server: {
        authMethods: ['keyboard-interactive'],
        onAuth: (req) => {
          req.prompt?.({ prompts: [{ prompt: 'P', echo: false }] }, () => req.accept());
          try {
            req.accept();
          } catch (e) {
            thrown = e;
          }
        },
      },
    });
    await until(pair, () => eventsOf(pair.clientEvents, 'authenticated').length > 0);
    expect(thrown).toMatchObject({ code: 'SSH_ERR_USAGE' });
  });
});
