import { describe, expect, it } from 'vitest';
import { createIntroductions, rolesOf } from '../../server/introductions.js';

describe('introductions', () => {
  it('introductions - the asker dials (tls-client), the target accepts (tls-server)', () => {
    expect(rolesOf()).toEqual({ asker: 'tls-client', target: 'tls-server' });
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
