// The offers the receiving side of a file transfer takes (receiving.ts; docs/PROTOCOL.md section
// 9, "Files"). An offer is checked (the name, the room on the disk, the inbound file packets
// granted) and journaled, declined with its reason when it fails a check; an accepted one spends
// the packets, once. An offer known already (a new link, a restart of either side) is answered
// from the journal. Keeps which offers are on each peer's current link: the tags their chunks
// come under and whether they asked for `got` reports.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FileOffer, FilePayload } from '../net/files.js';
import type { NewEvent, Stored, TransferAccepted } from '../events/types.js';
import { left, packetsFor, quotaOf } from '../projections/quotas.js';
import type { Transfer } from '../projections/transfer-values.js';
import { checkFileName } from './filename.js';
import { freeBytes, readDone } from './placing.js';
import type { Profile } from './profile.js';
import { sumsBase } from './sums.js';

export type OffersContext = {
  profile: Profile;
  send: (peer: number, payload: FilePayload) => boolean;
  // Declines sent with the packets that would be needed (for the decline's `need`).
  needs: Map<string, number>;
  // The person's choices: whether offers from this contact are taken at once, and where files go.
  autoAccept: (peer: number) => boolean;
  downloads: () => string;
  // The sessions (receiving.ts, parts.ts): a transfer's chunks taken from now on, and a
  // transfer ended here (its session closed, with `drop` what it left removed).
  start: (t: Transfer) => Promise<void>;
  ended: (peer: number, id: string, drop: boolean) => Promise<void>;
};

export function createOffers(ctx: OffersContext) {
  const { profile } = ctx;
  // The tags of the offers on each peer's current link: tag -> transfer id; and the transfers
  // whose offer on it asked for `got` reports (peer/id).
  const tags = new Map<number, Map<number, string>>();
  const asksGot = new Set<string>();
  const keyOf = (peer: number, id: string): string => `${peer}/${id}`;

  // The reason an offer is refused, with the packets it would need when it is the grant.
  async function refusal(peer: number, o: FileOffer): Promise<{ reason: string; need?: number } | null> {
    const bad = checkFileName(o.name);
    if (bad) return { reason: `the name is refused: ${bad}` };
    const packets = packetsFor(o.size);
    const room = left(quotaOf(profile.views.quotas, peer).inbound.files);
    if (room < packets) return { reason: `it needs ${packets - room} more file packets granted (parley limits grant)`, need: packets - room };
    const free = await freeBytes(ctx.downloads());
    if (free !== null && free < o.size) return { reason: `the file (${o.size} bytes) does not fit the disk (${free} bytes free)` };
    return null;
  }

  async function onOffer(peer: number, o: FileOffer): Promise<void> {
    const byTag = tags.get(peer) ?? new Map<number, string>();
    tags.set(peer, byTag);
    byTag.set(o.tag, o.id);
    if (o.got === true) asksGot.add(keyOf(peer, o.id));
    else asksGot.delete(keyOf(peer, o.id));
    const t = await profile.transfer(peer, 'in', o.id);
    if (!t) {
      const offered: NewEvent = { type: 'transfer.offered', id: o.id, peer, direction: 'in', name: o.name, size: o.size, chunkSize: o.chunkSize };
      const no = await refusal(peer, o);
      if (no) {
        if (no.need !== undefined) ctx.needs.set(keyOf(peer, o.id), no.need);
        const refused: NewEvent[] = no.need !== undefined ? [{ type: 'quota.refused', peer, direction: 'inbound', kind: 'files', n: packetsFor(o.size), ref: o.id }] : [];
        await profile.appendMany([...refused, offered, { type: 'transfer.declined', id: o.id, peer, direction: 'in', reason: no.reason }]);
        return;
      }
      const accepted: NewEvent[] = ctx.autoAccept(peer) ? [{ type: 'transfer.accepted', id: o.id, peer, direction: 'in', path: path.join(ctx.downloads(), o.name) }] : [];
      await profile.appendMany([offered, ...accepted]);
      return;
    }
    // Known: offered again on a new link, or after a restart of either side.
    if (t.state === 'active' || t.state === 'paused') return ctx.start(t);
    if (t.state === 'declined') ctx.send(peer, { k: 'decline', id: t.id, reason: t.reason ?? 'declined' });
    else if (t.state === 'cancelled' || t.state === 'failed') {
      if (t.state === 'cancelled') ctx.send(peer, { k: 'cancel', id: t.id, by: 'receiver', reason: 'cancelled by the receiver' });
      else ctx.send(peer, { k: 'fail', id: t.id, by: 'receiver', reason: t.reason ?? 'failed' });
      // Ended while no client ran (a command on a stopped profile): what it left goes now.
      await ctx.ended(peer, t.id, true);
    }
    else if (t.state === 'completed') {
      const done = await readDone(sumsBase(profile.home, peer, 'in', t.id));
      if (done) ctx.send(peer, { k: 'done', id: t.id, root: Buffer.from(done.root, 'hex') });
    }
  }

  // The person accepted (or auto-accept did): the packets are spent, then chunks are taken if the
  // sender's offer is on the current link.
  async function accepted(event: Stored<TransferAccepted>): Promise<void> {
    const t = await profile.transfer(event.peer, 'in', event.id);
    if (!t || t.state !== 'active' || !(await spendOnce(t))) return;
    const onLink = [...(tags.get(t.peer)?.values() ?? [])].includes(t.id);
    if (onLink) await ctx.start(t);
  }

  // The inbound file packets of a transfer are spent once, at its acceptance, or at its first
  // start when it was accepted while no client ran (a command on a stopped profile journals the
  // acceptance alone). `<base>.spent` (sums.ts) records the spend after it is journaled; a crash
  // between the two spends twice, which only makes the grant run out sooner, never lets more in.
  async function spendOnce(t: Transfer): Promise<boolean> {
    const marker = `${sumsBase(profile.home, t.peer, 'in', t.id)}.spent`;
    if (await fs.access(marker).then(() => true, () => false)) return true;
    const packets = packetsFor(t.size);
    if (left(quotaOf(profile.views.quotas, t.peer).inbound.files) < packets) {
      await profile.appendMany([
        { type: 'quota.refused', peer: t.peer, direction: 'inbound', kind: 'files', n: packets, ref: t.id },
        { type: 'transfer.failed', id: t.id, peer: t.peer, direction: 'in', reason: 'the file packets granted no longer cover it' },
      ]);
      return false;
    }
    await profile.append({ type: 'quota.spent', peer: t.peer, direction: 'inbound', kind: 'files', n: packets, ref: t.id });
    await fs.mkdir(path.dirname(marker), { recursive: true });
    await fs.writeFile(marker, '');
    return true;
  }

  // The transfer a chunk's tag names on the peer's current link.
  function idOf(peer: number, tag: number): string | undefined {
    return tags.get(peer)?.get(tag);
  }

  function asksReports(peer: number, id: string): boolean {
    return asksGot.has(keyOf(peer, id));
  }

  // The link went: its offers, and their tags, with it.
  function linkDown(peer: number): void {
    tags.delete(peer);
    for (const key of [...asksGot]) if (key.startsWith(`${peer}/`)) asksGot.delete(key);
  }

  return { onOffer, accepted, spendOnce, idOf, asksReports, linkDown };
}
