// The rendezvous server: who is online and where, introductions for hole punching, and a blind
// relay. Every rule it follows on the wire is in docs/PROTOCOL.md sections 6-8; the numbers in
// comments ("step 3") point there. This file only wires the parts, one job each:
//   options.ts      the options, checked once        connections.ts  records by state, counters
//   accept.ts       TCP, TLS, the certificate        session.ts      frames in and out
//   login.ts        which id a key signs in with     presence.ts     watchers and announcements
//   cluster-login.ts  sign-in on one process of several (cluster/: the processes' shared state)
//   introductions.ts  who may meet whom              pairing.ts      relay ends paired by nonce
//   relay.ts        the splice                       revocation.ts   revoke on the running server
//   closing.ts      a connection's last message and its leaving
//   recorder.ts     the journal's writes
//   deadlines.ts    what is due on each connection, asked by one sweep timer
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openJournal, type Journal } from '../src/events/journal.js';
import { isParleyError } from '../src/errors.js';
import { LIMITS, WIRE_CODE } from '../src/net/constants.js';
import { encodeControl, type ControlMessage, type ControlOf } from '../src/net/control.js';
import { createFrameDecoder, type Frame } from '../src/net/frame.js';
import { createAcceptor } from './accept.js';
import { listenAdmin, type AdminAnswer, type AdminRequest } from './admin.js';
import { loadProjection, saveCheckpoint } from '../src/projections/checkpoint.js';
import { SERVER_EVENTS, type ServerEvent } from './events.js';
import { createClosing } from './closing.js';
import { createConnections, type Conn } from './connections.js';
import { dueOf, sweepInterval } from './deadlines.js';
import { dataInUse, listenFailed } from './errors.js';
import { createIntroducer, createIntroductions } from './introductions.js';
import type { Cluster, ClusterHooks } from './cluster/contract.js';
import { startCluster } from './cluster/nats.js';
import { decideLogin, revokedRefusal } from './login.js';
import { createClusterLogin, CUT_OFF, cutOffRefusal, hostOf } from './cluster-login.js';
import { resolveOptions, type ServerOptions } from './options.js';
import { createPairing } from './pairing.js';
import { createPresence, decideListChange } from './presence.js';
import { FRESH_WINDOW } from './rates.js';
import { createRecorder } from './recorder.js';
import { apply as applyToRegistry, initial as emptyRegistry, REGISTRY, type Registry } from './registry.js';
import { createRevocation, type RevokeResult } from './revocation.js';
import { CLUSTER_MARK } from './revoke.js';
import { createSession, frameOf } from './session.js';

export { SERVER_DEFAULTS, type ServerOptions } from './options.js';
export type { RevokeResult } from './revocation.js';

export type ServerStats = {
  sessions: number;
  // Connections not signed in yet, and those of them still in their TLS handshake.
  pending: number;
  handshaking: number;
  relays: number;
  relaysWaiting: number;
  registered: number;
  revoked: number;
  introductions: number;
};

export type RendezvousServer = {
  address: () => { host: string; port: number };
  adminPath: () => string | null;
  stats: () => ServerStats;
  revoke: (keySha256: string) => Promise<RevokeResult>;
  // Says bye to every session, closes relays and the journal. Idempotent.
  close: () => Promise<void>;
};

const stopAfterFirst = (): boolean => true;

// The payloads that never change, encoded once: a server holding 20,000 sessions answers
// 2,000 heartbeats a second.
const HEARTBEAT_ACK = encodeControl({ type: 'heartbeat-ack' });
const HEARTBEAT = encodeControl({ type: 'heartbeat' });

export async function startServer(options: ServerOptions): Promise<RendezvousServer> {
  const o = resolveOptions(options);
  const { now, log } = o;

  let journal: Journal<ServerEvent>;
  try {
    journal = await openJournal<ServerEvent>(path.join(o.dataDir, 'journal'), o.dataDir, { schema: SERVER_EVENTS });
  } catch (err) {
    if (isParleyError(err) && err.code === 'PROFILE_IN_USE') throw dataInUse(o.dataDir, err);
    throw err;
  }

  // The registry is what the journal says: its checkpoint and the events after it (registry.ts, src/projections/checkpoint.ts).
  // From now on every event the server journals goes through `record` or `durable`, and so
  // through apply too. A replay is followed by a new checkpoint, so the next start, even after a
  // crash, replays only what came since this one.
  // In a cluster the registry is the cluster's (cluster/contract.ts: its mirror applies every
  // registration and revocation to it), and this process's journal keeps only its own sessions
  // and relays.
  let registry: Registry;
  try {
    if (o.cluster) registry = emptyRegistry();
    else {
      const loaded = await loadProjection(journal, REGISTRY);
      registry = loaded.state;
      if (loaded.replayed > 0) await saveCheckpoint(journal, REGISTRY, registry, journal.lastSeq());
    }
  } catch (err) {
    await journal.close();
    throw err;
  }

  const { record, durable, settled } = createRecorder(journal, registry, log);

  let closed = false;
  const isClosed = (): boolean => closed;
  // The other processes of the server, when it is one of several (null: alone), and whether this
  // one has been cut off from them for too long to keep its sessions (it refuses logins then).
  let cluster: Cluster | null = null;
  let fenced = false;
  const connections = createConnections(now);
  const introductions = createIntroductions({ ttlMs: o.introductionTtlMs, max: Math.max(1024, o.maxSessions * 4) });
  // Keys whose first registration is being journaled -> the id they will get.
  const registering = new Map<string, number>();
  // session, closing and presence call one another: each is given the others' functions late.
  const { refuse, finish } = createClosing({ connections, now, write: (c, b) => write(c, b), presence: () => presence, record, ended: (id) => void cluster?.release(id).catch(noteClusterFailure) });
  const session = createSession({ maxWriteQueueBytes: o.maxWriteQueueBytes, now, refuse, finish, onFirstFrame, onFrame });
  const { write, send } = session;
  const isOnline = (id: number): boolean => connections.session(id) !== undefined || cluster?.holderOf(id) !== undefined;
  const presence = createPresence({ registry: () => registry, isOnline, frameOf, write, send });
  const onlineIdOf = (key: string): number | undefined => {
    const id = registry.byKey.get(key);
    return id !== undefined && isOnline(id) ? id : undefined;
  };
  const remote = o.cluster
    ? { nodeOf: (id: number) => cluster?.holderOf(id)?.node, ask: (node: string, ask: Parameters<Cluster['introduce']>[1]) => (cluster as Cluster).introduce(node, ask), relay: o.cluster.publicAddress }
    : null;
  const introducer = createIntroducer({ limits: o, now, registry: () => registry, connections, introductions, send, remote });
  const pairing = createPairing({ limits: o, now, connections, introductions, onlineIdOf, refuse, send, record, onRelayData: o.onRelayData });
  // In a cluster a revocation is written to the cluster's bucket, which every process watches.
  const revokeDurably = async (event: ServerEvent): Promise<void> => {
    if (!cluster || event.type !== 'client.revoked') return durable(event);
    await cluster.revoke(event.keySha256, event.at);
    applyToRegistry(registry, event);
  };
  const revocation = createRevocation({ registry: () => registry, now, isClosed, durable: revokeDurably, connections: connections.all, presence, refuse, finish });
  const acceptor = createAcceptor({ options: o, connections, isClosed, isRevoked: (key) => registry.revoked.has(key), refuse, onConn, onReady });

  // ---- accepted connections ----

  function onConn(conn: Conn): void {
    conn.socket.on('data', (chunk: Buffer) => session.onData(conn, chunk));
    conn.socket.on('close', () => {
      // Gone without a goodbye (reset, vanished): the watchers learn it now (the original's QUITED).
      finish(conn, 'CLOSED');
      connections.enter(conn, { state: 'CLOSED' });
    });
  }

  function onReady(conn: Conn): void {
    if (conn.phase.state === 'NEW') conn.phase.decoder = createFrameDecoder({ maxPayload: LIMITS.MAX_CONTROL_PAYLOAD, stopWhen: stopAfterFirst });
  }

  // The first frame says what the connection is: a session (login) or a relay end (relay-request).
  // The socket is paused while that is settled; `rest` holds the bytes that followed the frame.
  function onFirstFrame(conn: Conn, frame: Frame, rest: Buffer): void {
    const msg = session.readControl(conn, frame);
    if (!msg) return;
    if (msg.type === 'login') {
      connections.enter(conn, { state: 'LOGGING_IN' });
      conn.socket.pause();
      void login(conn, msg, Buffer.from(rest));
    } else if (msg.type === 'relay-request') {
      conn.socket.pause();
      pairing.relayRequest(conn, msg, rest.length > 0 ? Buffer.from(rest) : null);
    } else {
      refuse(conn, { type: 'error', code: WIRE_CODE.NOT_LOGGED_IN, reason: `${msg.type} before login: the first message is login (or relay-request)` });
    }
  }

  // ---- login (steps 4-5) ----

  async function login(conn: Conn, msg: ControlOf<'login'>, rest: Buffer): Promise<void> {
    const key = conn.keySha256;
    if (fenced) return refuse(conn, cutOffRefusal());
    const decision = decideLogin({ registry, registering, holderOf: holderAnywhere }, key, msg, now());
    if (!decision.ok) return refuse(conn, decision.message);
    if (cluster) return clusterLogin.login(conn, cluster, decision.id, decision.fresh, msg, rest);
    const id = decision.id;
    connections.claim(conn, id);
    if (decision.fresh) {
      // Durable before login-ok: an id once given out is never given to another key.
      registering.set(key, id);
      try {
        await durable(decision.registered);
      } catch (err) {
        log(`parley server: cannot journal a registration: ${(err as Error).message}`);
        return refuse(conn, { type: 'login-refused', code: WIRE_CODE.UNEXPECTED, reason: 'the server cannot write its journal; try later' }, 'JOURNAL_FAILED');
      } finally {
        registering.delete(key);
      }
      // Gone (or revoked) while the registration was written: the id is kept, the session not.
      if (conn.phase.state !== 'LOGGING_IN') return;
      if (registry.revoked.has(key)) return refuse(conn, revokedRefusal());
    }
    open(conn, id, msg, rest);
  }

  // The holder of an id's session here, else on another process: { host } for the refusal.
  function holderAnywhere(id: number): { host: string } | undefined {
    const here = connections.holder(id);
    if (here) return here;
    const there = cluster?.holderOf(id);
    return there ? { host: hostOf(there.address) } : undefined;
  }

  const clusterLogin = createClusterLogin({ connections, registry: () => registry, fenced: () => fenced, refuse, open, noteFailure: noteClusterFailure });

  function noteClusterFailure(err: Error): void {
    log(`parley server: the cluster: ${err.message}`);
  }

  // The session is open: login-ok, the watchers told, the bytes that came with login read.
  function open(conn: Conn, id: number, msg: ControlOf<'login'>, rest: Buffer): void {
    const decoder = createFrameDecoder({ maxPayload: LIMITS.MAX_CONTROL_PAYLOAD });
    connections.enter(conn, { state: 'SESSION', decoder, lan: msg.lan, listenPort: msg.listenPort, watching: null, blocked: null, allowed: msg.allow ? new Set(msg.allow) : null, introductions: FRESH_WINDOW, listChanges: FRESH_WINDOW });
    const at = now();
    conn.lastRx = at;
    record({ type: 'session.opened', id, address: `${conn.host}:${conn.port}`, at });
    send(conn, { type: 'login-ok', id, serverTime: at, host: conn.host, port: conn.port || 1, heartbeatMs: o.heartbeatMs });
    presence.announce(id, true, at);
    if (conn.phase.state !== 'SESSION') return;
    if (rest.length > 0) session.onData(conn, rest);
    if (conn.phase.state === 'SESSION') conn.socket.resume();
  }

  // ---- a session's messages ----

  function onFrame(conn: Conn, frame: Frame): void {
    const msg = session.readControl(conn, frame);
    if (!msg || conn.phase.state !== 'SESSION') return;
    const p = conn.phase;
    switch (msg.type) {
      case 'heartbeat':
        return write(conn, frameOf(conn.id, HEARTBEAT_ACK));
      case 'heartbeat-ack':
        return;
      case 'time-request':
        return send(conn, { type: 'time', serverTime: now() });
      case 'presence-watch':
      case 'allow-list':
      case 'block-list': {
        const change = decideListChange(p.listChanges, now(), o.listChangesPerMinute, msg.type);
        p.listChanges = change.window;
        if (change.refused) return send(conn, change.refused);
        if (msg.type === 'presence-watch') return presence.watch(conn, msg.ids);
        if (msg.type === 'allow-list') p.allowed = new Set(msg.ids);
        else p.blocked = msg.ids.length > 0 ? new Set(msg.ids) : null;
        return;
      }
      case 'introduce-request':
        return introducer.introduce(conn, p, msg.target);
      case 'bye':
      case 'error':
        return finish(conn, msg.code);
      case 'version-refused':
        return finish(conn, 'VERSION_REFUSED');
      default:
        return refuse(conn, { type: 'error', code: WIRE_CODE.UNEXPECTED, reason: `a ${msg.type} message is not one a client sends on a session` });
    }
  }

  // ---- deadlines ----

  function sweep(): void {
    const t = now();
    acceptor.sweepHandshakes(t);
    for (const conn of connections.all()) {
      const due = dueOf(conn, t, o);
      if (due.action === 'heartbeat') write(conn, frameOf(conn.id, HEARTBEAT));
      else if (due.action === 'refuse' && due.message) refuse(conn, due.message);
      else if (due.action === 'refuse') finish(conn, due.code);
      else if (due.action === 'destroy') conn.socket.destroy();
    }
    introductions.sweep(t);
  }
  const sweeper = setInterval(sweep, sweepInterval(o));
  sweeper.unref();

  // ---- the cluster ----

  const hooks: ClusterHooks = {
    apply: (event) => void applyToRegistry(registry, event),
    presence: (id, online, at) => {
      // Its own sessions here are announced by login and closing; a session elsewhere of an id
      // that also has one here is the stale one of a dead process.
      if (connections.session(id)) return;
      presence.announce(id, online, at);
    },
    revoked: (key, at) => revocation.revokedElsewhere(key, at),
    fenced: (cut) => {
      fenced = cut;
      if (!cut) return log('parley server: the cluster is back: logins are taken again');
      log('parley server: cut off from the cluster: its sessions are closed and logins refused until it is back');
      for (const conn of [...connections.all()]) {
        if (conn.phase.state === 'SESSION') refuse(conn, { type: 'bye', code: WIRE_CODE.SHUTTING_DOWN, reason: CUT_OFF });
      }
    },
    introduce: (ask) => introducer.introduceHere(ask),
  };
  if (o.cluster) {
    try {
      const mark = { node: o.cluster.node, name: o.cluster.name, servers: o.cluster.servers, public: o.cluster.publicAddress };
      await writeFile(path.join(o.dataDir, CLUSTER_MARK), JSON.stringify(mark, null, 2) + '\n');
      cluster = await startCluster(o.cluster, hooks);
    } catch (err) {
      clearInterval(sweeper);
      await journal.close();
      throw err;
    }
  }

  // ---- start ----

  try {
    await acceptor.listen();
  } catch (err) {
    clearInterval(sweeper);
    await cluster?.close();
    await journal.close();
    throw listenFailed(o.host, o.port, err);
  }

  let admin: Awaited<ReturnType<typeof listenAdmin>> | null = null;
  if (o.admin) {
    try {
      admin = await listenAdmin(o.dataDir, adminRequest);
    } catch (err) {
      clearInterval(sweeper);
      void acceptor.close();
      await cluster?.close();
      await journal.close();
      throw err;
    }
  }

  async function adminRequest(request: AdminRequest): Promise<AdminAnswer> {
    if (request.op === 'stats') return { ok: true, ...stats() };
    const result = await revocation.revoke(request.keySha256);
    return { ok: true, ...result };
  }

  function stats(): ServerStats {
    return { ...connections.stats(), registered: registry.byKey.size, revoked: registry.revoked.size, introductions: introductions.size() };
  }

  let closing: Promise<void> | null = null;
  function close(): Promise<void> {
    if (closing) return closing;
    closed = true;
    closing = (async () => {
      clearInterval(sweeper);
      const stopped = acceptor.close();
      await admin?.close();
      acceptor.abortHandshakes();
      for (const conn of [...connections.all()]) {
        if (conn.phase.state === 'SESSION') refuse(conn, { type: 'bye', code: WIRE_CODE.SHUTTING_DOWN, reason: 'the server is stopping' });
        else refuse(conn, null, WIRE_CODE.SHUTTING_DOWN);
      }
      // Give the byes a moment to leave, then cut what is left. Real time, not the injected clock:
      // this waits on sockets, it decides nothing.
      const deadline = Date.now() + o.closeGraceMs;
      while (connections.all().size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const conn of connections.all()) conn.socket.destroy();
      await stopped;
      await cluster?.close().catch(noteClusterFailure);
      // Every write settled, so the registry is exactly the journal up to its last seq (alone;
      // in a cluster it is the cluster's, not this journal's).
      await settled();
      if (!o.cluster) await saveCheckpoint(journal, REGISTRY, registry, journal.lastSeq()).catch((err: Error) => log(`parley server: cannot write the registry's checkpoint: ${err.message}`));
      await journal.close();
    })();
    return closing;
  }

  return { address: acceptor.address, adminPath: () => admin?.path ?? null, stats, revoke: revocation.revoke, close };
}
