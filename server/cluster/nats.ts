// The cluster over NATS (contract.ts): three JetStream KV buckets replicated on the NATS nodes,
// a mirror of them in memory fed by watches (mirror.ts, follow.ts), a heartbeat per process, and
// request/reply between processes for introductions. No consensus code of our own: uniqueness
// comes from the KV create (which fails when the key exists; two processes racing on one key
// always get exactly one winner, measured).
//
// Buckets (one value kept per key, `replicas` copies):
//   <name>_ids       k.<keySha256> -> id, i.<id> -> keySha256, r.<keySha256> -> revoked at (ms).
//                    Write-once: a create succeeds over a delete marker, so a deleted id key
//                    could be given again; nothing here is ever deleted.
//   <name>_sessions  s.<id> -> Holder JSON {node, boot, address, at}
//   <name>_nodes     n.<node> -> {boot, public, at}, put every heartbeatMs
// `boot` is random per process start: a restarted node's old sessions are told from its new ones.
//
// Presence is derived from the sessions watch, not from core publish/subscribe, which is at
// most once (messages are lost across a reconnect); after every reconnect the watches start over
// and the mirror takes what changed (the same entry twice changes nothing).
import { randomBytes } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { Cluster, ClusterHooks, ClusterOptions, Holder, IntroduceAnswer, IntroduceAsk } from './contract.js';
import { connectNats } from './connect.js';
import { badClusterOption } from './errors.js';
import { mayUnfence, shouldFence } from './fence.js';
import { follow, type Following } from './follow.js';
import { applyEntry, checkLiveness, type Entry, createMirror, decideClaim, isOurs, learnBinding, learnRevocation, liveHolder, noteNode, parseHolder, staleSessions, type Bucket, type Effect } from './mirror.js';
import { create, read, removeAt, retried, update } from './store.js';

// Each try of a KV write or read (store.ts tries again for up to 12 s).
const TRY_MS = 1_000;
// An introduction not answered within this is taken as its target's process being gone.
const INTRODUCE_MS = 2_000;
const RESYNC_PAUSE_MS = 500;
const CLOSE_MS = 2_000;
const NAME = /^[A-Za-z0-9_-]{1,32}$/;

export type ClusterProcess = Cluster & {
  // Tests only: stops as a killed process would, releasing nothing, telling no one.
  halt: () => Promise<void>;
};

function checkOptions(o: ClusterOptions): void {
  if (!Array.isArray(o.servers) || o.servers.length === 0) throw badClusterOption('servers', 'at least one nats://HOST:PORT', o.servers);
  if (!NAME.test(o.node)) throw badClusterOption('node', '1 to 32 of A-Z a-z 0-9 _ -', o.node);
  if (!NAME.test(o.name)) throw badClusterOption('name', '1 to 32 of A-Z a-z 0-9 _ -', o.name);
  if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > 5) throw badClusterOption('replicas', 'an integer from 1 to 5', o.replicas);
  for (const k of ['fenceAfterMs', 'deadAfterMs', 'heartbeatMs'] as const) {
    if (!Number.isFinite(o[k]) || o[k] <= 0) throw badClusterOption(k, 'a positive number of ms', o[k]);
  }
  // The others must hear a few heartbeats before they judge, and we must let go before they do.
  if (o.heartbeatMs * 2 > o.deadAfterMs) throw badClusterOption('heartbeatMs', `at most half of deadAfterMs (${o.deadAfterMs})`, o.heartbeatMs);
  if (o.fenceAfterMs >= o.deadAfterMs) throw badClusterOption('fenceAfterMs', `under deadAfterMs (${o.deadAfterMs})`, o.fenceAfterMs);
}

export async function startCluster(options: ClusterOptions, hooks: ClusterHooks): Promise<ClusterProcess> {
  checkOptions(options);
  const { node, name, now, log } = options;
  const boot = randomBytes(8).toString('hex');
  const nc = await connectNats(options);
  const kvm = new Kvm(jetstream(nc, { timeout: TRY_MS }));
  // allow_direct false: a read then goes to the stream's leader, so the value read after a
  // create that lost is the winner's, never a lagging replica's nothing.
  const open = (suffix: string): Promise<KV> => kvm.create(`${name}_${suffix}`, { replicas: options.replicas, history: 1, allow_direct: false });
  const [ids, sessions, nodes] = await retried('opening the buckets', () => Promise.all([open('ids'), open('sessions'), open('nodes')]));
  const buckets: Record<Bucket, KV> = { ids, sessions, nodes };

  const mirror = createMirror({ node, boot }, options.deadAfterMs);
  // Ids this process claimed and has not released; releases that failed (NATS away), done later.
  const held = new Set<number>();
  const unreleased = new Set<number>();
  const deleting = new Set<number>();
  let closed = false;
  let connected = true;
  let synced = false;
  let generation = 0;
  let following: Following[] = [];
  let lastAckAt = now();
  let downSince = 0;
  let lastSweepAt = 0;
  const fence = { fenced: false, fencedAt: 0 };
  let unfencing = false;

  // Effects go to the hooks; a hook that throws is the server's bug, logged, never ours to stop on.
  function run(effects: Effect[]): void {
    for (const e of effects) {
      try {
        if (e.kind === 'apply') hooks.apply(e.event);
        else if (e.kind === 'presence') hooks.presence(e.id, e.online, e.at);
        else hooks.revoked(e.keySha256, e.at);
      } catch (err) {
        log(`cluster: a hook failed on ${e.kind}: ${String(err)}`);
      }
    }
  }

  function onEntry(bucket: Bucket, gen: number) {
    return (entry: Entry): void => {
      if (gen !== generation || closed) return;
      const before = mirror.selfSeenAt;
      const id = bucket === 'sessions' ? Number(entry.key.slice(2)) : NaN;
      const wasOurs = held.has(id) && isOursNow(id);
      run(applyEntry(mirror, bucket, entry, now()));
      // Another process freed or took a session we hold: it took us for dead (fence.ts).
      if (wasOurs && !isOursNow(id)) fenceNow(`session ${id}, held here, was freed by another process`);
      // Our own heartbeat came back: judge the others against it (mirror.ts).
      if (mirror.selfSeenAt !== before && synced) judge();
    };
  }

  function isOursNow(id: number): boolean {
    const s = mirror.sessions.get(id);
    return s !== undefined && isOurs(mirror, s.holder);
  }

  function judge(): void {
    const { effects, died } = checkLiveness(mirror, now());
    for (const n of died) log(`cluster: node ${n} has been silent over ${options.deadAfterMs} ms: its sessions are offline`);
    run(effects);
    if (died.length > 0 || now() - lastSweepAt >= options.deadAfterMs) sweep();
  }

  // Deletes the sessions no live process holds, and ours released while NATS was away. Any live
  // process may do it; twice is harmless (the delete is at the revision seen). Never throws, safe
  // to run unawaited.
  function sweep(): void {
    lastSweepAt = now();
    const stale = staleSessions(mirror);
    for (const id of unreleased) {
      const s = mirror.sessions.get(id);
      if (s && isOurs(mirror, s.holder) && !held.has(id)) stale.push({ id, revision: s.revision });
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

  // Starts the three watches over and waits until the mirror has caught up; false when a newer
  // re-sync (or close) took over. Never throws: it tries again until NATS answers.
  async function resync(): Promise<boolean> {
    const gen = ++generation;
    synced = false;
    for (const f of following) f.stop();
    following = [];
    while (!closed && gen === generation) {
      const started = await Promise.allSettled((['ids', 'sessions', 'nodes'] as const).map((b) => follow(buckets[b], onEntry(b, gen))));
      const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      if (ok.length === started.length && gen === generation && !closed) {
        following = ok;
        for (const f of ok) void f.ended.then(() => onWatchEnded(gen));
        await Promise.all(ok.map((f) => f.synced));
        if (gen !== generation || closed) return false;
        synced = true;
        return true;
      }
      for (const f of ok) f.stop();
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) log(`cluster: cannot watch the buckets (${String(failed.reason)}); trying again`);
      await new Promise((r) => setTimeout(r, RESYNC_PAUSE_MS));
    }
    return false;
  }

  // A watch that ends on its own (its consumer failed): start all three over.
  function onWatchEnded(gen: number): void {
    if (closed || gen !== generation) return;
    log('cluster: a bucket watch ended; re-syncing');
    setTimeout(() => void resync(), RESYNC_PAUSE_MS);
  }

  let beating = false;
  async function beat(): Promise<void> {
    if (beating || closed) return;
    beating = true;
    try {
      await nodes.put(`n.${node}`, JSON.stringify({ boot, public: options.publicAddress, at: now() }));
      lastAckAt = now();
    } catch {
      // Counted by fence.ts: the heartbeats stop being acknowledged.
    } finally {
      beating = false;
    }
  }

  function checkFence(): void {
    const input = { connected, downSince, lastAckAt, now: now() };
    if (shouldFence(fence, input, options.fenceAfterMs)) fenceNow(`without NATS for ${input.now - downSince} ms`);
    else if (mayUnfence(fence, input) && !unfencing) {
      unfencing = true;
      void resync().then((ok) => {
        unfencing = false;
        if (!ok || !fence.fenced || closed) return;
        fence.fenced = false;
        log('cluster: NATS takes our heartbeats again and the mirror re-synced: serving again');
        safeHook(() => hooks.fenced(false));
      });
    }
  }

  function fenceNow(why: string): void {
    if (fence.fenced || closed) return;
    fence.fenced = true;
    fence.fencedAt = now();
    log(`cluster: ${why}: fenced, this process's sessions must close`);
    safeHook(() => hooks.fenced(true));
  }

  function safeHook(call: () => void): void {
    try {
      call();
    } catch (err) {
      log(`cluster: the fenced hook failed: ${String(err)}`);
    }
  }

  // The connection's status: a reconnect restarts the watches (the consumers may have lost
  // messages while it was down); fencing is judged by checkFence on its own tick.
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        if (connected) downSince = now();
        connected = false;
      }
      else if (s.type === 'reconnect') {
        connected = true;
        if (!fence.fenced) void resync();
      }
    }
  })();

  // Introductions asked of this process by the others.
  const sub = nc.subscribe(`${name}.node.${node}.introduce`, {
    callback: (err, msg) => {
      if (err) return;
      let answer: IntroduceAnswer;
      try {
        answer = hooks.introduce(msg.json<IntroduceAsk>());
      } catch (e) {
        log(`cluster: the introduce hook failed: ${String(e)}`);
        answer = { ok: false, code: 'PEER_OFFLINE', reason: 'the process holding this session could not introduce it' };
      }
      msg.respond(JSON.stringify(answer));
    },
  });

  // Our heartbeat goes first, so the others know this boot before any session of ours.
  await retried('announcing this node', () => nodes.put(`n.${node}`, JSON.stringify({ boot, public: options.publicAddress, at: now() })));
  lastAckAt = now();
  await resync();
  const beatTimer = setInterval(() => void beat(), options.heartbeatMs);
  const fenceTimer = setInterval(checkFence, Math.min(250, options.heartbeatMs));

  function stopAll(): void {
    closed = true;
    clearInterval(beatTimer);
    clearInterval(fenceTimer);
    for (const f of following) f.stop();
    following = [];
  }

  async function register(keySha256: string, candidate: (taken: (id: number) => boolean) => number | null): Promise<number | null> {
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
      // Lost to another process registering the same key: its id is the key's.
      return bind(keySha256, k.created ? id : Number(k.value));
    }
  }

  function bind(keySha256: string, id: number): number {
    run(learnBinding(mirror, keySha256, id, now()));
    return mirror.keys.get(keySha256) ?? id;
  }

  async function claim(id: number, address: string): Promise<{ ok: true } | { ok: false; holder: Holder }> {
    const key = `s.${id}`;
    const holder: Holder = { node, boot, address, at: now() };
    const value = JSON.stringify(holder);
    const took = (revision: number): { ok: true } => {
      held.add(id);
      unreleased.delete(id);
      run(applyEntry(mirror, 'sessions', { key, revision, op: 'PUT', value, at: holder.at }, now()));
      return { ok: true };
    };
    let last: Holder | null = null;
    // A few rounds: each lost one means another process wrote this key in between.
    for (let round = 0; round < 4; round++) {
      const c = await create(sessions, key, value);
      if (c.created) return took(c.revision);
      const existing = parseHolder(c.value);
      if (existing) {
        last = existing;
        if (!mirror.nodes.has(existing.node) && existing.node !== node) await learnNode(existing.node);
        const decision = decideClaim(mirror, existing);
        if (decision === 'ours') return took(c.revision);
        if (decision === 'refuse') return { ok: false, holder: existing };
      }
      const revision = await update(sessions, key, value, c.revision);
      if (revision !== null) return took(revision);
    }
    return { ok: false, holder: last ?? holder };
  }

  // A holder's node our nodes watch has not delivered yet: read its heartbeat from the bucket.
  async function learnNode(n: string): Promise<void> {
    const e = await read(nodes, `n.${n}`);
    if (!e || e.operation !== 'PUT') return;
    const beat = JSON.parse(e.string()) as { boot: string; public: string };
    run(noteNode(mirror, n, beat.boot, beat.public, now()));
  }

  async function release(id: number): Promise<void> {
    held.delete(id);
    const s = mirror.sessions.get(id);
    if (!s || !isOurs(mirror, s.holder)) return;
    // Without NATS (a fenced process closing its sessions) there is no point waiting 12 s.
    if (!connected) {
      unreleased.add(id);
      return;
    }
    try {
      await removeAt(sessions, `s.${id}`, s.revision);
    } catch (err) {
      // Freed by the sweep once NATS answers (or by the others, if we are taken for dead).
      log(`cluster: could not release session ${id} now: ${String(err)}`);
      unreleased.add(id);
    }
  }

  async function revoke(keySha256: string, at: number): Promise<boolean> {
    const r = await create(ids, `r.${keySha256}`, String(at));
    run(learnRevocation(mirror, keySha256, r.created ? at : Number(r.value)));
    return r.created;
  }

  async function introduce(target: string, ask: IntroduceAsk): Promise<IntroduceAnswer | { gone: true }> {
    try {
      const reply = await nc.request(`${name}.node.${target}.introduce`, JSON.stringify(ask), { timeout: INTRODUCE_MS });
      return reply.json<IntroduceAnswer>();
    } catch (err) {
      // No responders (nobody subscribes: the process is gone) or no answer in time.
      log(`cluster: introduction via ${target} failed (${String(err)}): taken as gone`);
      return { gone: true };
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    stopAll();
    // Freed at once for a quick login elsewhere; what NATS does not take within CLOSE_MS the others
    // free anyway once our heartbeats have stopped for deadAfterMs.
    const ours = [...mirror.sessions].filter(([, s]) => isOurs(mirror, s.holder));
    const cleanup = Promise.allSettled([...ours.map(([id, s]) => removeAt(sessions, `s.${id}`, s.revision)), nodes.delete(`n.${node}`)]);
    let timer: NodeJS.Timeout | undefined;
    if (connected) await Promise.race([cleanup, new Promise((r) => (timer = setTimeout(r, CLOSE_MS)))]);
    clearTimeout(timer);
    sub.unsubscribe();
    await nc.close().catch(() => {});
  }

  async function halt(): Promise<void> {
    if (closed) return;
    stopAll();
    await nc.close();
  }

  return { node, boot, holderOf: (id) => liveHolder(mirror, id), register, claim, release, revoke, introduce, close, halt };
}
