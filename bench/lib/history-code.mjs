// The code the history bench measures (bench/history.mjs, lib/history-cold.mjs): the modules it
// calls, loaded from a copy of dist/ taken when the run starts (codeSnapshot in history.mjs), so
// that a rebuild of dist/ while a run goes on cannot measure two versions at once; a page read
// with bare classic-level on its keys (barePage, the floor under Parley's); and the wait for the
// compactions a build left owing in the store it measures (settle).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { unpack } from 'msgpackr';

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

// A page read with bare classic-level, no Parley code on the path: the chat's entries by a
// reverse range read of as many keys as a page asks for (keysFor), then the page's events by
// getMany in `slices` reads at once (Parley reads them in 4, getSpread in src/node/history.ts),
// each decoded with msgpackr (not opened: the texts stay sealed). `code` is what loadCode gave.
export async function barePage(db, code, peer, before, page, slices = 1) {
  const want = code.keysFor(page);
  const it = db.iterator({ gte: code.chatKey(peer, 0), lt: code.chatKey(peer, before), reverse: true, limit: want });
  const entries = await it.nextv(want);
  it.close().catch(() => undefined);
  const keys = [];
  for (const [key] of entries) if (key.length === 12 && keys.length < page) keys.push(code.eventKey(key.readUIntBE(6, 6)));
  const size = Math.max(1, Math.ceil(keys.length / slices));
  const parts = [];
  for (let i = 0; i < keys.length; i += size) parts.push(db.getMany(keys.slice(i, i + size)));
  for (const values of await Promise.all(parts)) for (const value of values) if (value) unpack(value);
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
