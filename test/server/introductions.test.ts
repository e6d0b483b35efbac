// The introductions table on its own (nonces, expiry, bound), and the roles as the server sends
// them to both ends of an introduction over real mutual TLS.
import { describe, expect, it } from 'vitest';
import { createIntroductions } from '../../server/introductions.js';
import { serverSuite, type Client } from './helpers.js';

const suite = serverSuite(['alice', 'bob'], 'intro');

describe('introductions', () => {
  it('introductions - the asker dials (tls-client), the target accepts (tls-server), whichever of the two asks', async () => {
    const { port } = await suite.server();
    const online = (name: string): Promise<Client> => suite.online(port, name);
    const alice = await online('alice');
    const bob = await online('bob');
    expect(alice.id).not.toBe(bob.id);

    // Both ways round, so the role follows who asked, not the lower id or the first to sign in.
    for (const [asker, target] of [
      [alice, bob],
      [bob, alice],
    ]) {
      asker.send({ type: 'introduce-request', target: target.id });
      const [toAsker, toTarget] = await Promise.all([asker.next('introduce'), target.next('introduce')]);
      expect(toAsker).toMatchObject({ peer: target.id, role: 'tls-client' });
      expect(toTarget).toMatchObject({ peer: asker.id, role: 'tls-server' });
      // One introduction, seen from its two ends.
      expect(toTarget.nonce).toBe(toAsker.nonce);
    }
  });

  it('introductions - a target that does not allow the asker gets a contact-request with no address, the asker PEER_ASKED; once allowed, both are introduced', async () => {
    const { port } = await suite.server();
    const alice = await suite.online(port, 'alice');
    const bob = await suite.online(port, 'bob');
    bob.send({ type: 'allow-list', ids: [] });
    // The allow list is applied before the next message of the same session is read.
    bob.send({ type: 'time-request' });
    await bob.next('time');
    alice.send({ type: 'introduce-request', target: bob.id });
    const [refused, request] = await Promise.all([alice.next('introduce-refused'), bob.next('contact-request')]);
    expect(refused).toMatchObject({ target: bob.id, code: 'PEER_ASKED' });
    expect(Object.keys(request).sort()).toEqual(['at', 'from', 'type']);
    expect(request.from).toBe(alice.id);
    expect(alice.received.map((m) => m.type)).not.toContain('introduce');
    expect(bob.received.map((m) => m.type)).not.toContain('introduce');

    bob.send({ type: 'allow-list', ids: [alice.id] });
    bob.send({ type: 'time-request' });
    await bob.next('time');
    alice.send({ type: 'introduce-request', target: bob.id });
    const [toAlice, toBob] = await Promise.all([alice.next('introduce'), bob.next('introduce')]);
    expect(toAlice.peer).toBe(bob.id);
    expect(toBob.peer).toBe(alice.id);
  });

  it('introductions - an allow list given at login applies from the first message', async () => {
    const { port } = await suite.server();
    const alice = await suite.online(port, 'alice');
    const { signIn } = await import('./helpers.js');
    const bob = await signIn({ port, creds: suite.pki.creds.bob, caPem: suite.pki.caPem }, { allow: [] });
    suite.keep(bob);
    alice.send({ type: 'introduce-request', target: bob.id });
    expect(await alice.next('introduce-refused')).toMatchObject({ code: 'PEER_ASKED' });
    expect(await bob.next('contact-request')).toMatchObject({ from: alice.id });
  });

  it('introductions - a nonce is found for its pair, either way round, until it expires', () => {
    const intros = createIntroductions({ ttlMs: 100, max: 10 });
    const intro = intros.add(1, 2, 1000);
    expect(intro?.nonce).toMatch(/^[0-9a-f]{32}$/);
    const nonce = intro?.nonce as string;
    expect(intros.find(nonce, 1, 2, 1050)).toEqual(intro);
    expect(intros.find(nonce, 2, 1, 1100)).toEqual(intro);
    expect(intros.find(nonce, 1, 3, 1050)).toBeNull();
    expect(intros.find(nonce, 1, 2, 1101)).toBeNull();
    expect(intros.find('00'.repeat(16), 1, 2, 1050)).toBeNull();
    intros.remove(nonce);
    expect(intros.find(nonce, 1, 2, 1050)).toBeNull();
  });

  it('introductions - bounded: the expired go first, then new ones are refused', () => {
    const intros = createIntroductions({ ttlMs: 100, max: 2 });
    intros.add(1, 2, 0);
    intros.add(1, 3, 50);
    expect(intros.add(1, 4, 60)).toBeNull();
    // At 120 the first has expired: room for one more.
    expect(intros.add(1, 4, 120)).not.toBeNull();
    expect(intros.size()).toBe(2);
    intros.sweep(1000);
    expect(intros.size()).toBe(0);
  });
});
