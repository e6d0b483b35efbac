// Relay pairing (PROTOCOL.md section 8): each side of an introduction opens a new connection and
// sends relay-request with the introduction's nonce; the first waits, the second completes the
// pair, and from then on relay.ts splices their bytes. The decision is pure; createPairing does
// what it says.
import { WIRE_CODE } from '../src/net/constants.js';
import type { ControlMessage, ControlOf } from '../src/net/control.js';
import type { ServerEvent } from './events.js';
import type { Conn, Connections, Counts, Relay } from './connections.js';
import type { Introductions } from './introductions.js';
import type { Limits } from './options.js';
import { splice, type Direction } from './relay.js';

export type PairingState = {
  // The id of this key if it has a live session (a relay is for a client that is signed in).
  onlineIdOf: (keySha256: string) => number | undefined;
  hasIntroduction: (nonce: string, id: number, peer: number, now: number) => boolean;
  relaysOf: (id: number) => number;
  // The end already waiting with this nonce: its id and the peer it asked for.
  waitingFor: (nonce: string) => { id: number; peer: number } | undefined;
  counts: Counts;
};

export type PairingDecision =
  // id: known when the refusal comes after the key's id was found (the refusal is addressed to it).
  | { ok: false; code: string; reason: string; id: number }
  // first: no end waits yet, this one will.
  | { ok: true; id: number; first: boolean };

export function decideRelay(state: PairingState, keySha256: string, msg: ControlOf<'relay-request'>, now: number, limits: Pick<Limits, 'maxRelays' | 'maxRelaysPerClient'>): PairingDecision {
  const id = state.onlineIdOf(keySha256);
  if (id === undefined) return { ok: false, code: WIRE_CODE.NOT_LOGGED_IN, reason: 'a relay is for a client with a live session: log in first', id: 0 };
  const no = (code: string, reason: string, to: number): PairingDecision => ({ ok: false, code, reason, id: to });
  if (!state.hasIntroduction(msg.nonce, id, msg.peer, now)) return no(WIRE_CODE.RELAY_NO_INTRODUCTION, `no live introduction of you and ${msg.peer} with this nonce; ask for a new one`, 0);
  if (state.relaysOf(id) >= limits.maxRelaysPerClient) return no(WIRE_CODE.RELAY_LIMIT, `at most ${limits.maxRelaysPerClient} relays per client`, 0);
  const other = state.waitingFor(msg.nonce);
  if (other && (other.id !== msg.peer || other.peer !== id)) return no(WIRE_CODE.RELAY_NO_INTRODUCTION, 'this nonce is already waiting for another pair', id);
  // Relays in all count pairs, spliced or waiting: the second end of a waiting pair opens none,
  // so only a first end can find the server full (else at the cap no pair could ever complete).
  if (!other && state.counts.relays + state.counts.relaysWaiting >= limits.maxRelays) return no(WIRE_CODE.RELAY_LIMIT, 'the server relays as many pairs as it may; try later', id);
  return { ok: true, id, first: !other };
}

export type PairingDeps = {
  limits: Limits;
  now: () => number;
  connections: Connections;
  introductions: Introductions;
  onlineIdOf: (keySha256: string) => number | undefined;
  refuse: (conn: Conn, last: ControlMessage | null) => void;
  send: (conn: Conn, msg: ControlMessage) => void;
  record: (event: ServerEvent) => void;
  onRelayData?: (relay: { a: number; b: number }, direction: Direction, chunk: Buffer) => void;
};

export function createPairing(deps: PairingDeps) {
  const { connections, introductions } = deps;

  // `early`: bytes that came after relay-request in the same read.
  function relayRequest(conn: Conn, msg: ControlOf<'relay-request'>, early: Buffer | null): void {
    const now = deps.now();
    const decision = decideRelay(
      {
        onlineIdOf: deps.onlineIdOf,
        hasIntroduction: (nonce, id, peer, t) => introductions.find(nonce, id, peer, t) !== null,
        relaysOf: connections.relaysOf,
        waitingFor: (nonce) => {
          const w = connections.waitingFor(nonce);
          return w && w.phase.state === 'RELAY_WAIT' ? { id: w.id, peer: w.phase.peer } : undefined;
        },
        counts: connections.counts(),
      },
      conn.keySha256,
      msg,
      now,
      deps.limits,
    );
    if (!decision.ok) {
      if (decision.id !== 0) conn.id = decision.id;
      return deps.refuse(conn, { type: 'relay-refused', peer: msg.peer, code: decision.code, reason: decision.reason });
    }
    conn.id = decision.id;
    const other = connections.waitingFor(msg.nonce);
    if (decision.first || !other || other.phase.state !== 'RELAY_WAIT') {
      // Read on while waiting: a paused socket with unread bytes in its buffer never reports the
      // client's end or reset, so the slot would stay taken until the pairing timeout. What the
      // client sends meanwhile (it should not, step 2) is kept for the splice, up to a bound.
      connections.enter(conn, { state: 'RELAY_WAIT', peer: msg.peer, nonce: msg.nonce, early });
      conn.socket.resume();
      return;
    }
    // Both have asked (step 5): relay-ready to both, then nothing but their bytes.
    const otherEarly = other.phase.early;
    const otherPeer = other.phase.peer;
    // A nonce opens one relay: ask for a new introduction to open another.
    introductions.remove(msg.nonce);
    const relay: Relay = { a: other, b: conn, nonce: msg.nonce, splice: null };
    connections.enter(other, { state: 'RELAY', peer: otherPeer, relay });
    connections.enter(conn, { state: 'RELAY', peer: msg.peer, relay });
    for (const end of [other, conn]) {
      // Paused until the splice takes it (it resumes both), so nothing is read unforwarded.
      end.socket.pause();
      deps.send(end, { type: 'relay-ready', peer: end === other ? otherPeer : msg.peer, nonce: msg.nonce });
    }
    deps.record({ type: 'relay.opened', a: other.id, b: conn.id, at: deps.now() });
    const tap = deps.onRelayData;
    const pair = { a: other.id, b: conn.id };
    relay.splice = splice(
      other.socket,
      conn.socket,
      { bytesPerSecond: deps.limits.relayBytesPerSecond, now: deps.now, onData: tap ? (direction, chunk) => tap(pair, direction, chunk) : undefined },
      { a: otherEarly ?? undefined, b: early ?? undefined },
    );
  }

  return { relayRequest };
}
