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
import type { Cluster, ClusterHooks, ClusterOptions, IntroduceAnswer, IntroduceAsk } from './contract.js';
import { connectNats } from './connect.js';
import { badClusterOption, clusterUnavailable } from './errors.js';
import { mayUnfence, shouldFence } from './fence.js';
import { createIds } from './ids.js';
import { applyEntry, checkLiveness, createMirror, liveHolder, type Bucket, type Effect, type Entry } from './mirror.js';
import { createSessions } from './sessions.js';
import { retried, TOTAL_MS } from './store.js';
import { createSync } from './sync.js';

// Each try of a KV write or read (store.ts tries again for up to 12 s).
const TRY_MS = 1_000;
// An introduction not answered within this is taken as its target's process being gone.
const INTRODUCE_MS = 2_000;
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
  const [ids, sessions, nodes] = await retried('opening the buckets', () => Promise.all([open('ids'), open('sessions'), open('nodes')])).catch(async (err: unknown) => {
    await nc.close().catch(() => {});
    throw err;
  });

  const mirror = createMirror({ node, boot }, options);
  let closed = false;
  let connected = true;
  let lastAckAt = now();
  let downSince = 0;
  let lastSweepAt = 0;
  const fence = { fenced: false, fencedAt: 0 };
  let unfencing = false;

  // Effects go to the hooks; a hook that throws is the server's bug, logged, never ours to stop on.
  function run(effects: Effect[]): void {
    for (const e of effects) {
      safely(e.kind, () => {
        if (e.kind === 'apply') hooks.apply(e.event);
        else if (e.kind === 'presence') hooks.presence(e.id, e.online, e.at);
        else hooks.revoked(e.keySha256, e.at);
      });
    }
  }

  function safely(what: string, call: () => void): void {
    try {
      call();
    } catch (err) {
      log(`cluster: the ${what} hook failed: ${String(err)}`);
    }
  }

  const idsOps = createIds({ ids, mirror, run, now });
  const sessionsOps = createSessions({ sessions, nodes, mirror, run, connected: () => connected, now, log });

  function onEntry(bucket: Bucket, entry: Entry): void {
    const before = mirror.selfSeenAt;
    const id = bucket === 'sessions' ? Number(entry.key.slice(2)) : NaN;
    const wasHeld = sessionsOps.holds(id) && sessionsOps.ours(id);
    run(applyEntry(mirror, bucket, entry, now()));
    // Another process freed or took a session we hold: it took us for dead (fence.ts).
    if (wasHeld && !sessionsOps.ours(id)) fenceNow(`session ${id}, held here, was freed by another process`);
    // Our own heartbeat came back: judge the others against it (mirror.ts).
    if (mirror.selfSeenAt !== before && sync.synced()) judge();
  }
  const sync = createSync({ ids, sessions, nodes }, onEntry, log);

  function judge(): void {
    const { effects, died } = checkLiveness(mirror, now());
    for (const n of died) log(`cluster: node ${n} has been silent over ${options.deadAfterMs} ms: its sessions are offline`);
    run(effects);
    if (died.length > 0 || now() - lastSweepAt >= options.deadAfterMs) {
      lastSweepAt = now();
      sessionsOps.sweep();
    }
  }

  const heartbeat = (): string => JSON.stringify({ boot, public: options.publicAddress, at: now() });
  let beating = false;
  async function beat(): Promise<void> {
    if (beating || closed) return;
    beating = true;
    try {
      // A beat waits no longer than its period: the next one replaces it. Measured: a put in
      // flight when the connection to a killed NATS node dropped held the next beats for its
      // whole 1 s timeout, a gap the others could take for silence.
      await nodes.put(`n.${node}`, heartbeat(), { timeout: Math.min(TRY_MS, options.heartbeatMs) });
      lastAckAt = now();
    } catch {
      // Missed beats show in lastAckAt; the others judge by their absence.
    } finally {
      beating = false;
    }
  }

  function checkFence(): void {
    const input = { connected, downSince, lastAckAt, now: now() };
    if (shouldFence(fence, input, options.fenceAfterMs)) fenceNow(`without NATS for ${input.now - downSince} ms`);
    else if (mayUnfence(fence, input) && !unfencing) {
      unfencing = true;
      void sync.resync().then((ok) => {
        unfencing = false;
        if (!ok || !fence.fenced || closed) return;
        fence.fenced = false;
        log('cluster: NATS takes our heartbeats again and the mirror re-synced: serving again');
        safely('fenced', () => hooks.fenced(false));
      });
    }
  }

  function fenceNow(why: string): void {
    if (fence.fenced || closed) return;
    fence.fenced = true;
    fence.fencedAt = now();
    log(`cluster: ${why}: fenced, this process's sessions must close`);
    safely('fenced', () => hooks.fenced(true));
  }

  // The connection's status: a reconnect starts the watches over (their consumers may have lost
  // messages meanwhile; a fenced process re-syncs before it unfences); checkFence judges the rest.
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        if (connected) downSince = now();
        connected = false;
      } else if (s.type === 'reconnect') {
        connected = true;
        void beat();
        if (!fence.fenced) void sync.resync();
      }
    }
  })();

  // Introductions asked of this process by the others.
  const sub = nc.subscribe(`${name}.node.${node}.introduce`, {
    callback: (err, msg) => {
      if (err) return;
      let answer: IntroduceAnswer = { ok: false, code: 'PEER_OFFLINE', reason: 'the process holding this session could not introduce it' };
      safely('introduce', () => {
        answer = hooks.introduce(msg.json<IntroduceAsk>());
      });
      msg.respond(JSON.stringify(answer));
    },
  });

  // Our heartbeat goes first, so the others know this boot before any session of ours. Then the
  // mirror catches up before the server may read it; either bounded like a write (store.ts).
  let timer: NodeJS.Timeout | undefined;
  const caughtUp = retried('announcing this node', () => nodes.put(`n.${node}`, heartbeat())).then(() => sync.resync());
  const started = await Promise.race([caughtUp, new Promise<false>((r) => (timer = setTimeout(() => r(false), TOTAL_MS)))]).catch((err: unknown) => err);
  clearTimeout(timer);
  if (started !== true) {
    closed = true;
    sync.stop();
    sub.unsubscribe();
    await nc.close().catch(() => {});
    throw started instanceof Error ? started : clusterUnavailable('reading the buckets', 'no answer');
  }
  lastAckAt = now();
  const beatTimer = setInterval(() => void beat(), options.heartbeatMs);
  const fenceTimer = setInterval(checkFence, Math.min(250, options.heartbeatMs));
  // Every few heartbeats, well inside deadAfterMs: a stuck watch is caught before it matters.
  const checkTimer = setInterval(() => void sync.check(), Math.max(options.heartbeatMs, Math.floor(options.deadAfterMs / 4)));

  function stopAll(): void {
    closed = true;
    clearInterval(beatTimer);
    clearInterval(fenceTimer);
    clearInterval(checkTimer);
    sync.stop();
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
    // Freed at once for a quick login elsewhere; what NATS does not take within CLOSE_MS the
    // others free anyway once our heartbeats have stopped for deadAfterMs.
    const cleanup = Promise.allSettled([sessionsOps.releaseAll(), nodes.delete(`n.${node}`)]);
    let timer: NodeJS.Timeout | undefined;
    if (connected) await Promise.race([cleanup, new Promise((r) => (timer = setTimeout(r, CLOSE_MS)))]);
    clearTimeout(timer);
    sub.unsubscribe();
    // Drained when NATS is there (what is in flight is delivered first), closed when it is not.
    if (connected) await nc.drain().catch(() => nc.close());
    else await nc.close().catch(() => {});
  }

  async function halt(): Promise<void> {
    if (closed) return;
    stopAll();
    await nc.close();
  }

  return {
    node,
    boot,
    holderOf: (id) => liveHolder(mirror, id),
    register: idsOps.register,
    claim: sessionsOps.claim,
    release: sessionsOps.release,
    revoke: idsOps.revoke,
    introduce,
    close,
    halt,
  };
}
