/**
 * @module
 * The fixed budget of the property tests, and how to raise it: `FUZZ_RUNS` (runs per
 * property) and `FUZZ_SEED` (fast-check's seed); `npm run fuzz:props` runs 2000 per property.
 */

import { type Session, sessionClose, sessionCreate, sessionReceive } from '../../src/index.js';
import type { TransportAdapter } from '../../src/testing/index.js';
import { InputBuffer } from '../../transports/input-buffer.js';

/** Runs per property: `FUZZ_RUNS`, else `fallback`. */
export function runs(fallback: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** fast-check's seed: `FUZZ_SEED`, else `fallback`. */
export function seed(fallback: number): number {
  const n = Number(process.env.FUZZ_SEED);
  return process.env.FUZZ_SEED !== undefined && Number.isInteger(n) ? n : fallback;
}

/** Per-test timeout that grows with the runs asked for. */
export function timeout(fallbackRuns: number, msPerRun: number): number {
  return Math.max(60_000, runs(fallbackRuns) * msPerRun * 4);
}

/** Our shipped `InputBuffer` as a harness transport: the kit exercising one of our transports. */
export const inputBufferAdapter: TransportAdapter = {
  name: 'input-buffer',
  open(wire) {
    const input = new InputBuffer();
    let session: Session | undefined;
    return {
      create(config) {
        const s = sessionCreate(
          wire,
          (w, b) => w.send(b),
          (w) => w.close(),
          config,
        );
        session = s;
        input.attach((bytes) => sessionReceive(s, bytes));
        return s;
      },
      receive: (bytes) => void input.push(bytes),
      linkClosed: () =>
        input.afterDrain(() => {
          if (session) sessionClose(session);
        }),
    };
  },
};
