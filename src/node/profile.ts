// A profile: one person's journal and the projections of it, kept current as events are
// appended. Everything a client or a command knows comes from here.
//
// Start: load each projection's checkpoint, replay the journal after the oldest one (each event
// goes only to the projections that have not seen it), then follow appends. Checkpoints are
// written every CHECKPOINT_EVERY events, after a history clear, and at close.
import path from 'node:path';
import { openJournal, type Journal } from '../events/journal.js';
import type { NewEvent, Stored } from '../events/types.js';
import type { ParleyError } from '../errors.js';
import { encodeCheckpoint, loadCheckpoint } from '../projections/checkpoint.js';
import { PROJECTIONS, VIEW_NAMES, type ViewName, type Views } from '../projections/index.js';

export const CHECKPOINT_EVERY = 50_000;

// Meta key set while a history clear still owes the rewrite of the store (journal.purge): a
// crash after the clear's checkpoints were written and before the rewrite ended leaves it set,
// and the next start rewrites the store again.
const PURGE_OWED = 'purge-owed';
// Meta key written with the checkpoints: the unreadable events the checkpointed views went
// without, so that a start from those checkpoints names them again instead of hiding them.
const SKIPPED = 'skipped';

export type Skipped = { seq: number; message: string };

export type Profile = {
  home: string;
  journal: Journal;
  views: Views;
  // Events that could not be read at start (a damaged store): skipped, named, never hidden.
  skipped: Skipped[];
  append: (event: NewEvent) => Promise<Stored>;
  appendMany: (events: NewEvent[]) => Promise<Stored[]>;
  checkpoint: () => Promise<void>;
  clearChat: (peer: number) => Promise<Stored>;
  rebuild: () => Promise<void>;
  close: () => Promise<void>;
};

export type OpenOptions = {
  // Called once per unreadable event found while replaying.
  onSkipped?: (skipped: Skipped) => void;
};

export function journalDir(home: string): string {
  return path.join(home, 'journal');
}

export async function openProfile(home: string, options: OpenOptions = {}): Promise<Profile> {
  const journal = await openJournal(journalDir(home), home);
  const skipped: Skipped[] = [];
  const views = {} as Views;
  const seen = {} as Record<ViewName, number>; // last seq each view has applied
  let sinceCheckpoint = 0;
  let checkpointing: Promise<void> | null = null;
  let closed = false;

  function onCorrupt(err: ParleyError, seq: number): void {
    const s = { seq, message: err.message };
    skipped.push(s);
    options.onSkipped?.(s);
  }

  async function load(fromCheckpoints: boolean): Promise<void> {
    let from = Infinity;
    for (const name of VIEW_NAMES) {
      const projection = PROJECTIONS[name] as (typeof PROJECTIONS)[ViewName];
      const loaded = fromCheckpoints ? await loadCheckpoint(journal, projection as never) : null;
      (views as Record<ViewName, unknown>)[name] = loaded ? loaded.state : projection.initial();
      seen[name] = loaded ? loaded.seq : 0;
      from = Math.min(from, seen[name] + 1);
    }
    let replayed = 0;
    skipped.length = 0;
    if (from > 1) {
      for (const s of await skippedBefore(from)) {
        skipped.push(s);
        options.onSkipped?.(s);
      }
    }
    await journal.scan(
      (event) => {
        replayed++;
        for (const name of VIEW_NAMES) {
          if (event.seq > seen[name]) {
            (views as Record<ViewName, unknown>)[name] = (PROJECTIONS[name].apply as (s: unknown, e: Stored) => unknown)(views[name], event);
            seen[name] = event.seq;
          }
        }
      },
      { since: from, onCorrupt },
    );
    for (const name of VIEW_NAMES) seen[name] = journal.lastSeq();
    // What was replayed now need not be replayed at the next start.
    sinceCheckpoint += replayed;
    // A clear that a crash cut short: finish it, so no old checkpoint and no old file of the
    // store keeps the text the person asked to forget. The mark is set before the clear is
    // appended and taken away once the store is rewritten.
    const owed = await journal.getMeta(PURGE_OWED);
    if (owed !== undefined && owed[0] === 1) await forget();
  }

  function applyLive(event: Stored): void {
    for (const name of VIEW_NAMES) {
      (views as Record<ViewName, unknown>)[name] = (PROJECTIONS[name].apply as (s: unknown, e: Stored) => unknown)(views[name], event);
      seen[name] = event.seq;
    }
    sinceCheckpoint++;
    if (sinceCheckpoint >= CHECKPOINT_EVERY && !checkpointing) {
      // Background; never throws, safe to run unawaited (a failed checkpoint costs a replay).
      checkpointing = checkpoint()
        .catch(() => undefined)
        .finally(() => {
          checkpointing = null;
        });
    }
  }

  async function checkpoint(): Promise<void> {
    sinceCheckpoint = 0;
    // Encoded at once, in this tick: the states cannot change under the encoder.
    const seq = journal.lastSeq();
    const entries = VIEW_NAMES.map((name) => encodeCheckpoint(PROJECTIONS[name] as never, views[name] as never, seq));
    entries.push({ name: SKIPPED, value: Buffer.from(JSON.stringify(skipped)) });
    await journal.putMeta(entries, true);
  }

  // The unreadable events before `from` that the checkpoints recorded.
  async function skippedBefore(from: number): Promise<Skipped[]> {
    const value = await journal.getMeta(SKIPPED);
    if (value === undefined) return [];
    try {
      const list = JSON.parse(value.toString('utf8')) as Skipped[];
      return Array.isArray(list) ? list.filter((s) => typeof s?.seq === 'number' && s.seq < from) : [];
    } catch {
      return []; // a damaged record costs the names, not the start
    }
  }

  async function setPurgeOwed(owed: boolean): Promise<void> {
    await journal.putMeta([{ name: PURGE_OWED, value: Buffer.from([owed ? 1 : 0]) }], true);
  }

  // Fresh checkpoints (a background one still being written would carry the old state, so it is
  // awaited first), then the store rewritten without the deleted values, then the mark taken away.
  async function forget(): Promise<void> {
    if (checkpointing) await checkpointing;
    await checkpoint();
    await journal.purge();
    await setPurgeOwed(false);
  }

  // Forgets a chat: one atomic batch appends chat.cleared and deletes the events of that
  // chat's messages (their text, receipts and edits); quota events stay, so the audit still
  // adds up. Then fresh checkpoints replace the ones that held the text, and the store is
  // rewritten so the deleted values are gone from the disk too. A chat with nothing to remove
  // costs no rewrite.
  async function clearChat(peer: number): Promise<Stored> {
    await setPurgeOwed(true);
    const stored = await journal.appendRemoving({ type: 'chat.cleared', peer, removed: 0 }, (event) => event.type.startsWith('message.') && (event as { peer?: number }).peer === peer);
    if ((stored as { removed?: number }).removed === 0) await setPurgeOwed(false);
    else await forget();
    return stored;
  }

  async function rebuild(): Promise<void> {
    await load(false);
    await checkpoint();
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    unsubscribe();
    if (checkpointing) await checkpointing;
    try {
      if (sinceCheckpoint > 0) await checkpoint();
    } finally {
      await journal.close();
    }
  }

  try {
    await load(true);
  } catch (err) {
    await journal.close();
    throw err;
  }
  const unsubscribe = journal.subscribe(applyLive);

  return {
    home,
    journal,
    views,
    skipped,
    append: (event) => journal.append(event),
    appendMany: (events) => journal.appendMany(events),
    checkpoint,
    clearChat,
    rebuild,
    close,
  };
}
