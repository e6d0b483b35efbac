// Every connection the server holds, as a record whose `phase` says what it is (a union by
// state), and the counters that bound them. A connection changes state only through `enter`,
// which moves every counter and index with it, so they cannot drift from the records.
//
//   NEW         TLS done, certificate accepted, waiting for the first frame (login or relay-request)
//   LOGGING_IN  login read; the id is claimed, its registration being journaled
//   SESSION     login-ok sent: a server session (control frames only)
//   RELAY_WAIT  relay-request accepted, waiting for the other side of the pair
//   RELAY       spliced to the other side: bytes only, never read as frames
//   CLOSING     the last frame is sent and the socket ended; destroyed after closeGraceMs
//   CLOSED      the socket closed; the record is forgotten
//
// What a session costs in memory beyond Node's own TLS socket: this record, a frame decoder
// whose buffers are allocated only when a frame arrives split (frame.ts), and the list of ids it
// watches.
import type tls from 'node:tls';
import type { FrameDecoder } from '../src/net/frame.js';
import type { Limits } from './options.js';
import type { Window } from './rates.js';
import type { Splice } from './relay.js';

export type Relay = { a: Conn; b: Conn; nonce: string; splice: Splice | null };

export type Phase =
  // decoder: null until the certificate is accepted (nothing is read before, step 3).
  | { state: 'NEW'; decoder: FrameDecoder | null }
  | { state: 'LOGGING_IN' }
  | {
      state: 'SESSION';
      decoder: FrameDecoder;
      lan: string[];
      listenPort: number;
      watching: number[] | null;
      blocked: Set<number> | null;
      // Who may be introduced to it at once; null: anyone (a client that sent no allow list).
      allowed: Set<number> | null;
      introductions: Window;
      listChanges: Window;
    }
  // early: bytes that came after relay-request, kept for the splice.
  | { state: 'RELAY_WAIT'; peer: number; nonce: string; early: Buffer | null }
  | { state: 'RELAY'; peer: number; relay: Relay }
  | { state: 'CLOSING' }
  | { state: 'CLOSED' };

export type State = Phase['state'];

export type Conn = {
  readonly socket: tls.TLSSocket;
  keySha256: string;
  readonly host: string;
  readonly port: number;
  // 0 until the id is known (login claimed it, or a relay-request named it).
  id: number;
  // Accept time, then the time of the last state change that starts a deadline.
  since: number;
  lastRx: number;
  lastTx: number;
  phase: Phase;
};

export type Counts = { handshakes: number; pending: number; sessions: number; relays: number; relaysWaiting: number };

// May a new TCP connection from an address holding `fromAddress` pending places be accepted?
export function mayAccept(counts: Counts, fromAddress: number, limits: Pick<Limits, 'maxPending' | 'maxPendingPerAddress'>): boolean {
  return counts.handshakes + counts.pending < limits.maxPending && fromAddress < limits.maxPendingPerAddress;
}

// Sessions and pending connections together may exceed maxSessions by none: the connection
// asking is counted among the pending.
export function isFull(counts: Counts, limits: Pick<Limits, 'maxSessions'>): boolean {
  return counts.sessions + counts.pending > limits.maxSessions;
}

// A count per key, with no zero entries (a server meets many addresses once).
function bump<K>(map: Map<K, number>, key: K, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

export type Connections = ReturnType<typeof createConnections>;

export function createConnections(now: () => number) {
  const all = new Set<Conn>();
  // Ids claimed by a login (LOGGING_IN) or held by a session.
  const byId = new Map<number, Conn>();
  const waiting = new Map<string, Conn>();
  const relaysOf = new Map<number, number>();
  // Pending places (handshaking, or NEW) by source address, for maxPendingPerAddress.
  const pendingByAddress = new Map<string, number>();
  let handshakes = 0;
  let pending = 0;
  let sessions = 0;
  let relays = 0;

  const address = (from: string, by: number): void => bump(pendingByAddress, from, by);
  const relaySlot = (id: number, by: number): void => bump(relaysOf, id, by);

  // Each phase of pending holds one place of its address: the handshake (accept.ts), then NEW.
  function handshakeStarted(from: string): void {
    handshakes += 1;
    address(from, 1);
  }
  function handshakeOver(from: string): void {
    handshakes -= 1;
    address(from, -1);
  }

  function add(socket: tls.TLSSocket, host: string, port: number, acceptedAt: number): Conn {
    const t = now();
    const conn: Conn = { socket, keySha256: '', host, port, id: 0, since: acceptedAt, lastRx: t, lastTx: t, phase: { state: 'NEW', decoder: null } };
    all.add(conn);
    pending += 1;
    address(host, 1);
    return conn;
  }

  // The one place a connection changes state. Returns the phase it left, for the caller's
  // effects (journal, announcements), which are not this module's job.
  function enter(conn: Conn, next: Phase): Phase {
    const was = conn.phase;
    if (was.state === 'CLOSED') return was;
    conn.phase = next;
    switch (was.state) {
      case 'NEW':
        pending -= 1;
        address(conn.host, -1);
        break;
      case 'LOGGING_IN':
      case 'SESSION':
        if (next.state === 'SESSION') break;
        sessions -= 1;
        if (byId.get(conn.id) === conn) byId.delete(conn.id);
        break;
      case 'RELAY_WAIT':
        if (waiting.get(was.nonce) === conn) waiting.delete(was.nonce);
        if (next.state !== 'RELAY') relaySlot(conn.id, -1);
        break;
      case 'RELAY': {
        relaySlot(conn.id, -1);
        // The first end to leave closes the pair.
        const other = was.relay.a === conn ? was.relay.b : was.relay.a;
        if (other.phase.state === 'RELAY') relays -= 1;
        break;
      }
      default:
        break;
    }
    switch (next.state) {
      case 'LOGGING_IN':
        sessions += 1;
        break;
      case 'RELAY_WAIT':
        relaySlot(conn.id, 1);
        waiting.set(next.nonce, conn);
        conn.since = now();
        break;
      case 'RELAY':
        // The second end of a pair comes from NEW: it takes its slot and opens the pair.
        if (was.state === 'NEW') {
          relaySlot(conn.id, 1);
          relays += 1;
        }
        break;
      case 'CLOSING':
        conn.since = now();
        break;
      case 'CLOSED':
        all.delete(conn);
        break;
      default:
        break;
    }
    return was;
  }

  // Login claims the id at once, so a second login of the same key meanwhile is refused.
  function claim(conn: Conn, id: number): void {
    conn.id = id;
    byId.set(id, conn);
  }

  // A claim given back before the session opened (another process holds the id).
  function unclaim(conn: Conn): void {
    if (byId.get(conn.id) === conn) byId.delete(conn.id);
  }

  function counts(): Counts {
    return { handshakes, pending, sessions, relays, relaysWaiting: waiting.size };
  }

  return {
    all: (): ReadonlySet<Conn> => all,
    holder: (id: number): Conn | undefined => byId.get(id),
    session: (id: number): Conn | undefined => {
      const c = byId.get(id);
      return c?.phase.state === 'SESSION' ? c : undefined;
    },
    waitingFor: (nonce: string): Conn | undefined => waiting.get(nonce),
    relaysOf: (id: number): number => relaysOf.get(id) ?? 0,
    pendingFrom: (from: string): number => pendingByAddress.get(from) ?? 0,
    handshakeStarted,
    handshakeOver,
    add,
    enter,
    claim,
    unclaim,
    counts,
    // What the admin socket and tests read; the registry's and introductions' numbers are added
    // by the wiring.
    stats: () => {
      let live = 0;
      for (const c of byId.values()) if (c.phase.state === 'SESSION') live += 1;
      return { sessions: live, pending: pending + handshakes, handshaking: handshakes, relays, relaysWaiting: waiting.size };
    },
  };
}
