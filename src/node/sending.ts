// The sending side of a file transfer (docs/PROTOCOL.md section 9, "Files"), for files.ts. On
// every new link each transfer I send that is not finished is offered again (the receiver knows it
// by (peer, id), so an offer twice is one transfer); its `accept` says which chunks the receiver
// has stored, and the rest go: each chunk read at its offset, hashed, its hash written to the
// sums file (sums.ts), then `sum` and the chunk on the link, within WINDOW_BYTES of chunks sent
// and not acked and, when the receiver reports what it takes (`got`), within RECEIVED_WINDOW of
// chunks it has not yet taken off the link (credit.ts). Acks are journaled
// (transfer.chunks-acked, with the wire bytes since the last event). When every chunk is acked
// the root over the hashes goes, and the receiver's `done` with the same root completes the
// transfer.
//
// The reading, hashing and sending of the chunks, once accepted, is pump.ts's.
import { open } from 'node:fs/promises';
import { chunksOf, type FileAccept, type FilePayload } from '../net/files.js';
import type { PeerLink } from '../net/peer.js';
import type { NewEvent } from '../events/types.js';
import type { Transfer } from '../projections/transfer-values.js';
import { gotFrom } from './credit.js';
import type { Profile } from './profile.js';
import { changed, pump, type Session } from './pump.js';
import { openKept, removeQuietly, rootOf, sumsBase } from './sums.js';

// Chunk bytes sent and not yet acked, at most: 48 MiB. The receiver acks only after a flush, every
// FLUSH_BYTES (4 MiB) or FLUSH_MS (receiving.ts), so the window holds twelve flushes: the sender
// keeps the link busy while the receiver flushes. Measured (bench/transfer.mjs, 2 GiB, flushes of
// 16 MiB then): a window of 32 MiB ran at 0.76 of the baseline, 48 MiB at 0.90, with the
// receiver's peak memory at 131 and 147 MiB; 64 MiB with flushes of 32 MiB, 157 MiB. The received
// window (credit.ts) bounds the receiver's memory since. It is also what a crash of the
// receiver can cost: at most the window is sent twice (wire bytes ≤ size + window), and what the
// receiver may hold in memory when its disk is slower than the link (chunks waiting to be
// written).
export const WINDOW_BYTES = 48 * 1024 * 1024;
// And at most this many chunks, whatever their size: the receiver keeps the hash of each chunk
// announced and not yet arrived (receiving.ts, MAX_EXPECTED), and the view a range per hole.
export const WINDOW_CHUNKS = 1024;

export type SendContext = {
  profile: Profile;
  log: (line: string) => void;
  // The peer's current link.
  linkOf: (peer: number) => PeerLink | undefined;
  send: (peer: number, payload: FilePayload) => boolean;
};

export function createSender(ctx: SendContext) {
  const { profile, log } = ctx;
  const sessions = new Map<string, Session>();
  const tags = new Map<number, number>();
  const keyOf = (peer: number, id: string): string => `${peer}/${id}`;

  function nextTag(peer: number): number {
    const t = ((tags.get(peer) ?? 0) % (2 ** 21 - 1)) + 1;
    tags.set(peer, t);
    return t;
  }

  // Offers a transfer on the peer's link: a new tag for this link; the session starts on accept.
  function offer(t: Transfer): void {
    const link = ctx.linkOf(t.peer);
    if (!link || t.direction !== 'out') return;
    const old = sessions.get(keyOf(t.peer, t.id));
    if (old && old.link === link) return;
    if (old) stop(old);
    const tag = nextTag(t.peer);
    sessions.set(keyOf(t.peer, t.id), newSession(t, link, tag));
    ctx.send(t.peer, { k: 'offer', id: t.id, tag, name: t.name, size: t.size, chunkSize: t.chunkSize, got: true });
  }

  function newSession(t: Transfer, link: PeerLink, tag: number): Session {
    const windowChunks = Math.max(1, Math.min(WINDOW_CHUNKS, Math.floor(WINDOW_BYTES / Math.max(1, t.chunkSize))));
    return { peer: t.peer, id: t.id, tag, link, t, fh: null, sums: null, have: [], next: 0, resend: [], inFlight: new Set(), windowChunks, sent: 0, got: 0, credit: false, wire: 0, wake: null, running: false, rootSent: false };
  }

  async function linkUp(peer: number): Promise<void> {
    for (const t of await profile.openTransfers()) if (t.peer === peer && t.direction === 'out') offer(t);
  }

  // The link went: every session of the peer stops; active ones are journaled paused with the
  // bytes they sent since the last event.
  async function linkDown(peer: number): Promise<void> {
    const events: NewEvent[] = [];
    for (const s of [...sessions.values()]) {
      if (s.peer !== peer) continue;
      const wire = s.wire;
      await stop(s);
      const t = await profile.transfer(peer, 'out', s.id);
      if (t?.state === 'active') events.push({ type: 'transfer.paused', id: s.id, peer, direction: 'out', reason: 'the link went away', ...(wire > 0 ? { wireBytes: wire } : {}) });
    }
    if (events.length > 0) await profile.appendMany(events);
  }

  async function stop(s: Session): Promise<void> {
    if (sessions.get(keyOf(s.peer, s.id)) === s) sessions.delete(keyOf(s.peer, s.id));
    s.running = false;
    s.wire = 0;
    s.wake?.();
    const [fh, sums] = [s.fh, s.sums];
    s.fh = null;
    s.sums = null;
    await fh?.close().catch(() => undefined);
    await sums?.close().catch(() => undefined);
  }

  async function fail(s: Session, reason: string): Promise<void> {
    const wire = s.wire;
    await stop(s);
    await profile.append({ type: 'transfer.failed', id: s.id, peer: s.peer, direction: 'out', reason, ...(wire > 0 ? { wireBytes: wire } : {}) });
  }

  async function onAccept(peer: number, p: FileAccept): Promise<void> {
    const s = sessions.get(keyOf(peer, p.id));
    const t = await profile.transfer(peer, 'out', p.id);
    if (!s || !t || s.running) return;
    if (t.state === 'offered') await profile.append({ type: 'transfer.accepted', id: t.id, peer, direction: 'out' });
    else if (t.state === 'paused') await profile.append({ type: 'transfer.resumed', id: t.id, peer, direction: 'out' });
    else if (t.state !== 'active') return;
    const why = await changed(t);
    if (why) return fail(s, why);
    try {
      s.fh = await open(t.path as string, 'r');
      s.sums = await openKept(`${sumsBase(profile.home, peer, 'out', t.id)}.sums`);
    } catch (err) {
      return fail(s, `the file offered cannot be read: ${(err as Error).message}`);
    }
    s.have = p.have;
    s.next = 0;
    s.credit = p.got === true;
    s.running = true;
    // Never throws, safe to run unawaited.
    void pump(s, { send: ctx.send, fail }).catch((err: Error) => {
      // A session stopped (the link went, the transfer ended) closes its file under a read.
      if (s.running) void fail(s, `reading the file failed: ${err.message}`).catch(() => log(`parley: sending ${t.id} to ${peer}: ${err.message}`));
    });
  }

  async function onAck(peer: number, id: string, have: number[]): Promise<void> {
    const s = sessions.get(keyOf(peer, id));
    if (!s || !s.running) return;
    const chunks = chunksOf(have);
    for (const c of chunks) s.inFlight.delete(c);
    const wire = s.wire;
    s.wire = 0;
    // The hashes of these chunks are on disk before the event that says they are acked.
    await s.sums?.datasync();
    await profile.append({ type: 'transfer.chunks-acked', id, peer, direction: 'out', chunks, ...(wire > 0 ? { wireBytes: wire } : {}) });
    const w = s.wake;
    s.wake = null;
    w?.();
  }

  // The receiver took `n` chunk bytes off this link in all: the received window moves. At once,
  // not in the contact's chain of control work (an ack there waits for its event).
  function onGot(peer: number, id: string, n: number): void {
    const s = sessions.get(keyOf(peer, id));
    if (!s || !s.running) return;
    s.got = gotFrom(s.got, n, s.sent);
    const w = s.wake;
    s.wake = null;
    w?.();
  }

  function onNeed(peer: number, id: string, c: number): void {
    const s = sessions.get(keyOf(peer, id));
    if (!s || !s.running || c >= s.t.chunkCount) return;
    s.resend.push(c);
    const w = s.wake;
    s.wake = null;
    w?.();
  }

  // The receiver put the file in place; its root must be mine.
  async function onDone(peer: number, id: string, root: Buffer): Promise<void> {
    const t = await profile.transfer(peer, 'out', id);
    if (!t || (t.state !== 'active' && t.state !== 'paused')) return;
    const s = sessions.get(keyOf(peer, id));
    const wire = s?.wire ?? 0;
    if (s) await stop(s);
    const file = `${sumsBase(profile.home, peer, 'out', id)}.sums`;
    const sums = await openKept(file);
    const mine = await rootOf(sums, t.chunkCount).finally(() => sums.close());
    const w = wire > 0 ? { wireBytes: wire } : {};
    if (!mine.equals(root)) {
      await profile.append({ type: 'transfer.failed', id, peer, direction: 'out', reason: `the receiver's root over the chunk hashes differs from mine (${root.toString('hex').slice(0, 16)}…, mine ${mine.toString('hex').slice(0, 16)}…)`, ...w });
      return;
    }
    await profile.append({ type: 'transfer.completed', id, peer, direction: 'out', root: mine.toString('hex'), ...w });
    await removeQuietly(file);
  }

  // The transfer ended here (cancelled, failed, declined, completed): its session stops.
  async function ended(peer: number, id: string, drop: boolean): Promise<void> {
    const s = sessions.get(keyOf(peer, id));
    if (s) await stop(s);
    if (drop) await removeQuietly(`${sumsBase(profile.home, peer, 'out', id)}.sums`);
  }

  return {
    offer,
    linkUp,
    linkDown,
    onAccept,
    onAck,
    onGot,
    onNeed,
    onDone,
    ended,
  };
}
