import { describe, expect, it } from 'vitest';
import type { ClientAuthConfig, ServerAuthConfig } from '../../src/auth/types.js';
import { type SessionEvent, sessionState } from '../../src/index.js';
import { engineOf } from '../../src/session.js';
import { attachUpperLayers } from '../../src/upper.js';
import { createMemoryLink } from '../../transports/memory.js';
import { hostKey, seededRandom } from '../helpers.js';

describe('with src/upper.ts', () => {
  it('authenticates, then hands over to the connection layer', async () => {
    const [a, b] = createMemoryLink({ delivery: 'deferred' });
    const clientEvents: string[] = [];
    const serverEvents: string[] = [];
    const serverConfig = {
      role: 'server' as const,
      hostKeys: [hostKey('ed25519')],
      random: seededRandom(3),
      onEvent: (e: SessionEvent) => serverEvents.push(e.type),
      onAuth: (req) => (req.password === 'pw' ? req.accept() : req.reject()),
    } satisfies ServerAuthConfig & Record<string, unknown>;
    const server = b.create(serverConfig as never);
    attachUpperLayers(engineOf(server), serverConfig as never);
    const auth: ClientAuthConfig = {
      username: 'u',
      methods: [{ type: 'password', password: 'pw' }],
    };
    const clientConfig = {
      role: 'client' as const,
      random: seededRandom(4),
      onHostKey: (r: { accept(): void }) => r.accept(),
      onEvent: (e: SessionEvent) => clientEvents.push(e.type),
      auth,
    };
    const client = a.create(clientConfig as never);
    const upper = attachUpperLayers(engineOf(client), clientConfig as never);
    for (let i = 0; i < 50 && !clientEvents.includes('authenticated'); i++) {
      await new Promise((r) => setImmediate(r));
    }
    expect(clientEvents).toContain('authenticated');
    expect(serverEvents).toContain('authenticated');
    expect(upper.connection).toBeDefined();
    expect(sessionState(client)).toBe('established');
  });
});
