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
import type fs from 'node:fs/promises';
import { open, stat } from 'node:fs/promises';
import { giveBackChunkBuffer, takeChunkBuffer } from '../net/chunk-buffers.js';
import { CONTENT } from '../net/constants.js';
import { chunksOf, encodeFiles, type FileAccept, type FilePayload } from '../net/files.js';
import { chunkContentId } from '../net/frame.js';
import type { PeerLink } from '../net/peer.js';
import type { NewEvent } from '../events/types.js';
import type { Transfer } from '../projections/transfer-values.js';
import { gotFrom, mayHand } from './credit.js';
import type { Profile } from './profile.js';
import { HASH_BYTES, openKept, removeQuietly, rootOf, sha256Off, sumsBase } from './sums.js';

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
// Chunks read ahead of the one being hashed and sent. One read at a time left the sender waiting
// on the disk for 2 s of every 5.5 s of a 1 GiB transfer (bench/transfer.mjs, 1 MiB chunks).
const READ_AHEAD = 4;

type Reading = { c: number; buf: Buffer; read: Promise<number> };

export type SendContext = {
  profile: Profile;
  log: (line: string) => void;
  // The peer's current link.
  linkOf: (peer: number) => PeerLink | undefined;
  send: (peer: number, payload: FilePayload) => boolean;
};

type Session = {
  peer: number;
  id: string;
  tag: number;
  link: PeerLink;
  t: Transfer;
  fh: fs.FileHandle | null;
  sums: fs.FileHandle | null;
  // What the receiver has (accept) and the next chunk to look at past it.
  have: number[];
  next: number;
  resend: number[];
  inFlight: Set<number>;
  windowChunks: number;
  // The received window (credit.ts): chunk bytes handed to this link since the accept, the most
  // the receiver said it took, and whether it says so at all (its accept's `got`).
  sent: number;
  got: number;
  credit: boolean;
  wire: number;
  wake: (() => void) | null;
  running: boolean;
  rootSent: boolean;
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

  // The file changed since it was offered: its size, or a change after the offer's time.
  async function changed(t: Transfer): Promise<string | null> {
    try {
      const st = await stat(t.path ?? '');
      if (!st.isFile()) return 'the file offered is no longer a file';
      if (st.size !== t.size) return `the file changed since it was offered: ${st.size} bytes, offered ${t.size}`;
      // Whole milliseconds: the offer's time is one, and a file written in the same millisecond
      // as its offer has a modification time a fraction above it.
      if (Math.floor(st.mtimeMs) > t.offeredAt) return 'the file changed since it was offered (modified after the offer)';
      return null;
    } catch (err) {
      return `the file offered cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
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
    void pump(s).catch((err: Error) => {
      // A session stopped (the link went, the transfer ended) closes its file under a read.
      if (s.running) void fail(s, `reading the file failed: ${err.message}`).catch(() => log(`parley: sending ${t.id} to ${peer}: ${err.message}`));
    });
  }

  // The next chunk to send: one asked for again first, then the first one past `next` that the
  // receiver does not have. undefined when none is left.
  function nextChunk(s: Session): number | undefined {
    if (s.resend.length > 0) return s.resend.shift();
    const r = s.have;
    for (let i = 0; i < r.length; i += 2) {
      if (s.next >= r[i] && s.next < r[i + 1]) s.next = r[i + 1];
    }
    if (s.next >= s.t.chunkCount) return undefined;
    return s.next++;
  }

  // Reads, hashes and sends chunks while the session runs and the window has room; sends the root
  // once everything is acked. Never throws, safe to run unawaited (failures end the transfer).
  async function pump(s: Session): Promise<void> {
    const { t } = s;
    // The chunk before this one, queued on the link: the next is hashed while it waits, and
    // queued only once it was handed to the socket (so at most two wait in the bulk queue).
    let previous: Promise<boolean> = Promise.resolve(true);
    // Chunks being read, in the order they go: READ_AHEAD reads in flight keep the disk (or the
    // page cache, through libuv's threads) busy while this thread hashes and encrypts.
    const ahead: Reading[] = [];
    while (s.running) {
      while (ahead.length < READ_AHEAD && s.inFlight.size + ahead.length < s.windowChunks) {
        const c = nextChunk(s);
        if (c === undefined) break;
        ahead.push(readChunk(s, c));
      }
      const r = ahead.shift();
      if (!r) {
        // The window is full, or nothing is left but acks (or chunks asked for again).
        if (s.inFlight.size < s.windowChunks) {
          if (!(await previous)) return;
          if (s.inFlight.size === 0 && s.resend.length === 0) return finishing(s);
        }
        if (s.resend.length === 0) await new Promise<void>((resolve) => (s.wake = resolve));
        continue;
      }
      const bytesRead = await r.read;
      if (!s.running) return;
      if (bytesRead !== r.buf.length) return fail(s, bytesRead < 0 ? 'the file offered cannot be read' : `the file changed since it was offered: chunk ${r.c} is short`);
      const h = await sha256Off(r.buf);
      if (!s.running) return;
      await (s.sums as fs.FileHandle).write(h, 0, HASH_BYTES, r.c * HASH_BYTES);
      if (!s.running || !(await previous)) return;
      // The receiver has not yet taken RECEIVED_WINDOW of what went: a message sent now would
      // wait behind it in the sockets; this chunk waits for its `got` instead.
      while (s.credit && s.running && !mayHand(s.sent, s.got)) await new Promise<void>((resolve) => (s.wake = resolve));
      if (!s.running) return;
      s.inFlight.add(r.c);
      s.link.sendFileControl(0, encodeFiles({ k: 'sum', id: t.id, c: r.c, h }));
      const len = r.buf.length;
      s.sent += len;
      const buf = r.buf;
      previous = s.link.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(s.tag, r.c), buf, () => giveBackChunkBuffer(buf)).then((handed) => {
        if (handed && s.running) s.wire += len;
        return handed;
      });
    }
  }

  // Starts reading chunk `c` into a buffer of its own: the link keeps it until the socket wrote it,
  // which may be after sendBulk resolved; at most the scheduler's window, a chunk and the reads
  // ahead of them are alive. The read resolves to the bytes read, -1 when it failed (a session
  // stopped meanwhile closes its file under the read).
  function readChunk(s: Session, c: number): Reading {
    const { chunkSize, size } = s.t;
    // Given back once the socket has written it (chunk-buffers.ts): a new MiB per chunk made the
    // garbage collector run a full collection every few tens of MiB sent.
    const buf = takeChunkBuffer(Math.min(chunkSize, size - c * chunkSize));
    const read = (s.fh as fs.FileHandle).read(buf, 0, buf.length, c * chunkSize).then(
      (r) => r.bytesRead,
      () => -1,
    );
    return { c, buf, read };
  }

  async function finishing(s: Session): Promise<void> {
    if (s.rootSent) return;
    const why = await changed(s.t);
    if (why) return fail(s, why);
    await (s.sums as fs.FileHandle).datasync();
    const root = await rootOf(s.sums as fs.FileHandle, s.t.chunkCount);
    s.rootSent = true;
    ctx.send(s.peer, { k: 'root', id: s.id, root });
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
