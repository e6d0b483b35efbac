// The code the history bench measures (bench/history.mjs, lib/history-cold.mjs): the modules it
// calls, loaded from a copy of dist/ taken when the run starts (codeSnapshot in history.mjs), so
// that a rebuild of dist/ while a run goes on cannot measure two versions at once; and the wait
// for the compactions a build left owing in the store it measures (settle).
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export async function loadCode(dist) {
  const load = (...parts) => import(pathToFileURL(path.join(dist, 'src', ...parts)).href);
  const [{ openProfile }, { eventKey }, { chatKey }, { keysFor }, { levelAt }] = await Promise.all([
    load('node', 'profile.js'),
    load('events', 'codec.js'),
    load('projections', 'message-keys.js'),
    load('node', 'history.js'),
    load('events', 'level.js'),
  ]);
  return { openProfile, eventKey, chatKey, keysFor, levelAt };
}

// LevelDB's compactions the build left owing, done: the store opened bare and left alone until
// its compaction stats stay the same for 3 s (at most 5 minutes). A profile that grew over years
// owes none; the build appends years of history in minutes and closes a store that does.
export async function settle(levelAt, dir) {
  const db = levelAt(dir);
  await db.open();
  const t0 = performance.now();
  let last = db.getProperty('leveldb.stats');
  let quiet = 0;
  while (quiet < 3 && performance.now() - t0 < 300_000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = db.getProperty('leveldb.stats');
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
  await db.close();
  return performance.now() - t0;
}
