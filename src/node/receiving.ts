// The receiving side of a file transfer (docs/PROTOCOL.md section 9, "Files"), for files.ts. An
// offer is checked (the name, the room on the disk, the inbound file packets granted) and
// journaled, declined with its reason when it fails a check; an accepted one spends the packets
// and takes chunks into its part file (placing.ts, partPath: `<path>.<tag>.part`) at their offsets, each checked against the SHA-256 its `sum`
// gave before it is written (a bad one is asked for again: `need`); the chunk bytes taken off
// the link are reported at once (`got`, the sender's received window, credit.ts). Progress is
// journaled only after the data is flushed, in batches (FLUSH_BYTES or FLUSH_MS, whichever comes
// first), then acked. When every chunk is stored and the sender's root is in, the root over this side's
// hashes is compared with it and the `.part` renamed into place under a name not taken. A write,
// a flush or its event that fails (a disk that filled up meanwhile) fails the transfer (broke).
//
// The offers (the checks, a decline, the packets spent) are accepting.ts's; the sessions and their
// files (opened, put in place, closed) parts.ts's. This module takes the chunks (checked, written,
// flushed, journaled, acked) and is the one files.ts calls.
import { giveBackChunkBuffer } from '../net/chunk-buffers.js';
import type { FilePayload } from '../net/files.js';
import { rangesOf } from '../net/files.js';
import type { NewEvent } from '../events/types.js';
import { chunkCountOf } from '../projections/transfer-values.js';
import { createOffers } from './accepting.js';
import { dueReport } from './credit.js';
import { createParts, type Session } from './parts.js';
import { partPath, storeFailure, writeWhole } from './placing.js';
import type { Profile } from './profile.js';
import { HASH_BYTES, removeQuietly, sha256, sumsBase } from './sums.js';

// A flush and an event every 4 MiB of chunks, or 250 ms after the first chunk not flushed,
// whichever comes first. What sets it is not the rate but the messages sent meanwhile: on ext4 a
// synced write of the journal (every message, on each side) waits for the file data its commit
// holds, and the download's writes are that data. Measured (bench/transfer.mjs, 1 GiB, one disk
// for both clients, the same day): messages during the transfer at p99 204 ms with flushes of 16
// MiB; 126 ms when no chunk is written while a synced write of the journal waits (below, and
// flush()); 80-113 ms over three runs with both that and flushes of 4 MiB, the transfer at
// 0.90-0.94 of the baseline flushing at the same cadence. Alone, a synced LevelDB put beside a file written at
// full speed took p50 19 / p99 49 ms with flushes of 16 MiB made beside the writes, 5 / 16 ms
// with flushes of 4 MiB and the writes paused for it. The rate itself (node
// bench/flush-cadence.mjs: 1 MiB positional writes, datasync every N MiB) was 850-1,035 MB/s at
// 4 MiB and 890-1,020 at 16, five times what a transfer moves here (hashing and TLS on two
// cores). A 100 GB transfer leaves about one event per 4 MiB on each side (25,600); at slow rates
// the 250 ms bound makes it at most four a second.
//
// Tried and dropped: the .part opened with O_DSYNC, each chunk written in four pieces of 256 KiB
// at once and no flush (so at most a chunk is ever queued on the disk ahead of a message). Alone
// it cut a synced put's p99 beside the writes from 18 to 4 ms; in a transfer the writes cost the
// process 2.5 times the CPU of writes flushed every 4 MiB, on a machine the transfer already keeps
// busy, and the rate fell to 0.80-0.87 of the baseline for messages no faster (docs/BENCHMARKS.md,
// transfer, runs 13 to 17).
export const FLUSH_BYTES = 4 * 1024 * 1024;
export const FLUSH_MS = 250;
// Hashes announced by `sum` and not yet matched by their chunk: the sender's window holds at most
// 1,024 chunks (sending.ts, WINDOW_CHUNKS); a peer that sends sums without chunks does not make
// this grow past this.
const MAX_EXPECTED = 4096;

export type ReceiveContext = {
  profile: Profile;
  log: (line: string) => void;
  send: (peer: number, payload: FilePayload) => boolean;
  // Declines sent with the packets that would be needed (for the decline's `need`).
  needs: Map<string, number>;
  // The person's choices: whether offers from this contact are taken at once, and where files go.
  autoAccept: (peer: number) => boolean;
  downloads: () => string;
  // Chunk bytes taken off the link, as they come: the live speed (speeds.ts).
  moved: (peer: number, id: string, bytes: number) => void;
};

export function createReceiver(ctx: ReceiveContext) {
  const { profile, log } = ctx;
  const offers = createOffers({ profile, send: ctx.send, needs: ctx.needs, autoAccept: ctx.autoAccept, downloads: ctx.downloads, start: (t) => parts.start(t), ended });
  const parts = createParts({ profile, send: ctx.send, asksReports: offers.asksReports, spendOnce: offers.spendOnce });
  const { close } = parts;

  function inTurn(s: Session, work: () => Promise<void>): Promise<void> {
    s.work = s.work.then(work).catch((err: Error) => broke(s, err));
    return s.work;
  }

  // A write, a flush or the event after it failed, most often because the disk filled up: the
  // transfer fails here with the reason, and files.ts, from that event, removes the .part and its
  // hashes and tells the sender (`fail`). Called from inside the session's chains, so nothing
  // here waits in them: close() waits for the flush running, which may be the one that failed.
  // Never throws, safe to run unawaited. A session closed already (it was being put in place, or
  // it ended) only logs: what closed it decides.
  function broke(s: Session, err: Error): void {
    log(`parley: receiving ${s.id} from ${s.peer}: ${err.message}`);
    if (!s.open) return;
    const wire = s.wire;
    const journaled = close(s).then(async () => {
      const t = await profile.transfer(s.peer, 'in', s.id);
      if (t?.state !== 'active') return;
      await profile.append({ type: 'transfer.failed', id: s.id, peer: s.peer, direction: 'in', reason: storeFailure(err), ...(wire > 0 ? { wireBytes: wire } : {}) });
    });
    // The journal's own disk may be the full one: then the transfer shows active until a restart.
    journaled.catch((e: Error) => log(`parley: receiving ${s.id} from ${s.peer}: its failure cannot be journaled: ${e.message}`));
  }

  function onSum(peer: number, id: string, c: number, h: Buffer): void {
    const s = parts.get(peer, id);
    if (!s) return;
    if (s.expected.size >= MAX_EXPECTED) s.expected.clear();
    s.expected.set(c, h);
  }

  // A FILE_CHUNK: checked, written at its offset, flushed and journaled in a batch.
  function onChunk(peer: number, tag: number, c: number, data: Buffer): void {
    const id = offers.idOf(peer, tag);
    const s = id === undefined ? undefined : parts.get(peer, id);
    if (!s) return;
    // Taken off the link: told at once, before any check or write, and not journaled (the
    // sender's received window, credit.ts; the stored one moves with the acks).
    s.took += data.length;
    reportTaken(s);
    const h = s.expected.get(c);
    s.expected.delete(c);
    s.wire += data.length;
    ctx.moved(peer, s.id, data.length);
    const { size, chunkSize } = s.t;
    const len = Math.min(chunkSize, size - c * chunkSize);
    if (!h || c >= chunkCountOf(size, chunkSize) || data.length !== len) {
      ctx.send(peer, { k: 'need', id: s.id, c });
      return;
    }
    // Hashed at once, while the chunk is in the cache; checked in the session's turn.
    const sum = sha256(data);
    s.unwritten += len;
    void inTurn(s, async () => {
      if (!sum.equals(h)) {
        s.unwritten -= len;
        if (s.open) ctx.send(peer, { k: 'need', id: s.id, c });
        return;
      }
      // A synced write of the journal (a message, most often) goes first: on ext4 a sync waits
      // for the file data its commit holds, so a download written at the disk's full rate made a
      // message wait tens of milliseconds for each of its syncs (docs/BENCHMARKS.md, transfer).
      await profile.synced();
      if (!s.open) return;
      await writeWhole(s.part, data, c * chunkSize);
      // On the disk and hashed: nothing reads it any more.
      giveBackChunkBuffer(data);
      s.unwritten -= len;
      reportTaken(s);
      await writeWhole(s.sums, h.subarray(0, HASH_BYTES), c * HASH_BYTES);
      s.pending.push(c);
      s.pendingBytes += len;
      if (s.pendingBytes >= FLUSH_BYTES) {
        // The next chunks are written while this flush runs; a second one waits for the first,
        // so the disk sets the pace and no more than two flushes' worth waits in memory.
        if (s.flushRunning) await s.flushing;
        void startFlush(s);
      } else if (!s.timer) {
        s.timer = setTimeout(() => {
          s.timer = null;
          void inTurn(s, () => startFlush(s));
        }, FLUSH_MS);
      }
    });
  }

  // Tells the sender the chunk bytes taken off the link (`got`) when a step of them is new and
  // the disk is not behind (credit.ts, dueReport).
  function reportTaken(s: Session): void {
    if (!s.open || !s.reports || !dueReport(s.took, s.told, s.unwritten)) return;
    s.told = s.took;
    ctx.send(s.peer, { k: 'got', id: s.id, n: s.took });
  }

  // A flush after the one running, if any.
  function startFlush(s: Session): Promise<void> {
    s.flushRunning = true;
    s.flushing = s.flushing.then(() => flush(s)).then(
      () => {
        s.flushRunning = false;
      },
      (err: Error) => {
        s.flushRunning = false;
        broke(s, err);
      },
    );
    return s.flushing;
  }

  // The data first, then the event that says it is stored, then the ack (DESIGN.md, Events).
  async function flush(s: Session): Promise<void> {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    if (s.pending.length === 0 || !s.open) return;
    const chunks = s.pending;
    const wire = s.wire;
    s.pending = [];
    s.pendingBytes = 0;
    s.wire = 0;
    await profile.synced();
    await s.part.datasync();
    await s.sums.datasync();
    await profile.append({ type: 'transfer.chunks-stored', id: s.id, peer: s.peer, direction: 'in', chunks, ...(wire > 0 ? { wireBytes: wire } : {}) });
    ctx.send(s.peer, { k: 'ack', id: s.id, have: rangesOf(chunks) });
    // The end is settled in the session's turn, after every chunk written before it.
    if (s.root) void inTurn(s, () => parts.maybeFinish(s));
  }

  function onRoot(peer: number, id: string, root: Buffer): void {
    const s = parts.get(peer, id);
    if (!s) return;
    s.root = root;
    void inTurn(s, async () => {
      await startFlush(s);
      await parts.maybeFinish(s);
    });
  }

  // The link went: what was written is flushed and journaled, the sessions close, active
  // transfers show paused.
  async function linkDown(peer: number): Promise<void> {
    offers.linkDown(peer);
    const events: NewEvent[] = [];
    for (const s of parts.ofPeer(peer)) {
      await inTurn(s, () => startFlush(s));
      const wire = s.wire;
      await close(s);
      const t = await profile.transfer(peer, 'in', s.id);
      if (t?.state === 'active') events.push({ type: 'transfer.paused', id: s.id, peer, direction: 'in', reason: 'the link went away', ...(wire > 0 ? { wireBytes: wire } : {}) });
    }
    if (events.length > 0) await profile.appendMany(events);
  }

  // The transfer ended here (cancelled, failed, declined): the session closes; a cancelled or
  // failed one leaves no .part behind.
  async function ended(peer: number, id: string, drop: boolean): Promise<void> {
    const s = parts.get(peer, id);
    if (s) {
      await inTurn(s, async () => undefined);
      await close(s);
    }
    if (!drop) return;
    const t = await profile.transfer(peer, 'in', id);
    if (t?.path) await removeQuietly(partPath(t.path, t.peer, t.id));
    await removeQuietly(`${sumsBase(profile.home, peer, 'in', id)}.sums`);
  }

  return { onOffer: offers.onOffer, accepted: offers.accepted, onSum, onChunk, onRoot, linkDown, ended, hasSession: parts.hasSession };
}
