// Introductions the server has made and not yet used: nonce -> the pair and when it stops being
// good. A relay-request must name a live one (docs/PROTOCOL.md sections 7 and 8). Bounded by its
// time to live and by each client's introduction rate (server.ts), and by `max` in all.
import { randomBytes } from 'node:crypto';
import type { TlsRole } from '../src/net/constants.js';

export type Introduction = { nonce: string; asker: number; target: number; expires: number };

export type Introductions = {
  // null when `max` introductions are live already.
  add: (asker: number, target: number, now: number) => Introduction | null;
  // The live introduction of this nonce between these two ids (either way round), else null.
  find: (nonce: string, id: number, peer: number, now: number) => Introduction | null;
  remove: (nonce: string) => void;
  sweep: (now: number) => void;
  size: () => number;
};

// Who runs the TLS server on a socket that both sides opened at once: the target, since it is
// the side that already accepts peer links; the asker dials its listeners (PROTOCOL.md section 7).
export function rolesOf(): { asker: TlsRole; target: TlsRole } {
  return { asker: 'tls-client', target: 'tls-server' };
}

export function createIntroductions(options: { ttlMs: number; max: number }): Introductions {
  const live = new Map<string, Introduction>();

  function add(asker: number, target: number, now: number): Introduction | null {
    if (live.size >= options.max) sweep(now);
    if (live.size >= options.max) return null;
    const intro = { nonce: randomBytes(16).toString('hex'), asker, target, expires: now + options.ttlMs };
    live.set(intro.nonce, intro);
    return intro;
  }

  function find(nonce: string, id: number, peer: number, now: number): Introduction | null {
    const intro = live.get(nonce);
    if (!intro || intro.expires < now) return null;
    const matches = (intro.asker === id && intro.target === peer) || (intro.asker === peer && intro.target === id);
    return matches ? intro : null;
  }

  // Map iteration is in insertion order, and every entry lives equally long: the expired ones
  // are at the front.
  function sweep(now: number): void {
    for (const [nonce, intro] of live) {
      if (intro.expires >= now) break;
      live.delete(nonce);
    }
  }

  return { add, find, remove: (nonce) => void live.delete(nonce), sweep, size: () => live.size };
}
