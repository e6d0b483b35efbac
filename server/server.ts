// The rendezvous server: who is online and where, introductions for hole punching, and a blind
// relay. Every rule it follows on the wire is in docs/PROTOCOL.md sections 6-8; the numbers in
// comments ("step 3") point there. This file only wires the parts, one job each:
//   options.ts      the options, checked once        connections.ts  records by state, counters
//   accept.ts       TCP, TLS, the certificate        session.ts      frames in and out
//   messages.ts     what a client's control messages do (the first says what the connection is)
//   login.ts        which id a key signs in with     presence.ts     watchers and announcements
//   cluster-login.ts  sign-in on one process of several (cluster/: the processes' shared state)
//   cluster-member.ts  this process as one of several: joining, the cluster's hooks, fenced
//   introductions.ts  who may meet whom              pairing.ts      relay ends paired by nonce
//   relay.ts        the splice                       revocation.ts   revoke on the running server
//   closing.ts      a connection's last message and its leaving
//   recorder.ts     the journal's writes
//   deadlines.ts    what is due on each connection, asked by one sweep timer
//   shutdown.ts     close, in order, and the undoing of a start that failed half-way
import path from 'node:path';
import { openJournal, type Journal } from '../src/events/journal.js';
import { isParleyError } from '../src/errors.js';
import { LIMITS, WIRE_CODE } from '../src/net/constants.js';
import { encodeControl, type ControlOf } from '../src/net/control.js';
import { createFrameDecoder } from '../src/net/frame.js';
import { createAcceptor } from './accept.js';
import { listenAdmin, type AdminAnswer, type AdminRequest } from './admin.js';
import { loadProjection, saveCheckpoint } from '../src/projections/checkpoint.js';
import { SERVER_EVENTS, type ServerEvent } from './events.js';
import { createClosing } from './closing.js';
import { createConnections, type Conn } from './connections.js';
import { dueOf, sweepInterval } from './deadlines.js';
import { dataInUse, listenFailed } from './errors.js';
import { createIntroducer, createIntroductions } from './introductions.js';
import type { Cluster } from './cluster/contract.js';
import { decideLogin, revokedRefusal } from './login.js';
import { createClusterLogin, cutOffRefusal, hostOf } from './cluster-login.js';
import { createClusterMember, joinCluster } from './cluster-member.js';
import { createMessages } from './messages.js';
import { resolveOptions, type ServerOptions } from './options.js';
import { createPairing } from './pairing.js';
import { createPresence } from './presence.js';
import { FRESH_WINDOW } from './rates.js';
import { createRecorder } from './recorder.js';
import { apply as applyToRegistry, initial as emptyRegistry, REGISTRY, type Registry } from './registry.js';
import { createRevocation, type RevokeResult } from './revocation.js';
import { createSession, frameOf } from './session.js';
import { shutdown, undoStart } from './shutdown.js';

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

// Encoded once, as HEARTBEAT_ACK is (messages.ts): the sweep sends it to every session this
// server has said nothing to for heartbeatMs.
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
  // The other processes of the server, when it is one of several (null: alone); whether this one
  // is cut off from them is member.fenced() (cluster-member.ts).
  let cluster: Cluster | null = null;
  const connections = createConnections(now);
  const introductions = createIntroductions({ ttlMs: o.introductionTtlMs, max: Math.max(1024, o.maxSessions * 4) });
  // Keys whose first registration is being journaled -> the id they will get.
  const registering = new Map<string, number>();
  // session, closing and presence call one another: each is given the others' functions late.
  const { refuse, finish } = createClosing({ connections, now, write: (c, b) => write(c, b), presence: () => presence, record, ended: (id) => void cluster?.release(id).catch(noteClusterFailure) });
  const session = createSession({ maxWriteQueueBytes: o.maxWriteQueueBytes, now, refuse, finish, onFirstFrame: (c, f, rest) => messages.onFirstFrame(c, f, rest), onFrame: (c, f) => messages.onFrame(c, f) });
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
  const messages = createMessages({ now, listChangesPerMinute: o.listChangesPerMinute, connections, readControl: session.readControl, write, send, refuse, finish, login, relayRequest: pairing.relayRequest, watch: presence.watch, introduce: introducer.introduce });

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

  // ---- login (steps 4-5) ----

  async function login(conn: Conn, msg: ControlOf<'login'>, rest: Buffer): Promise<void> {
    const key = conn.keySha256;
    if (member.fenced()) return refuse(conn, cutOffRefusal());
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

  const clusterLogin = createClusterLogin({ connections, registry: () => registry, fenced: () => member.fenced(), refuse, open, noteFailure: noteClusterFailure });

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

  const member = createClusterMember({ registry: () => registry, connections, announce: presence.announce, revokedElsewhere: revocation.revokedElsewhere, introduceHere: introducer.introduceHere, refuse, log });
  if (o.cluster) {
    try {
      cluster = await joinCluster(o.cluster, o.dataDir, member.hooks);
    } catch (err) {
      await undoStart({ sweeper, listening: null, cluster, journal });
      throw err;
    }
  }

  // ---- start ----

  try {
    await acceptor.listen();
  } catch (err) {
    await undoStart({ sweeper, listening: null, cluster, journal });
    throw listenFailed(o.host, o.port, err);
  }

  let admin: Awaited<ReturnType<typeof listenAdmin>> | null = null;
  if (o.admin) {
    try {
      admin = await listenAdmin(o.dataDir, adminRequest);
    } catch (err) {
      await undoStart({ sweeper, listening: acceptor, cluster, journal });
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
    closing = shutdown({ sweeper, acceptor, admin, connections, refuse, closeGraceMs: o.closeGraceMs, cluster, noteClusterFailure, settled, journal, alone: !o.cluster, registry, log });
    return closing;
  }

  return { address: acceptor.address, adminPath: () => admin?.path ?? null, stats, revoke: revocation.revoke, close };
}
