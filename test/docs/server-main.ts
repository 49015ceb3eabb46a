/**
 * @module
 * The doc server as its own process (the runner starts it): prints its environment as one
 * JSON line on stdout, and stops when its stdin ends.
 *
 *   node --import tsx test/docs/server-main.ts
 */

import { startDocServer } from './server.js';

const server = await startDocServer();
process.stdout.write(`${JSON.stringify(server.env)}\n`);
process.stdin.on('end', () => {
  void server.close();
  setTimeout(() => process.exit(0), 1000).unref();
});
process.stdin.resume();
