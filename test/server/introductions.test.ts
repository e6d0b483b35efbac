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
