// Revoking a key on the running server (the admin socket's `revoke`, PROTOCOL.md section 11):
// journal it durably, tell the watchers of its id, close every connection of that key. The CLI's
// side of it is server/revoke.ts.
import { WIRE_CODE } from '../src/net/constants.js';
import type { ServerEvent } from './events.js';
import type { Conn } from './connections.js';
import { badKeySha256, serverClosed } from './errors.js';
import { revokedRefusal } from './login.js';
import type { Presence } from './presence.js';
import { keySha256Of, type Registry } from './registry.js';
import type { ControlMessage } from '../src/net/control.js';

export type RevokeResult = { keySha256: string; revoked: boolean; id: number | null; closed: number };

export type RevocationDeps = {
  registry: () => Registry;
  now: () => number;
  isClosed: () => boolean;
  // Stored and synced, then applied to the registry; rejects when the write fails.
  durable: (event: ServerEvent) => Promise<void>;
  connections: () => Iterable<Conn>;
  presence: Presence;
  refuse: (conn: Conn, last: ControlMessage | null) => void;
  finish: (conn: Conn, reason: string) => void;
};

const noop = (): void => undefined;

export function createRevocation(deps: RevocationDeps) {
  // Revocations being journaled, by key: a second revoke of the same key meanwhile waits for the
  // first and then finds it done, so the watchers are told once.
  const revoking = new Map<string, Promise<unknown>>();

  async function revoke(keySha256: string): Promise<RevokeResult> {
    const key = keySha256Of(keySha256);
    if (key === null) throw badKeySha256(keySha256);
    if (deps.isClosed()) throw serverClosed();
    const first = revoking.get(key);
    if (first) {
      await first.catch(noop);
      return revoke(key);
    }
    const done = revokeNow(key);
    revoking.set(key, done);
    try {
      return await done;
    } finally {
      revoking.delete(key);
    }
  }

  async function revokeNow(key: string): Promise<RevokeResult> {
    const already = deps.registry().revoked.has(key);
    if (!already) await deps.durable({ type: 'client.revoked', keySha256: key, at: deps.now() });
    const registry = deps.registry();
    const id = registry.byKey.get(key) ?? null;
    if (id !== null && !already) tell(key, id, registry.revoked.get(key) ?? deps.now());
    return { keySha256: key, revoked: !already, id, closed: closeHere(key) };
  }

  // Its watchers first, so they read "revoked" before "offline"; once only: they were told at
  // the first revocation, and a new watch of the id is told by watch().
  const told = new Set<string>();
  function tell(key: string, id: number, at: number): void {
    if (told.has(key)) return;
    told.add(key);
    deps.presence.announceRevoked(id, key, at);
  }

  // Closes every connection of the key here; how many.
  function closeHere(key: string): number {
    let count = 0;
    for (const conn of [...deps.connections()]) {
      const state = conn.phase.state;
      if (conn.keySha256 !== key || state === 'CLOSING' || state === 'CLOSED') continue;
      count += 1;
      if (state === 'SESSION') deps.refuse(conn, { type: 'bye', code: WIRE_CODE.REVOKED, reason: 'this certificate\'s key was revoked by the server\'s operator' });
      else if (state === 'RELAY' || state === 'RELAY_WAIT') deps.finish(conn, WIRE_CODE.REVOKED);
      else deps.refuse(conn, revokedRefusal());
    }
    return count;
  }

  // A revocation the cluster made known (cluster/contract.ts hooks.revoked), by another process
  // or by this one: told and closed here too. One under way here does it itself.
  function revokedElsewhere(key: string, at: number): void {
    if (revoking.has(key)) return;
    const id = deps.registry().byKey.get(key);
    if (id !== undefined) tell(key, id, at);
    closeHere(key);
  }

  return { revoke, revokedElsewhere };
}
