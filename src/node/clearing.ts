// The history clear of a profile (profile.clearChat): a chat forgotten at the cost of the chat,
// not of the store, and, at the next start, whatever of a clear or of a rewrite of the store a
// crash cut short. The steps and their costs: docs/ARCHITECTURE.md ("A clear").
import { metaKey, type Journal } from '../events/journal.js';
import type { Stored } from '../events/types.js';
import { openSeqsKey, peerRange, PREFIX } from '../projections/message-keys.js';
import { SEQS } from '../projections/message-values.js';
import { summaryOf, type Summaries } from './history.js';
import type { Keyring } from './keyring.js';

// Meta key set while a history clear still owes the rewrite of the store (journal.purge): a
// crash after the clear's checkpoints were written and before the rewrite ended leaves it set,
// and the next start rewrites the store again. Only texts stored before they were sealed (a
// profile an older Parley wrote) need it.
const PURGE_OWED = 'purge-owed';
// Meta key set while a history clear still owes the forgetting of the chat's old keys:
// { peer, after } (the last seq before the clear). The next start finishes the clear if its
// batch is in the journal.
const CLEAR_OWED = 'clear-owed';
// Meta key: the first seq whose text was sealed (keyring.ts). Texts before it are plain.
const SEALED_SINCE = 'sealed-since';

export type ClearingDeps = {
  journal: Journal;
  keyring: Keyring;
  // Kept in memory by the stored messages view: the chats' summaries, and the chunks of seqs
  // being filled (PREFIX.OPEN_SEQS).
  summaries: Summaries;
  openSeqs: ReadonlyMap<string, Buffer>;
  // The in-memory views' checkpoints (profile.ts): written now, and the one being written in the
  // background, if any.
  checkpoint: () => Promise<void>;
  checkpointing: () => Promise<void> | null;
};

export type Clearing = {
  // Reads the first seq sealed, or sets it; before the views are loaded.
  start: () => Promise<void>;
  // The rewrite of the store that a crash cut short (PURGE_OWED), made now; once the in-memory
  // views are loaded, since it writes their checkpoints first.
  finishPurgeOwed: () => Promise<void>;
  // The clear that a crash cut short (CLEAR_OWED), finished now; once the views are wired.
  finishClearOwed: () => Promise<void>;
  clearChat: (peer: number) => Promise<Stored>;
  // Resolves once the compactions the clears began are over (profile.close waits for it).
  idle: () => Promise<void>;
};

// From how many events a cleared chat's records are compacted (compactCleared).
const COMPACT_AFTER = 50_000;

export function createClearing(deps: ClearingDeps): Clearing {
  const { journal, keyring, summaries, openSeqs, checkpoint, checkpointing } = deps;
  let sealedSince = 1;
  // The compactions of cleared chats still running, in turn (compactCleared).
  let compacting: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    sealedSince = await readSealedSince();
  }

  async function finishPurgeOwed(): Promise<void> {
    const owed = await journal.getMeta(PURGE_OWED);
    if (owed !== undefined && owed[0] === 1) await forget();
  }

  // A clear that a crash cut short: if its batch is in the journal, the chat's old keys go now;
  // if not, the clear is made again (the extra key the first try made is harmless).
  async function finishClearOwed(): Promise<void> {
    const value = await journal.getMeta(CLEAR_OWED);
    if (value === undefined) return;
    let mark: { peer: number; after: number } | null = null;
    try {
      mark = JSON.parse(value.toString('utf8')) as { peer: number; after: number };
    } catch {
      mark = null;
    }
    if (mark && typeof mark.peer === 'number' && typeof mark.after === 'number') {
      let done = false;
      await journal.scan((e) => {
        if (e.type === 'chat.cleared' && e.peer === mark.peer) done = true;
      }, { since: mark.after + 1, onCorrupt: () => undefined });
      if (done) keyring.forgetOld(mark.peer);
      // Not done: the crash came before the clear's batch, maybe after its records went by
      // range. The person asked for it: it is made again, whole.
      else {
        await clearChat(mark.peer);
        return;
      }
    }
    await journal.writeOps([{ key: metaKey(CLEAR_OWED), value: null }]);
  }

  // The first seq sealed: set when this version first opens a profile, so that every event
  // before it may hold a plain text and every one after it does not.
  async function readSealedSince(): Promise<number> {
    const value = await journal.getMeta(SEALED_SINCE);
    const known = value === undefined ? NaN : Number(value.toString('utf8'));
    if (Number.isSafeInteger(known) && known >= 1) return known;
    const since = journal.lastSeq() + 1;
    await journal.putMeta([{ name: SEALED_SINCE, value: Buffer.from(String(since)) }], true);
    return since;
  }

  async function setPurgeOwed(owed: boolean): Promise<void> {
    await journal.putMeta([{ name: PURGE_OWED, value: Buffer.from([owed ? 1 : 0]) }], true);
  }

  // Fresh checkpoints (a background one still being written would carry the old state, so it is
  // awaited first), then the store rewritten without the deleted values, then the mark taken away.
  async function forget(): Promise<void> {
    const pending = checkpointing();
    if (pending) await pending;
    await checkpoint();
    await journal.purge();
    await setPurgeOwed(false);
  }

  // Forgets a chat, at the cost of the chat, not of the store:
  // 1. a mark (CLEAR_OWED) so that a crash from here on is finished at the next start;
  // 2. a new key for the chat: whatever is appended from now on is sealed with it;
  // 3. when the clear's turn comes (nothing else is written meanwhile: journal.appendRemoving),
  //    the chat's records in the messages view go by key range, and one atomic batch appends
  //    chat.cleared and deletes the chat's events (texts, receipts, edits), found through the
  //    view's list of them; quota events stay, so the audit still adds up;
  // 4. the chat's old keys are forgotten: any copy of its texts left in LevelDB's files or logs
  //    can no longer be opened. Texts stored before sealing existed (an older Parley's profile)
  //    are plain in those files: for them the store is rewritten as before (journal.purge).
  // A crash before the batch of step 3 is written leaves the mark and no chat.cleared: the next
  // start clears the chat again (its list of events goes only with that batch).
  async function clearChat(peer: number): Promise<Stored> {
    await journal.putMeta([{ name: CLEAR_OWED, value: Buffer.from(JSON.stringify({ peer, after: journal.lastSeq() })) }], true);
    // Plain texts may be among the chat's events only in a profile that had events before
    // sealing: the rewrite is owed until the pick says otherwise.
    const mayHoldPlain = sealedSince > 1 && summaryOf(summaries, peer) !== undefined;
    if (mayHoldPlain) await setPurgeOwed(true);
    keyring.rotate(peer);
    let plain = false;
    const cleared = await journal.appendRemoving({ type: 'chat.cleared', peer, removed: 0 }, async () => {
      // The chat's events: its full chunks of seqs on disk (deleted with the events) and the
      // chunk being filled (deleted by the view when it applies chat.cleared).
      const removes: number[] = [];
      const dels: Buffer[] = [];
      for await (const batch of journal.entries(peerRange(PREFIX.SEQS, peer))) {
        for (const [key, value] of batch) {
          dels.push(key);
          for (const seq of SEQS.decode(value)) removes.push(seq);
        }
      }
      const open = openSeqs.get(openSeqsKey(peer).toString('latin1'));
      if (open) for (const seq of SEQS.decode(open)) removes.push(seq);
      // Its records, by range: LevelDB deletes them without a key crossing into JavaScript. Not
      // in the atomic batch, so a crash can leave them deleted and the events not: the mark
      // then has the clear made again at the next start, from the list, which is still there.
      await journal.clearRange(peerRange(PREFIX.CHAT, peer));
      await journal.clearRange(peerRange(PREFIX.MESSAGE, peer));
      plain = removes.some((seq) => seq < sealedSince);
      return { removes, dels };
    });
    keyring.forgetOld(peer);
    if (plain) await forget();
    else if (mayHoldPlain) await setPurgeOwed(false);
    await journal.writeOps([{ key: metaKey(CLEAR_OWED), value: null }]);
    if (cleared.type === 'chat.cleared' && cleared.removed >= COMPACT_AFTER) compacting = compacting.then(() => compactCleared(peer));
    return cleared;
  }

  // The chat's records went by range, each key now a deletion in LevelDB until a compaction
  // drops it, and a read seeking into them steps over each one: the journal's last seq at open
  // (the first peer's records follow the events), or the newest page of the chat before this one
  // (its range ends where this one starts). With a chat of 200,000 messages cleared, every open
  // took 550–830 ms instead of 35 (docs/BENCHMARKS.md, history). So the two ranges are compacted
  // once the clear is done, in the background: the clear has already forgotten the chat. LevelDB
  // compacts every table that overlaps a range, the newest level's whatever they hold, so this
  // costs a second or more however small the chat (1.3 s for one of 6,000 messages, 4 s for
  // 200,000): a chat of fewer than COMPACT_AFTER events is left to LevelDB, its deletions costing
  // a read that meets them well under 100 ms (about 1 µs each). A crash before the compaction
  // ends leaves the deletions to LevelDB's own compactions, which the reads that step over them
  // bring about.
  async function compactCleared(peer: number): Promise<void> {
    try {
      await journal.compactRange(peerRange(PREFIX.CHAT, peer));
      await journal.compactRange(peerRange(PREFIX.MESSAGE, peer));
    } catch {
      // A closed store or a failed write: the deletions stay, and every read stays correct.
    }
  }

  return { start, finishPurgeOwed, finishClearOwed, clearChat, idle: () => compacting };
}
