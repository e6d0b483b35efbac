// Who holds each id's one session, cluster-wide: claim, release, and the sweep that frees what
// no live process holds (a dead node's sessions, a restarted node's old ones, ours released while
// NATS was away). The decisions are the mirror's (mirror.ts); this is their I/O.
import type { KV } from '@nats-io/kv';
import type { Holder } from './contract.js';
import { applyEntry, decideClaim, isOurs, noteNode, parseBeat, parseHolder, staleSessions, type Effect, type Mirror } from './mirror.js';
import { create, read, removeAt, update } from './store.js';
import { badClusterArgument } from './errors.js';

export type SessionsDeps = {
  sessions: KV;
  nodes: KV;
  mirror: Mirror;
  run: (effects: Effect[]) => void;
  connected: () => boolean;
  now: () => number;
  log: (line: string) => void;
};

export function createSessions(deps: SessionsDeps) {
  const { sessions, mirror, run, now, log } = deps;
  // Ids this process claimed and has not released; releases NATS did not take yet; deletes in
  // flight (one at a time per id).
  const held = new Set<number>();
  const unreleased = new Set<number>();
  const deleting = new Set<number>();

  function ours(id: number): boolean {
    const s = mirror.sessions.get(id);
    return s !== undefined && isOurs(mirror, s.holder);
  }

  async function claim(id: number, address: string): Promise<{ ok: true } | { ok: false; holder: Holder }> {
    if (!Number.isSafeInteger(id) || id <= 0) throw badClusterArgument('id', 'a positive integer', id);
    const key = `s.${id}`;
    const holder: Holder = { node: mirror.self.node, boot: mirror.self.boot, address, at: now() };
    const value = JSON.stringify(holder);
    const took = (revision: number): { ok: true } => {
      held.add(id);
      unreleased.delete(id);
      run(applyEntry(mirror, 'sessions', { key, revision, op: 'PUT', value, at: holder.at }, now()));
      return { ok: true };
    };
    let last: Holder = holder;
    // A few rounds: each lost one means another process wrote this key in between.
    for (let round = 0; round < 4; round++) {
      const c = await create(sessions, key, value);
      if (c.created) return took(c.revision);
      const existing = parseHolder(c.value);
      if (existing) {
        last = existing;
        if (existing.node !== mirror.self.node && !mirror.nodes.has(existing.node)) await learnNode(existing.node);
        const decision = decideClaim(mirror, existing);
        if (decision === 'ours') return took(c.revision);
        if (decision === 'refuse') return { ok: false, holder: existing };
      }
      // Dead holder, or a value that is no holder: take it over at the revision read.
      const revision = await update(sessions, key, value, c.revision);
      if (revision !== null) return took(revision);
    }
    return { ok: false, holder: last };
  }

  // A holder's node that the nodes watch has not delivered yet (it has just started): read its
  // heartbeat, so that a newcomer's session is not taken for a dead one's.
  async function learnNode(node: string): Promise<void> {
    const e = await read(deps.nodes, `n.${node}`);
    if (!e || e.operation !== 'PUT') return;
    const beat = parseBeat(e.string());
    if (beat) run(noteNode(mirror, node, beat.boot, beat.public, now()));
  }

  // Never throws: what NATS does not take now, the sweep frees later.
  async function release(id: number): Promise<void> {
    held.delete(id);
    const s = mirror.sessions.get(id);
    if (!s || !isOurs(mirror, s.holder)) return;
    // Without NATS (a fenced process closing its sessions) there is no point waiting 12 s.
    if (!deps.connected()) {
      unreleased.add(id);
      return;
    }
    try {
      await removeAt(sessions, `s.${id}`, s.revision);
    } catch (err) {
      log(`cluster: could not release session ${id} now: ${String(err)}`);
      unreleased.add(id);
    }
  }

  // Deletes the sessions no live process holds, and ours released while NATS was away. Any live
  // process may do it; twice is harmless (the delete is at the revision seen, so a takeover in
  // between is left alone). Never throws, safe to run unawaited.
  function sweep(): void {
    const stale = staleSessions(mirror);
    for (const id of unreleased) {
      const s = mirror.sessions.get(id);
      if (s && ours(id) && !held.has(id)) stale.push({ id, revision: s.revision });
      else unreleased.delete(id);
    }
    for (const { id, revision } of stale) {
      if (deleting.has(id)) continue;
      deleting.add(id);
      removeAt(sessions, `s.${id}`, revision)
        .then(() => unreleased.delete(id))
        .catch((err) => log(`cluster: could not free session ${id}: ${String(err)}`))
        .finally(() => deleting.delete(id));
    }
  }

  // Our sessions as the bucket holds them, for close().
  function releaseAll(): Promise<unknown> {
    const mine = [...mirror.sessions].filter(([id]) => ours(id));
    held.clear();
    return Promise.allSettled(mine.map(([id, s]) => removeAt(sessions, `s.${id}`, s.revision)));
  }

  return { claim, release, sweep, releaseAll, ours, holds: (id: number) => held.has(id) };
}
