/**
 * The server's session channel against a client that does not play by the rules: a second
 * `exec` sent before the first was answered (the application accepts asynchronously) must be
 * refused, as only one exec/shell/subsystem can be granted per channel (RFC 4254 §6.5).
 */

import { describe, expect, it } from 'vitest';
import { connect, createServer } from '../../node/index.js';
import {
  channelOpenSession,
  channelRequestExec,
  channelRequestShell,
  generatePrivateKey,
} from '../../src/index.js';
import { createMemoryLink } from '../../transports/memory.js';
import { until } from './helpers.js';

async function serverAndClient(decide: (command: string) => 'accept' | 'reject') {
  const accepted: string[] = [];
  const server = createServer(
    { hostKeys: [generatePrivateKey('ed25519')], authenticate: (c) => c.password === 'pw' },
    (connection) => {
      connection.on('session', (accept) => {
        const session = accept();
        const start = (ok: () => unknown, no: () => void, name: string) => {
          setTimeout(() => {
            if (decide(name) === 'reject') return no();
            accepted.push(name);
            ok();
          }, 20);
        };
        session.on('exec', (ok, no, { command }) => start(ok, no, command));
        session.on('shell', (ok, no) => start(ok, no, 'shell'));
      });
    },
  );
  const [a, b] = createMemoryLink({ delivery: 'deferred' });
  server.serve((config) => b.create(config));
  const client = await connect({
    username: 'u',
    password: 'pw',
    verifyHostKey: () => true,
    link: (config) => a.create(config),
  });
  return { client, accepted };
}

/** Opens a raw session channel and sends `send` once it is open; collects the replies. */
function rawChannel(
  client: Awaited<ReturnType<typeof serverAndClient>>['client'],
  send: (channel: ReturnType<typeof channelOpenSession>) => void,
) {
  const results: string[] = [];
  channelOpenSession(client.session, {
    onEvent: (event, channel) => {
      if (event.type === 'open') send(channel);
      if (event.type === 'request-result') results.push(`${event.request} ${event.success}`);
    },
  });
  return results;
}

describe('a session channel grants one exec/shell/subsystem', () => {
  it('refuses a second exec sent while the first waits for an asynchronous accept', async () => {
    const { client, accepted } = await serverAndClient(() => 'accept');
    const results = rawChannel(client, (channel) => {
      channelRequestExec(channel, 'one');
      channelRequestExec(channel, 'two');
      channelRequestShell(channel);
    });
    await until(() => results.length === 3);
    expect(results).toEqual(['exec true', 'exec false', 'shell false']);
    await new Promise((r) => setTimeout(r, 50));
    expect(accepted).toEqual(['one']);
    await client.end();
  });

  it('takes a later request once the pending one was rejected', async () => {
    const { client, accepted } = await serverAndClient((c) => (c === 'one' ? 'reject' : 'accept'));
    let sendSecond = () => {};
    const results = rawChannel(client, (channel) => {
      channelRequestExec(channel, 'one');
      sendSecond = () => channelRequestExec(channel, 'two');
    });
    await until(() => results.length === 1);
    sendSecond();
    await until(() => results.length === 2);
    expect(results).toEqual(['exec false', 'exec true']);
    expect(accepted).toEqual(['two']);
    await client.end();
  });
});
