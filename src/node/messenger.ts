// The links between two running clients (docs/PROTOCOL.md sections 7, 8 and 9): the listener for
// direct links, the introductions that lead to them (asked for a contact with something to send;
// the dial, punch or relay each one leads to is introductions.ts's, which link is kept
// takeover.ts's), and one chain of work per contact in which everything about that contact
// happens in order. What travels on a link, and what is journaled for it, is delivery.ts's.
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { WIRE_CODE } from '../net/constants.js';
import type { ControlOf } from '../net/control.js';
import { acceptPeer, type PeerLink } from '../net/peer.js';
import { keylogServer } from '../net/keylog.js';
import { peerServerTlsOptions, type Identity } from '../net/tls.js';
import type { Route } from '../events/types.js';
import { settingsOf } from '../projections/settings.js';
import { concernsLink, createDelivery, isContact as isWhitelisted } from './delivery.js';
import { createFiles } from './files.js';
import { createIntroductions } from './introductions.js';
import type { Profile } from './profile.js';
import { listenKept, routeOf } from './routes.js';
import { createLan } from './lan.js';
import { createServerless } from './serverless.js';
import { adoption } from './takeover.js';
import { decideFirstUse } from './trust.js';

export type Messenger = {
  // Where peers dial this client (announced at login).
  listenPort: number;
  onIntroduce: (msg: ControlOf<'introduce'>) => void;
  // A contact's presence changed, or the session came up (all of them then).
  onPresence: (peer: number, online: boolean) => void;
  // The route of each contact's link that is up now.
  routes: () => Map<number, Route>;
  // Contacts whose invite said where they listen are dialled there (serverless.ts): at start.
  dialLocated: () => void;
  // Starts LAN discovery once this client has an id (lan.ts), or stops it (the setting).
  refreshLan: () => void;
  close: () => Promise<void>;
};

export type MessengerDeps = {
  profile: Profile;
  identity: Identity;
  // false: accept no direct links (a machine that must not take inbound connections), and punch
  // none either (a punched hole takes the peer's connection in): every link then comes through
  // the relay.
  listen: boolean;
  // Whether to look for contacts on the LAN (lan.ts), as the lan-discovery setting says.
  lan: boolean;
  // The local port of the server session, bound so that a punch can connect from it (punch.ts);
  // null when there is no session.
  sessionPort: () => number | null;
  // The server's clock minus this one's (punchAt is on the server's clock).
  clockOffsetMs: () => number;
  // A relay connection to the server for this introduction, spliced (PROTOCOL.md section 8): the
  // stream the peers' own TLS runs over. `relay`: the introduction's server process to dial
  // (HOST:PORT), when it named one.
  openRelay: (peer: number, nonce: string, relay?: string) => Promise<Duplex>;
  // This client's id, once the server gave it.
  id: () => number | null;
  // Asks the server to introduce a contact (false: no session now).
  introduce: (peer: number) => boolean;
  // Whether the server session is up now (trust.ts: who is admitted without an introduction).
  serverOnline: () => boolean;
  isOnline: (peer: number) => boolean;
  log: (line: string) => void;
};

// At most one introduction asked for a contact in this long.
const ASK_EVERY_MS = 5_000;
// A contact on the relay: a direct link is tried again (a new introduction) at most this often,
// when there is something to send. An attempt costs one introduction at the server and 5 s of
// SYNs; a path that opens (a firewall rule gone, the other side moved to another network) is
// found within this long of the next message.
const UPGRADE_EVERY_MS = 20_000;

export async function startMessenger(deps: MessengerDeps): Promise<Messenger> {
  const { profile, identity, log } = deps;
  const links = new Map<number, { link: PeerLink; route: Route; dialer: number }>();
  const asked = new Map<number, number>();
  const retries = new Map<number, NodeJS.Timeout>();
  // One chain of work per contact: payloads handled and messages sent in order.
  const chains = new Map<number, Promise<void>>();
  let closing = false;
  // Aborted by close(): dials and punches still under way stop, so the process can end.
  const stopping = new AbortController();
  const delivery = createDelivery({ profile, log, linkOf: (peer) => links.get(peer), want });
  // File transfers (files.ts) on the same links, with chains of their own: a chunk written to
  // disk never holds a message back.
  const files = createFiles({ profile, log, linkOf: (peer) => links.get(peer)?.link, want });
  // Links with no server: contacts at their invite's addresses, hellos judged by pins and invites.
  const serverless = createServerless({
    profile,
    identity,
    id: deps.id,
    log,
    hasLink: (peer) => links.has(peer),
    listenPort: () => listenPort,
    // `lan` for an address on the local segment, `direct` for any other (routes.ts), as the
    // listener names the same link by the address it came from.
    adopt: (link, dialer, host) => adopt(link, routeOf(host), dialer),
  });

  function inTurn(peer: number, work: () => Promise<void>): void {
    const next = (chains.get(peer) ?? Promise.resolve()).then(work).catch((err: Error) => log(`parley: with ${peer}: ${err.message}`));
    chains.set(peer, next);
  }

  // The TLS server of links peers open: one on the listener, with the route its address says;
  // one that never listens, handed each stream the relay spliced (introductions.ts).
  function peerServer(routeFor: (socket: tls.TLSSocket) => Route): tls.Server {
    const tlsServer = tls.createServer(peerServerTlsOptions(identity), (socket) => {
      const id = deps.id();
      if (id === null || closing) return socket.destroy();
      acceptPeer(socket, { identity, id, admit: (knock) => serverless.admit(knock, () => introductions.keyOf(knock.id), deps.serverOnline()) }).then(
        (link) => adopt(link, routeFor(socket), link.peer),
        () => undefined,
      );
    });
    tlsServer.on('tlsClientError', (_err, socket) => socket.destroy());
    keylogServer(tlsServer);
    return tlsServer;
  }
  async function listenHere(tlsServer: tls.Server): Promise<number> {
    const bound = await listenKept(tlsServer, settingsOf(profile.views.settings)['listen-port']);
    if (bound.note) log(bound.note);
    if (bound.keep) await profile.append({ type: 'settings.changed', key: 'listen-port', value: bound.port });
    return bound.port;
  }
  // The introductions the server sends, and the dials, punches and relays they lead to.
  const introductions = createIntroductions({
    profile,
    identity,
    log,
    id: deps.id,
    listen: deps.listen,
    sessionPort: deps.sessionPort,
    clockOffsetMs: deps.clockOffsetMs,
    openRelay: deps.openRelay,
    isContact,
    linkOf: (peer) => links.get(peer),
    peerServer,
    adopt,
    closing: () => closing,
    signal: stopping.signal,
  });
  const server = peerServer((socket) => routeOf(socket.remoteAddress ?? ''));
  const listenPort = deps.listen ? await listenHere(server) : 0;
  const lan = createLan({
    profile,
    identity,
    id: deps.id,
    listenPort: deps.lan ? listenPort : 0,
    hasStraightLink: (peer) => (links.get(peer)?.route ?? 'relay') !== 'relay',
    adopt: (link, dialer) => adopt(link, 'lan', dialer),
    log,
    signal: stopping.signal,
  });

  function isContact(peer: number): boolean {
    return isWhitelisted(profile, peer);
  }

  // A link for a contact with something to send: ask the server to introduce us.
  function want(peer: number): void {
    if (closing || !isContact(peer)) return;
    // A contact whose invite said where it listens is dialled there, server or not.
    if (!links.has(peer) && profile.views.contacts[peer]?.location) serverless.dial(peer);
    if (!deps.isOnline(peer)) return;
    const current = links.get(peer);
    if (current) {
      // On the relay: a direct link is tried again now and then, without a retry.
      if (current.route !== 'relay' || (asked.get(peer) ?? 0) + UPGRADE_EVERY_MS > Date.now()) return;
      if (deps.introduce(peer)) asked.set(peer, Date.now());
      return;
    }
    const wait = (asked.get(peer) ?? 0) + ASK_EVERY_MS - Date.now();
    // Asked a moment ago: asked again once the interval is over, if still needed then.
    if (wait > 0) {
      if (!retries.has(peer)) {
        const timer = setTimeout(() => {
          retries.delete(peer);
          inTurn(peer, () => delivery.drain(peer));
          void files.drain(peer).catch(() => undefined);
        }, wait);
        timer.unref();
        retries.set(peer, timer);
      }
      return;
    }
    if (deps.introduce(peer)) asked.set(peer, Date.now());
  }

  // `dialer`: the id of the side that dialled the link (the TLS client).
  function adopt(link: PeerLink, route: Route, dialer: number): void {
    const peer = link.peer;
    // Edits the contact may have missed: sent again once the link is up (the receiver keeps an
    // edit only when it changes the text).
    const since = delivery.missedSince(peer);
    const current = links.get(peer);
    const kept = adoption(route, dialer, current, { closing, contact: isContact(peer) });
    if (!kept.keep) return void link.close(kept.code, kept.reason);
    links.set(peer, { link, route, dialer });
    if (route !== 'relay') introductions.stopPunch(peer);
    // Only the contact's current link is read: what still comes on one that a better route took
    // over is dropped, and its sender writes again on the new link what it did not see
    // acknowledged (marked again, so the receiver takes it once).
    link.onText((payload) => inTurn(peer, () => (links.get(peer)?.link === link ? delivery.onPayload(peer, link, payload) : Promise.resolve())));
    link.onFileControl((_contentId, payload) => {
      if (links.get(peer)?.link === link) files.onControl(peer, payload);
    });
    link.onBulk((contentId, payload) => {
      if (links.get(peer)?.link === link) files.onChunk(peer, contentId, payload);
    });
    if (current) {
      delivery.linkDown(peer);
      void files.linkDown(peer);
      void current.link.close(WIRE_CODE.DUPLICATE, `another link took over: ${route}`);
      inTurn(peer, () => profile.append({ type: 'link.closed', peer, reason: `self: route changed to ${route}` }).then(() => undefined));
    }
    serverless.linkUp(peer);
    void link.closed.then((end) => {
      if (links.get(peer)?.link !== link) return;
      links.delete(peer);
      delivery.linkDown(peer);
      void files.linkDown(peer);
      if (closing) return;
      serverless.linkDown(peer);
      void profile.append({ type: 'link.closed', peer, reason: `${end.by}: ${end.code}` }).catch(() => undefined);
      // What it carried without an ack goes again on the next link (asked for now if the contact
      // is still online, else when it comes back).
      inTurn(peer, () => delivery.drain(peer));
    });
    inTurn(peer, async () => {
      // A contact met by id with no key pinned yet is pinned to this one (trust on first use).
      const firstUse = decideFirstUse(profile.views.contacts[peer], peer, link.keySha256);
      await profile.appendMany([...firstUse, { type: 'link.opened', peer, route, address: `${link.remote.address}:${link.remote.port}` }]);
      await delivery.linkUp(peer, link, since);
      if (links.get(peer)?.link === link) void files.linkUp(peer);
    });
  }

  // What the journal says that a contact's link must hear of: in the contact's turn.
  const unsubscribe = profile.subscribe((event) => {
    if (event.type === 'settings.changed' && event.key === 'lan-discovery') void lan.refresh();
    if (concernsLink(event) && 'peer' in event) inTurn(event.peer, () => delivery.onEvent(event));
    if (event.type.startsWith('transfer.')) files.onEvent(event);
    // A contact removed or blocked: its link goes at once.
    if (event.type.startsWith('contact.') && 'peer' in event && !isContact(event.peer)) void links.get(event.peer)?.link.close(WIRE_CODE.PEER_REFUSED, 'no longer a contact');
    // Told where a contact listens (parley connect while the client runs): dialled now.
    if (event.type === 'contact.located') serverless.dial(event.peer);
  });

  return {
    listenPort,
    onIntroduce: introductions.onIntroduce,
    onPresence(peer, online) {
      if (online) inTurn(peer, () => delivery.drain(peer));
      if (online) void files.drain(peer).catch((err: Error) => log(`parley: files with ${peer}: ${err.message}`));
    },
    routes: () => new Map([...links].map(([peer, e]) => [peer, e.route])),
    dialLocated: () => serverless.dialAll(),
    refreshLan: () => void lan.refresh(),
    async close() {
      closing = true;
      stopping.abort();
      unsubscribe();
      serverless.close();
      await lan.close();
      for (const timer of retries.values()) clearTimeout(timer);
      const peers = [...links.keys()];
      await Promise.all([...links.values()].map(({ link }) => link.close()));
      await Promise.all([...chains.values()]);
      await Promise.all(peers.map((peer) => files.settled(peer)));
      introductions.close();
      await new Promise<void>((resolve) => (deps.listen ? server.close(() => resolve()) : resolve()));
    },
  };
}
