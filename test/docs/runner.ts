/**
 * @module
 * Runs generated documentation examples one after another in this process (started with
 * `node --import tsx`, so each is compiled by tsx), against the doc server (server.ts) it
 * starts first as a child process: imports each module, then waits until it
 * leaves nothing pending, as a program would exit, or until its time is up. Servers it left
 * listening are closed then. Writes one JSON line per example to the file named by argv[3].
 *
 *   node --import tsx test/docs/runner.ts <list.json> <results.jsonl>
 */

import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { endDocContext } from './context.js';

/** One line of the results file. */
export interface RunResult {
  readonly file: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly output: string;
  readonly ms: number;
}

interface Job {
  readonly file: string;
  readonly timeoutMs: number;
}

const [listPath, resultsPath] = process.argv.slice(2);
if (!listPath || !resultsPath) throw new Error('usage: runner.ts <list.json> <results.jsonl>');
const jobs = JSON.parse(readFileSync(listPath, 'utf8')) as Job[];

// What an example prints is collected, not shown: it goes into its result.
let output = '';
const capture =
  (_stream: NodeJS.WriteStream) =>
  (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  };
process.stdout.write = capture(process.stdout) as typeof process.stdout.write;
process.stderr.write = capture(process.stderr) as typeof process.stderr.write;

// Errors thrown later by an example's callbacks are charged to the example running.
let failures: string[] = [];
const describe = (e: unknown) => (e instanceof Error ? (e.stack ?? e.message) : String(e));
process.on('uncaughtException', (e) => failures.push(`uncaught: ${describe(e)}`));
process.on('unhandledRejection', (e) => failures.push(`unhandled rejection: ${describe(e)}`));
const exit = process.exit.bind(process);
process.exit = ((code?: number) => {
  throw new Error(`an example called process.exit(${code ?? ''}): examples must end by themselves`);
}) as typeof process.exit;

// Servers an example starts are recorded, so that "nothing pending" can ignore them.
let servers: net.Server[] = [];
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  servers.push(this);
  return (listen as (...a: unknown[]) => net.Server).apply(this, args);
} as typeof net.Server.prototype.listen;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function counts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

/** Resources beyond `base`, not counting the listening servers the example started. */
function pending(base: Map<string, number>): string[] {
  const extra: string[] = [];
  const listening = servers.filter((s) => s.listening).length;
  let serverAllowance = listening;
  for (const [kind, n] of counts()) {
    let over = n - (base.get(kind) ?? 0);
    if (/ServerWrap$|^PipeWrap$/.test(kind)) {
      const skip = Math.min(over, serverAllowance);
      over -= skip;
      serverAllowance -= skip;
    }
    for (let i = 0; i < over; i++) extra.push(kind);
  }
  return extra;
}

async function runOne(job: Job): Promise<RunResult> {
  output = '';
  failures = [];
  servers = [];
  const started = Date.now();
  const deadline = started + job.timeoutMs;
  await sleep(0);
  const base = counts();
  let timedOut = false;
  try {
    const evaluation = import(pathToFileURL(job.file).href);
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
    });
    try {
      const first = await Promise.race([evaluation.then(() => 'done' as const), expiry]);
      if (first === 'timeout') timedOut = true;
    } finally {
      clearTimeout(timer);
    }
  } catch (e) {
    failures.push(describe(e));
  }
  // Wait until the example leaves nothing pending (its sockets closed, its timers fired).
  while (!timedOut && failures.length === 0) {
    await sleep(5);
    if (pending(base).length === 0) break;
    if (Date.now() > deadline) timedOut = true;
  }
  if (timedOut) {
    failures.push(
      `did not finish within ${job.timeoutMs} ms; pending: ${pending(base).join(', ') || 'its top-level await'}`,
    );
  }
  for (const s of servers) s.close();
  const complaint = await endDocContext();
  if (complaint) failures.push(complaint);
  await sleep(0);
  const ms = Date.now() - started;
  return failures.length === 0
    ? { file: job.file, ok: true, output, ms }
    : { file: job.file, ok: false, error: failures.join('\n'), output, ms };
}

// The server the examples talk to runs in its own process, so that what it holds open is
// not counted as pending here.
const server = spawn(process.execPath, ['--import', 'tsx', 'test/docs/server-main.ts'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const serverEnv = await new Promise<Record<string, string>>((resolve, reject) => {
  let text = '';
  server.stdout.on('data', (c: Buffer) => {
    text += c.toString('utf8');
    if (text.includes('\n')) resolve(JSON.parse(text) as Record<string, string>);
  });
  server.on('exit', (code) =>
    reject(new Error(`the doc server exited (${code}) before it started`)),
  );
});
Object.assign(process.env, serverEnv);
for (const job of jobs) {
  const result = await runOne(job);
  appendFileSync(resultsPath, `${JSON.stringify(result)}\n`);
}
server.stdin.end();
// Whatever a failed example left behind must not keep the runner alive.
exit(0);
