// A profile: one person's journal and the views of it, kept current as events are appended.
// Everything a client or a command knows comes from here.
//
// Two kinds of view (projection.ts). Small ones live in memory (contacts, quotas, links,
// settings): a start loads each one's checkpoint and replays the journal after the oldest one,
// and checkpoints are written every CHECKPOINT_EVERY events, after a history clear (clearing.ts),
// and at close. Stored ones (messages, transfers) keep their records in the journal's LevelDB,
// written in the same batch as the events (views.ts); a start only checks that they are current,
// and reads of them go by page (history.ts).
import path from 'node:path';
import { metaKey, openJournal, type Journal } from '../events/journal.js';
import type { Direction, NewEvent, Stored } from '../events/types.js';
import { checkpointName, encodeCheckpoint, loadProjections } from '../projections/checkpoint.js';
import type { Projection } from '../projections/projection.js';
import { PROJECTIONS, STORED_VIEWS, VIEW_NAMES, type ViewName, type Views } from '../projections/index.js';
import { PREFIX } from '../projections/message-keys.js';
import { unreadOf } from '../projections/message-status.js';
import { decodeSummary, type ChatSummary } from '../projections/message-values.js';
import type { MessageChange } from '../projections/messages.js';
import { messageOf, pageOf, streamOf, summaryOf, type ChatMessage, type PageOptions } from './history.js';
import { openStoredViews, type ViewsProgress } from './views.js';
import { PREFIX as TRANSFER_PREFIX } from '../projections/transfer-keys.js';
import type { Transfer } from '../projections/transfer-values.js';
import type { TransferChange } from '../projections/transfers.js';
import { openTransfersOf, transferOf, transfersPage, type TransfersPageOptions } from './transfers.js';
import { openKeyring, type Keyring } from './keyring.js';
import { makeSealer } from './sealer.js';
import { createClearing } from './clearing.js';
import { keyringUnreadable } from '../events/errors.js';

// Small views only: a replay of this many events at open costs a few tens of ms.
export const CHECKPOINT_EVERY = 10_000;

// Meta key written with the checkpoints: the unreadable events the checkpointed views went
// without, so that a start from those checkpoints names them again instead of hiding them.
const SKIPPED = 'skipped';

const OBSOLETE_CHECKPOINTS = ['chats', 'unread', 'transfers'];

export type Skipped = { seq: number; message: string };

// What an appended event changed, once every view reflects it: subscribers (the running client,
// the UI) are told after the batch is stored and the views updated, never half-way.
export type Change = { seq: number; type: Stored['type']; message?: MessageChange; transfer?: TransferChange };

export type Profile = {
  home: string;
  journal: Journal;
  // The small views, in memory.
  views: Views;
  // The keys that seal the chats' texts (keyring.ts).
  keyring: Keyring;
  // Events that could not be read at start (a damaged store): skipped, named, never hidden.
  skipped: Skipped[];
  append: (event: NewEvent) => Promise<Stored>;
  appendMany: (events: NewEvent[], options?: { lazy?: boolean }) => Promise<Stored[]>;
  // Once no synced write of the journal is queued or under way (journal.ts, synced).
  synced: () => Promise<void>;
  // The stored messages view, read by page.
  page: (peer: number, options?: PageOptions) => Promise<ChatMessage[]>;
  stream: (peer: number, after?: number) => AsyncGenerator<ChatMessage[]>;
  message: (peer: number, direction: Direction, id: string) => Promise<ChatMessage | undefined>;
  chat: (peer: number) => ChatSummary | undefined;
  chats: () => ChatSummary[];
  unread: (peer: number) => number;
  // The stored transfers view: one by its key, the list by page (newest offer first), and the
  // ones not finished (offered, active, paused), newest first.
  transfer: (peer: number, direction: Direction, id: string) => Promise<Transfer | undefined>;
  transfers: (options?: TransfersPageOptions) => Promise<Transfer[]>;
  openTransfers: () => Promise<Transfer[]>;
  subscribe: (listener: (event: Stored, change: Change) => void) => () => void;
  checkpoint: () => Promise<void>;
  clearChat: (peer: number) => Promise<Stored>;
  rebuild: (onProgress?: ViewsProgress) => Promise<void>;
  close: () => Promise<void>;
};

export type OpenOptions = {
  // Called once per unreadable event found while replaying.
  onSkipped?: (skipped: Skipped) => void;
  // Called while a stored view is rebuilt or caught up at open (a profile an older Parley wrote).
  onProgress?: ViewsProgress;
};

export function journalDir(home: string): string {
  return path.join(home, 'journal');
}

export async function openProfile(home: string, options: OpenOptions = {}): Promise<Profile> {
  // The keyring is read once the journal's lock is held; nothing is sealed or opened before.
  let keyring: Keyring = undefined as unknown as Keyring;
  const journal = await openJournal(journalDir(home), home, { sealer: makeSealer(() => keyring) });
  try {
    keyring = openKeyring(home);
  } catch (err) {
    await journal.close();
    throw keyringUnreadable(home, err);
  }
  const stored = openStoredViews(journal, STORED_VIEWS);
  const summaries = stored.memory(PREFIX.SUMMARY);
  const openSeqs = stored.memory(PREFIX.OPEN_SEQS);
  const listeners = new Set<(event: Stored, change: Change) => void>();
  const skipped: Skipped[] = [];
  const views = {} as Views;
  let sinceCheckpoint = 0;
  let checkpointing: Promise<void> | null = null;
  let closed = false;
  const clearing = createClearing({ journal, keyring, summaries, openSeqs, checkpoint, checkpointing: () => checkpointing });

  async function load(fromCheckpoints: boolean): Promise<void> {
    // The unreadable events the scan meets are named after those the checkpoints recorded.
    const met: Skipped[] = [];
    const loaded = await loadProjections(journal, VIEW_NAMES.map((name) => PROJECTIONS[name] as unknown as Projection<unknown>), {
      fromCheckpoints,
      onCorrupt: (err, seq) => void met.push({ seq, message: err.message }),
    });
    VIEW_NAMES.forEach((name, i) => ((views as Record<ViewName, unknown>)[name] = loaded.states[i]));
    skipped.length = 0;
    for (const s of [...(loaded.from > 1 ? await skippedBefore(loaded.from) : []), ...met]) {
      skipped.push(s);
      options.onSkipped?.(s);
    }
    const replayed = loaded.replayed;
    // What was replayed now need not be replayed at the next start.
    sinceCheckpoint += replayed;
    await clearing.finishPurgeOwed();
  }

  function applyLive(event: Stored, derived?: unknown): void {
    for (const name of VIEW_NAMES) {
      (views as Record<ViewName, unknown>)[name] = (PROJECTIONS[name].apply as (s: unknown, e: Stored) => unknown)(views[name], event);
    }
    if (listeners.size > 0) {
      const change: Change = { seq: event.seq, type: event.type };
      // An event belongs to one stored view: a transfer.* event's change is the transfer's.
      if (derived) {
        if (event.type.startsWith('transfer.')) change.transfer = derived as TransferChange;
        else change.message = derived as MessageChange;
      }
      for (const listener of listeners) {
        try {
          listener(event, change);
        } catch (err) {
          process.stderr.write(`parley: a profile subscriber failed: ${(err as Error).message}\n`);
        }
      }
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

  async function rebuild(onProgress?: ViewsProgress): Promise<void> {
    await load(false);
    await stored.rebuild(onProgress);
    await checkpoint();
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    unsubscribe();
    if (checkpointing) await checkpointing;
    await clearing.idle();
    try {
      if (sinceCheckpoint > 0) await checkpoint();
    } finally {
      await journal.close();
    }
  }

  try {
    // Checkpoints of views that are stored now (chats and unread held every text in memory and
    // in their checkpoints; transfers every bitmap): dropped, so that no copy of a text outlives
    // a history clear.
    await journal.writeOps(OBSOLETE_CHECKPOINTS.map((name) => ({ key: metaKey(checkpointName(name)), value: null })));
    await clearing.start();
    await stored.open(options.onProgress);
    await load(true);
  } catch (err) {
    await journal.close();
    throw err;
  }
  journal.setDerive(stored.derive);
  const unsubscribe = journal.subscribe(applyLive);
  // A clear that a crash cut short: finished now, with the views wired, so that no old key, no
  // old checkpoint and no old file of the store keeps the text the person asked to forget.
  try {
    await clearing.finishClearOwed();
  } catch (err) {
    closed = true;
    unsubscribe();
    await journal.close();
    throw err;
  }

  return {
    home,
    journal,
    keyring,
    views,
    skipped,
    append: (event) => journal.append(event),
    appendMany: (events, options) => journal.appendMany(events, options),
    synced: () => journal.synced(),
    page: (peer, pageOptions) => pageOf(journal, summaries, peer, pageOptions),
    stream: (peer, after) => streamOf(journal, summaries, peer, after),
    message: (peer, direction, id) => messageOf(journal, summaries, peer, direction, id),
    chat: (peer) => summaryOf(summaries, peer),
    chats: () => [...summaries.values()].map(decodeSummary),
    unread: (peer) => unreadOf(summaryOf(summaries, peer)),
    transfer: (peer, direction, id) => transferOf(journal, peer, direction, id),
    transfers: (pageOptions) => transfersPage(journal, pageOptions),
    openTransfers: () => openTransfersOf(journal, stored.memory(TRANSFER_PREFIX.OPEN)),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    checkpoint,
    clearChat: clearing.clearChat,
    rebuild,
    close,
  };
}
