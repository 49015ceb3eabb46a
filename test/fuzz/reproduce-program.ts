/**
 * @module
 * Prints a digest of one harness run, so a test can compare runs made in two processes.
 * Usage: tsx reproduce-program.ts <scenario key> <seed> <linkSeed>
 */

import { createHash } from 'node:crypto';
import { runScenario, SCENARIOS } from '../../src/testing/index.js';

const [key, seed, linkSeed] = process.argv.slice(2);
const t = runScenario({
  scenario: SCENARIOS[key as keyof typeof SCENARIOS],
  seed: Number(seed),
  linkSeed: Number(linkSeed),
  split: { maxPiece: 11 },
  delivery: 'deferred',
});
const hash = createHash('sha256');
for (const side of [t.client, t.server]) {
  hash.update(side.sent);
  hash.update(side.events.join('\n'));
  hash.update(JSON.stringify(side.calls));
}
process.stdout.write(hash.digest('hex'));
