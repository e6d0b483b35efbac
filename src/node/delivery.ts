// What travels over a contact's peer link and what each side journals for it (docs/PROTOCOL.md
// section 9): the outbox drained in order within the contact's grant, messages received once,
// receipts, read marks, edits and grants. Every fact is journaled before anyone is told of it,
// so a crash at any point loses nothing and a message is received once however often it is
// sent:
//
//   sender                                   receiver
//   message.sent (pending)
//   ── msg ─────────────────────────────────▶ (marked again? looked up: if there, ack again)
//   quota.spent + message.transmitted (sent)  message.received + quota.spent, then
//   ◀──────────────────────────────────── ack
//   message.delivered
//
// The links themselves (listener, introductions, relay) are the messenger's (messenger.ts); it
// runs everything here in one chain of work per contact.
import { TIMING } from '../net/constants.js';
import { assemble, decodeChat, encodeChat, messagePayloads, type Assembly, type ChatPayload, type WholeMessage } from '../net/chat.js';
import type { PeerLink } from '../net/peer.js';
import type { NewEvent, Route, Stored } from '../events/types.js';
import { left, packetsFor, quotaOf } from '../projections/quotas.js';
import { unacknowledged } from './outbox.js';
import type { Profile } from './profile.js';

export type LinkEntry = { link: PeerLink; route: Route };

export type DeliveryDeps = {
  profile: Profile;
  log: (line: string) => void;
  // The contact's link that is up, if any.
  linkOf: (peer: number) => LinkEntry | undefined;
  // Asks for a link to the contact (there is something to send), or for a better one than the
  // relay.
  want: (peer: number) => void;
};

// A message of mine on its way: `written` when it went to a link before (status sent).
type Outgoing = { id: string; seq: number; text: string; at: number; replyTo: string | null; written: boolean };

// Messages read at a time from the end of a chat.
const PAGE = 50;
// Ids of messages received lately, kept per contact to tell a copy without a lookup.
const RECENT_IDS = 1024;
// How far back a new link looks for edits the contact may have missed.
const EDITS_LOOK_BACK = 500;

export type Delivery = ReturnType<typeof createDelivery>;

export function createDelivery(deps: DeliveryDeps) {
  const { profile, log } = deps;
  // Messages written to a link and not acknowledged yet: 'peer/id' -> their seq, so that an ack
  // needs no lookup.
  const inFlight = new Map<string, number>();
  // Contacts whose outbox is known empty while their link is up: a new message goes at once,
  // without reading the chat for older pending ones.
  const clean = new Set<number>();
  // Long messages being put together, one per contact (their packets follow each other).
  const assemblies = new Map<number, Assembly>();
  // The seq of the last of my messages written to each contact's link: messages go in order, so
  // one at or below it was written (and is resent, marked again, only by a drain).
  const lastWritten = new Map<number, number>();
  // The ids of the last messages received from each contact, in order of arrival.
  const recentIds = new Map<number, Set<string>>();

  function recentOf(peer: number): Set<string> {
    let set = recentIds.get(peer);
    if (!set) recentIds.set(peer, (set = new Set()));
    return set;
  }

  function remember(set: Set<string>, id: string): void {
    set.add(id);
    if (set.size > RECENT_IDS) set.delete(set.values().next().value as string);
  }

  // A new link: the grant, how far I have read, the edits the contact may have missed, then what
  // waits. `since`: missedSince(peer) as it was before the link was journaled.
  async function linkUp(peer: number, link: PeerLink, since: number): Promise<void> {
    sendGrant(peer, link);
    await sendReadMark(peer, link);
    for (const edit of await editsSince(peer, since)) link.sendText(encodeChat(edit));
    await drain(peer);
  }

  // The link went: what it carried without an ack goes again on the next one.
  function linkDown(peer: number): void {
    clean.delete(peer);
    assemblies.delete(peer);
    for (const key of [...inFlight.keys()]) if (key.startsWith(`${peer}/`)) inFlight.delete(key);
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
    // None made since then: known from the chat's summary, without reading the chat (at login
    // every contact online is drained, and this would read ten pages of each).
    const last = profile.chat(peer)?.lastOutEditAt;
    if (last === undefined ? profile.chat(peer) === undefined : last < since) return found;
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
    // Removed or blocked while its link was up (the messenger closes that link): nothing more
    // from it is taken.
    if (!isContact(profile, peer)) return;
    let p: ChatPayload;
    try {
      p = decodeChat(bytes);
    } catch (err) {
      log(`parley: ${peer} sent a payload this client cannot read: ${(err as Error).message}`);
      return;
    }
    if (p.k === 'msg') return receive(peer, link, p);
    if (p.k === 'long' || p.k === 'part') {
      const step = assemble(assemblies.get(peer) ?? null, p);
      if (step.next) assemblies.set(peer, step.next);
      else assemblies.delete(peer);
      if (step.error) log(`parley: ${peer} sent ${step.error}`);
      if (step.whole) return receive(peer, link, step.whole);
      return;
    }
    if (p.k === 'ack') {
      const key = `${peer}/${p.id}`;
      const seq = inFlight.get(key);
      if (seq !== undefined) {
        inFlight.delete(key);
        await delivered(peer, p.id, seq, p.at);
        return;
      }
      const m = await profile.message(peer, 'out', p.id);
      if (m && (m.status === 'pending' || m.status === 'sent')) await delivered(peer, p.id, m.seq, p.at);
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
  async function receive(peer: number, link: PeerLink, p: WholeMessage): Promise<void> {
    // Only a message the sender may have written before can be here already: a first one needs
    // no lookup.
    // A copy of one received a moment ago is known without a lookup too (a sender that wrote it
    // twice on one link, whatever its marks).
    const recent = recentOf(peer);
    const known = p.again || recent.has(p.id) ? await profile.message(peer, 'in', p.id) : undefined;
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
    remember(recent, p.id);
    link.sendText(encodeChat({ k: 'ack', id: p.id, at: stored.at }));
  }

  // The contact's outbox, oldest first (outbox.ts).
  async function pendingOf(peer: number): Promise<Outgoing[]> {
    return (await unacknowledged(profile, peer)).map((m) => ({ id: m.id, seq: m.seq, text: m.text, at: m.at, replyTo: m.replyTo, written: m.status === 'sent' }));
  }

  async function drain(peer: number): Promise<void> {
    const entry = deps.linkOf(peer);
    const pending = await pendingOf(peer);
    // No link: one is asked for only when there is something to send (a message, or an edit the
    // contact may have missed).
    if (!entry) {
      if (pending.length > 0 || (await editsSince(peer, missedSince(peer))).length > 0) deps.want(peer);
      return;
    }
    for (const m of pending) {
      // On this link already, its ack to come.
      if (inFlight.has(`${peer}/${m.id}`)) continue;
      if (!(await transmit(peer, entry, m, true))) return;
    }
    if (deps.linkOf(peer) === entry) clean.add(peer);
  }

  // Writes one message and journals it spent and sent; false when it cannot go now (the link
  // went, or the contact's grant does not cover it: the next grant drains again).
  // `again`: found pending in the chat, so maybe written before a crash or on a lost link.
  async function transmit(peer: number, entry: LinkEntry, m: Outgoing, again = false): Promise<boolean> {
    // The link went, or the contact was removed or blocked meanwhile (its outbox failed then).
    if (deps.linkOf(peer) !== entry || !isContact(profile, peer)) return false;
    const packets = packetsFor(Buffer.byteLength(m.text));
    // Written before on a link that went: written again, spent and marked sent already.
    if (m.written) {
      inFlight.set(`${peer}/${m.id}`, m.seq);
      write(entry, m, true);
      return true;
    }
    if (left(quotaOf(profile.views.quotas, peer).outbound.messages) < packets) {
      clean.delete(peer);
      return false;
    }
    inFlight.set(`${peer}/${m.id}`, m.seq);
    write(entry, m, again);
    if ((lastWritten.get(peer) ?? 0) < m.seq) lastWritten.set(peer, m.seq);
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

  // A receipt is journaled, not synced for itself: the receiver holds the message durably, and a
  // crash of this computer that loses the receipt leaves the message sent and unacknowledged,
  // so the next link sends it again (marked again) and the receiver acknowledges it again.
  // LevelDB recovers a prefix of its log, so a receipt never survives one written before it.
  async function delivered(peer: number, id: string, msgSeq: number, receivedAt: number): Promise<void> {
    await profile.appendMany([{ type: 'message.delivered', id, peer, msgSeq, receivedAt }], { lazy: true });
  }

  // A message's packets, one after the other on the link.
  function write(entry: LinkEntry, m: Outgoing, again: boolean): void {
    for (const p of messagePayloads({ id: m.id, text: m.text, at: m.at, ...(m.replyTo ? { replyTo: m.replyTo } : {}), again })) entry.link.sendText(encodeChat(p));
  }

  // What an appended event means for the contact's link (the caller runs it in the contact's
  // turn): a message written by `parley send`, an edit, a read mark, a grant.
  async function onEvent(event: Stored): Promise<void> {
    if (!('peer' in event)) return;
    const peer = event.peer;
    const entry = deps.linkOf(peer);
    if (event.type === 'message.sent') {
      const m: Outgoing = { id: event.id, seq: event.seq, text: event.text, at: event.at, replyTo: event.replyTo ?? null, written: false };
      // On the relay: a moment to try for a direct link again (the messenger spaces the tries).
      if (entry?.route === 'relay') deps.want(peer);
      // Nothing older waits: this one goes at once, read from the event itself.
      // Written already by a drain that ran first (a link came up meanwhile): its copy was
      // marked again, and one more without the mark would be journaled twice by the receiver.
      if ((lastWritten.get(peer) ?? 0) >= m.seq) return;
      if (entry && clean.has(peer) && (await transmit(peer, entry, m))) return;
      return drain(peer);
    }
    if (!entry) return;
    if (event.type === 'message.edited' && event.direction === 'out') entry.link.sendText(encodeChat({ k: 'edit', id: event.id, text: event.text, at: event.at }));
    if (event.type === 'message.read' && event.by === 'me') entry.link.sendText(encodeChat({ k: 'read', id: event.id, at: event.at }));
    if (event.type === 'quota.granted' && event.direction === 'inbound') sendGrant(peer, entry.link);
  }

  return { linkUp, linkDown, onPayload, drain, onEvent, missedSince };
}

// The events a contact's link cares about (onEvent).
export function concernsLink(event: Stored): boolean {
  return (
    event.type === 'message.sent' ||
    (event.type === 'message.edited' && event.direction === 'out') ||
    (event.type === 'message.read' && event.by === 'me') ||
    (event.type === 'quota.granted' && event.direction === 'inbound')
  );
}

// A whitelisted contact that is not blocked: the only peers a link is kept with.
export function isContact(profile: Profile, peer: number): boolean {
  const c = profile.views.contacts[peer];
  return c !== undefined && c.whitelisted && !c.blocked;
}
