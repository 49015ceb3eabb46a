/** A transport from scratch: a byte pipe carries SSH once it makes the three calls (create,
 * receive, close) and gives the two callbacks (send, close). Here two node PassThrough streams
 * join our client and our server in one process. Run: npx tsx examples/custom-transport.ts */
import { PassThrough } from 'node:stream';
import * as ssh from '../src/index.js';

function send(out: PassThrough, bytes: Uint8Array): 0 | -1 {
  if (out.writableEnded) return -1; // the link is gone: the session ends
  out.write(bytes); // the bytes are ours now; the stream holds what the far end has not read
  return 0;
}
function attach(input: PassThrough, output: PassThrough, config: ssh.SessionConfig<ssh.Session>) {
  let pending = new Uint8Array(0); // what the session has not consumed: the transport keeps it
  let feeding = false; // never nest sessionReceive for one session: append, the loop goes on
  const session = ssh.sessionCreate(output, send, (out) => out.end(), config);
  input.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    if (feeding) return;
    feeding = true;
    while (pending.length > 0) {
      const n = ssh.sessionReceive(session, pending); // consumes whole lines or packets only
      if (n < 0) return input.destroy(); // the session ended: drop the link
      if (n === 0) break; // no whole line or packet yet: wait for more bytes
      pending = pending.subarray(n); // bytes that arrived during the call stay at the end
    }
    feeding = false;
  });
  input.on('end', () => ssh.sessionClose(session)); // the link closed under the session
}
function answerCommand(event: ssh.ChannelEvent, channel: ssh.Channel): void {
  if (event.type !== 'request' || event.request.parsed?.type !== 'exec') return;
  event.request.accept();
  ssh.channelWrite(channel, Buffer.from(`ran "${event.request.parsed.command}"\n`)); // fits
  ssh.channelClose(channel);
}
const [toServer, toClient] = [new PassThrough(), new PassThrough()];
const hostKey = ssh.generatePrivateKey('ed25519');
const pinned = ssh.fingerprintSha256(hostKey.publicKeyBlob);
attach(toServer, toClient, {
  role: 'server',
  hostKeys: [hostKey],
  onAuth: (request) => (request.password === 'secret' ? request.accept() : request.reject()),
  onChannelOpen: (request) => void request.accept({ onEvent: answerCommand }),
});
attach(toClient, toServer, {
  role: 'client',
  onHostKey: (request) => (request.fingerprint === pinned ? request.accept() : request.reject()),
  auth: { username: 'me', methods: [{ type: 'password', password: 'secret' }] },
  onEvent: (event, session) => {
    if (event.type !== 'authenticated') return;
    ssh.channelOpenSession(session, {
      onEvent: (e, channel) => {
        if (e.type === 'open') ssh.channelRequestExec(channel, 'hello');
        if (e.type === 'data') process.stdout.write(e.data);
        if (e.type === 'close') ssh.sessionDisconnect(session);
      },
    });
  },
});
