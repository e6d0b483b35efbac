// The mirror: what this process knows of the three shared buckets (nats.ts names them), kept in
// memory so that the server's decisions stay synchronous reads. Pure: every change comes in as a
// KV entry (or a clock reading, for liveness) and goes out as effects that nats.ts hands to the
// hooks, so the same entry applied twice (a watch restarted after a reconnect delivers
// everything again) changes nothing the second time.
//
// Liveness is judged on an echo clock, not the wall clock: it runs only while the watch brings
// our own heartbeats back, by the time between two of them, each gap counted at most one
// heartbeat period. When the nodes bucket stalls (its stream leader died: 4-9 s while another is
// elected) every heartbeat stops at once, ours included, and no one may be taken for dead then;
// nor just after, when our first heartbeat comes back before the others' (measured: with the
// plain time between echoes, a process was declared dead as the stall ended). A node is dead when
// the echo clock has run deadAfterMs since it was last heard. A late echo only makes the clock
// slower: death is noticed a little later, never sooner.
import type { ServerEvent } from '../events.js';
import type { Holder } from './contract.js';

export type Bucket = 'ids' | 'sessions' | 'nodes';

// A KV entry as the mirror reads it. at: the entry's time in the stream (ms), the delete
// marker's for a delete: when a session closed, as others will see it.
export type Entry = { key: string; revision: number; op: 'PUT' | 'DEL' | 'PURGE'; value: string; at: number };

export type Effect =
  | { kind: 'apply'; event: ServerEvent }
  | { kind: 'presence'; id: number; online: boolean; at: number }
  | { kind: 'revoked'; keySha256: string; at: number };

// seenAt: the echo clock when the node was last heard.
export type NodeInfo = { boot: string; publicAddress: string; seenAt: number; live: boolean };

export type Mirror = {
  self: { node: string; boot: string };
  deadAfterMs: number;
  heartbeatMs: number;
  // k.<key> -> id: the bindings (a key has an id once its k entry exists).
  keys: Map<string, number>;
  // i.<id> -> key: every id taken, an orphan of a lost race included (never given to another key).
  ids: Map<number, string>;
  revoked: Map<string, number>;
  sessions: Map<number, { holder: Holder; revision: number }>;
  nodes: Map<string, NodeInfo>;
  // When the watch last delivered this process's own heartbeat (local clock); 0: not yet.
  selfSeenAt: number;
  // The echo clock (ms; see above).
  echoClock: number;
  // Ids told online to the presence hook (held on another live process), to tell only changes.
  online: Set<number>;
  // The last revision seen of each key, per bucket: an older or repeated entry is ignored.
  revisions: Record<Bucket, Map<string, number>>;
};

export function createMirror(self: { node: string; boot: string }, times: { deadAfterMs: number; heartbeatMs: number }): Mirror {
  return {
    self,
    deadAfterMs: times.deadAfterMs,
    heartbeatMs: times.heartbeatMs,
    echoClock: 0,
    keys: new Map(),
    ids: new Map(),
    revoked: new Map(),
    sessions: new Map(),
    nodes: new Map(),
    selfSeenAt: 0,
    online: new Set(),
    revisions: { ids: new Map(), sessions: new Map(), nodes: new Map() },
  };
}

export function isOurs(m: Mirror, holder: Holder): boolean {
  return holder.node === m.self.node && holder.boot === m.self.boot;
}

// Ours, or held by a node that is alive in the boot that claimed it (a restarted node's old
// sessions are not live: their connections died with its previous process).
export function isLive(m: Mirror, holder: Holder): boolean {
  if (isOurs(m, holder)) return true;
  const node = m.nodes.get(holder.node);
  return node !== undefined && node.live && node.boot === holder.boot;
}

// The live holder on another process, as Cluster.holderOf answers.
export function liveHolder(m: Mirror, id: number): Holder | undefined {
  const s = m.sessions.get(id);
  if (!s || isOurs(m, s.holder) || !isLive(m, s.holder)) return undefined;
  return s.holder;
}

// Sessions no one live holds: any live process deletes them (at their revision, so a takeover
// in between is left alone).
export function staleSessions(m: Mirror): Array<{ id: number; revision: number }> {
  const out: Array<{ id: number; revision: number }> = [];
  for (const [id, s] of m.sessions) if (!isLive(m, s.holder)) out.push({ id, revision: s.revision });
  return out;
}

// A node heard from: its heartbeat, or its own heartbeat read from the bucket when a claim meets
// a holder the nodes watch has not delivered yet (sessions.ts). Without the latter a process that
// starts while another claims would take the newcomer's sessions for stale.
export function noteNode(m: Mirror, node: string, boot: string, publicAddress: string, at: number): Effect[] {
  const known = m.nodes.get(node);
  const info: NodeInfo = { boot, publicAddress: publicAddress || known?.publicAddress || '', seenAt: m.echoClock, live: true };
  m.nodes.set(node, info);
  if (known && known.live && known.boot === boot) return [];
  return recheckNode(m, node, at);
}

// Tells the presence hook what changed for one id.
function recheckId(m: Mirror, id: number, at: number): Effect[] {
  const s = m.sessions.get(id);
  const online = s !== undefined && !isOurs(m, s.holder) && isLive(m, s.holder);
  if (online === m.online.has(id)) return [];
  if (online) m.online.add(id);
  else m.online.delete(id);
  return [{ kind: 'presence', id, online, at: online && s ? s.holder.at : at }];
}

function recheckNode(m: Mirror, node: string, at: number): Effect[] {
  const out: Effect[] = [];
  for (const [id, s] of m.sessions) if (s.holder.node === node) out.push(...recheckId(m, id, at));
  return out;
}

// Applies one entry; [] when it is older than what the mirror holds.
export function applyEntry(m: Mirror, bucket: Bucket, e: Entry, localNow: number): Effect[] {
  const seen = m.revisions[bucket].get(e.key);
  if (seen !== undefined && e.revision <= seen) return [];
  m.revisions[bucket].set(e.key, e.revision);
  const deleted = e.op !== 'PUT';
  if (bucket === 'ids') return deleted ? [] : applyIds(m, e);
  if (bucket === 'sessions') return applySession(m, e, deleted);
  return applyNode(m, e, deleted, localNow);
}

// The ids bucket is write-once (a create succeeds over a delete marker, so nothing there is ever
// deleted): a delete is ignored, the registry cannot take a binding back anyway.
function applyIds(m: Mirror, e: Entry): Effect[] {
  const [kind, rest] = splitKey(e.key);
  if (kind === 'k') return learnBinding(m, rest, Number(e.value), e.at);
  if (kind === 'i') {
    const id = Number(rest);
    if (!m.ids.has(id)) m.ids.set(id, e.value);
    return [];
  }
  if (kind === 'r') return learnRevocation(m, rest, Number(e.value));
  return [];
}

export function learnBinding(m: Mirror, keySha256: string, id: number, at: number): Effect[] {
  if (m.keys.has(keySha256) || !Number.isSafeInteger(id)) return [];
  m.keys.set(keySha256, id);
  m.ids.set(id, keySha256);
  return [{ kind: 'apply', event: { type: 'client.registered', id, keySha256, at } }];
}

export function learnRevocation(m: Mirror, keySha256: string, at: number): Effect[] {
  if (m.revoked.has(keySha256)) return [];
  m.revoked.set(keySha256, at);
  return [
    { kind: 'apply', event: { type: 'client.revoked', keySha256, at } },
    { kind: 'revoked', keySha256, at },
  ];
}

function applySession(m: Mirror, e: Entry, deleted: boolean): Effect[] {
  const [kind, rest] = splitKey(e.key);
  if (kind !== 's') return [];
  const id = Number(rest);
  if (deleted) {
    if (!m.sessions.has(id)) return [];
    m.sessions.delete(id);
    return [{ kind: 'apply', event: { type: 'session.closed', id, reason: 'closed', at: e.at } }, ...recheckId(m, id, e.at)];
  }
  const holder = parseHolder(e.value);
  if (!holder) return [];
  m.sessions.set(id, { holder, revision: e.revision });
  const out: Effect[] = [{ kind: 'apply', event: { type: 'session.opened', id, address: holder.address, at: holder.at } }];
  // A holder whose node the nodes watch has not delivered yet (see noteNode).
  if (!isOurs(m, holder) && !m.nodes.has(holder.node)) m.nodes.set(holder.node, { boot: holder.boot, publicAddress: '', seenAt: m.echoClock, live: true });
  out.push(...recheckId(m, id, e.at));
  return out;
}

function applyNode(m: Mirror, e: Entry, deleted: boolean, localNow: number): Effect[] {
  const [kind, node] = splitKey(e.key);
  if (kind !== 'n') return [];
  if (deleted) {
    // A node that closed cleanly (its sessions were released first; any left are stale).
    if (!m.nodes.delete(node)) return [];
    return recheckNode(m, node, e.at);
  }
  const beat = parseBeat(e.value);
  if (!beat) return [];
  if (node === m.self.node && beat.boot === m.self.boot) {
    if (m.selfSeenAt > 0) m.echoClock += Math.min(Math.max(0, localNow - m.selfSeenAt), m.heartbeatMs);
    m.selfSeenAt = localNow;
  }
  return noteNode(m, node, beat.boot, beat.public, e.at);
}

// Marks the nodes not heard while the echo clock ran deadAfterMs dead, and tells what that
// changes. Called each time our own heartbeat comes back.
export function checkLiveness(m: Mirror, at: number): { effects: Effect[]; died: string[] } {
  const effects: Effect[] = [];
  const died: string[] = [];
  if (m.selfSeenAt === 0) return { effects, died };
  for (const [name, info] of m.nodes) {
    if (name === m.self.node || !info.live) continue;
    if (m.echoClock - info.seenAt > m.deadAfterMs) {
      info.live = false;
      died.push(name);
      for (const [id, s] of m.sessions) {
        if (s.holder.node !== name) continue;
        const was = m.online.has(id);
        effects.push(...recheckId(m, id, at));
        if (was) effects.push({ kind: 'apply', event: { type: 'session.closed', id, reason: `node ${name} is gone`, at } });
      }
    }
  }
  return { effects, died };
}

// What a live process does with an existing session when it claims the id.
export function decideClaim(m: Mirror, existing: Holder): 'ours' | 'refuse' | 'take' {
  if (isOurs(m, existing)) return 'ours';
  return isLive(m, existing) ? 'refuse' : 'take';
}

// 'k.ab12…' => ['k', 'ab12…']
function splitKey(key: string): [string, string] {
  const dot = key.indexOf('.');
  return dot < 0 ? [key, ''] : [key.slice(0, dot), key.slice(dot + 1)];
}

export function parseHolder(text: string): Holder | null {
  try {
    const h = JSON.parse(text) as Holder;
    if (typeof h.node !== 'string' || typeof h.boot !== 'string' || typeof h.address !== 'string' || typeof h.at !== 'number') return null;
    return { node: h.node, boot: h.boot, address: h.address, at: h.at };
  } catch {
    return null;
  }
}

export function parseBeat(text: string): { boot: string; public: string; at: number } | null {
  try {
    const b = JSON.parse(text) as { boot: string; public: string; at: number };
    if (typeof b.boot !== 'string') return null;
    return { boot: b.boot, public: typeof b.public === 'string' ? b.public : '', at: Number(b.at) || 0 };
  } catch {
    return null;
  }
}
