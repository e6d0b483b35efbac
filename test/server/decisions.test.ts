// The server's pure decisions, as tables, with the time passed in: login, introductions and their
// rate window, capacity (accept, server full, relay caps), list changes, every deadline just
// before and just after its bound, and the connection counters kept by enter().
import { describe, expect, it } from 'vitest';
import type tls from 'node:tls';
import type { ParleyEvent } from '../../src/events/types.js';
import { PROTOCOL_VERSION, WIRE_CODE } from '../../src/net/constants.js';
import { assignId, type ControlOf } from '../../src/net/control.js';
import { createConnections, isFull, mayAccept, type Conn, type Counts, type Phase, type Relay } from '../../server/connections.js';
import { dueOf, handshakeDue, sweepInterval } from '../../server/deadlines.js';
import { decideIntroduction, type IntroductionState } from '../../server/introductions.js';
import { decideLogin, type LoginState } from '../../server/login.js';
import { resolveLimits } from '../../server/options.js';
import { decideRelay, type PairingState } from '../../server/pairing.js';
import { decideListChange } from '../../server/presence.js';
import { FRESH_WINDOW, spend, WINDOW_MS, type Window } from '../../server/rates.js';
import { apply, initial, type Registry } from '../../server/registry.js';
import type { Splice } from '../../server/relay.js';

const K1 = '11'.repeat(32);
const K2 = '22'.repeat(32);
const NOW = 1_700_000_000_000;
const LOGIN: ControlOf<'login'> = { type: 'login', version: PROTOCOL_VERSION, lan: [], listenPort: 0 } as ControlOf<'login'>;

function given(events: ParleyEvent[]): Registry {
  return events.reduce(apply, initial());
}

function loginState(registry: Registry, over: Partial<LoginState> = {}): LoginState {
  return { registry, registering: new Map(), holderOf: () => undefined, ...over };
}

// Every id the key could ever get: taken all, it gets none.
function allCandidates(key: string): number[] {
  const seen: number[] = [];
  assignId(Buffer.from(key, 'hex'), (c) => (seen.push(c), true));
  return seen;
}

describe('decideLogin', () => {
  const k1Id = assignId(Buffer.from(K1, 'hex'), () => false) as number;
  const registered = given([{ type: 'client.registered', id: 42, keySha256: K1, at: 1 }]);
  const cases: { title: string; state: LoginState; key?: string; msg?: ControlOf<'login'>; expect: Record<string, unknown> }[] = [
    { title: 'a new key gets its first free candidate, fresh, with the event to journal at the time given', state: loginState(initial()), expect: { ok: true, id: k1Id, fresh: true, registered: { type: 'client.registered', id: k1Id, keySha256: K1, at: NOW } } },
    { title: 'a known key gets its journaled id, not fresh', state: loginState(registered), expect: { ok: true, id: 42, fresh: false } },
    { title: 'a key being registered gets the id it is getting, not fresh', state: loginState(initial(), { registering: new Map([[K1, 9]]) }), expect: { ok: true, id: 9, fresh: false } },
    { title: 'a new key skips an id another key is being registered with', state: loginState(initial(), { registering: new Map([[K2, k1Id]]) }), expect: { ok: true, fresh: true } },
    {
      title: 'a revoked key is refused CERT_REVOKED',
      state: loginState(given([{ type: 'client.registered', id: 42, keySha256: K1, at: 1 }, { type: 'client.revoked', keySha256: K1, at: 2 }])),
      expect: { ok: false, message: { type: 'login-refused', code: WIRE_CODE.CERT_REVOKED } },
    },
    {
      title: 'an id held by another session is refused ALREADY_SIGNED_IN, naming where from',
      state: loginState(registered, { holderOf: (id) => (id === 42 ? { host: '203.0.113.7' } : undefined) }),
      expect: { ok: false, message: { type: 'login-refused', code: WIRE_CODE.ALREADY_SIGNED_IN, reason: 'already signed in from 203.0.113.7' } },
    },
    {
      title: 'a new key whose every candidate is taken is refused ID_EXHAUSTED',
      state: loginState(given(allCandidates(K1).map((id, i) => ({ type: 'client.registered', id, keySha256: i.toString(16).padStart(64, '0'), at: 1 }) as ParleyEvent))),
      expect: { ok: false, message: { type: 'login-refused', code: WIRE_CODE.ID_EXHAUSTED } },
    },
    {
      title: 'another protocol version is answered with version-refused',
      state: loginState(registered),
      msg: { ...LOGIN, version: PROTOCOL_VERSION + 1 },
      expect: { ok: false, message: { type: 'version-refused' } },
    },
  ];
  for (const c of cases) {
    it(`login - ${c.title}`, () => {
      expect(decideLogin(c.state, c.key ?? K1, c.msg ?? LOGIN, NOW)).toMatchObject(c.expect);
    });
  }
  it('login - the decision does not change the state it is given', () => {
    const r = initial();
    decideLogin(loginState(r), K1, LOGIN, NOW);
    expect(r.byKey.size).toBe(0);
  });
});

describe('decideIntroduction', () => {
  // 1 asks; 2 is online and accepts everyone (no allow list), 3 online and blocks 1, 4 registered
  // and offline, 5 allows only 1, 6 allows only 7 (1 is asked about, not introduced).
  const state: IntroductionState = {
    isRegistered: (id) => [1, 2, 3, 4, 5, 6].includes(id),
    sessionOf: (id) =>
      ({
        2: { blocked: null, allowed: null },
        3: { blocked: new Set([1]), allowed: null },
        5: { blocked: null, allowed: new Set([1]) },
        6: { blocked: null, allowed: new Set([7]) },
      })[id],
  };
  const cases: [string, number, string | null, boolean][] = [
    ['yourself', 1, WIRE_CODE.PEER_SELF, false],
    ['an unknown id', 99, WIRE_CODE.PEER_UNKNOWN, false],
    ['an offline id', 4, WIRE_CODE.PEER_OFFLINE, false],
    ['an id that blocks you', 3, WIRE_CODE.PEER_REFUSED, false],
    ['an online id that accepts everyone', 2, null, false],
    ['an online id that allows you', 5, null, false],
    ['an online id that does not allow you (yet): it is asked', 6, WIRE_CODE.PEER_ASKED, true],
  ];
  for (const [what, target, code, ask] of cases) {
    it(`introductions - ${what}: ${code ?? 'introduced'}`, () => {
      const d = decideIntroduction(state, { id: 1, window: FRESH_WINDOW }, target, NOW, 60);
      expect(d.refused?.code ?? null).toBe(code);
      expect(d.ask === true).toBe(ask);
      expect(d.window).toEqual({ start: NOW, count: 1 });
    });
  }

  it('introductions - the rate window: refused RATE_LIMITED past the limit, refusals count, free again once the minute is over', () => {
    let window: Window = FRESH_WINDOW;
    const ask = (at: number, target = 2): string | null => {
      const d = decideIntroduction(state, { id: 1, window }, target, at, 3);
      window = d.window;
      return d.refused?.code ?? null;
    };
    expect(ask(NOW)).toBeNull();
    expect(ask(NOW + 1, 4)).toBe(WIRE_CODE.PEER_OFFLINE);
    expect(ask(NOW + 2)).toBeNull();
    expect(ask(NOW + 3)).toBe(WIRE_CODE.RATE_LIMITED);
    expect(ask(NOW + WINDOW_MS - 1)).toBe(WIRE_CODE.RATE_LIMITED);
    // The window started at NOW: at NOW + 60 s a new one starts with this request.
    expect(ask(NOW + WINDOW_MS)).toBeNull();
    expect(window).toEqual({ start: NOW + WINDOW_MS, count: 1 });
    expect(ask(NOW + WINDOW_MS + 1)).toBeNull();
    expect(ask(NOW + WINDOW_MS + 2)).toBeNull();
    expect(ask(NOW + 2 * WINDOW_MS - 1)).toBe(WIRE_CODE.RATE_LIMITED);
  });
});

describe('rate windows', () => {
  it('spend - says how long until the window is over', () => {
    expect(spend({ start: NOW, count: 2 }, NOW + 15_000, 2)).toEqual({ ok: false, window: { start: NOW, count: 3 }, waitMs: 45_000 });
    expect(spend({ start: NOW, count: 2 }, NOW + WINDOW_MS, 2)).toEqual({ ok: true, window: { start: NOW + WINDOW_MS, count: 1 }, waitMs: 0 });
  });

  it('list changes - past listChangesPerMinute an error RATE_LIMITED names the wait in seconds, rounded up', () => {
    const w = { start: NOW, count: 30 };
    expect(decideListChange(w, NOW + 59_001, 30, 'presence-watch').refused).toEqual({
      type: 'error',
      code: WIRE_CODE.RATE_LIMITED,
      reason: 'at most 30 presence-watch and block-list changes a minute: this presence-watch was not applied; send it again in 1 s',
    });
    expect(decideListChange(w, NOW + WINDOW_MS, 30, 'block-list').refused).toBeNull();
    expect(decideListChange({ start: NOW, count: 29 }, NOW + 1, 30, 'block-list').refused).toBeNull();
  });
});

describe('capacity', () => {
  const limits = resolveLimits({ maxPending: 8, maxSessions: 10, maxRelays: 2, maxRelaysPerClient: 1 });
  const counts = (c: Partial<Counts>): Counts => ({ handshakes: 0, pending: 0, sessions: 0, relays: 0, relaysWaiting: 0, ...c });

  it('capacity - maxPendingPerAddress is a quarter of maxPending unless given', () => {
    expect(limits.maxPendingPerAddress).toBe(2);
    expect(resolveLimits({ maxPending: 3 }).maxPendingPerAddress).toBe(1);
    expect(resolveLimits({ maxPending: 8, maxPendingPerAddress: 5 }).maxPendingPerAddress).toBe(5);
  });

  const accept: [string, Partial<Counts>, number, boolean][] = [
    ['an empty server', {}, 0, true],
    ['pending (handshakes and NEW) one below maxPending', { handshakes: 4, pending: 3 }, 0, true],
    ['pending at maxPending', { handshakes: 4, pending: 4 }, 0, false],
    ['an address one below its share', { pending: 1 }, 1, true],
    ['an address at its share, while other addresses have room', { pending: 2 }, 2, false],
  ];
  for (const [what, c, fromAddress, ok] of accept) {
    it(`capacity - accept: ${what} -> ${ok ? 'accepted' : 'closed'}`, () => {
      expect(mayAccept(counts(c), fromAddress, limits)).toBe(ok);
    });
  }

  it('capacity - server full: sessions and pending beyond maxSessions, the asker counted among the pending', () => {
    expect(isFull(counts({ sessions: 9, pending: 1 }), limits)).toBe(false);
    expect(isFull(counts({ sessions: 10, pending: 1 }), limits)).toBe(true);
    expect(isFull(counts({ sessions: 5, pending: 6 }), limits)).toBe(true);
  });

  const nonce = 'ab'.repeat(16);
  const request = { type: 'relay-request', peer: 2, nonce } as ControlOf<'relay-request'>;
  const pairing = (over: Partial<PairingState>): PairingState => ({
    onlineIdOf: (key) => (key === K1 ? 1 : undefined),
    hasIntroduction: (n, id, peer) => n === nonce && id === 1 && peer === 2,
    relaysOf: () => 0,
    waitingFor: () => undefined,
    counts: counts({}),
    ...over,
  });
  const relayCases: [string, Partial<PairingState>, string, Record<string, unknown>][] = [
    ['a first end waits', {}, K1, { ok: true, id: 1, first: true }],
    ['a key with no live session', {}, K2, { ok: false, code: WIRE_CODE.NOT_LOGGED_IN }],
    ['no live introduction', { hasIntroduction: () => false }, K1, { ok: false, code: WIRE_CODE.RELAY_NO_INTRODUCTION }],
    ['the client at maxRelaysPerClient', { relaysOf: () => 1 }, K1, { ok: false, code: WIRE_CODE.RELAY_LIMIT, reason: 'at most 1 relays per client' }],
    ['a first end with the server at maxRelays (spliced and waiting)', { counts: counts({ relays: 1, relaysWaiting: 1 }) }, K1, { ok: false, code: WIRE_CODE.RELAY_LIMIT, id: 1 }],
    ['the second end of a waiting pair, the server at maxRelays', { counts: counts({ relays: 1, relaysWaiting: 1 }), waitingFor: () => ({ id: 2, peer: 1 }) }, K1, { ok: true, id: 1, first: false }],
    ['a nonce waiting for another pair', { waitingFor: () => ({ id: 3, peer: 1 }) }, K1, { ok: false, code: WIRE_CODE.RELAY_NO_INTRODUCTION, id: 1 }],
  ];
  for (const [what, over, key, expected] of relayCases) {
    it(`capacity - relay: ${what}`, () => {
      expect(decideRelay(pairing(over), key, request, NOW, limits)).toMatchObject(expected);
    });
  }
});

describe('deadlines', () => {
  const limits = resolveLimits({ loginTimeoutMs: 1_000, deadAfterMs: 5_000, heartbeatMs: 2_000, relayPairTimeoutMs: 3_000, relayIdleMs: 4_000, closeGraceMs: 500 });
  const conn = (phase: Phase, times: Partial<Pick<Conn, 'since' | 'lastRx' | 'lastTx'>> = {}) => ({ since: NOW, lastRx: NOW, lastTx: NOW, phase, ...times });
  const session: Phase = { state: 'SESSION', decoder: null as never, lan: [], listenPort: 0, watching: null, blocked: null, introductions: FRESH_WINDOW, listChanges: FRESH_WINDOW };
  const relayed = (lastActivity: number, first: boolean) => {
    const splice: Splice = { bytes: () => 0, lastActivity: () => lastActivity, stop: () => undefined };
    const relay = { splice } as Relay;
    const end = conn({ state: 'RELAY', peer: 2, relay });
    relay.a = (first ? end : {}) as Conn;
    relay.b = (first ? {} : end) as Conn;
    return end;
  };
  const cases: [string, ReturnType<typeof conn>, number, Record<string, unknown>][] = [
    ['NEW just before the login timeout', conn({ state: 'NEW', decoder: null }), NOW + 1_000, { action: 'none' }],
    ['NEW just after the login timeout', conn({ state: 'NEW', decoder: null }), NOW + 1_001, { action: 'refuse', code: WIRE_CODE.LOGIN_TIMEOUT, message: { type: 'error', code: WIRE_CODE.LOGIN_TIMEOUT } }],
    ['LOGGING_IN (the journal write bounds it)', conn({ state: 'LOGGING_IN' }), NOW + 100_000, { action: 'none' }],
    ['SESSION just before a heartbeat is due', conn(session), NOW + 1_999, { action: 'none' }],
    ['SESSION at the heartbeat interval', conn(session), NOW + 2_000, { action: 'heartbeat' }],
    ['SESSION that wrote lately, read long ago', conn(session, { lastTx: NOW + 4_000 }), NOW + 5_000, { action: 'none' }],
    ['SESSION just after deadAfterMs', conn(session, { lastTx: NOW + 4_000 }), NOW + 5_001, { action: 'refuse', code: WIRE_CODE.HEARTBEAT_TIMEOUT, message: { type: 'bye' } }],
    ['RELAY_WAIT just before the pairing timeout', conn({ state: 'RELAY_WAIT', peer: 2, nonce: 'n', early: null }), NOW + 3_000, { action: 'none' }],
    ['RELAY_WAIT just after the pairing timeout', conn({ state: 'RELAY_WAIT', peer: 2, nonce: 'n', early: null }), NOW + 3_001, { action: 'refuse', code: WIRE_CODE.RELAY_TIMEOUT, message: { type: 'relay-refused', peer: 2 } }],
    ['RELAY (first end) just before idle', relayed(NOW, true), NOW + 4_000, { action: 'none' }],
    ['RELAY (first end) just after idle', relayed(NOW, true), NOW + 4_001, { action: 'refuse', code: 'IDLE', message: null }],
    ['RELAY (second end): the first end closes both', relayed(NOW, false), NOW + 4_001, { action: 'none' }],
    ['CLOSING just before the grace', conn({ state: 'CLOSING' }), NOW + 500, { action: 'none' }],
    ['CLOSING just after the grace', conn({ state: 'CLOSING' }), NOW + 501, { action: 'destroy' }],
    ['CLOSED', conn({ state: 'CLOSED' }), NOW + 100_000, { action: 'none' }],
  ];
  for (const [what, c, at, expected] of cases) {
    it(`deadlines - ${what}`, () => {
      expect(dueOf(c, at, limits)).toMatchObject(expected);
    });
  }

  it('deadlines - a handshake is destroyed just after the login timeout from its accept', () => {
    expect(handshakeDue(NOW, NOW + 1_000, limits)).toEqual({ action: 'none' });
    expect(handshakeDue(NOW, NOW + 1_001, limits)).toEqual({ action: 'destroy' });
  });

  it('deadlines - the sweep runs at a quarter of the shortest bound, within 20 ms and 1 s', () => {
    expect(sweepInterval(limits)).toBe(125);
    expect(sweepInterval(resolveLimits({ closeGraceMs: 10 }))).toBe(20);
    expect(sweepInterval(resolveLimits({}))).toBe(500);
  });
});

describe('connections', () => {
  const socket = {} as tls.TLSSocket;
  it('connections - enter moves every counter with the state, and a pair counts once', () => {
    let t = NOW;
    const c = createConnections(() => t);
    c.handshakeStarted('10.0.0.1');
    expect(c.pendingFrom('10.0.0.1')).toBe(1);
    c.handshakeOver('10.0.0.1');
    const a = c.add(socket, '10.0.0.1', 1, NOW);
    const b = c.add(socket, '10.0.0.2', 2, NOW);
    const s = c.add(socket, '10.0.0.3', 3, NOW);
    expect(c.counts()).toEqual({ handshakes: 0, pending: 3, sessions: 0, relays: 0, relaysWaiting: 0 });
    expect(c.pendingFrom('10.0.0.1')).toBe(1);

    c.enter(s, { state: 'LOGGING_IN' });
    c.claim(s, 7);
    expect(c.holder(7)).toBe(s);
    expect(c.session(7)).toBeUndefined();
    expect(c.counts()).toMatchObject({ pending: 2, sessions: 1 });

    a.id = 1;
    t = NOW + 10;
    c.enter(a, { state: 'RELAY_WAIT', peer: 2, nonce: 'n', early: null });
    expect(a.since).toBe(NOW + 10);
    expect(c.counts()).toMatchObject({ pending: 1, relays: 0, relaysWaiting: 1 });
    expect(c.relaysOf(1)).toBe(1);
    b.id = 2;
    const relay = { a, b, nonce: 'n', splice: null };
    c.enter(a, { state: 'RELAY', peer: 2, relay });
    c.enter(b, { state: 'RELAY', peer: 1, relay });
    expect(c.counts()).toMatchObject({ pending: 0, relays: 1, relaysWaiting: 0 });
    expect([c.relaysOf(1), c.relaysOf(2), c.pendingFrom('10.0.0.1')]).toEqual([1, 1, 0]);

    c.enter(a, { state: 'CLOSING' });
    c.enter(b, { state: 'CLOSING' });
    c.enter(s, { state: 'CLOSING' });
    expect(c.counts()).toEqual({ handshakes: 0, pending: 0, sessions: 0, relays: 0, relaysWaiting: 0 });
    expect([c.relaysOf(1), c.relaysOf(2), c.holder(7)]).toEqual([0, 0, undefined]);
    for (const x of [a, b, s]) c.enter(x, { state: 'CLOSED' });
    expect(c.all().size).toBe(0);
  });
});
