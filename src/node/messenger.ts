// Messages between two running clients over peer links (docs/PROTOCOL.md sections 7 and 9): the
// listener for links, the introductions that lead to them, and what travels on them. Every fact
// is journaled before anyone is told of it, so a crash at any point loses nothing and a message
// is received once however often it is sent:
//
//   sender                                   receiver
//   message.sent (pending)
//   ── msg ─────────────────────────────────▶ (already journaled? ack again)
//   quota.spent + message.transmitted (sent)  message.received + quota.spent, then
//   ◀──────────────────────────────────── ack
//   message.delivered
//
// Pending messages go in order, one at a time per contact, when a link is up and the contact's
// grant allows; a grant travels as a running total on every new link.
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { TIMING, WIRE_CODE } from '../net/constants.js';
import type { ControlOf } from '../net/control.js';
import { decodeChat, encodeChat, type ChatPayload } from '../net/chat.js';
import { acceptPeer, dialPeer, type PeerLink } from '../net/peer.js';
import { serverTlsOptions, type Identity } from '../net/tls.js';
import type { NewEvent, Route } from '../events/types.js';
import { left, packetsFor, quotaOf } from '../projections/quotas.js';
import type { Profile } from './profile.js';

export type Messenger = {
  // Where peers dial this client (announced at login).
  listenPort: number;
  onIntroduce: (msg: ControlOf<'introduce'>) => void;
  // A contact's presence changed, or the session came up (all of them then).
  onPresence: (peer: number, online: boolean) => void;
  // The route of each contact's link that is up now.
  routes: () => Map<number, Route>;
  close: () => Promise<void>;
};

export type MessengerDeps = {
  profile: Profile;
  identity: Identity;
  // false: accept no direct links (a machine that must not take inbound connections): every
  // link then comes through the relay.
  listen: boolean;
  // The server's clock minus this one's (punchAt is on the server's clock).
  clockOffsetMs: () => number;
  // A relay connection to the server for this introduction, spliced (PROTOCOL.md section 8): the
  // stream the peers' own TLS runs over.
  openRelay: (peer: number, nonce: string) => Promise<Duplex>;
  // This client's id, once the server gave it.
  id: () => number | null;
  // Asks the server to introduce a contact (false: no session now).
  introduce: (peer: number) => boolean;
  isOnline: (peer: number) => boolean;
  log: (line: string) => void;
};

// A message of mine on its way: `written` when it went to a link before (status sent).
type Outgoing = { id: string; seq: number; text: string; at: number; replyTo: string | null; written: boolean };

// How long an introduction's key is good for a link the other side dials.
const INTRODUCTION_MS = 60_000;
// No link this long after the introduction's punchAt: both sides go to the relay (section 7, 9).
const RELAY_AFTER_MS = 5_000;
// At most one introduction asked for a contact in this long.
const ASK_EVERY_MS = 5_000;
// Pending messages read at a time from the end of a chat.
const PAGE = 50;
// How far back a new link looks for edits the contact may have missed.
const EDITS_LOOK_BACK = 500;

export async function startMessenger(deps: MessengerDeps): Promise<Messenger> {
  const { profile, identity, log } = deps;
  const links = new Map<number, { link: PeerLink; route: Route }>();
  const introduced = new Map<number, { key: string; until: number }>();
  const asked = new Map<number, number>();
  const retries = new Map<number, NodeJS.Timeout>();
  // One chain of work per contact: payloads handled and messages sent in order.
  const chains = new Map<number, Promise<void>>();
  // Messages written to a link and not acknowledged yet: 'peer/id' -> their seq, so that an ack
  // needs no lookup.
  const inFlight = new Map<string, number>();
  // Contacts whose outbox is known empty while their link is up: a new message goes at once,
  // without reading the chat for older pending ones.
  const clean = new Set<number>();
  let closing = false;

  function inTurn(peer: number, work: () => Promise<void>): void {
    const next = (chains.get(peer) ?? Promise.resolve()).then(work).catch((err: Error) => log(`parley: with ${peer}: ${err.message}`));
    chains.set(peer, next);
  }

  const server = tls.createServer(serverTlsOptions(identity), (socket) => {
    const id = deps.id();
    if (id === null || closing) return socket.destroy();
    acceptPeer(socket, { identity, id, keyOf: keyOf }).then(
      (link) => adopt(link, routeOf(socket.remoteAddress ?? '')),
      () => undefined,
    );
  });
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  const listenPort = deps.listen ? await listen(server) : 0;
  // The TLS server of relayed links: it never listens, it is handed each spliced stream.
  const relayed = tls.createServer(serverTlsOptions(identity), (socket) => {
    const id = deps.id();
    if (id === null || closing) return socket.destroy();
    acceptPeer(socket, { identity, id, keyOf: keyOf }).then(
      (link) => adopt(link, 'relay'),
      () => undefined,
    );
  });
  relayed.on('tlsClientError', (_err, socket) => socket.destroy());

  function keyOf(peer: number): string | undefined {
    const i = introduced.get(peer);
    if (!i || i.until < Date.now() || !isContact(peer)) return undefined;
    return i.key;
  }

  function isContact(peer: number): boolean {
    const c = profile.views.contacts[peer];
    return c !== undefined && c.whitelisted && !c.blocked;
  }

  // A link for a contact with something to send: ask the server to introduce us.
  function want(peer: number): void {
    if (closing || links.has(peer) || !isContact(peer) || !deps.isOnline(peer)) return;
    const wait = (asked.get(peer) ?? 0) + ASK_EVERY_MS - Date.now();
    // Asked a moment ago: asked again once the interval is over, if still needed then.
    if (wait > 0) {
      if (!retries.has(peer)) {
        const timer = setTimeout(() => {
          retries.delete(peer);
          inTurn(peer, () => drain(peer));
        }, wait);
        timer.unref();
        retries.set(peer, timer);
      }
      return;
    }
    if (deps.introduce(peer)) asked.set(peer, Date.now());
  }

  function onIntroduce(msg: ControlOf<'introduce'>): void {
    if (closing || !isContact(msg.peer)) return;
    introduced.set(msg.peer, { key: msg.peerKey, until: Date.now() + INTRODUCTION_MS });
    const id = deps.id();
    if (id === null || links.has(msg.peer)) return;
    const relayAt = msg.punchAt - deps.clockOffsetMs() + RELAY_AFTER_MS;
    setTimeout(() => void relay(msg, id), Math.max(0, relayAt - Date.now())).unref();
    if (msg.role !== 'tls-client' || msg.listenPort === 0) return;
    // The asker dials every address it was given at the peer's listener; the first link wins.
    const targets = [...msg.lan, msg.host];
    let won = false;
    for (const host of new Set(targets)) {
      dialPeer({ host, port: msg.listenPort, identity, id, peer: msg.peer, peerKey: msg.peerKey }).then(
        (link) => {
          if (won || links.has(msg.peer)) return void link.close(WIRE_CODE.DUPLICATE, 'another route won');
          won = true;
          adopt(link, host === msg.host && !msg.lan.includes(host) ? 'direct' : routeOf(host));
        },
        () => undefined,
      );
    }
  }

  // The introduction led to no link in time: both sides ask the server to splice them, and run
  // their own TLS in the introduction's roles over it.
  async function relay(msg: ControlOf<'introduce'>, id: number): Promise<void> {
    if (closing || links.has(msg.peer)) return;
    let stream: Duplex;
    try {
      stream = await deps.openRelay(msg.peer, msg.nonce);
    } catch (err) {
      log(`parley: no relay to ${msg.peer}: ${(err as Error).message}`);
      return;
    }
    if (closing || links.has(msg.peer)) return void stream.destroy();
    if (msg.role === 'tls-server') {
      relayed.emit('connection', stream);
      stream.resume();
      return;
    }
    dialPeer({ socket: stream, identity, id, peer: msg.peer, peerKey: msg.peerKey }).then(
      (link) => adopt(link, 'relay'),
      (err: Error) => log(`parley: the relayed link to ${msg.peer} failed: ${err.message}`),
    );
  }

  function adopt(link: PeerLink, route: Route): void {
    const peer = link.peer;
    // Edits the contact may have missed: sent again once the link is up (the receiver keeps an
    // edit only when it changes the text).
    const since = missedSince(peer);
    if (closing || links.has(peer)) return void link.close(WIRE_CODE.DUPLICATE, 'a link to this peer is up already');
    links.set(peer, { link, route });
    link.onText((payload) => inTurn(peer, () => onPayload(peer, link, payload)));
    void link.closed.then((end) => {
      if (links.get(peer)?.link !== link) return;
      links.delete(peer);
      clean.delete(peer);
      for (const key of [...inFlight.keys()]) if (key.startsWith(`${peer}/`)) inFlight.delete(key);
      if (closing) return;
      void profile.append({ type: 'link.closed', peer, reason: `${end.by}: ${end.code}` }).catch(() => undefined);
      // What it carried without an ack goes again on the next link (asked for now if the contact
      // is still online, else when it comes back).
      inTurn(peer, () => drain(peer));
    });
    inTurn(peer, async () => {
      await profile.append({ type: 'link.opened', peer, route, address: `${link.remote.address}:${link.remote.port}` });
      sendGrant(peer, link);
      await sendReadMark(peer, link);
      for (const edit of await editsSince(peer, since)) link.sendText(encodeChat(edit));
      await drain(peer);
    });
  }

  function sendGrant(peer: number, link: PeerLink): void {
    const q = quotaOf(profile.views.quotas, peer).inbound;
    link.sendText(encodeChat({ k: 'grant', messages: q.messages.granted, files: q.files.granted }));
  }

  // How far I have read the contact's messages: sent on every new link (the peer journals only a
  // mark beyond the one it has) and whenever I read more.
  async function sendReadMark(peer: number, link: PeerLink): Promise<void> {
    const readSeq = profile.chat(peer)?.readSeq ?? 0;
    if (readSeq === 0) return;
    const [m] = await profile.page(peer, { before: readSeq + 1, limit: 1 });
    if (m && m.direction === 'in') link.sendText(encodeChat({ k: 'read', id: m.id, at: Date.now() }));
  }

  // When the last link to this contact went (less the time a dead link takes to be noticed):
  // edits made since then may not have reached it. 0 when no link ever closed (or the last one
  // was cut by a crash).
  function missedSince(peer: number): number {
    const last = profile.views.links[peer];
    if (!last) return Infinity;
    return last.state === 'closed' ? Math.max(0, last.since - TIMING.DEAD_AFTER_MS) : 0;
  }

  // My edits made at or after `since`, among my last EDITS_LOOK_BACK messages to the contact.
  async function editsSince(peer: number, since: number): Promise<ChatPayload[]> {
    const found: ChatPayload[] = [];
    if (since === Infinity) return found;
    let before: number | undefined;
    let seen = 0;
    while (seen < EDITS_LOOK_BACK) {
      const page = await profile.page(peer, { limit: PAGE, before });
      for (const m of page) {
        if (m.direction === 'out' && m.editedAt !== null && m.editedAt >= since) found.push({ k: 'edit', id: m.id, text: m.text, at: m.editedAt });
      }
      seen += page.length;
      if (page.length < PAGE) break;
      before = page[0].seq;
    }
    return found;
  }

  async function onPayload(peer: number, link: PeerLink, bytes: Buffer): Promise<void> {
    let p: ChatPayload;
    try {
      p = decodeChat(bytes);
    } catch (err) {
      log(`parley: ${peer} sent a payload this client cannot read: ${(err as Error).message}`);
      return;
    }
    if (p.k === 'msg') return receive(peer, link, p);
    if (p.k === 'ack') {
      const key = `${peer}/${p.id}`;
      const seq = inFlight.get(key);
      if (seq !== undefined) {
        inFlight.delete(key);
        await profile.append({ type: 'message.delivered', id: p.id, peer, msgSeq: seq, receivedAt: p.at });
        return;
      }
      const m = await profile.message(peer, 'out', p.id);
      if (m && (m.status === 'pending' || m.status === 'sent')) await profile.append({ type: 'message.delivered', id: p.id, peer, msgSeq: m.seq, receivedAt: p.at });
      return;
    }
    if (p.k === 'edit') {
      const m = await profile.message(peer, 'in', p.id);
      if (m && m.text !== p.text) await profile.append({ type: 'message.edited', id: p.id, peer, msgSeq: m.seq, direction: 'in', text: p.text });
      return;
    }
    if (p.k === 'read') {
      const m = await profile.message(peer, 'out', p.id);
      if (m && m.seq > (profile.chat(peer)?.peerReadSeq ?? 0)) await profile.append({ type: 'message.read', id: p.id, peer, by: 'peer', msgSeq: m.seq });
      return;
    }
    if (p.k === 'refused') {
      const m = await profile.message(peer, 'out', p.id);
      if (m && m.status !== 'failed') {
        await profile.appendMany([
          { type: 'quota.refused', peer, direction: 'outbound', kind: 'messages', n: p.need, ref: p.id },
          { type: 'message.failed', id: p.id, peer, msgSeq: m.seq, reason: `${peer} refused it: it needs ${p.need} more packets granted (parley limits grant on their side)` },
        ]);
      }
      return;
    }
    // A grant: the running totals the peer allows me. Only what is new is journaled.
    const out = quotaOf(profile.views.quotas, peer).outbound;
    const events: NewEvent[] = [];
    if (p.messages > out.messages.granted) events.push({ type: 'quota.granted', peer, direction: 'outbound', kind: 'messages', n: p.messages - out.messages.granted });
    if (p.files > out.files.granted) events.push({ type: 'quota.granted', peer, direction: 'outbound', kind: 'files', n: p.files - out.files.granted });
    if (events.length > 0) await profile.appendMany(events);
    await drain(peer);
  }

  // A message: journaled once (a resent one is only acknowledged again), within the grant.
  async function receive(peer: number, link: PeerLink, p: Extract<ChatPayload, { k: 'msg' }>): Promise<void> {
    // Only a message the sender may have written before can be here already: a first one needs
    // no lookup.
    const known = p.again ? await profile.message(peer, 'in', p.id) : undefined;
    if (known) {
      link.sendText(encodeChat({ k: 'ack', id: p.id, at: known.receivedAt ?? known.at }));
      return;
    }
    const packets = packetsFor(Buffer.byteLength(p.text));
    const room = left(quotaOf(profile.views.quotas, peer).inbound.messages);
    if (room < packets) {
      await profile.append({ type: 'quota.refused', peer, direction: 'inbound', kind: 'messages', n: packets, ref: p.id });
      link.sendText(encodeChat({ k: 'refused', id: p.id, need: packets - room }));
      return;
    }
    const [stored] = await profile.appendMany([
      { type: 'message.received', id: p.id, peer, text: p.text, sentAt: p.at, ...(p.replyTo ? { replyTo: p.replyTo } : {}) },
      { type: 'quota.spent', peer, direction: 'inbound', kind: 'messages', n: packets, ref: p.id },
    ]);
    link.sendText(encodeChat({ k: 'ack', id: p.id, at: stored.at }));
  }

  // The contact's messages not yet acknowledged, oldest first: pending ones, and those written to
  // a link that went before their ack came (sent: the contact may never have read them). They
  // are the newest of the chat back to the first of mine that is delivered, read or failed:
  // messages go in order on a link and are acknowledged in order.
  async function pendingOf(peer: number): Promise<Outgoing[]> {
    const found: Outgoing[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await profile.page(peer, { limit: PAGE, before });
      for (let i = page.length - 1; i >= 0; i--) {
        const m = page[i];
        if (m.direction !== 'out') continue;
        if (m.status !== 'pending' && m.status !== 'sent') return found.reverse();
        found.push({ id: m.id, seq: m.seq, text: m.text, at: m.at, replyTo: m.replyTo, written: m.status === 'sent' });
      }
      if (page.length < PAGE) return found.reverse();
      before = page[0].seq;
    }
  }

  async function drain(peer: number): Promise<void> {
    const entry = links.get(peer);
    const pending = await pendingOf(peer);
    // No link: one is asked for only when there is something to send (a message, or an edit the
    // contact may have missed).
    if (!entry) {
      if (pending.length > 0 || (await editsSince(peer, missedSince(peer))).length > 0) want(peer);
      return;
    }
    for (const m of pending) {
      // On this link already, its ack to come.
      if (inFlight.has(`${peer}/${m.id}`)) continue;
      if (!(await transmit(peer, entry, m, true))) return;
    }
    if (links.get(peer) === entry) clean.add(peer);
  }

  // Writes one message and journals it spent and sent; false when it cannot go now (the link
  // went, or the contact's grant does not cover it: the next grant drains again).
  // `again`: found pending in the chat, so maybe written before a crash or on a lost link.
  async function transmit(peer: number, entry: { link: PeerLink; route: Route }, m: Outgoing, again = false): Promise<boolean> {
    if (links.get(peer) !== entry) return false;
    const packets = packetsFor(Buffer.byteLength(m.text));
    // Written before on a link that went: written again, spent and marked sent already.
    if (m.written) {
      inFlight.set(`${peer}/${m.id}`, m.seq);
      entry.link.sendText(encodeChat({ k: 'msg', id: m.id, text: m.text, at: m.at, ...(m.replyTo ? { replyTo: m.replyTo } : {}), again: true }));
      return true;
    }
    if (left(quotaOf(profile.views.quotas, peer).outbound.messages) < packets) {
      clean.delete(peer);
      return false;
    }
    inFlight.set(`${peer}/${m.id}`, m.seq);
    entry.link.sendText(encodeChat({ k: 'msg', id: m.id, text: m.text, at: m.at, ...(m.replyTo ? { replyTo: m.replyTo } : {}), ...(again ? { again: true } : {}) }));
    // Written: spent and sent, in one batch, not synced for them: a crash that loses it leaves
    // the message pending and unspent, so it is sent again, and the receiver, which has it,
    // only acknowledges it again.
    await profile.appendMany(
      [
        { type: 'quota.spent', peer, direction: 'outbound', kind: 'messages', n: packets, ref: m.id },
        { type: 'message.transmitted', id: m.id, peer, msgSeq: m.seq, route: entry.route },
      ],
      { lazy: true },
    );
    return true;
  }

  // A message written by `parley send` (in this process), or a grant made by `limits grant`.
  const unsubscribe = profile.subscribe((event) => {
    if (event.type === 'message.sent') {
      const peer = event.peer;
      const m: Outgoing = { id: event.id, seq: event.seq, text: event.text, at: event.at, replyTo: event.replyTo ?? null, written: false };
      inTurn(peer, async () => {
        const entry = links.get(peer);
        // Nothing older waits: this one goes at once, read from the event itself.
        if (entry && clean.has(peer)) {
          if (!(await transmit(peer, entry, m))) await drain(peer);
          return;
        }
        await drain(peer);
      });
    }
    if (event.type === 'message.edited' && event.direction === 'out') {
      const entry = links.get(event.peer);
      if (entry) entry.link.sendText(encodeChat({ k: 'edit', id: event.id, text: event.text, at: event.at }));
    }
    if (event.type === 'message.read' && event.by === 'me') {
      const entry = links.get(event.peer);
      if (entry) entry.link.sendText(encodeChat({ k: 'read', id: event.id, at: event.at }));
    }
    if (event.type === 'quota.granted' && event.direction === 'inbound') {
      const entry = links.get(event.peer);
      if (entry) sendGrant(event.peer, entry.link);
    }
  });

  return {
    listenPort,
    onIntroduce,
    onPresence(peer, online) {
      if (online) inTurn(peer, () => drain(peer));
    },
    routes: () => new Map([...links].map(([peer, e]) => [peer, e.route])),
    async close() {
      closing = true;
      unsubscribe();
      for (const timer of retries.values()) clearTimeout(timer);
      await Promise.all([...links.values()].map(({ link }) => link.close()));
      await Promise.all([...chains.values()]);
      relayed.close();
      await new Promise<void>((resolve) => (deps.listen ? server.close(() => resolve()) : resolve()));
    },
  };
}

// IPv6 and IPv4 where the machine has it; IPv4 alone where it has no IPv6.
function listen(server: tls.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL') {
        server.listen(0, '0.0.0.0', () => resolve((server.address() as { port: number }).port));
      } else reject(err);
    };
    server.once('error', onError);
    server.listen(0, '::', () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

// `lan` for an address on a private or link-local range, `direct` for any other.
export function routeOf(address: string): Route {
  const a = address.replace(/^::ffff:/, '');
  if (/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|127\.)/.test(a) || /^(fe80:|fc|fd|::1$)/i.test(a)) return 'lan';
  return 'direct';
}
