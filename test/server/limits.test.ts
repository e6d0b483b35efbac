// The server's rate and capacity bounds on a logged-in session (PROTOCOL.md section 6, Bounds):
// introductions a minute (introduce-refused RATE_LIMITED), relays in all (relay-refused
// RELAY_LIMIT), and presence-watch and block-list changes a minute (error RATE_LIMITED, the
// session goes on). Real server, real TLS clients on loopback.
import { describe, expect, it } from 'vitest';
import { connect, serverSuite, within, WAIT_MS, type Client } from './helpers.js';

const suite = serverSuite(['alice', 'bob', 'carol', 'dave'], 'limits');
const { server, online } = suite;

// A relay connection: TLS with the same certificate, no login, relay-request first (section 8).
async function relayEnd(port: number, name: string, peer: number, nonce: string): Promise<Client> {
  const c = await connect({ port, creds: suite.pki.creds[name], caPem: suite.pki.caPem, stopAt: 'relay-ready' });
  suite.keep(c);
  c.send({ type: 'relay-request', peer, nonce });
  return c;
}

// Every frame the server sent before its answer to this time-request has been read.
async function caughtUp(c: Client): Promise<void> {
  c.send({ type: 'time-request' });
  await c.next('time');
}

describe('limits - introductions', () => {
  it('limits - introductions beyond introductionsPerMinute get RATE_LIMITED, the target learns nothing, the session goes on', async () => {
    const { port } = await server({ introductionsPerMinute: 3 });
    const a = await online(port, 'alice');
    const b = await online(port, 'bob');
    for (let i = 0; i < 3; i++) {
      a.send({ type: 'introduce-request', target: b.id });
      await a.next('introduce');
      await b.next('introduce');
    }
    a.send({ type: 'introduce-request', target: b.id });
    await expect(a.next('introduce-refused')).resolves.toMatchObject({ target: b.id, code: 'RATE_LIMITED' });
    await caughtUp(a);
    await caughtUp(b);
    expect(b.received.filter((m) => m.type === 'introduce')).toHaveLength(3);
    expect(a.isClosed()).toBe(false);
    // The bound is the asker's: bob may still ask for alice.
    b.send({ type: 'introduce-request', target: a.id });
    await expect(b.next('introduce')).resolves.toMatchObject({ peer: a.id });
  });
});

describe('limits - relays', () => {
  it('limits - a relay-request beyond maxRelays gets relay-refused RELAY_LIMIT; a place freed is taken again', async () => {
    // One relay in all: alice and bob's pair takes it (the second end of a pair opens no new relay).
    const { port, srv } = await server({ maxRelays: 1, maxRelaysPerClient: 4, relayPairTimeoutMs: 60_000 });
    const [a, b, c, d] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((n) => online(port, n)));
    a.send({ type: 'introduce-request', target: b.id });
    c.send({ type: 'introduce-request', target: d.id });
    const [iab, icd] = await Promise.all([a.next('introduce'), c.next('introduce')]);
    const ra = await relayEnd(port, 'alice', b.id, iab.nonce);
    const rb = await relayEnd(port, 'bob', a.id, iab.nonce);
    await Promise.all([ra.next('relay-ready'), rb.next('relay-ready')]);
    expect(srv.stats()).toMatchObject({ relays: 1, relaysWaiting: 0 });

    // carol has no relay at all: only the server's cap can refuse her.
    const rc = await relayEnd(port, 'carol', d.id, icd.nonce);
    await expect(rc.next('relay-refused')).resolves.toMatchObject({ peer: d.id, code: 'RELAY_LIMIT' });
    await within<void>(WAIT_MS, 'the refused relay connection to be closed', (resolve) => void rc.closed.then(resolve));
    expect(srv.stats()).toMatchObject({ relays: 1, relaysWaiting: 0 });

    // The pair ends: the place is free, and carol's introduction (not spent by a refusal) opens one.
    ra.close();
    await within<void>(WAIT_MS, 'the relay to end', (resolve) => {
      const t = setInterval(() => srv.stats().relays === 0 && resolve(), 10);
      return () => clearInterval(t);
    });
    const rc2 = await relayEnd(port, 'carol', d.id, icd.nonce);
    const rd = await relayEnd(port, 'dave', c.id, icd.nonce);
    await expect(Promise.all([rc2.next('relay-ready'), rd.next('relay-ready')])).resolves.toHaveLength(2);
  });
});

describe('limits - presence-watch and block-list changes', () => {
  it('limits - changes beyond listChangesPerMinute get error RATE_LIMITED, are not applied, and the session goes on', async () => {
    const { port } = await server({ listChangesPerMinute: 3 });
    const w = await online(port, 'bob');
    const a = await online(port, 'alice');
    const carolId = (await online(port, 'carol')).id;
    // Three changes, both kinds counted together: all applied.
    w.send({ type: 'block-list', ids: [] });
    w.send({ type: 'presence-watch', ids: [carolId] });
    await expect(w.next('presence')).resolves.toMatchObject({ id: carolId, online: true });
    w.send({ type: 'presence-watch', ids: [a.id] });
    await expect(w.next('presence')).resolves.toMatchObject({ id: a.id, online: true });

    // The fourth and fifth are refused, and say so.
    w.send({ type: 'presence-watch', ids: [carolId] });
    await expect(w.next('error')).resolves.toMatchObject({ code: 'RATE_LIMITED' });
    w.send({ type: 'block-list', ids: [a.id] });
    const refused = await w.next('error');
    expect(refused.code).toBe('RATE_LIMITED');
    expect(refused.reason).toMatch(/block-list/);
    await caughtUp(w);
    expect(w.isClosed()).toBe(false);
    // No presence answered the refused watch.
    expect(w.received.filter((m) => m.type === 'presence')).toHaveLength(2);

    // The refused block-list did not block alice: her introduction to bob goes through.
    a.send({ type: 'introduce-request', target: w.id });
    await expect(w.next('introduce')).resolves.toMatchObject({ peer: a.id });
    // The watch in force is still [alice]: her leaving is told, and nothing about carol.
    a.send({ type: 'bye', code: 'QUIT', reason: 'bye' });
    await expect(w.next('presence')).resolves.toMatchObject({ id: a.id, online: false });
    expect(w.received.filter((m) => m.type === 'presence' && m.id === carolId)).toHaveLength(1);
  });

  it('limits - listChangesPerMinute is checked like the other options', async () => {
    for (const bad of [0, -1, 2.5]) {
      await expect(server({ listChangesPerMinute: bad })).rejects.toMatchObject({ code: 'SERVER_BAD_OPTION' });
    }
  });
});
