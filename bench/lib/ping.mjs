// The least work a durable message round trip needs: a bare Node TLS 1.3 ping-pong with the
// same certificates, between the calling process and one of its own, in which each side appends
// one synced record to a LevelDB before it answers (two synced writes per round trip). The
// messages bench measures Parley's round trips against it; the transfer bench runs it beside its
// bare transfer, as the floor of a message during a transfer.
//
// As a module: `pingSetup(dir, files, name)`. As a process (started by pingSetup):
//   node bench/lib/ping.mjs PORT_FILE DB CERTS
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { ClassicLevel } from 'classic-level';
import { fileURLToPath } from 'node:url';
import { DIST, identityOf } from './pair.mjs';

const here = fileURLToPath(import.meta.url);
const { serverTlsOptions, clientTlsOptions } = await import(path.join(DIST, 'src/net/tls.js'));
// The records go under the journal's own keys (an event's, by seq from 1).
const { eventKey } = await import(path.join(DIST, 'src/events/codec.js'));

if (process.argv[1] === here) await answer(...process.argv.slice(2));

// The answering side: each message appended (synced), then a short answer. It ends when the
// sender closes the socket.
async function answer(portFile, dbDir, certs) {
  const db = new ClassicLevel(dbDir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  let seq = 1;
  const server = tls.createServer(serverTlsOptions(identityOf(JSON.parse(certs))), (s) => {
    s.setNoDelay(true);
    s.on('data', async (chunk) => {
      await db.put(eventKey(seq++), chunk, { sync: true });
      s.write(Buffer.from('ack'));
    });
    s.on('close', () => server.close(() => db.close()));
  });
  server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
}

// An answering side of a ping-pong: `script` run with `args` in a process of its own, which writes
// the port it listens on to `portFile`. Its port once it listens, and a promise of its end.
export async function answering(script, args, portFile) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  const closed = new Promise((resolve) => child.on('close', resolve));
  while (!fs.existsSync(portFile) || fs.readFileSync(portFile, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
  return { port: Number(fs.readFileSync(portFile, 'utf8')), closed };
}

// The sending side, in this process: `files` holds the two identities' certificate files
// (`alice` sends, `bob` answers), `name` names the two LevelDBs under `dir`. roundTrip(text):
// the text written, its answer read, then one synced append here; its time in ms.
export async function pingSetup(dir, files, name) {
  const db = new ClassicLevel(path.join(dir, `${name}-a`), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const portFile = path.join(dir, `${name}-port`);
  const { port, closed } = await answering(here, [portFile, path.join(dir, `${name}-b`), JSON.stringify(files.bob)], portFile);
  let seq = 1;
  const c = tls.connect({ host: '127.0.0.1', port, ...clientTlsOptions(identityOf(files.alice), { expectRole: 'client' }) });
  await new Promise((r) => c.once('secureConnect', r));
  c.setNoDelay(true);
  let pending = null;
  c.on('data', () => pending && pending());
  const roundTrip = async (text) => {
    const payload = Buffer.from(text);
    const t0 = performance.now();
    const answered = new Promise((r) => (pending = r));
    c.write(payload);
    await answered;
    await db.put(eventKey(seq++), payload, { sync: true });
    return performance.now() - t0;
  };
  await roundTrip('hello');
  return {
    roundTrip,
    close: async () => {
      c.destroy();
      await closed;
      await db.close();
    },
  };
}
