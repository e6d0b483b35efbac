// Taking data off a journal's disk: a purge rewrites the store so that what was deleted is gone
// from its files (rewrite.ts does the copy and the swap), and a range clear deletes the keys of a
// range inside LevelDB.

import { journalClosed, openFailed, writeFailed } from './errors.js';
import type { Db, Range, Store } from './level.js';
import { recoverRewrite, rewriteStore } from './rewrite.js';

// What a purge works on: the store and where it lives, how to make it again (JournalOptions.level),
// and the journal's lock, closed with the journal when the store cannot be opened again.
export type PurgeTarget = { dir: string; store: Store; storeAt: (dir: string) => Db; lock: Db };

// Rewrites the store into fresh files that hold only the live entries, so that deleted and
// overwritten values are gone from the disk, not only hidden (history clear). LevelDB's own
// compactRange is not enough: it never rewrites the deepest level that holds files, and a
// memtable flushed there keeps every old version of a key (seen here). Appends made during
// the rewrite wait in the queue and are written after it (`hold`, writer.ts).
export async function purgeStore(target: PurgeTarget, hold: (work: () => Promise<void>) => Promise<void>): Promise<void> {
  const { dir, store } = target;
  if (store.closed) throw journalClosed();
  await hold(async () => {
    await store.db.close();
    let failure: unknown = null;
    try {
      await rewriteStore(dir);
    } catch (err) {
      // The swap is the last step: until then the original store is whole. Open it again and
      // say why the rewrite failed (a full disk, most likely); the journal goes on.
      failure = err;
      await recoverRewrite(dir);
    }
    store.db = target.storeAt(dir);
    try {
      await store.db.open();
    } catch (err) {
      store.closed = true;
      await target.lock.close();
      throw openFailed(dir, err);
    }
    if (failure) throw writeFailed(failure);
  });
}

// Not atomic and not in turn with appends (Journal.clearRange says when that is safe).
export async function clearRange(store: Store, range: Range): Promise<void> {
  if (store.closed) throw journalClosed();
  await store.db.clear({ gte: range.gte, lt: range.lt });
}

// LevelDB's compaction of a range, down to its deepest level: the deletions there and the values
// they hide are dropped. Until then a read that seeks into a range of deleted keys skips them one
// by one (Journal.compactRange says when that matters).
export async function compactRange(store: Store, range: Range): Promise<void> {
  if (store.closed) throw journalClosed();
  await store.db.compactRange(range.gte, range.lt);
}
