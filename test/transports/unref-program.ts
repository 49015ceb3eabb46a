/**
 * A server session with every clock set to a minute and nobody talking to it: the process must
 * exit at once, because the clocks' timers are unref'd. Prints `armed` when they are set.
 */

import { createMemoryLink } from '../../transports/memory.js';
import { addTimeouts } from '../../transports/timeouts.js';
import { hostKey } from '../helpers.js';

const [, end] = createMemoryLink();
const timeouts = addTimeouts(
  { role: 'server', hostKeys: [hostKey('ed25519')] },
  { handshakeMs: 60_000, authenticationMs: 60_000, idleMs: 60_000 },
);
timeouts.attach(end.create(timeouts.config));
process.stdout.write('armed\n');
