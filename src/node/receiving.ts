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
import fs from 'node:fs/promises';
import path from 'node:path';
import { giveBackChunkBuffer } from '../net/chunk-buffers.js';
import type { FileOffer, FilePayload } from '../net/files.js';
import { rangesOf } from '../net/files.js';
import type { NewEvent, Stored, TransferAccepted } from '../events/types.js';
import { left, packetsFor, quotaOf } from '../projections/quotas.js';
import { chunkCountOf, isFinished, type Transfer } from '../projections/transfer-values.js';
import { dueReport } from './credit.js';
import { checkFileName } from './filename.js';
import { freeBytes, partPath, placeUnder, readDone, storeFailure, writeWhole, type Done } from './placing.js';
import type { Profile } from './profile.js';
import { HASH_BYTES, openKept, removeQuietly, rootOf, sha256Off, sumsBase } from './sums.js';

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

type Session = {
  peer: number;
  id: string;
  t: Transfer;
  part: fs.FileHandle;
  sums: fs.FileHandle;
  expected: Map<number, Buffer>;
  pending: number[];
  pendingBytes: number;
  wire: number;
  // Whether the sender's offer on this link asked for `got`; the chunk bytes taken off this link
  // since the accept, the count last reported, and the bytes taken that wait to be written
  // (credit.ts: reports wait while the disk is behind).
  reports: boolean;
  took: number;
  told: number;
  unwritten: number;
  timer: NodeJS.Timeout | null;
  root: Buffer | null;
  work: Promise<void>;
  // The flushes, one after the other, beside the writes: chunks go on being written while the
  // disk syncs the ones before (a flush covers whatever was written before it started).
  flushing: Promise<void>;
  flushRunning: boolean;
  open: boolean;
};

export function createReceiver(ctx: ReceiveContext) {
  const { profile, log } = ctx;
  const sessions = new Map<string, Session>();
  // The tags of the offers on each peer's current link: tag -> transfer id; and the transfers
  // whose offer on it asked for `got` reports (peer/id).
  const tags = new Map<number, Map<number, string>>();
  const asksGot = new Set<string>();
  const keyOf = (peer: number, id: string): string => `${peer}/${id}`;

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
    if (t.state === 'active' || t.state === 'paused') return start(t);
    if (t.state === 'declined') ctx.send(peer, { k: 'decline', id: t.id, reason: t.reason ?? 'declined' });
    else if (t.state === 'cancelled' || t.state === 'failed') {
      if (t.state === 'cancelled') ctx.send(peer, { k: 'cancel', id: t.id, by: 'receiver', reason: 'cancelled by the receiver' });
      else ctx.send(peer, { k: 'fail', id: t.id, by: 'receiver', reason: t.reason ?? 'failed' });
      // Ended while no client ran (a command on a stopped profile): what it left goes now.
      await ended(peer, t.id, true);
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
    if (onLink) await start(t);
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

  // Opens the .part file and the hashes and tells the sender what is stored.
  async function start(t: Transfer): Promise<void> {
    const key = keyOf(t.peer, t.id);
    if (sessions.has(key) || !t.path) return;
    const done = await readDone(sumsBase(profile.home, t.peer, 'in', t.id));
    if (done) return completeFrom(t, done);
    if (!(await spendOnce(t))) return;
    const file = partPath(t.path, t.peer, t.id);
    let part: fs.FileHandle;
    let sums: fs.FileHandle;
    try {
      if (t.doneCount > 0) await fs.access(file);
      part = await openKept(file);
      sums = await openKept(`${sumsBase(profile.home, t.peer, 'in', t.id)}.sums`);
    } catch (err) {
      await profile.append({ type: 'transfer.failed', id: t.id, peer: t.peer, direction: 'in', reason: `the .part file cannot be opened: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return;
    }
    const s: Session = {
      peer: t.peer,
      id: t.id,
      t,
      part,
      sums,
      expected: new Map(),
      pending: [],
      pendingBytes: 0,
      wire: 0,
      reports: asksGot.has(key),
      took: 0,
      told: 0,
      unwritten: 0,
      timer: null,
      root: null,
      work: Promise.resolve(),
      flushing: Promise.resolve(),
      flushRunning: false,
      open: true,
    };
    sessions.set(key, s);
    if (t.state === 'paused') await profile.append({ type: 'transfer.resumed', id: t.id, peer: t.peer, direction: 'in' });
    // Every chunk stored already (a restart after the last flush): the sender answers with the
    // root, which settles it.
    ctx.send(t.peer, { k: 'accept', id: t.id, have: t.ranges, ...(s.reports ? { got: true } : {}) });
  }

  function onSum(peer: number, id: string, c: number, h: Buffer): void {
    const s = sessions.get(keyOf(peer, id));
    if (!s) return;
    if (s.expected.size >= MAX_EXPECTED) s.expected.clear();
    s.expected.set(c, h);
  }

  // A FILE_CHUNK: checked, written at its offset, flushed and journaled in a batch.
  function onChunk(peer: number, tag: number, c: number, data: Buffer): void {
    const id = tags.get(peer)?.get(tag);
    const s = id === undefined ? undefined : sessions.get(keyOf(peer, id));
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
    // Hashed off the event loop, at once; checked in the session's turn.
    const sum = sha256Off(data);
    s.unwritten += len;
    void inTurn(s, async () => {
      if (!(await sum).equals(h)) {
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
    if (s.root) void inTurn(s, () => maybeFinish(s));
  }

  function onRoot(peer: number, id: string, root: Buffer): void {
    const s = sessions.get(keyOf(peer, id));
    if (!s) return;
    s.root = root;
    void inTurn(s, async () => {
      await startFlush(s);
      await maybeFinish(s);
    });
  }

  // Every chunk stored and the sender's root in: the roots compared, the file put in place.
  async function maybeFinish(s: Session): Promise<void> {
    if (!s.root || !s.open) return;
    const t = await profile.transfer(s.peer, 'in', s.id);
    if (!t || isFinished(t.state) || t.doneCount < t.chunkCount) return;
    const mine = await rootOf(s.sums, t.chunkCount);
    const wire = s.wire > 0 ? { wireBytes: s.wire } : {};
    if (!mine.equals(s.root)) {
      await close(s);
      await profile.append({ type: 'transfer.failed', id: s.id, peer: s.peer, direction: 'in', reason: `the root over the chunk hashes differs from the sender's: the file is not what was sent`, ...wire });
      return;
    }
    await s.part.truncate(t.size);
    await s.part.datasync();
    await close(s);
    const base = sumsBase(profile.home, s.peer, 'in', s.id);
    const done = await placeUnder(t.path as string, partPath(t.path as string, t.peer, t.id), mine, base);
    await profile.append({ type: 'transfer.completed', id: s.id, peer: s.peer, direction: 'in', root: done.root, path: done.path, ...wire });
    await removeQuietly(`${base}.sums`);
  }

  // A restart found the file placed (or being placed) without transfer.completed journaled: the
  // placing is finished from the `.done` record and journaled now.
  async function completeFrom(t: Transfer, done: Done): Promise<void> {
    const base = sumsBase(profile.home, t.peer, 'in', t.id);
    const placed = await placeUnder(t.path as string, partPath(t.path as string, t.peer, t.id), Buffer.from(done.root, 'hex'), base, done);
    await profile.append({ type: 'transfer.completed', id: t.id, peer: t.peer, direction: 'in', root: placed.root, path: placed.path });
    await removeQuietly(`${base}.sums`);
  }

  async function close(s: Session): Promise<void> {
    if (!s.open) return;
    s.open = false;
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    if (sessions.get(keyOf(s.peer, s.id)) === s) sessions.delete(keyOf(s.peer, s.id));
    await s.flushing;
    await s.part.close().catch(() => undefined);
    await s.sums.close().catch(() => undefined);
  }

  // The link went: what was written is flushed and journaled, the sessions close, active
  // transfers show paused.
  async function linkDown(peer: number): Promise<void> {
    tags.delete(peer);
    for (const key of [...asksGot]) if (key.startsWith(`${peer}/`)) asksGot.delete(key);
    const events: NewEvent[] = [];
    for (const s of [...sessions.values()]) {
      if (s.peer !== peer) continue;
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
    const s = sessions.get(keyOf(peer, id));
    if (s) {
      await inTurn(s, async () => undefined);
      await close(s);
    }
    if (!drop) return;
    const t = await profile.transfer(peer, 'in', id);
    if (t?.path) await removeQuietly(partPath(t.path, t.peer, t.id));
    await removeQuietly(`${sumsBase(profile.home, peer, 'in', id)}.sums`);
  }

  function hasSession(peer: number): boolean {
    for (const s of sessions.values()) if (s.peer === peer) return true;
    return false;
  }

  return { onOffer, accepted, onSum, onChunk, onRoot, linkDown, ended, hasSession };
}
