// The rendezvous server: who is online and where, introductions for hole punching, and a blind
// relay. Every rule it follows on the wire is in docs/PROTOCOL.md sections 6-8; the numbers in
// comments below ("step 3") point there.
//
// One connection, one record (Conn) and one state:
//   NEW         TLS done, certificate accepted, waiting for the first frame (login or relay-request)
//   LOGGING_IN  login read; the id is claimed, its registration being journaled
//   SESSION     login-ok sent: a server session (control frames only)
//   RELAY_WAIT  relay-request accepted, waiting for the other side of the pair
//   RELAY       spliced to the other side: bytes only, never read as frames
//   CLOSING     the last frame is sent and the socket ended; destroyed after closeGraceMs
// A single sweep timer (not one timer per connection: a server holds tens of thousands) enforces
// every deadline: login, heartbeat, relay pairing, relay idleness, closing grace.
//
// What a session costs in memory beyond Node's own TLS socket: this record, a frame decoder
// whose buffers are allocated only when a frame arrives split (frame.ts), and the list of ids it
// watches. The socket's handlers are shared functions that find the record through a symbol.
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { makePeerChecker, serverTlsOptions, type Identity } from '../cert/tls.js';
import { refusalCode } from '../cert/errors.js';
import { openJournal, type Journal } from '../src/events/journal.js';
import type { NewEvent, ParleyEvent } from '../src/events/types.js';
import { isParleyError } from '../src/errors.js';
import { CONTENT, FLAGS, FRAME, LIMITS, PROTOCOL_VERSION, SUPPORTED_VERSIONS, TIMING, WIRE_CODE } from '../src/net/constants.js';
import { assignId, decodeControl, encodeControl, isControlError, type ControlMessage, type ControlOf } from '../src/net/control.js';
import { createFrameDecoder, encodeFrame, versionRefusedFrame, type Frame, type FrameDecoder } from '../src/net/frame.js';
import type { NetError } from '../src/net/errors.js';
import { reasonText } from '../src/net/text.js';
import { listenAdmin, type AdminAnswer, type AdminRequest } from './admin.js';
import { badKeySha256, badOption, dataInUse, listenFailed, serverClosed } from './errors.js';
import { createIntroductions, rolesOf } from './introductions.js';
import { loadRegistry, saveRegistry } from './checkpoint.js';
import { apply, keySha256Of, type Registry } from './registry.js';
import { splice, type Direction, type Splice } from './relay.js';

export type ServerOptions = {
  identity: Identity;
  // The server's own directory: its journal (DIR/journal) and its admin socket (admin.ts).
  dataDir: string;
  host?: string;
  // 0: any free port (address() tells which).
  port?: number;
  // Announced in login-ok (1,000 .. 600,000 ms); the server also heartbeats a silent session.
  heartbeatMs?: number;
  // A session that sent nothing for this long is dropped and announced as gone.
  deadAfterMs?: number;
  // From TCP accept to the first frame (login or relay-request), TLS handshake included.
  loginTimeoutMs?: number;
  // Sessions, logged in or logging in. A login beyond it gets SERVER_FULL.
  maxSessions?: number;
  // Connections still in the TLS handshake or before their first frame.
  maxPending?: number;
  // The share of maxPending one source address may hold (default a quarter of it): beyond it, new
  // connections from that address are closed at accept, so one host cannot lock out the others.
  maxPendingPerAddress?: number;
  // A session whose unsent output grows beyond this (it does not read) is dropped.
  maxWriteQueueBytes?: number;
  maxRelays?: number;
  maxRelaysPerClient?: number;
  relayPairTimeoutMs?: number;
  relayIdleMs?: number;
  // Per direction of one relay; 0: no cap (see relay.ts on fairness).
  relayBytesPerSecond?: number;
  introductionTtlMs?: number;
  punchLeadMs?: number;
  // Introductions one client may ask for per minute.
  introductionsPerMinute?: number;
  // presence-watch and block-list messages one session may send per minute, both kinds together.
  listChangesPerMinute?: number;
  // How long a closing connection may take to go before it is destroyed.
  closeGraceMs?: number;
  // Listen on the admin socket (default true). Tests that run several servers in one
  // directory tree may turn it off.
  admin?: boolean;
  // For tests: sees every relayed chunk.
  onRelayData?: (relay: { a: number; b: number }, direction: Direction, chunk: Buffer) => void;
  // Notable events, one line each (a journal write that failed, a refused accept).
  log?: (line: string) => void;
};

export type ServerStats = {
  sessions: number;
  pending: number;
  relays: number;
  relaysWaiting: number;
  registered: number;
  revoked: number;
  introductions: number;
};

export type RevokeResult = { keySha256: string; revoked: boolean; id: number | null; closed: number };

export type RendezvousServer = {
  address: () => { host: string; port: number };
  adminPath: () => string | null;
  stats: () => ServerStats;
  revoke: (keySha256: string) => Promise<RevokeResult>;
  // Says bye to every session, closes relays and the journal. Idempotent.
  close: () => Promise<void>;
};

export const SERVER_DEFAULTS = Object.freeze({
  host: '0.0.0.0',
  port: 7300,
  heartbeatMs: TIMING.HEARTBEAT_MS,
  deadAfterMs: TIMING.DEAD_AFTER_MS,
  loginTimeoutMs: TIMING.LOGIN_TIMEOUT_MS,
  // One session needs one file descriptor: a process here may hold 20,000 in all.
  maxSessions: 50_000,
  maxPending: 2_000,
  maxWriteQueueBytes: 256 * 1024,
  maxRelays: 1_000,
  maxRelaysPerClient: 4,
  relayPairTimeoutMs: TIMING.RELAY_PAIR_TIMEOUT_MS,
  relayIdleMs: 120_000,
  relayBytesPerSecond: 0,
  introductionTtlMs: TIMING.INTRODUCTION_TTL_MS,
  punchLeadMs: TIMING.PUNCH_LEAD_MS,
  introductionsPerMinute: 60,
  // A client sends both lists after login-ok and then once per change of its contacts; each watch
  // is answered with up to 1,024 presence frames (about 80 KiB).
  listChangesPerMinute: 30,
  closeGraceMs: 2_000,
});

// maxPendingPerAddress by default: the server bench (96 handshakes in flight from one address)
// and a NAT of many honest clients get in, while a flood from one host leaves 3/4 of the slots.
const PENDING_SHARE_OF_ADDRESS = 4;

const enum State {
  NEW,
  LOGGING_IN,
  SESSION,
  RELAY_WAIT,
  RELAY,
  CLOSING,
  CLOSED,
}

type Relay = { a: Conn; b: Conn; splice: Splice | null; nonce: string };

type Conn = {
  socket: tls.TLSSocket;
  state: State;
  keySha256: string;
  host: string;
  port: number;
  // Accept time, then the time of the last state change that starts a deadline.
  since: number;
  lastRx: number;
  lastTx: number;
  decoder: FrameDecoder | null;
  // 0 until the id is known (login claimed it, or a relay-request named it).
  id: number;
  lan: string[];
  listenPort: number;
  watching: number[] | null;
  blocked: Set<number> | null;
  introWindow: number;
  introCount: number;
  listWindow: number;
  listCount: number;
  // Relay ends: the peer asked for, the nonce, bytes that came after relay-request.
  relayPeer: number;
  early: Buffer | null;
  relay: Relay | null;
};

const kConn = Symbol('parley.conn');
const kAccepted = Symbol('parley.accepted');
const kFrom = Symbol('parley.from');
// The TCP socket under a TLS socket: Node keeps it as `_parent`.
type Raw = net.Socket & { [kAccepted]?: number; [kFrom]?: string };
type Tagged = tls.TLSSocket & { [kConn]?: Conn; _parent?: Raw };

// What a waiting relay end may send before its pair is complete (one TLS flight is a few KiB).
const MAX_EARLY = 64 * 1024;
const noop = (): void => undefined;
const stopAfterFirst = (): boolean => true;

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) throw badOption(name, `a whole number of at least ${min}`, v);
  return v;
}

// => '203.0.113.7' from '::ffff:203.0.113.7' (an IPv4 client of a dual-stack listener)
function plainAddress(address: string | undefined): string {
  if (!address) return '0.0.0.0';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export async function startServer(options: ServerOptions): Promise<RendezvousServer> {
  const o = {
    heartbeatMs: positive('heartbeatMs', options.heartbeatMs, SERVER_DEFAULTS.heartbeatMs, LIMITS.MIN_HEARTBEAT_MS),
    deadAfterMs: positive('deadAfterMs', options.deadAfterMs, SERVER_DEFAULTS.deadAfterMs, 10),
    loginTimeoutMs: positive('loginTimeoutMs', options.loginTimeoutMs, SERVER_DEFAULTS.loginTimeoutMs, 10),
    maxSessions: positive('maxSessions', options.maxSessions, SERVER_DEFAULTS.maxSessions),
    maxPending: positive('maxPending', options.maxPending, SERVER_DEFAULTS.maxPending),
    maxWriteQueueBytes: positive('maxWriteQueueBytes', options.maxWriteQueueBytes, SERVER_DEFAULTS.maxWriteQueueBytes, 1024),
    maxRelays: positive('maxRelays', options.maxRelays, SERVER_DEFAULTS.maxRelays, 0),
    maxRelaysPerClient: positive('maxRelaysPerClient', options.maxRelaysPerClient, SERVER_DEFAULTS.maxRelaysPerClient, 0),
    relayPairTimeoutMs: positive('relayPairTimeoutMs', options.relayPairTimeoutMs, SERVER_DEFAULTS.relayPairTimeoutMs, 10),
    relayIdleMs: positive('relayIdleMs', options.relayIdleMs, SERVER_DEFAULTS.relayIdleMs, 10),
    relayBytesPerSecond: positive('relayBytesPerSecond', options.relayBytesPerSecond, SERVER_DEFAULTS.relayBytesPerSecond, 0),
    introductionTtlMs: positive('introductionTtlMs', options.introductionTtlMs, SERVER_DEFAULTS.introductionTtlMs, 10),
    punchLeadMs: positive('punchLeadMs', options.punchLeadMs, SERVER_DEFAULTS.punchLeadMs, 0),
    introductionsPerMinute: positive('introductionsPerMinute', options.introductionsPerMinute, SERVER_DEFAULTS.introductionsPerMinute),
    listChangesPerMinute: positive('listChangesPerMinute', options.listChangesPerMinute, SERVER_DEFAULTS.listChangesPerMinute),
    closeGraceMs: positive('closeGraceMs', options.closeGraceMs, SERVER_DEFAULTS.closeGraceMs, 10),
  };
  const maxPendingPerAddress = positive('maxPendingPerAddress', options.maxPendingPerAddress, Math.max(1, Math.floor(o.maxPending / PENDING_SHARE_OF_ADDRESS)));
  const identity = options.identity;
  // The CA parsed once, not per login.
  const checkPeer = makePeerChecker({ caPem: identity.ca, expectRole: 'client' });
  const log = options.log ?? noop;
  const host = options.host ?? SERVER_DEFAULTS.host;
  const port = options.port ?? SERVER_DEFAULTS.port;

  let journal: Journal;
  try {
    journal = await openJournal(path.join(options.dataDir, 'journal'), options.dataDir);
  } catch (err) {
    if (isParleyError(err) && err.code === 'PROFILE_IN_USE') throw dataInUse(options.dataDir, err);
    throw err;
  }

  // The registry is what the journal says: its checkpoint and the events after it (checkpoint.ts).
  // From now on every event the server journals goes through `record` or `durable`, and so
  // through apply too. A replay is followed by a new checkpoint, so the next start, even after a
  // crash, replays only what came since this one.
  let registry: Registry;
  try {
    const loaded = await loadRegistry(journal);
    registry = loaded.registry;
    if (loaded.replayed > 0) await saveRegistry(journal, registry, journal.lastSeq());
  } catch (err) {
    await journal.close();
    throw err;
  }

  const conns = new Set<Conn>();
  const sessionsById = new Map<number, Conn>();
  // Keys whose first registration is being journaled -> the id they will get, and those ids.
  const registering = new Map<string, number>();
  const reservedIds = new Set<number>();
  const watchers = new Map<number, Set<Conn>>();
  const waitingRelays = new Map<string, Conn>();
  const relaysOf = new Map<number, number>();
  let relays = 0;
  let pending = 0;
  let sessions = 0;
  let closed = false;
  const introductions = createIntroductions({ ttlMs: o.introductionTtlMs, max: Math.max(1024, o.maxSessions * 4) });

  // Journal writes under way, so that close() can wait for them before its checkpoint.
  const writes = new Set<Promise<unknown>>();
  function track<T>(p: Promise<T>): Promise<T> {
    writes.add(p);
    const forget = (): void => void writes.delete(p);
    p.then(forget, forget);
    return p;
  }

  // Journals an event and applies it to the registry. Session and relay events are not awaited
  // (the journal does not sync them: types.ts NOT_DURABLE); a failure is logged, never thrown.
  function record(event: ParleyEvent): Promise<unknown> {
    apply(registry, event);
    return track(journal.append(event as NewEvent).catch((err: Error) => log(`parley server: journal write failed: ${err.message}`)));
  }

  // A registration or a revocation: stored (and synced) first, then applied. Rejects when the
  // write fails, and then the registry is as it was.
  function durable(event: ParleyEvent): Promise<void> {
    return track(journal.append(event as NewEvent).then(() => void apply(registry, event)));
  }

  // ---- writing ----

  function frameOf(destination: number, payload: Buffer): Buffer {
    return encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: 0, destination, contentId: 0, payload });
  }

  function write(conn: Conn, buf: Buffer): void {
    const socket = conn.socket;
    if (socket.destroyed || !socket.writable) return;
    socket.write(buf);
    conn.lastTx = Date.now();
    // A peer that does not read would make this queue grow without end: drop it.
    if (socket.writableLength > o.maxWriteQueueBytes && conn.state !== State.CLOSING) {
      socket.destroy();
      finish(conn, 'SLOW_READER');
    }
  }

  function send(conn: Conn, msg: ControlMessage): void {
    write(conn, frameOf(conn.id, encodeControl(msg)));
  }

  // The payloads that never change, encoded once: a server holding 20,000 sessions answers
  // 2,000 heartbeats a second.
  const HEARTBEAT_ACK = encodeControl({ type: 'heartbeat-ack' });
  const HEARTBEAT = encodeControl({ type: 'heartbeat' });

  // ---- closing ----

  // Sends a last message (when given), ends the socket, and forgets the connection everywhere.
  function refuse(conn: Conn, msg: ControlMessage | Buffer | null, reason: string): void {
    if (conn.state === State.CLOSING || conn.state === State.CLOSED) return;
    if (msg) write(conn, Buffer.isBuffer(msg) ? msg : frameOf(conn.id, encodeControl(msg)));
    finish(conn, reason);
  }

  function finish(conn: Conn, reason: string): void {
    const was = conn.state;
    if (was === State.CLOSING || was === State.CLOSED) return;
    conn.state = State.CLOSING;
    conn.since = Date.now();
    conn.decoder = null;
    const socket = conn.socket;
    // Keep reading, and dropping, what the peer still sends: closing with unread bytes makes the
    // kernel send a reset, which can overtake the refusal we just wrote.
    socket.removeListener('data', onData);
    socket.removeListener('data', onWaitData);
    socket.on('data', noop);
    socket.resume();
    socket.end();

    if (was === State.NEW) leavePending(conn);
    if (was === State.LOGGING_IN || was === State.SESSION) {
      sessions -= 1;
      if (sessionsById.get(conn.id) === conn) sessionsById.delete(conn.id);
      if (conn.watching) unwatch(conn);
    }
    if (was === State.SESSION) {
      const at = Date.now();
      record({ type: 'session.closed', id: conn.id, reason, at });
      announce(conn.id, false, at);
    }
    if (was === State.RELAY_WAIT) {
      const nonce = conn.relay?.nonce;
      if (nonce !== undefined && waitingRelays.get(nonce) === conn) waitingRelays.delete(nonce);
      conn.relay = null;
      releaseRelaySlot(conn.id);
    }
    if (was === State.RELAY && conn.relay) {
      const relay = conn.relay;
      const other = relay.a === conn ? relay.b : relay.a;
      relay.splice?.stop();
      releaseRelaySlot(conn.id);
      if (other.state === State.RELAY) {
        relays -= 1;
        record({ type: 'relay.closed', a: relay.a.id, b: relay.b.id, bytes: relay.splice?.bytes() ?? 0, reason, at: Date.now() });
        finish(other, reason);
      }
    }
  }

  function releaseRelaySlot(id: number): void {
    const n = (relaysOf.get(id) ?? 1) - 1;
    if (n <= 0) relaysOf.delete(id);
    else relaysOf.set(id, n);
  }

  // ---- presence ----

  function isOnline(id: number): boolean {
    return sessionsById.get(id)?.state === State.SESSION;
  }

  // Tells the watchers of `id` that it came or went. The frame is built once; only the
  // destination id differs from one watcher to the next.
  function announce(id: number, online: boolean, at: number): void {
    const set = watchers.get(id);
    if (!set || set.size === 0) return;
    fanOut(set, { type: 'presence', id, online, at });
  }

  function fanOut(set: Set<Conn>, msg: ControlMessage): void {
    const template = frameOf(0, encodeControl(msg));
    for (const w of set) {
      if (w.state !== State.SESSION) continue;
      const buf = Buffer.allocUnsafe(template.length);
      template.copy(buf);
      buf.writeUIntBE(w.id, FRAME.OFFSET_DESTINATION, 5);
      write(w, buf);
    }
  }

  function unwatch(conn: Conn): void {
    for (const id of conn.watching ?? []) {
      const set = watchers.get(id);
      if (!set) continue;
      set.delete(conn);
      if (set.size === 0) watchers.delete(id);
    }
    conn.watching = null;
  }

  function watch(conn: Conn, ids: number[]): void {
    unwatch(conn);
    const unique = [...new Set(ids)];
    for (const id of unique) {
      let set = watchers.get(id);
      if (!set) watchers.set(id, (set = new Set()));
      set.add(conn);
    }
    conn.watching = unique.length > 0 ? unique : null;
    for (const id of unique) {
      send(conn, { type: 'presence', id, online: isOnline(id), at: registry.lastSeen.get(id) ?? 0 });
      const key = registry.byId.get(id);
      const revokedAt = key === undefined ? undefined : registry.revoked.get(key);
      if (key !== undefined && revokedAt !== undefined) send(conn, { type: 'revoked', id, key, at: revokedAt });
      if (conn.state !== State.SESSION) return;
    }
  }

  // ---- accepting ----

  const tlsServer = tls.createServer({
    ...serverTlsOptions(identity),
    // It asks for the client's certificate; here the handshake finishes whatever it is: the
    // application checks it and says why it refuses (DESIGN.md, traps of TLS 1.3).
    rejectUnauthorized: false,
    handshakeTimeout: o.loginTimeoutMs,
    noDelay: true,
  });
  // Node's own hard cap on open sockets: beyond it, an accepted socket is closed at once.
  tlsServer.maxConnections = o.maxSessions + 2 * o.maxRelays + o.maxPending;
  // Sockets accepted whose TLS handshake has not finished. The raw socket closes in every case
  // (handshake failed, timed out, or the TLS socket closed later), so its 'close' frees the slot.
  const handshaking = new Set<Raw>();
  // Pending connections (handshaking, or NEW) by source address, for maxPendingPerAddress.
  const pendingByAddress = new Map<string, number>();
  tlsServer.prependListener('connection', (raw: Raw) => {
    const from = plainAddress(raw.remoteAddress);
    if (closed || handshaking.size + pending >= o.maxPending || (pendingByAddress.get(from) ?? 0) >= maxPendingPerAddress) {
      raw.destroy();
      return;
    }
    handshaking.add(raw);
    holdAddress(from);
    raw[kAccepted] = Date.now();
    raw[kFrom] = from;
    raw.once('close', () => handshakeOver(raw));
  });
  // A handshake that failed is destroyed by Node, but one that timed out (handshakeTimeout) is
  // left to this listener: without the destroy it stays open for good.
  tlsServer.on('tlsClientError', (_err: Error, socket: tls.TLSSocket) => socket.destroy());
  tlsServer.on('secureConnection', onSecure);

  function holdAddress(from: string): void {
    pendingByAddress.set(from, (pendingByAddress.get(from) ?? 0) + 1);
  }

  function releaseAddress(from: string): void {
    const n = (pendingByAddress.get(from) ?? 1) - 1;
    if (n <= 0) pendingByAddress.delete(from);
    else pendingByAddress.set(from, n);
  }

  // Each phase of pending holds one place of its address: the handshake (released here, by its
  // end or the socket's close, whichever comes first), then NEW (released by leavePending).
  function handshakeOver(raw: Raw): void {
    if (handshaking.delete(raw)) releaseAddress(raw[kFrom] ?? '');
  }

  function leavePending(conn: Conn): void {
    pending -= 1;
    releaseAddress(conn.host);
  }

  function onSecure(socket: Tagged): void {
    if (socket._parent) handshakeOver(socket._parent);
    const now = Date.now();
    const conn: Conn = {
      socket,
      state: State.NEW,
      keySha256: '',
      host: plainAddress(socket.remoteAddress),
      port: socket.remotePort ?? 0,
      since: socket._parent?.[kAccepted] ?? now,
      lastRx: now,
      lastTx: now,
      decoder: null,
      id: 0,
      lan: [],
      listenPort: 0,
      watching: null,
      blocked: null,
      introWindow: 0,
      introCount: 0,
      listWindow: 0,
      listCount: 0,
      relayPeer: 0,
      early: null,
      relay: null,
    };
    socket[kConn] = conn;
    socket.on('error', noop);
    socket.on('close', onClose);
    conns.add(conn);
    pending += 1;
    holdAddress(conn.host);
    if (closed) return refuse(conn, { type: 'login-refused', code: WIRE_CODE.SHUTTING_DOWN, reason: 'the server is stopping' }, WIRE_CODE.SHUTTING_DOWN);

    // Step 3: the certificate, before a single byte from the client is read.
    const check = checkPeer(socket.getPeerX509Certificate(), { now });
    if (!check.ok) {
      return refuse(conn, { type: 'login-refused', code: refusalCode(check.code), reason: reasonText(check.reason) }, check.code);
    }
    conn.keySha256 = check.keySha256;
    if (registry.revoked.has(check.keySha256)) return refuse(conn, revokedRefusal(), WIRE_CODE.CERT_REVOKED);
    if (sessions + pending > o.maxSessions) {
      return refuse(conn, { type: 'login-refused', code: WIRE_CODE.SERVER_FULL, reason: `the server holds ${sessions} sessions, as many as it may; try later` }, WIRE_CODE.SERVER_FULL);
    }
    conn.decoder = createFrameDecoder({ maxPayload: LIMITS.MAX_CONTROL_PAYLOAD, stopWhen: stopAfterFirst });
    socket.on('data', onData);
  }

  function revokedRefusal(): ControlMessage {
    return { type: 'login-refused', code: WIRE_CODE.CERT_REVOKED, reason: 'this certificate\'s key was revoked by the server\'s operator' };
  }

  function onClose(this: Tagged): void {
    const conn = this[kConn];
    if (!conn) return;
    // Gone without a goodbye (reset, vanished): the watchers learn it now (the original's QUITED).
    finish(conn, 'CLOSED');
    conn.state = State.CLOSED;
    conns.delete(conn);
    this[kConn] = undefined;
  }

  // ---- reading ----

  function onData(this: Tagged, chunk: Buffer): void {
    const conn = this[kConn];
    if (!conn || !conn.decoder) return;
    conn.lastRx = Date.now();
    let frames: Frame[];
    try {
      frames = conn.decoder.push(chunk);
    } catch (err) {
      const e = err as NetError;
      // The frames before the bad bytes are valid: act on them, then refuse.
      for (const f of e.frames ?? []) {
        if (conn.state !== State.SESSION) break;
        onFrame(conn, f);
      }
      badFrame(conn, e);
      return;
    }
    if (conn.state === State.NEW) {
      if (frames.length > 0) onFirstFrame(conn, frames[0], conn.decoder.rest());
      return;
    }
    for (const f of frames) {
      if (conn.state !== State.SESSION) return;
      onFrame(conn, f);
    }
  }

  // A relay end waiting for its pair (section 8, step 4): bytes it sends are kept for the splice.
  // Beyond MAX_EARLY the socket is paused, so a client that floods before relay-ready holds no
  // more than that; its close is then seen at the pairing timeout, as it broke step 2.
  function onWaitData(this: Tagged, chunk: Buffer): void {
    const conn = this[kConn];
    if (!conn || conn.state !== State.RELAY_WAIT) return;
    conn.early = conn.early ? Buffer.concat([conn.early, chunk]) : chunk;
    if (conn.early.length >= MAX_EARLY) this.pause();
  }

  function badFrame(conn: Conn, err: NetError): void {
    if (err.code === 'FRAME_BAD_VERSION') return refuse(conn, versionRefusedFrame(SUPPORTED_VERSIONS), 'VERSION_REFUSED');
    const code = isControlError(err) ? WIRE_CODE.BAD_CONTROL : WIRE_CODE.BAD_FRAME;
    refuse(conn, { type: 'error', code, reason: reasonText(err.message) }, code);
  }

  // Frames on a server session are CONTROL, from the client (its id, or 0 before it knew it),
  // to the server (0). Returns the message, or refuses the connection and returns null.
  function readControl(conn: Conn, frame: Frame): ControlMessage | null {
    if (frame.contentType !== CONTENT.CONTROL) {
      refuse(conn, { type: 'error', code: WIRE_CODE.BAD_FRAME, reason: `a server link carries control frames only, not content type ${frame.contentType}` }, WIRE_CODE.BAD_FRAME);
      return null;
    }
    if (frame.destination !== 0 || (frame.source !== 0 && frame.source !== conn.id)) {
      refuse(conn, { type: 'error', code: WIRE_CODE.BAD_FRAME, reason: `a frame from ${frame.source} to ${frame.destination}: a client writes its own id (or 0) and the server's (0)` }, WIRE_CODE.BAD_FRAME);
      return null;
    }
    try {
      return decodeControl(frame.payload);
    } catch (err) {
      badFrame(conn, err as NetError);
      return null;
    }
  }

  // The first frame says what the connection is: a session (login) or a relay end (relay-request).
  // The socket is paused while that is settled; `rest` holds the bytes that followed the frame.
  function onFirstFrame(conn: Conn, frame: Frame, rest: Buffer): void {
    const msg = readControl(conn, frame);
    if (!msg) return;
    if (msg.type === 'login') {
      leavePending(conn);
      conn.state = State.LOGGING_IN;
      sessions += 1;
      conn.socket.pause();
      void login(conn, msg, Buffer.from(rest));
    } else if (msg.type === 'relay-request') {
      conn.socket.pause();
      relayRequest(conn, msg, rest.length > 0 ? Buffer.from(rest) : null);
    } else {
      refuse(conn, { type: 'error', code: WIRE_CODE.NOT_LOGGED_IN, reason: `${msg.type} before login: the first message is login (or relay-request)` }, WIRE_CODE.NOT_LOGGED_IN);
    }
  }

  function onFrame(conn: Conn, frame: Frame): void {
    const msg = readControl(conn, frame);
    if (!msg) return;
    switch (msg.type) {
      case 'heartbeat':
        return write(conn, frameOf(conn.id, HEARTBEAT_ACK));
      case 'heartbeat-ack':
        return;
      case 'time-request':
        return send(conn, { type: 'time', serverTime: Date.now() });
      case 'presence-watch':
        if (!listChangeAllowed(conn, msg.type)) return;
        return watch(conn, msg.ids);
      case 'block-list':
        if (!listChangeAllowed(conn, msg.type)) return;
        conn.blocked = msg.ids.length > 0 ? new Set(msg.ids) : null;
        return;
      case 'introduce-request':
        return introduce(conn, msg.target);
      case 'bye':
        return finish(conn, msg.code);
      case 'error':
        return finish(conn, msg.code);
      case 'version-refused':
        return finish(conn, 'VERSION_REFUSED');
      default:
        return refuse(conn, { type: 'error', code: WIRE_CODE.UNEXPECTED, reason: `a ${msg.type} message is not one a client sends on a session` }, WIRE_CODE.UNEXPECTED);
    }
  }

  // A watch is answered with up to 1,024 presence frames: without a bound, one session could make
  // the server write megabytes a second. Beyond listChangesPerMinute the change is refused with
  // `error` RATE_LIMITED, the lists stay as they were, and the session goes on (PROTOCOL.md
  // section 6, Bounds): the client sends its latest list again when the minute is over.
  function listChangeAllowed(conn: Conn, type: string): boolean {
    const now = Date.now();
    if (now - conn.listWindow >= 60_000) {
      conn.listWindow = now;
      conn.listCount = 0;
    }
    if (++conn.listCount <= o.listChangesPerMinute) return true;
    const wait = Math.ceil((conn.listWindow + 60_000 - now) / 1000);
    send(conn, { type: 'error', code: WIRE_CODE.RATE_LIMITED, reason: `at most ${o.listChangesPerMinute} presence-watch and block-list changes a minute: this ${type} was not applied; send it again in ${wait} s` });
    return false;
  }

  // ---- login (steps 4-5) ----

  async function login(conn: Conn, msg: ControlOf<'login'>, rest: Buffer): Promise<void> {
    const key = conn.keySha256;
    const refuseLogin = (code: string, reason: string): void => refuse(conn, { type: 'login-refused', code, reason }, code);
    if (msg.version !== PROTOCOL_VERSION) return refuse(conn, { type: 'version-refused', versions: [...SUPPORTED_VERSIONS] }, 'VERSION_REFUSED');
    if (registry.revoked.has(key)) return refuse(conn, revokedRefusal(), WIRE_CODE.CERT_REVOKED);

    // The key's id: the journaled one, the one being journaled, or a new one (section 4).
    let id = registry.byKey.get(key) ?? registering.get(key);
    const fresh = id === undefined;
    if (id === undefined) {
      const assigned = assignId(Buffer.from(key, 'hex'), (c) => registry.byId.has(c) || reservedIds.has(c));
      if (assigned === null) return refuseLogin(WIRE_CODE.ID_EXHAUSTED, 'no free id for this key; tell the server\'s operator');
      id = assigned;
    }
    const holder = sessionsById.get(id);
    if (holder) return refuseLogin(WIRE_CODE.ALREADY_SIGNED_IN, `already signed in from ${holder.host}`);
    // Claimed at once, so a second login of the same key meanwhile is refused.
    sessionsById.set(id, conn);
    conn.id = id;

    if (fresh) {
      // Durable before login-ok: an id once given out is never given to another key.
      registering.set(key, id);
      reservedIds.add(id);
      try {
        await durable({ type: 'client.registered', id, keySha256: key, at: Date.now() });
      } catch (err) {
        log(`parley server: cannot journal a registration: ${(err as Error).message}`);
        return refuse(conn, { type: 'login-refused', code: WIRE_CODE.UNEXPECTED, reason: 'the server cannot write its journal; try later' }, 'JOURNAL_FAILED');
      } finally {
        registering.delete(key);
        reservedIds.delete(id);
      }
      // Gone (or revoked) while the registration was written: the id is kept, the session not.
      if (conn.state !== State.LOGGING_IN) return;
      if (registry.revoked.has(key)) return refuse(conn, revokedRefusal(), WIRE_CODE.CERT_REVOKED);
    }

    conn.state = State.SESSION;
    conn.lan = msg.lan;
    conn.listenPort = msg.listenPort;
    const at = Date.now();
    conn.lastRx = at;
    record({ type: 'session.opened', id, address: `${conn.host}:${conn.port}`, at });
    send(conn, { type: 'login-ok', id, serverTime: at, host: conn.host, port: conn.port || 1, heartbeatMs: o.heartbeatMs });
    announce(id, true, at);
    if (conn.state !== State.SESSION) return;
    conn.decoder = createFrameDecoder({ maxPayload: LIMITS.MAX_CONTROL_PAYLOAD });
    if (rest.length > 0) onData.call(conn.socket as Tagged, rest);
    if (conn.state === State.SESSION) conn.socket.resume();
  }

  // ---- introduction (section 7) ----

  function introduce(conn: Conn, target: number): void {
    const no = (code: string, reason: string): void => send(conn, { type: 'introduce-refused', target, code, reason });
    const now = Date.now();
    if (now - conn.introWindow >= 60_000) {
      conn.introWindow = now;
      conn.introCount = 0;
    }
    if (++conn.introCount > o.introductionsPerMinute) return no(WIRE_CODE.RATE_LIMITED, `at most ${o.introductionsPerMinute} introductions a minute; try later`);
    if (target === conn.id) return no(WIRE_CODE.PEER_SELF, 'that is your own id');
    if (!registry.byId.has(target)) return no(WIRE_CODE.PEER_UNKNOWN, `no client has id ${target} on this server`);
    const peer = sessionsById.get(target);
    if (!peer || peer.state !== State.SESSION) return no(WIRE_CODE.PEER_OFFLINE, `${target} is not online`);
    if (peer.blocked?.has(conn.id)) return no(WIRE_CODE.PEER_REFUSED, `${target} does not accept you`);
    const intro = introductions.add(conn.id, target, now);
    if (!intro) return no(WIRE_CODE.RATE_LIMITED, 'the server has too many introductions under way; try later');
    const roles = rolesOf();
    const punchAt = now + o.punchLeadMs;
    send(conn, { type: 'introduce', peer: target, peerKey: peer.keySha256, host: peer.host, port: peer.port || 1, lan: peer.lan, listenPort: peer.listenPort, role: roles.asker, punchAt, nonce: intro.nonce });
    send(peer, { type: 'introduce', peer: conn.id, peerKey: conn.keySha256, host: conn.host, port: conn.port || 1, lan: conn.lan, listenPort: conn.listenPort, role: roles.target, punchAt, nonce: intro.nonce });
  }

  // ---- relay (section 8) ----

  function relayRequest(conn: Conn, msg: ControlOf<'relay-request'>, early: Buffer | null): void {
    const no = (code: string, reason: string): void => refuse(conn, { type: 'relay-refused', peer: msg.peer, code, reason }, code);
    const id = registry.byKey.get(conn.keySha256);
    if (id === undefined || !isOnline(id)) return no(WIRE_CODE.NOT_LOGGED_IN, 'a relay is for a client with a live session: log in first');
    const now = Date.now();
    if (!introductions.find(msg.nonce, id, msg.peer, now)) return no(WIRE_CODE.RELAY_NO_INTRODUCTION, `no live introduction of you and ${msg.peer} with this nonce; ask for a new one`);
    if ((relaysOf.get(id) ?? 0) >= o.maxRelaysPerClient) return no(WIRE_CODE.RELAY_LIMIT, `at most ${o.maxRelaysPerClient} relays per client`);

    conn.id = id;
    conn.relayPeer = msg.peer;
    conn.early = early;
    conn.since = now;
    const other = waitingRelays.get(msg.nonce);
    if (other && (other.id !== msg.peer || other.relayPeer !== id)) {
      return no(WIRE_CODE.RELAY_NO_INTRODUCTION, 'this nonce is already waiting for another pair');
    }
    // Relays in all count pairs, spliced or waiting: the second end of a waiting pair opens none,
    // so only a first end can find the server full (else at the cap no pair could ever complete).
    if (!other && relays + waitingRelays.size >= o.maxRelays) return no(WIRE_CODE.RELAY_LIMIT, 'the server relays as many pairs as it may; try later');
    relaysOf.set(id, (relaysOf.get(id) ?? 0) + 1);
    leavePending(conn);
    conn.state = State.RELAY_WAIT;
    if (!other) {
      waitingRelays.set(msg.nonce, conn);
      conn.relay = { a: conn, b: conn, splice: null, nonce: msg.nonce };
      // Read on while waiting: a paused socket with unread bytes in its buffer never reports the
      // client's end or reset, so the slot would stay taken until the pairing timeout. What the
      // client sends meanwhile (it should not, step 2) is kept for the splice, up to a bound.
      conn.decoder = null;
      conn.socket.removeListener('data', onData);
      conn.socket.on('data', onWaitData);
      conn.socket.resume();
      return;
    }
    // Both have asked (step 5): relay-ready to both, then nothing but their bytes.
    waitingRelays.delete(msg.nonce);
    // A nonce opens one relay: ask for a new introduction to open another.
    introductions.remove(msg.nonce);
    const relay: Relay = { a: other, b: conn, splice: null, nonce: msg.nonce };
    other.relay = relay;
    conn.relay = relay;
    other.state = State.RELAY;
    conn.state = State.RELAY;
    relays += 1;
    for (const end of [other, conn]) {
      end.decoder = null;
      end.socket.removeListener('data', onData);
      end.socket.removeListener('data', onWaitData);
      // Paused until the splice takes it (it resumes both), so nothing is read unforwarded.
      end.socket.pause();
      send(end, { type: 'relay-ready', peer: end.relayPeer, nonce: msg.nonce });
    }
    record({ type: 'relay.opened', a: other.id, b: conn.id, at: Date.now() });
    const tap = options.onRelayData;
    const pair = { a: other.id, b: conn.id };
    relay.splice = splice(
      other.socket,
      conn.socket,
      { bytesPerSecond: o.relayBytesPerSecond, onData: tap ? (direction, chunk) => tap(pair, direction, chunk) : undefined },
      { a: other.early ?? undefined, b: conn.early ?? undefined },
    );
    other.early = null;
    conn.early = null;
  }

  // ---- revocation ----

  // Revocations being journaled, by key: a second revoke of the same key meanwhile waits for the
  // first and then finds it done, so the watchers are told once.
  const revoking = new Map<string, Promise<unknown>>();

  async function revoke(keySha256: string): Promise<RevokeResult> {
    const key = keySha256Of(keySha256);
    if (key === null) throw badKeySha256(keySha256);
    if (closed) throw serverClosed();
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
    const already = registry.revoked.has(key);
    if (!already) {
      await durable({ type: 'client.revoked', keySha256: key, at: Date.now() });
    }
    const id = registry.byKey.get(key) ?? null;
    // Its watchers first, so they read "revoked" before "offline"; once only: they were told at
    // the first revocation, and a new watch of the id is told by watch().
    if (id !== null && !already) {
      const set = watchers.get(id);
      if (set) fanOut(set, { type: 'revoked', id, key, at: registry.revoked.get(key) ?? Date.now() });
    }
    let count = 0;
    for (const conn of [...conns]) {
      if (conn.keySha256 !== key || conn.state === State.CLOSING || conn.state === State.CLOSED) continue;
      count += 1;
      if (conn.state === State.SESSION) refuse(conn, { type: 'bye', code: WIRE_CODE.REVOKED, reason: 'this certificate\'s key was revoked by the server\'s operator' }, WIRE_CODE.REVOKED);
      else if (conn.state === State.RELAY || conn.state === State.RELAY_WAIT) finish(conn, WIRE_CODE.REVOKED);
      else refuse(conn, revokedRefusal(), WIRE_CODE.CERT_REVOKED);
    }
    return { keySha256: key, revoked: !already, id, closed: count };
  }

  // ---- deadlines ----

  function sweep(): void {
    const now = Date.now();
    // Steps 1-3 within loginTimeoutMs of the accept, whatever arrives meanwhile (section 6). Node's
    // handshakeTimeout (tlsClientError, above) closes these too, but it is a socket timer whose
    // rules are Node's; this is the bound the protocol states, counted from the accept.
    for (const raw of handshaking) {
      if (now - (raw[kAccepted] ?? now) > o.loginTimeoutMs) raw.destroy();
    }
    for (const conn of conns) {
      switch (conn.state) {
        case State.NEW:
          if (now - conn.since > o.loginTimeoutMs) refuse(conn, { type: 'error', code: WIRE_CODE.LOGIN_TIMEOUT, reason: `no login within ${o.loginTimeoutMs} ms` }, WIRE_CODE.LOGIN_TIMEOUT);
          break;
        case State.SESSION:
          if (now - conn.lastRx > o.deadAfterMs) {
            refuse(conn, { type: 'bye', code: WIRE_CODE.HEARTBEAT_TIMEOUT, reason: `nothing received for ${o.deadAfterMs} ms` }, WIRE_CODE.HEARTBEAT_TIMEOUT);
          } else if (now - conn.lastTx >= o.heartbeatMs) {
            write(conn, frameOf(conn.id, HEARTBEAT));
          }
          break;
        case State.RELAY_WAIT:
          if (now - conn.since > o.relayPairTimeoutMs) {
            refuse(conn, { type: 'relay-refused', peer: conn.relayPeer, code: WIRE_CODE.RELAY_TIMEOUT, reason: `${conn.relayPeer} did not ask for the relay within ${o.relayPairTimeoutMs} ms` }, WIRE_CODE.RELAY_TIMEOUT);
          }
          break;
        case State.RELAY:
          if (conn.relay && conn.relay.a === conn && conn.relay.splice && now - conn.relay.splice.lastActivity() > o.relayIdleMs) finish(conn, 'IDLE');
          break;
        case State.CLOSING:
          if (now - conn.since > o.closeGraceMs) conn.socket.destroy();
          break;
        default:
          break;
      }
    }
    introductions.sweep(now);
  }
  const tick = Math.max(20, Math.min(1000, Math.floor(Math.min(o.deadAfterMs, o.loginTimeoutMs, o.relayIdleMs, o.relayPairTimeoutMs, o.closeGraceMs) / 4)));
  const sweeper = setInterval(sweep, tick);
  sweeper.unref();

  // ---- start ----

  try {
    await new Promise<void>((resolve, reject) => {
      tlsServer.once('error', reject);
      tlsServer.listen(port, host, () => {
        tlsServer.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    clearInterval(sweeper);
    await journal.close();
    throw listenFailed(host, port, err);
  }
  // Only now: a listen error (EADDRINUSE) is the start's failure, said once by listenFailed, not
  // an accept error as well.
  let acceptErrors = 0;
  tlsServer.on('error', (err: NodeJS.ErrnoException) => {
    // EMFILE and friends on accept: the server goes on with the sockets it has.
    if (acceptErrors++ % 1000 === 0) log(`parley server: accept failed: ${err.code ?? err.message}`);
  });

  let admin: Awaited<ReturnType<typeof listenAdmin>> | null = null;
  if (options.admin !== false) {
    try {
      admin = await listenAdmin(options.dataDir, adminRequest);
    } catch (err) {
      clearInterval(sweeper);
      tlsServer.close();
      await journal.close();
      throw err;
    }
  }

  async function adminRequest(request: AdminRequest): Promise<AdminAnswer> {
    if (request.op === 'stats') return { ok: true, ...stats() };
    const result = await revoke(request.keySha256);
    return { ok: true, ...result };
  }

  function stats(): ServerStats {
    return {
      sessions: [...sessionsById.values()].filter((c) => c.state === State.SESSION).length,
      pending: pending + handshaking.size,
      relays,
      relaysWaiting: waitingRelays.size,
      registered: registry.byKey.size,
      revoked: registry.revoked.size,
      introductions: introductions.size(),
    };
  }

  let closing: Promise<void> | null = null;
  function close(): Promise<void> {
    if (closing) return closing;
    closed = true;
    closing = (async () => {
      clearInterval(sweeper);
      const stopped = new Promise<void>((resolve) => tlsServer.close(() => resolve()));
      await admin?.close();
      for (const raw of handshaking) raw.destroy();
      for (const conn of [...conns]) {
        if (conn.state === State.SESSION) refuse(conn, { type: 'bye', code: WIRE_CODE.SHUTTING_DOWN, reason: 'the server is stopping' }, WIRE_CODE.SHUTTING_DOWN);
        else if (conn.state !== State.CLOSING && conn.state !== State.CLOSED) refuse(conn, null, WIRE_CODE.SHUTTING_DOWN);
      }
      // Give the byes a moment to leave, then cut what is left.
      const deadline = Date.now() + o.closeGraceMs;
      while (conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const conn of conns) conn.socket.destroy();
      await stopped;
      // Every write settled, so the registry is exactly the journal up to its last seq.
      while (writes.size > 0) await Promise.allSettled([...writes]);
      await saveRegistry(journal, registry, journal.lastSeq()).catch((err: Error) => log(`parley server: cannot write the registry's checkpoint: ${err.message}`));
      await journal.close();
    })();
    return closing;
  }

  return {
    address: () => {
      const a = tlsServer.address() as net.AddressInfo;
      return { host: a.address, port: a.port };
    },
    adminPath: () => admin?.path ?? null,
    stats,
    revoke,
    close,
  };
}
