// File transfers over a contact's peer link (docs/PROTOCOL.md section 9, "Files"): the journal's
// transfer events and the link's FILE_CONTROL and FILE_CHUNK frames turned into each other. The
// sending side is sending.ts, the receiving side receiving.ts; this module routes to them and
// tells the peer what the journal says ended here. As for messages (delivery.ts), every fact is
// journaled before the peer hears of it: a decline, a cancel, a failure and a completion go on
// the link from the event that records them (onEvent), never before it.
//
// The messenger (messenger.ts) hands over each new link (linkUp), each link that went (linkDown,
// also when a better route took over), the frames of the current link, and the events appended.
import { decodeFiles, encodeFiles, type FilePayload } from '../net/files.js';
import { splitChunkContentId } from '../net/frame.js';
import type { PeerLink } from '../net/peer.js';
import type { Stored } from '../events/types.js';
import { isFinished } from '../projections/transfer-values.js';
import { isContact } from './delivery.js';
import type { Profile } from './profile.js';
import { createReceiver } from './receiving.js';
import { createSender } from './sending.js';
import { meterOf } from './speeds.js';
import path from 'node:path';

export type FilesDeps = {
  profile: Profile;
  log: (line: string) => void;
  linkOf: (peer: number) => PeerLink | undefined;
  // Asks for a link to the contact: a transfer waits for one.
  want: (peer: number) => void;
};

export type Files = ReturnType<typeof createFiles>;

export function createFiles(deps: FilesDeps) {
  const { profile, log } = deps;
  // Ends the peer told of: journaled here, not told back.
  const told = new Set<string>();
  const needs = new Map<string, number>();
  // One chain of control work per contact, so that an offer, an accept and an ack are taken in
  // the order they came (sums and chunks are taken at once: they must meet their session).
  const chains = new Map<number, Promise<void>>();
  // The live speeds `parley transfers` shows while this client runs (speeds.ts).
  const meter = meterOf(profile);

  function send(peer: number, payload: FilePayload): boolean {
    const link = deps.linkOf(peer);
    return link ? link.sendFileControl(0, encodeFiles(payload)) : false;
  }

  const sender = createSender({ profile, log, linkOf: deps.linkOf, send });
  const receiver = createReceiver({
    profile,
    log,
    send,
    needs,
    autoAccept: (peer) => setting('auto-accept-files') === true && isContact(profile, peer),
    downloads: () => {
      const d = setting('downloads');
      return typeof d === 'string' && d !== '' ? d : path.join(profile.home, 'downloads');
    },
    moved: (peer, id, bytes) => meter.moved(peer, 'in', id, bytes, Date.now()),
  });

  // A setting of the fcmd branch's keys, read from the projection as journaled ('on' or true).
  function setting(key: string): unknown {
    const v = profile.views.settings[key];
    return v === 'on' ? true : v === 'off' ? false : v;
  }

  function inTurn(peer: number, work: () => Promise<void>): Promise<void> {
    const next = (chains.get(peer) ?? Promise.resolve()).then(work).catch((err: Error) => log(`parley: files with ${peer}: ${err.message}`));
    chains.set(peer, next);
    return next;
  }

  // A new link: my transfers not finished are offered again, and the ones I receive are named,
  // so that a sender that ended one while we were apart says so (its offer never comes again).
  function linkUp(peer: number): Promise<void> {
    return inTurn(peer, async () => {
      await sender.linkUp(peer);
      for (const t of await profile.openTransfers()) {
        if (t.peer === peer && t.direction === 'in' && (t.state === 'active' || t.state === 'paused')) send(peer, { k: 'resume', id: t.id });
      }
    });
  }

  // The link went (or a better route took over: then the new one is up already). A link is
  // asked for again while I have a file to send.
  function linkDown(peer: number): Promise<void> {
    return inTurn(peer, async () => {
      await sender.linkDown(peer);
      await receiver.linkDown(peer);
      await drain(peer);
    });
  }

  // A contact came online, or the client started: a link is asked for while a transfer I send
  // waits. Only the sender asks, as for messages: when both sides dial each other at once each
  // may keep its own link and close the other's as a duplicate, leaving none.
  async function drain(peer: number): Promise<void> {
    if (deps.linkOf(peer)) return;
    const open = await profile.openTransfers();
    if (open.some((t) => t.peer === peer && t.direction === 'out')) deps.want(peer);
  }

  function onControl(peer: number, bytes: Buffer): void {
    if (!isContact(profile, peer)) return;
    let p: FilePayload;
    try {
      p = decodeFiles(bytes);
    } catch (err) {
      log(`parley: ${peer} sent a FILE_CONTROL payload this client cannot read: ${(err as Error).message}`);
      return;
    }
    // At once: the chunk that follows must find its hash; a report of chunks taken lets more go
    // (not behind an ack waiting for its event in the chain).
    if (p.k === 'sum') return receiver.onSum(peer, p.id, p.c, p.h);
    if (p.k === 'got') return sender.onGot(peer, p.id, p.n);
    void inTurn(peer, () => handle(peer, p));
  }

  async function handle(peer: number, p: FilePayload): Promise<void> {
    switch (p.k) {
      case 'offer':
        return receiver.onOffer(peer, p);
      case 'accept':
        return sender.onAccept(peer, p);
      case 'ack':
        await sender.onAck(peer, p.id, p.have);
        return ackedBytes(peer, p.id, p.have);
      case 'need':
        return sender.onNeed(peer, p.id, p.c);
      case 'root':
        return receiver.onRoot(peer, p.id, p.root);
      case 'done':
        return sender.onDone(peer, p.id, p.root);
      case 'resume': {
        // Only an end is answered: a transfer still open here is offered on this link anyway.
        const t = await profile.transfer(peer, 'out', p.id);
        if (t?.state === 'cancelled') send(peer, { k: 'cancel', id: p.id, by: 'sender', reason: 'cancelled by the sender' });
        else if (t?.state === 'failed') send(peer, { k: 'fail', id: p.id, by: 'sender', reason: t.reason ?? 'failed' });
        // Ended while no client ran: its hash file goes now.
        if (t?.state === 'cancelled' || t?.state === 'failed') await sender.ended(peer, p.id, true);
        return;
      }
      case 'decline': {
        const t = await profile.transfer(peer, 'out', p.id);
        if (!t || t.state !== 'offered') return;
        told.add(`${peer}/out/${p.id}`);
        await profile.appendMany([
          ...(p.need !== undefined ? [{ type: 'quota.refused' as const, peer, direction: 'outbound' as const, kind: 'files' as const, n: p.need, ref: p.id }] : []),
          { type: 'transfer.declined', id: p.id, peer, direction: 'out', reason: p.reason },
        ]);
        return;
      }
      case 'cancel':
      case 'fail': {
        // The sender's word is about a transfer I receive, the receiver's about one I send.
        const direction = p.by === 'sender' ? 'in' : 'out';
        const t = await profile.transfer(peer, direction, p.id);
        if (!t || isFinished(t.state)) return;
        told.add(`${peer}/${direction}/${p.id}`);
        if (p.k === 'cancel') await profile.append({ type: 'transfer.cancelled', id: p.id, peer, direction, by: 'peer' });
        else await profile.append({ type: 'transfer.failed', id: p.id, peer, direction, reason: `${peer} says: ${p.reason}` });
        return;
      }
      default:
        return;
    }
  }

  // The sender's live speed is the receiver's: the bytes of the chunks it acks, as the acks come
  // (about one per flush, receiving.ts), counted once the ack is taken.
  async function ackedBytes(peer: number, id: string, have: number[]): Promise<void> {
    const t = await profile.transfer(peer, 'out', id);
    if (t?.state !== 'active') return;
    let bytes = 0;
    for (let i = 0; i + 1 < have.length; i += 2) bytes += Math.max(0, Math.min(have[i + 1] * t.chunkSize, t.size) - have[i] * t.chunkSize);
    meter.moved(peer, 'out', id, bytes, Date.now());
  }

  function onChunk(peer: number, contentId: number, payload: Buffer): void {
    const { transfer, index } = splitChunkContentId(contentId);
    receiver.onChunk(peer, transfer, index, payload);
  }

  // What a journaled transfer event means for the link. Runs in the contact's chain.
  function onEvent(event: Stored): void {
    if (!event.type.startsWith('transfer.') || !('peer' in event) || !('direction' in event)) return;
    const { peer } = event;
    // Stopped or ended: it no longer moves; a resumed one is measured afresh.
    switch (event.type) {
      case 'transfer.paused':
      case 'transfer.completed':
      case 'transfer.failed':
      case 'transfer.cancelled':
      case 'transfer.declined':
        meter.drop(peer, event.direction, event.id);
        break;
      default:
        break;
    }
    void inTurn(peer, async () => {
      switch (event.type) {
        case 'transfer.offered':
          if (event.direction !== 'out') return;
          if (!deps.linkOf(peer)) return deps.want(peer);
          {
            const t = await profile.transfer(peer, 'out', event.id);
            if (t) sender.offer(t);
          }
          return;
        case 'transfer.accepted':
          if (event.direction === 'in') await receiver.accepted(event);
          return;
        case 'transfer.declined':
          told.delete(`${peer}/${event.direction}/${event.id}`);
          if (event.direction === 'in') {
            const need = needs.get(`${peer}/${event.id}`);
            needs.delete(`${peer}/${event.id}`);
            send(peer, { k: 'decline', id: event.id, reason: event.reason ?? 'declined', ...(need !== undefined ? { need } : {}) });
          }
          return;
        case 'transfer.cancelled':
        case 'transfer.failed':
          await (event.direction === 'out' ? sender.ended(peer, event.id, true) : receiver.ended(peer, event.id, true));
          // What the peer told is not told back.
          if (told.delete(`${peer}/${event.direction}/${event.id}`) || (event.type === 'transfer.cancelled' && event.by === 'peer')) return;
          {
            const by = event.direction === 'out' ? 'sender' : 'receiver';
            if (event.type === 'transfer.cancelled') send(peer, { k: 'cancel', id: event.id, by, reason: `cancelled by the ${by}` });
            else send(peer, { k: 'fail', id: event.id, by, reason: event.reason });
          }
          return;
        case 'transfer.completed':
          if (event.direction === 'in' && event.root) send(peer, { k: 'done', id: event.id, root: Buffer.from(event.root, 'hex') });
          return;
        default:
          return;
      }
    });
  }

  return { linkUp, linkDown, drain, onControl, onChunk, onEvent, settled: (peer: number) => chains.get(peer) ?? Promise.resolve() };
}
