// Rewriting a journal's store into fresh files that hold only its live entries (journal.purge),
// so that deleted values are gone from the disk, not only hidden: what a history clear of texts
// stored in plain (a profile an older Parley wrote) still needs. A crash at any point leaves a
// state recoverRewrite() finishes or undoes.
import fs from 'node:fs';
import { levelAt } from './level.js';

const COPY_BATCH = 1000;

// A rewrite builds DIR.rewrite beside DIR, then swaps: DIR -> DIR.old, DIR.rewrite -> DIR,
// removes DIR.old. A crash at any point leaves a state recoverRewrite() finishes or undoes.
export async function rewriteStore(dir: string): Promise<void> {
  const fresh = dir + '.rewrite';
  const old = dir + '.old';
  fs.rmSync(fresh, { recursive: true, force: true });
  const source = levelAt(dir);
  const target = levelAt(fresh);
  await source.open();
  await target.open();
  try {
    const it = source.iterator();
    try {
      for (;;) {
        const entries = await it.nextv(COPY_BATCH);
        if (entries.length === 0) break;
        await target.batch(entries.map(([key, value]) => ({ type: 'put' as const, key, value })));
      }
    } finally {
      await it.close();
    }
    // A synced write makes LevelDB sync its log, and with it every write before.
    await target.batch([{ type: 'put', key: Buffer.from('mrewritten'), value: Buffer.from(String(Date.now())) }], { sync: true });
  } finally {
    await target.close();
    await source.close();
  }
  fs.renameSync(dir, old);
  fs.renameSync(fresh, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

export async function recoverRewrite(dir: string): Promise<void> {
  const fresh = dir + '.rewrite';
  const old = dir + '.old';
  // Crashed between the two renames: the rewrite was complete, finish the swap.
  if (!fs.existsSync(dir) && fs.existsSync(old) && fs.existsSync(fresh)) fs.renameSync(fresh, dir);
  // Crashed while copying: the original is intact, drop the copy.
  if (fs.existsSync(dir) && fs.existsSync(fresh)) fs.rmSync(fresh, { recursive: true, force: true });
  // Crashed after the swap, before the old files were removed.
  if (fs.existsSync(dir) && fs.existsSync(old)) fs.rmSync(old, { recursive: true, force: true });
}

