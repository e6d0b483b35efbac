// The transfers being received, one session each, for receiving.ts: its `.part` file (placing.ts,
// partPath: `<path>.<tag>.part`) and its hashes opened when the transfer starts or starts again,
// the sender told what is stored (`accept`); when every chunk is stored and the sender's root is
// in, the root over this side's hashes compared with it and the `.part` renamed into place under a
// name not taken; the files closed when the session ends.
import fs from 'node:fs/promises';
import type { FilePayload } from '../net/files.js';
import { isFinished, type Transfer } from '../projections/transfer-values.js';
import { partPath, placeUnder, readDone, type Done } from './placing.js';
import type { Profile } from './profile.js';
import { openKept, removeQuietly, rootOf, sumsBase } from './sums.js';

export type Session = {
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

export type PartsContext = {
  profile: Profile;
  send: (peer: number, payload: FilePayload) => boolean;
  // From the offers (accepting.ts): whether the offer on the current link asked for `got`, and
  // the transfer's packets spent (false when the grant no longer covers it).
  asksReports: (peer: number, id: string) => boolean;
  spendOnce: (t: Transfer) => Promise<boolean>;
};

export function createParts(ctx: PartsContext) {
  const { profile } = ctx;
  const sessions = new Map<string, Session>();
  const keyOf = (peer: number, id: string): string => `${peer}/${id}`;

  function get(peer: number, id: string): Session | undefined {
    return sessions.get(keyOf(peer, id));
  }

  // The sessions of a peer, as they are now.
  function ofPeer(peer: number): Session[] {
    return [...sessions.values()].filter((s) => s.peer === peer);
  }

  function hasSession(peer: number): boolean {
    for (const s of sessions.values()) if (s.peer === peer) return true;
    return false;
  }

  // Opens the .part file and the hashes and tells the sender what is stored.
  async function start(t: Transfer): Promise<void> {
    const key = keyOf(t.peer, t.id);
    if (sessions.has(key) || !t.path) return;
    const done = await readDone(sumsBase(profile.home, t.peer, 'in', t.id));
    if (done) return completeFrom(t, done);
    if (!(await ctx.spendOnce(t))) return;
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
      reports: ctx.asksReports(t.peer, t.id),
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

  return { get, ofPeer, hasSession, start, maybeFinish, close };
}
