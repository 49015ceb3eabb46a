/**
 * @module
 * How the harness writes events into a transcript: one line per event, keeping only what must
 * not change with how bytes were cut, and an FNV-1a digest of the data received.
 */

import type { ChannelEvent } from '../connection/types.js';
import type { SessionEvent } from '../types.js';

/** Renders a session event as a transcript line (only what must not vary with splitting). */
export function renderSessionEvent(event: SessionEvent): string {
  switch (event.type) {
    case 'identification':
      return `identification ${event.peer}`;
    case 'handshake-complete':
    case 'rekey-complete':
      return `${event.type} ${Object.values(event.algorithms).join(' ')}`;
    case 'ext-info':
      return `ext-info ${[...event.extensions.keys()].join(',')}`;
    case 'service-accepted':
      return `service-accepted ${event.service}`;
    case 'auth-banner':
      return `auth-banner ${event.message.length}`;
    case 'auth-failure':
      return `auth-failure ${event.method} partial=${event.partialSuccess} left=${event.methodsLeft.join(',')}`;
    case 'authenticated':
      return `authenticated ${event.username} ${event.method}`;
    case 'rekey-started':
      return `rekey-started ${event.initiator}`;
    case 'debug':
      return `debug ${event.message}`;
    case 'unimplemented':
      return `unimplemented ${event.sequence}`;
    case 'disconnected':
      return `disconnected ${event.reason} ${event.description}`;
    case 'error':
      return `error ${event.error.code}`;
    default:
      return event.type;
  }
}

/** Renders a channel event as a transcript line. */
export function renderChannelEvent(event: ChannelEvent): string {
  switch (event.type) {
    case 'open-failed':
      return `open-failed ${event.reason}`;
    case 'data':
      return `data ${event.data.length}`;
    case 'extended-data':
      return `extended-data ${event.dataType} ${event.data.length}`;
    case 'request':
      return `request ${event.request.name} ${event.request.wantReply}`;
    case 'request-result':
      return `request-result ${event.request} ${event.success}`;
    default:
      return event.type;
  }
}

/** FNV-1a over `data`, continuing from `hash`. */
export function fnv1a(hash: number, data: Uint8Array): number {
  let h = hash;
  for (const byte of data) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}
