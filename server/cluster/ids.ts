// The ids bucket's writes: a key's one id, an id's one key, and revocations. Write-once: a KV
// create succeeds over a delete marker, so nothing here is ever deleted (a deleted i.<id> could
// be given to a second key).
import type { KV } from '@nats-io/kv';
import { learnBinding, learnRevocation, type Effect, type Mirror } from './mirror.js';
import { create, read } from './store.js';
import { badClusterArgument } from './errors.js';

const KEY_SHA256 = /^[0-9a-f]{64}$/;

function checkKey(keySha256: string): void {
  if (!KEY_SHA256.test(keySha256)) throw badClusterArgument('keySha256', '64 lowercase hex characters', keySha256);
}

export type IdsDeps = { ids: KV; mirror: Mirror; run: (effects: Effect[]) => void; now: () => number };

export function createIds(deps: IdsDeps) {
  const { ids, mirror, run, now } = deps;

  // 1. The key's binding, from the mirror or the bucket (the mirror may lag the bucket).
  // 2. Else a candidate id: create i.<id> = key. Held by the same key (the same key racing on
  //    another process: the candidate is a function of the key and what is taken) -> go on;
  //    by another key -> it is taken, try the next candidate.
  // 3. Create k.<key> = id. If it exists, its id is the key's (the race's winner), and ours, if
  //    different, stays an orphan i.<id>: taken, never given to another key.
  async function register(keySha256: string, candidate: (taken: (id: number) => boolean) => number | null): Promise<number | null> {
    checkKey(keySha256);
    const known = mirror.keys.get(keySha256);
    if (known !== undefined) return known;
    const bound = await read(ids, `k.${keySha256}`);
    if (bound && bound.operation === 'PUT') return bind(keySha256, Number(bound.string()));
    for (;;) {
      // An id held by our own key (an earlier try that lost its k create) is not taken for it.
      const id = candidate((c) => mirror.ids.has(c) && mirror.ids.get(c) !== keySha256);
      if (id === null) return null;
      const i = await create(ids, `i.${id}`, keySha256);
      if (!i.created && i.value !== keySha256) {
        mirror.ids.set(id, i.value);
        continue;
      }
      mirror.ids.set(id, keySha256);
      const k = await create(ids, `k.${keySha256}`, String(id));
      return bind(keySha256, k.created ? id : Number(k.value));
    }
  }

  // The mirror (and through it the server's registry) has the binding before register returns.
  function bind(keySha256: string, id: number): number {
    run(learnBinding(mirror, keySha256, id, now()));
    return mirror.keys.get(keySha256) ?? id;
  }

  // False when the key was revoked already. The revoked hook runs here at once, and on the
  // other processes when their watch delivers r.<key>.
  async function revoke(keySha256: string, at: number): Promise<boolean> {
    checkKey(keySha256);
    const r = await create(ids, `r.${keySha256}`, String(at));
    run(learnRevocation(mirror, keySha256, r.created ? at : Number(r.value)));
    return r.created;
  }

  return { register, revoke };
}
