// The server as several processes over NATS (issue 13): three server processes (in this process,
// each with its own listener, journal and cluster connection) on a real three-node NATS cluster
// on loopback (test/helpers/nats.ts). Clients on different processes see each other's presence,
// get introduced and relayed; one key gets one id and one session across the cluster; a
// revocation made on one process closes the session on another; a process that stops frees its
// clients' ids; a NATS node killed leaves sign-ins working.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RendezvousServer } from '../../server/server.js';
import type { ServerOptions } from '../../server/server.js';
import { startNatsCluster, type NatsCluster } from '../helpers/nats.js';
import { cleanup, connect, makeServerPki, serverOn, signIn, tempDir, within, type Client, type TestPki } from './helpers.js';

let pki: TestPki;
let nats: NatsCluster;
const open: Client[] = [];
const servers: RendezvousServer[] = [];
const dirs: string[] = [];
let run = 0;

beforeAll(async () => {
  [pki, nats] = await Promise.all([makeServerPki(['alice', 'bob', 'carol']), startNatsCluster({ nodes: 3 })]);
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  cleanup(pki?.dir);
});
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) cleanup(d);
});

// Short timings, so that a dead process is found in a test's time.
const TIMING = { heartbeatMs: 300, deadAfterMs: 1_500, fenceAfterMs: 1_000 };

// `count` processes of one cluster (a name of its own per test, so tests share no buckets), each
// told its own listener is its public address.
async function cluster(count: number, options: Partial<ServerOptions> = {}): Promise<Array<{ srv: RendezvousServer; port: number }>> {
  run += 1;
  const name = `t${process.pid}x${run}`;
  const out: Array<{ srv: RendezvousServer; port: number }> = [];
  for (let i = 0; i < count; i++) {
    const dataDir = tempDir(`cluster-${i}`);
    dirs.push(dataDir);
    // The public address is known only once it listens on port 0: a fixed free port instead.
    const port = await freePort();
    const srv = await serverOn(pki, dataDir, {
      ...options,
      port,
      cluster: { servers: nats.urls, node: `p${i}`, publicAddress: `127.0.0.1:${port}`, name, replicas: 3, ...TIMING },
    });
    servers.push(srv);
    out.push({ srv, port });
  }
  return out;
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function online(port: number, name: string): Promise<Client> {
  const c = await signIn({ port, creds: pki.creds[name], caPem: pki.caPem, heartbeatEveryMs: 1_000 });
  open.push(c);
  return c;
}

describe('cluster', () => {
  it('cluster - clients on two processes see each other come and go, are introduced, and meet on the asker\'s process for a relay', async () => {
    const [p0, p1] = await cluster(2);
    const alice = await online(p0.port, 'alice');
    alice.send({ type: 'presence-watch', ids: [] });
    const bob = await online(p1.port, 'bob');
    expect(bob.id).not.toBe(alice.id);

    alice.send({ type: 'presence-watch', ids: [bob.id] });
    await alice.waitFor('presence', (m) => m.id === bob.id && m.online === true, 5_000);

    alice.send({ type: 'introduce-request', target: bob.id });
    const [ia, ib] = await Promise.all([alice.next('introduce'), bob.next('introduce')]);
    expect(ia).toMatchObject({ peer: bob.id, role: 'tls-client', relay: `127.0.0.1:${p0.port}`, peerKey: pki.creds.bob.keySha256, listenPort: 40000 });
    expect(ib).toMatchObject({ peer: alice.id, role: 'tls-server', relay: `127.0.0.1:${p0.port}`, peerKey: pki.creds.alice.keySha256, listenPort: 40000 });
    expect(ib.nonce).toBe(ia.nonce);

    // Both dial the process the introduction names (alice's), bob from another process's session.
    const end = async (name: string, peer: number): Promise<Client> => {
      const c = await connect({ port: p0.port, creds: pki.creds[name], caPem: pki.caPem, stopAt: 'relay-ready' });
      open.push(c);
      c.send({ type: 'relay-request', peer, nonce: ia.nonce });
      return c;
    };
    const [ra, rb] = await Promise.all([end('alice', bob.id), end('bob', alice.id)]);
    await Promise.all([ra.next('relay-ready'), rb.next('relay-ready')]);
    const sa = ra.detach();
    const sb = rb.detach();
    expect(sa.length + sb.length).toBe(0);
    const got = within<string>(5_000, 'bytes through the relay', (resolve) => {
      let text = '';
      rb.socket.on('data', (d: Buffer) => {
        text += d.toString();
        if (text.includes('hello bob')) resolve(text);
      });
      rb.socket.resume();
    });
    ra.socket.write('hello bob');
    expect(await got).toBe('hello bob');

    bob.close();
    await alice.waitFor('presence', (m) => m.id === bob.id && m.online === false, 5_000);
  });

  it('cluster - consent works across processes: a target that has not allowed the asker is asked (no address), one that blocks it refuses', async () => {
    const [p0, p1] = await cluster(2);
    const alice = await online(p0.port, 'alice');
    const bob = await signIn({ port: p1.port, creds: pki.creds.bob, caPem: pki.caPem }, { allow: [] });
    open.push(bob);
    await within(5_000, 'bob online for alice\'s process', (resolve) => {
      alice.send({ type: 'presence-watch', ids: [bob.id] });
      void alice.waitFor('presence', (m) => m.id === bob.id && m.online, 5_000).then(() => resolve(undefined));
    });
    alice.send({ type: 'introduce-request', target: bob.id });
    const [refused, request] = await Promise.all([alice.next('introduce-refused'), bob.next('contact-request')]);
    expect(refused).toMatchObject({ target: bob.id, code: 'PEER_ASKED' });
    expect(request.from).toBe(alice.id);
    expect(bob.received.map((m) => m.type)).not.toContain('introduce');

    bob.send({ type: 'block-list', ids: [alice.id] });
    bob.send({ type: 'time-request' });
    await bob.next('time');
    alice.send({ type: 'introduce-request', target: bob.id });
    expect(await alice.next('introduce-refused')).toMatchObject({ target: bob.id, code: 'PEER_REFUSED' });
  });

  it('cluster - one key signing in on two processes at once gets one session and the same id everywhere', async () => {
    const [p0, p1] = await cluster(2);
    const [a, b] = await Promise.all([
      connect({ port: p0.port, creds: pki.creds.carol, caPem: pki.caPem }),
      connect({ port: p1.port, creds: pki.creds.carol, caPem: pki.caPem }),
    ]);
    open.push(a, b);
    const answers = await Promise.all([a.login(), b.login()]);
    const ok = answers.filter((m) => m.type === 'login-ok');
    const refused = answers.filter((m) => m.type === 'login-refused');
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ code: 'ALREADY_SIGNED_IN' });
    expect((refused[0] as { reason: string }).reason).toMatch(/^already signed in from 127\.0\.0\.1$/);

    // Gone from one, it signs in on the other with the same id.
    const winner = answers[0].type === 'login-ok' ? a : b;
    const id = (ok[0] as { id: number }).id;
    const other = winner === a ? p1 : p0;
    winner.close();
    const again = await within<Client>(5_000, 'carol signed in on the other process', (resolve, reject) => {
      const tryOnce = (): void => {
        connect({ port: other.port, creds: pki.creds.carol, caPem: pki.caPem })
          .then(async (c) => {
            open.push(c);
            const m = await c.login();
            if (m.type === 'login-ok') resolve(c);
            else setTimeout(tryOnce, 100);
          })
          .catch(reject);
      };
      tryOnce();
    });
    expect(again.id).toBe(id);
  });

  it('cluster - a revocation made on one process closes the session on another, and the key is refused everywhere', async () => {
    const [p0, p1] = await cluster(2);
    const alice = await online(p0.port, 'alice');
    const bob = await online(p1.port, 'bob');
    alice.send({ type: 'presence-watch', ids: [bob.id] });
    await alice.waitFor('presence', (m) => m.id === bob.id && m.online, 5_000);

    const result = await p0.srv.revoke(pki.creds.bob.keySha256);
    expect(result).toMatchObject({ revoked: true, id: bob.id });
    const bye = await bob.waitFor('bye', () => true, 5_000);
    expect(bye.code).toBe('REVOKED');
    await alice.waitFor('revoked', (m) => m.id === bob.id, 5_000);
    await alice.waitFor('presence', (m) => m.id === bob.id && !m.online, 5_000);
    expect((await p1.srv.revoke(pki.creds.bob.keySha256)).revoked).toBe(false);

    for (const port of [p0.port, p1.port]) {
      const c = await connect({ port, creds: pki.creds.bob, caPem: pki.caPem });
      open.push(c);
      expect(await c.login()).toMatchObject({ type: 'login-refused', code: 'CERT_REVOKED' });
    }
  });

  it('cluster - a process that stops frees its ids: its client signs in on another, and watchers elsewhere saw it go', async () => {
    const [p0, p1] = await cluster(2);
    const alice = await online(p0.port, 'alice');
    const bob = await online(p1.port, 'bob');
    alice.send({ type: 'presence-watch', ids: [bob.id] });
    await alice.waitFor('presence', (m) => m.id === bob.id && m.online, 5_000);
    await p1.srv.close();
    await alice.waitFor('presence', (m) => m.id === bob.id && !m.online, 5_000);
    const back = await online(p0.port, 'bob');
    expect(back.id).toBe(bob.id);
  });

  it('cluster - with one NATS node killed, sign-ins go on within 10 s (a known key: a new one waits for the ids\' stream)', async () => {
    const [p0, p1] = await cluster(2);
    await online(p0.port, 'alice');
    // Bob has signed in before (his id is in the cluster), then left.
    const first = await online(p1.port, 'bob');
    first.close();
    await first.closed;
    await nats.kill(0);
    try {
      const started = Date.now();
      // Each try is bounded by the client's own wait for login-ok (5 s); one that meets the
      // election of a new leader for the buckets' streams times out, and the next goes on.
      let bob: Client | null = null;
      while (!bob && Date.now() - started < 12_000) {
        try {
          const c = await connect({ port: p1.port, creds: pki.creds.bob, caPem: pki.caPem });
          open.push(c);
          const m = await c.login();
          if (m.type === 'login-ok') bob = c;
        } catch {
          // timed out: try again
        }
        if (!bob) await new Promise((r) => setTimeout(r, 100));
      }
      if (!bob) throw new Error('bob did not sign in within 12 s of a NATS node killed');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(bob.id).toBeGreaterThan(0);
    } finally {
      await nats.restart(0);
    }
  });
});
