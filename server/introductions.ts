// Introductions the server has made and not yet used: nonce -> the pair and when it stops being
// good. A relay-request must name a live one (docs/PROTOCOL.md sections 7 and 8). Bounded by its
// time to live and by each client's introduction rate (decideIntroduction), and by `max` in all.
import { randomBytes } from 'node:crypto';
import { WIRE_CODE, type TlsRole } from '../src/net/constants.js';
import type { ControlMessage } from '../src/net/control.js';
import type { Conn, Connections, Phase } from './connections.js';
import type { Limits } from './options.js';
import { spend, type Window } from './rates.js';
import type { Registry } from './registry.js';
import type { IntroduceAnswer, IntroduceAsk } from './cluster/contract.js';

export type Introduction = { nonce: string; asker: number; target: number; expires: number };

export type Introductions = {
  // null when `max` introductions are live already.
  add: (asker: number, target: number, now: number) => Introduction | null;
  // The live introduction of this nonce between these two ids (either way round), else null.
  find: (nonce: string, id: number, peer: number, now: number) => Introduction | null;
  remove: (nonce: string) => void;
  sweep: (now: number) => void;
  size: () => number;
};

// Who runs the TLS server on a socket that both sides opened at once: the target, since it is
// the side that already accepts peer links; the asker dials its listeners (PROTOCOL.md section 7).
export function rolesOf(): { asker: TlsRole; target: TlsRole } {
  return { asker: 'tls-client', target: 'tls-server' };
}

export function createIntroductions(options: { ttlMs: number; max: number }): Introductions {
  const live = new Map<string, Introduction>();

  function add(asker: number, target: number, now: number): Introduction | null {
    if (live.size >= options.max) sweep(now);
    if (live.size >= options.max) return null;
    const intro = { nonce: randomBytes(16).toString('hex'), asker, target, expires: now + options.ttlMs };
    live.set(intro.nonce, intro);
    return intro;
  }

  function find(nonce: string, id: number, peer: number, now: number): Introduction | null {
    const intro = live.get(nonce);
    if (!intro || intro.expires < now) return null;
    const matches = (intro.asker === id && intro.target === peer) || (intro.asker === peer && intro.target === id);
    return matches ? intro : null;
  }

  // Map iteration is in insertion order, and every entry lives equally long: the expired ones
  // are at the front.
  function sweep(now: number): void {
    for (const [nonce, intro] of live) {
      if (intro.expires >= now) break;
      live.delete(nonce);
    }
  }

  return { add, find, remove: (nonce) => void live.delete(nonce), sweep, size: () => live.size };
}

// What an introduction needs to know of the target's session: whom it blocks, whom it allows.
export type TargetView = { blocked: ReadonlySet<number> | null; allowed: ReadonlySet<number> | null };

export type IntroductionState = {
  isRegistered: (id: number) => boolean;
  // The target's live session, if it has one.
  sessionOf: (id: number) => TargetView | undefined;
};

// May `asker` be introduced to `target` now (section 7)? Every request spends one of the asker's
// introductionsPerMinute, refused or not: a client cannot probe who is online faster than that.
// `window` is the asker's window after this request, to keep whatever the answer. `ask`: the
// target does not allow the asker (yet): it is asked, and learns no address, nor does the asker.
export function decideIntroduction(
  state: IntroductionState,
  asker: { id: number; window: Window },
  target: number,
  now: number,
  perMinute: number,
): { window: Window; refused: { code: string; reason: string } | null; ask?: boolean } {
  const spent = spend(asker.window, now, perMinute);
  const no = (code: string, reason: string) => ({ window: spent.window, refused: { code, reason } });
  if (!spent.ok) return no(WIRE_CODE.RATE_LIMITED, `at most ${perMinute} introductions a minute; try later`);
  if (target === asker.id) return no(WIRE_CODE.PEER_SELF, 'that is your own id');
  if (!state.isRegistered(target)) return no(WIRE_CODE.PEER_UNKNOWN, `no client has id ${target} on this server`);
  const peer = state.sessionOf(target);
  if (!peer) return no(WIRE_CODE.PEER_OFFLINE, `${target} is not online`);
  const consent = decideConsent(peer, asker.id, target);
  if (consent?.code === WIRE_CODE.PEER_ASKED) return { window: spent.window, refused: consent, ask: true };
  return { window: spent.window, refused: consent };
}

type SessionPhase = Extract<Phase, { state: 'SESSION' }>;

// In a cluster (cluster/contract.ts): the process holding a session that is not here, and a way
// to ask it. The asker's process keeps the introduction (its nonce), so both sides dial it for a
// relay: `relay` is its public address, named in both introduce messages.
export type IntroducerRemote = {
  nodeOf: (id: number) => string | undefined;
  ask: (node: string, ask: IntroduceAsk) => Promise<IntroduceAnswer | { gone: true }>;
  relay: string;
};

export type IntroducerDeps = {
  limits: Pick<Limits, 'introductionsPerMinute' | 'punchLeadMs'>;
  now: () => number;
  registry: () => Registry;
  connections: Connections;
  introductions: Introductions;
  send: (conn: Conn, msg: ControlMessage) => void;
  remote: IntroducerRemote | null;
};

// Whether the target's session takes the asker: refused, asked, or go (null). decideIntroduction's
// last step, and all that the target's process decides when another process asks (cluster).
export function decideConsent(target: TargetView, asker: number, targetId: number): { code: string; reason: string } | null {
  if (target.blocked?.has(asker)) return { code: WIRE_CODE.PEER_REFUSED, reason: `${targetId} does not accept you` };
  if (target.allowed && !target.allowed.has(asker)) return { code: WIRE_CODE.PEER_ASKED, reason: `${targetId} has not accepted you yet: it is asked to` };
  return null;
}

// Answers introduce-request (section 7): both sides learn each other's addresses, the roles, the
// time to punch and a nonce; or the asker learns why not.
export function createIntroducer(deps: IntroducerDeps) {
  const sessionOf = (id: number): SessionPhase | undefined => {
    const c = deps.connections.session(id);
    return c?.phase.state === 'SESSION' ? c.phase : undefined;
  };
  // A target on another process counts as online here and allows anyone: its own process
  // decides the consent (introduceHere).
  const open: TargetView = { blocked: null, allowed: null };
  const state: IntroductionState = {
    isRegistered: (id) => deps.registry().byId.has(id),
    sessionOf: (id) => sessionOf(id) ?? (deps.remote?.nodeOf(id) !== undefined ? open : undefined),
  };

  function introduce(conn: Conn, p: SessionPhase, target: number): void {
    const no = (code: string, reason: string): void => deps.send(conn, { type: 'introduce-refused', target, code, reason });
    const now = deps.now();
    const decision = decideIntroduction(state, { id: conn.id, window: p.introductions }, target, now, deps.limits.introductionsPerMinute);
    p.introductions = decision.window;
    if (decision.ask) {
      const peer = deps.connections.session(target);
      if (peer) deps.send(peer, { type: 'contact-request', from: conn.id, at: now });
    }
    if (decision.refused) return no(decision.refused.code, decision.refused.reason);
    const peer = deps.connections.session(target);
    const q = sessionOf(target);
    const node = peer ? undefined : deps.remote?.nodeOf(target);
    const intro = deps.introductions.add(conn.id, target, now);
    if (!intro || ((!peer || !q) && node === undefined)) return no(WIRE_CODE.RATE_LIMITED, 'the server has too many introductions under way; try later');
    const roles = rolesOf();
    const punchAt = now + deps.limits.punchLeadMs;
    if (peer && q) {
      deps.send(conn, { type: 'introduce', peer: target, peerKey: peer.keySha256, host: peer.host, port: peer.port || 1, lan: q.lan, listenPort: q.listenPort, role: roles.asker, punchAt, nonce: intro.nonce });
      deps.send(peer, { type: 'introduce', peer: conn.id, peerKey: conn.keySha256, host: conn.host, port: conn.port || 1, lan: p.lan, listenPort: p.listenPort, role: roles.target, punchAt, nonce: intro.nonce });
      return;
    }
    void introduceThere(conn, p, target, node as string, intro, punchAt);
  }

  // The target's session is on another process: it decides and tells the target; this one
  // tells the asker. The punch time is this process's clock plus the lead, as for a local pair
  // (the processes' clocks are assumed close: NTP, as any cluster needs).
  async function introduceThere(conn: Conn, p: SessionPhase, target: number, node: string, intro: Introduction, punchAt: number): Promise<void> {
    const remote = deps.remote as IntroducerRemote;
    const ask: IntroduceAsk = { asker: conn.id, askerKey: conn.keySha256, host: conn.host, port: conn.port || 1, lan: p.lan, listenPort: p.listenPort, target, nonce: intro.nonce, punchAt, relay: remote.relay };
    let answer: IntroduceAnswer | { gone: true };
    try {
      answer = await remote.ask(node, ask);
    } catch {
      answer = { gone: true };
    }
    if (conn.phase.state !== 'SESSION') return;
    const no = (code: string, reason: string): void => deps.send(conn, { type: 'introduce-refused', target, code, reason });
    if ('gone' in answer) {
      deps.introductions.remove(intro.nonce);
      return no(WIRE_CODE.PEER_OFFLINE, `${target} is not online`);
    }
    if (!answer.ok) {
      deps.introductions.remove(intro.nonce);
      return no(answer.code, answer.reason);
    }
    deps.send(conn, { type: 'introduce', peer: target, peerKey: answer.peerKey, host: answer.host, port: answer.port, lan: answer.lan ?? [], listenPort: answer.listenPort ?? 0, role: rolesOf().asker, punchAt, nonce: intro.nonce, relay: remote.relay });
  }

  // Another process asks for its session's introduction to a session here (cluster hooks).
  function introduceHere(ask: IntroduceAsk): IntroduceAnswer {
    const peer = deps.connections.session(ask.target);
    const q = sessionOf(ask.target);
    if (!peer || !q) return { ok: false, code: WIRE_CODE.PEER_OFFLINE, reason: `${ask.target} is not online` };
    const refused = decideConsent(q, ask.asker, ask.target);
    if (refused?.code === WIRE_CODE.PEER_ASKED) deps.send(peer, { type: 'contact-request', from: ask.asker, at: deps.now() });
    if (refused) return { ok: false, ...refused };
    deps.send(peer, { type: 'introduce', peer: ask.asker, peerKey: ask.askerKey, host: ask.host, port: ask.port, lan: ask.lan ?? [], listenPort: ask.listenPort ?? 0, role: rolesOf().target, punchAt: ask.punchAt, nonce: ask.nonce, relay: ask.relay });
    return { ok: true, peerKey: peer.keySha256, host: peer.host, port: peer.port || 1, lan: q.lan, listenPort: q.listenPort };
  }

  return { introduce, introduceHere };
}
