// What the benchmarks of two clients share: a PKI made as `parley cert` makes it (fewer key
// iterations), a Parley server on loopback, and clients started as `parley up` starts them, each
// with its own profile, made contacts of each other with the grants the run needs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const DIST = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
export const PASSWORD = 'bench password';

const { createCa } = await import(path.join(DIST, 'cert/ca.js'));
const { createCsr } = await import(path.join(DIST, 'cert/csr.js'));
const { signCsr } = await import(path.join(DIST, 'cert/sign.js'));
const { loadIdentity } = await import(path.join(DIST, 'src/net/tls.js'));
const { startServer } = await import(path.join(DIST, 'server/server.js'));
const { startClient } = await import(path.join(DIST, 'src/node/client.js'));
const { installIdentity } = await import(path.join(DIST, 'src/node/identity.js'));
const { openProfile } = await import(path.join(DIST, 'src/node/profile.js'));

// A CA in `dir` and one holder per name: { name: { caFile, certFile, keyFile } }; 'server' gets
// the server role for 127.0.0.1, the others the client role.
export async function makePki(dir, names) {
  const ca = await createCa(PASSWORD, { name: 'Bench CA', iterations: 1000 });
  fs.writeFileSync(path.join(dir, 'ca.pem'), ca.certPem);
  const files = {};
  for (const name of names) {
    const role = name === 'server' ? 'server' : 'client';
    const csr = await createCsr(name, PASSWORD, { iterations: 1000 });
    const signed = signCsr({ certPem: ca.certPem, key: ca.key }, csr.csrPem, role === 'server' ? { role, hosts: ['127.0.0.1'] } : { role });
    files[name] = { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, `${name}.crt`), keyFile: path.join(dir, `${name}.key`) };
    fs.writeFileSync(files[name].certFile, signed.certPem);
    fs.writeFileSync(files[name].keyFile, csr.keyPem, { mode: 0o600 });
  }
  return files;
}

export function identityOf(files) {
  return loadIdentity({ ...files, password: PASSWORD });
}

export function startBenchServer(dir, files) {
  return startServer({ identity: identityOf(files), dataDir: path.join(dir, 'server'), host: '127.0.0.1', port: 0, admin: false });
}

// A profile at `home` for the holder of `files`, told where the server is, and its id from a first
// login; the client is left running (close() it) unless `keep` is false.
export async function benchClient(home, files, port, { listen = true, keep = true } = {}) {
  const identity = installIdentity(home, files, PASSWORD);
  const options = { home, identity, run: async () => 2, listen, log: () => undefined };
  const c = await startClient(options);
  await c.profile.append({ type: 'settings.changed', key: 'server', value: `127.0.0.1:${port}` });
  await c.close();
  const again = await startClient(options);
  await again.firstLogin;
  if (keep) return again;
  const id = again.state().id;
  await again.close();
  return { id };
}

// A client run by `parley up` in a process of its own, as a person runs it, on a profile made by
// benchClient(..., { keep: false }); `events` are appended to it first (its contact, grants,
// settings). `env` adds to the child's environment (PARLEY_NO_LISTEN=1: relay only).
// PARLEY_BENCH_NODE_ARGS: options for its node (e.g. "--cpu-prof --cpu-prof-dir=DIR").
// Returns { child, pid, said: () => its stderr, stop() }.
export async function upProcess(home, events, env = {}) {
  const profile = await openProfile(home);
  await profile.appendMany(events);
  await profile.close();
  const nodeArgs = (process.env.PARLEY_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(DIST, 'src/cli.js'), 'up', '--home', home], {
    env: { ...process.env, PARLEY_KEY_PASSWORD: PASSWORD, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let said = '';
  child.stderr.on('data', (d) => (said += d));
  const closed = new Promise((resolve) => child.on('close', resolve));
  return {
    child,
    pid: child.pid,
    said: () => said,
    stop: async () => {
      child.kill('SIGTERM');
      await closed;
    },
  };
}

// The events that make `peer` a whitelisted contact granted `messages` and `files` packets.
export function friendEvents(peer, name, { messages = 0, files = 0 } = {}) {
  const events = [{ type: 'contact.added', peer, name, whitelisted: true }];
  if (messages > 0) events.push({ type: 'quota.granted', peer, direction: 'inbound', kind: 'messages', n: messages });
  if (files > 0) events.push({ type: 'quota.granted', peer, direction: 'inbound', kind: 'files', n: files });
  return events;
}

// Each of two running clients adds the other and grants it `messages` and `files` packets.
export async function befriend(a, aId, b, bId, { messages = 0, files = 0 } = {}) {
  for (const [self, peer, name] of [
    [a, bId, 'bob'],
    [b, aId, 'alice'],
  ]) {
    await self.profile.appendMany(friendEvents(peer, name, { messages, files }));
  }
}

// Message round trips from `a` to `peer`: the time from `message.sent` appended to its
// `message.delivered` journaled by `a`.
// `marks`, when given, gets each round trip's times on this process's clock in epoch ms: the
// send, its synced write done, the receipt journaled (its stamp, whole ms) and heard (for a split
// with the receiver's journal).
export function roundTripper(a, peer, prefix, marks = null) {
  let waiting = null;
  a.profile.subscribe((event) => {
    if (event.type === 'message.delivered' && waiting && event.id === waiting.id) waiting.resolve(event.at);
  });
  const epoch = () => performance.timeOrigin + performance.now();
  return async (i, text) => {
    const id = `${prefix}-${i}`;
    const done = new Promise((resolve) => (waiting = { id, resolve }));
    const t0 = performance.now();
    const sent = epoch();
    await a.profile.append({ type: 'message.sent', id, peer, text, packets: 1 });
    const synced = epoch();
    const stamped = await done;
    if (marks) marks.set(id, { sent, synced, stamped, back: epoch() });
    return performance.now() - t0;
  };
}

export { stats } from './figures.mjs';
