// What an introduction from the server leads to (docs/PROTOCOL.md sections 7 and 8): the key it
// names for the contact, kept for the link either side dials, and the ways a link is made from it:
// a dial of the peer's listener, a punch, and the relay when neither comes up in time. The
// messenger (messenger.ts) adopts the links this makes.
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { ControlOf } from '../net/control.js';
import { dialPeer, type PeerLink } from '../net/peer.js';
import { punch } from '../net/punch.js';
import { raceLinks } from '../net/race.js';
import type { Identity } from '../net/tls.js';
import type { Route } from '../events/types.js';
import type { Profile } from './profile.js';
import { routeOf } from './routes.js';
import { decideKeySeen } from './trust.js';

export type Introductions = {
  onIntroduce: (msg: ControlOf<'introduce'>) => void;
  // The key introduced for a contact, or one on its way (a hello that came first waits for it).
  keyOf: (peer: number) => string | undefined | Promise<string | undefined>;
  // A link straight to the peer is up: its punch, if one is under way, stops.
  stopPunch: (peer: number) => void;
  close: () => void;
};

export type IntroductionsDeps = {
  profile: Profile;
  identity: Identity;
  log: (line: string) => void;
  // These five as in MessengerDeps (messenger.ts).
  id: () => number | null;
  listen: boolean;
  sessionPort: () => number | null;
  clockOffsetMs: () => number;
  openRelay: (peer: number, nonce: string, relay?: string) => Promise<Duplex>;
  isContact: (peer: number) => boolean;
  // The contact's link that is up now, if any.
  linkOf: (peer: number) => { route: Route } | undefined;
  // The messenger's TLS server for links a peer opens (messenger.ts, peerServer), with this route.
  peerServer: (routeFor: () => Route) => tls.Server;
  // `dialer`: the id of the side that dialled the link (the TLS client).
  adopt: (link: PeerLink, route: Route, dialer: number) => void;
  closing: () => boolean;
  // Aborted when the messenger closes: dials and punches still under way stop.
  signal: AbortSignal;
};

// How long an introduction's key is good for a link the other side dials.
const INTRODUCTION_MS = 60_000;
// How long a hello waits for its sender's introduction to arrive here.
const INTRODUCTION_WAIT_MS = 3_000;
// No link this long after the introduction's punchAt: both sides go to the relay (section 7, 9).
const RELAY_AFTER_MS = 5_000;
// A dial to an address the introduction gave gives up after this long (a NAT that drops the SYN
// would keep it waiting for minutes).
const DIAL_MS = 5_000;

export function createIntroductions(deps: IntroductionsDeps): Introductions {
  const { profile, identity, log, isContact, linkOf, adopt, closing, signal } = deps;
  const introduced = new Map<number, { key: string; until: number }>();
  // Hellos from contacts whose introduction has not come yet (keyOf).
  const awaiting = new Map<number, Set<() => void>>();
  // The punch under way for each contact: stopped when a link straight to it is adopted.
  const punching = new Map<number, AbortController>();
  // Servers that never listen, handed each stream the relay spliced or a punch connected, when
  // the introduction makes this side the TLS server.
  const relayed = deps.peerServer(() => 'relay');
  const punchedServer = deps.peerServer(() => 'punched');

  // The key introduced for a contact; when none is known yet, its introduction may still be on
  // its way from the server (the peer dials as soon as it has its own): waited for a moment.
  function keyOf(peer: number): string | undefined | Promise<string | undefined> {
    if (!isContact(peer)) return undefined;
    const known = (): string | undefined => {
      const i = introduced.get(peer);
      return i && i.until >= Date.now() ? i.key : undefined;
    };
    const key = known();
    if (key !== undefined) return key;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        awaiting.get(peer)?.delete(done);
        resolve(known());
      };
      const timer = setTimeout(done, INTRODUCTION_WAIT_MS);
      timer.unref();
      const set = awaiting.get(peer) ?? new Set<() => void>();
      set.add(done);
      awaiting.set(peer, set);
    });
  }

  function onIntroduce(msg: ControlOf<'introduce'>): void {
    if (closing() || !isContact(msg.peer)) return;
    // The server names another key than the one pinned for this contact: no link, a warning.
    const seen = decideKeySeen(profile.views.contacts[msg.peer], msg.peer, msg.peerKey, `${msg.host}:${msg.port}`);
    if (!seen.ok) {
      log(`parley: warning: the server introduced ${msg.peer} with key ${msg.peerKey}, not the one pinned for it: refused`);
      if (seen.events.length > 0) void profile.appendMany(seen.events).catch(() => undefined);
      return;
    }
    introduced.set(msg.peer, { key: msg.peerKey, until: Date.now() + INTRODUCTION_MS });
    for (const done of [...(awaiting.get(msg.peer) ?? [])]) done();
    const id = deps.id();
    const current = linkOf(msg.peer);
    if (id === null || (current && current.route !== 'relay')) return;
    // On the relay already: only a direct link is tried, to take over from it.
    if (!current) {
      const relayAt = msg.punchAt - deps.clockOffsetMs() + RELAY_AFTER_MS;
      setTimeout(() => void relay(msg, id), Math.max(0, relayAt - Date.now())).unref();
    }
    if (deps.listen) punchFor(msg, id);
    if (msg.role !== 'tls-client' || msg.listenPort === 0) return;
    // The asker connects to every address it was given at the peer's listener; TLS and the hello
    // run on the first connection only (race.ts says why).
    void dialListener(msg, [...new Set([...msg.lan, msg.host])], id);
  }

  // The first address to connect gets TLS and the hello; if those fail (a LAN address of the
  // introduction that is another machine on this LAN), the race runs again without it.
  async function dialListener(msg: ControlOf<'introduce'>, targets: string[], id: number): Promise<void> {
    const r = await raceLinks(targets, msg.listenPort, DIAL_MS, signal, (won) =>
      dialPeer({ socket: won.socket, identity, id, peer: msg.peer, peerKey: msg.peerKey, connectMs: DIAL_MS, signal }),
    );
    if (r.link) adopt(r.link, r.host === msg.host && !msg.lan.includes(r.host) ? 'direct' : routeOf(r.host), id);
  }

  // PROTOCOL.md section 7, step 6: at punchAt both sides connect to the other's address as the
  // server saw it, from their own session's port; whichever SYN crosses first, both get a socket,
  // and the TLS roles are the introduction's. Stopped once a link straight to the peer is up.
  function punchFor(msg: ControlOf<'introduce'>, id: number): void {
    const localPort = deps.sessionPort();
    if (localPort === null || msg.port <= 0 || punching.has(msg.peer)) return;
    const stop = new AbortController();
    punching.set(msg.peer, stop);
    const at = msg.punchAt - deps.clockOffsetMs();
    void punch({ host: msg.host, port: msg.port, localPort, at, signal: AbortSignal.any([stop.signal, signal]) }).then((r) => {
      if (punching.get(msg.peer) === stop) punching.delete(msg.peer);
      if (!r.socket) return;
      const current = linkOf(msg.peer);
      if (closing() || (current && current.route !== 'relay')) return void r.socket.destroy();
      r.socket.on('error', () => undefined);
      if (msg.role === 'tls-server') return void punchedServer.emit('connection', r.socket);
      dialPeer({ socket: r.socket, identity, id, peer: msg.peer, peerKey: msg.peerKey, connectMs: DIAL_MS, signal }).then(
        (link) => adopt(link, 'punched', id),
        (err: Error) => log(`parley: the punched link to ${msg.peer} failed: ${err.message}`),
      );
    });
  }

  // The introduction led to no link in time: both sides ask the server to splice them, and run
  // their own TLS in the introduction's roles over it.
  async function relay(msg: ControlOf<'introduce'>, id: number): Promise<void> {
    // Blocked or removed since the introduction: no relay is asked for.
    if (closing() || linkOf(msg.peer) !== undefined || !isContact(msg.peer)) return;
    let stream: Duplex;
    try {
      stream = await deps.openRelay(msg.peer, msg.nonce, msg.relay);
    } catch (err) {
      log(`parley: no relay to ${msg.peer}: ${(err as Error).message}`);
      return;
    }
    if (closing() || linkOf(msg.peer) !== undefined) return void stream.destroy();
    if (msg.role === 'tls-server') {
      relayed.emit('connection', stream);
      stream.resume();
      return;
    }
    dialPeer({ socket: stream, identity, id, peer: msg.peer, peerKey: msg.peerKey, signal }).then(
      (link) => adopt(link, 'relay', id),
      (err: Error) => log(`parley: the relayed link to ${msg.peer} failed: ${err.message}`),
    );
  }

  return {
    onIntroduce,
    keyOf,
    stopPunch: (peer) => punching.get(peer)?.abort(),
    close() {
      relayed.close();
      punchedServer.close();
    },
  };
}
