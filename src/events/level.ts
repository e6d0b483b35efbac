// The LevelDB under a journal (classic-level): how one is made, the record of the open one that
// the journal's parts share, and a batch written to it with as little in between as
// abstract-level allows.

import fs from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';

export type Db = ClassicLevel<Buffer, Buffer>;

// The open store, shared by the journal's parts (journal.ts): purge.ts puts the rewritten store
// in `db`; `closed` is set once, by close or by a purge that cannot open the store again.
export type Store = { db: Db; closed: boolean };

export type Range = { gte: Buffer; lt: Buffer; reverse?: boolean; limit?: number };

// Every LevelDB here (the store, its lock, a rewrite's copy) holds raw bytes both ways; made, not yet opened.
//
// At most 64 table files open (LevelDB's default is 1,000): LevelDB maps each open table file into
// memory, and every page a read touches then counts in the process's RSS; a profile of
// 10,000,000 messages holds over a thousand 2 MiB tables, and a client reading pages of old chats
// would map most of them. 64 keeps that bounded (~128 MiB of mappings at most, only touched pages
// resident) for a few more table opens on reads far back in the history (docs/BENCHMARKS.md).
const MAX_OPEN_FILES = 64;

export function levelAt(dir: string): Db {
  return new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', maxOpenFiles: MAX_OPEN_FILES });
}

// One batch of puts and deletes of Buffers, written at once.
export type WriteBatch = { put: (key: Buffer, value: Buffer) => void; del: (key: Buffer) => void; write: (sync: boolean) => Promise<void> };

// What every operation of a batch would carry through abstract-level; classic-level reads none of it.
const BUFFER_OPTIONS = Object.freeze({ keyEncoding: 'buffer', valueEncoding: 'buffer' });

// A chained batch of `db` whose operations go straight to LevelDB's WriteBatch, through
// classic-level's _put and _del (abstract-level's interface for implementations, in its README).
// abstract-level's public put checks the key and value, runs prewrite hooks, encodes both with
// the store's encodings and makes an operation object, for every put; this store holds Buffers
// both ways (the 'buffer' encoding returns a Buffer as it is), with no hook, no 'write' listener
// and no sublevel, so all that changed nothing and cost ~4% of an append's CPU, with its garbage
// (profiled under bench/history). Keys and values here are always Buffers the journal made.
// The first operation still goes through the public put or del: abstract-level counts them
// there, and writes a batch only if the count is not 0. A store with a hook or a write listener
// (never this journal's) gets the public path throughout.
export function writeBatch(db: Db): WriteBatch {
  const chained = db.batch() as ReturnType<Db['batch']> & {
    _put: (key: Buffer, value: Buffer, options: object) => void;
    _del: (key: Buffer, options: object) => void;
  };
  // `noop` is how abstract-level itself tells that no prewrite hook is set (lib/hooks.js; not in
  // its types): a version without it gets the public path.
  const noHook = (db.hooks.prewrite as unknown as { noop?: boolean }).noop === true;
  const direct = noHook && db.listenerCount('write') === 0;
  let counted = false;
  return {
    put(key, value) {
      if (direct && counted) chained._put(key, value, BUFFER_OPTIONS);
      else chained.put(key, value);
      counted = true;
    },
    del(key) {
      if (direct && counted) chained._del(key, BUFFER_OPTIONS);
      else chained.del(key);
      counted = true;
    },
    write: (sync) => chained.write({ sync }),
  };
}

// LevelDB keeps what was written since its memtable last went to a table only in its log, and the
// next open replays that log and writes the table before it answers: some 20–25 ms a MiB here, up
// to about 100 ms for a full write buffer of 4 MiB (docs/BENCHMARKS.md). So a close after heavy
// writing (a client that ran all day, a rebuild) writes the table itself, and the next start does
// not. LevelDB's compactRange always writes the memtable out first; over a key below every key
// Parley writes (events 'e', meta 'm', the views' letters) it compacts nothing else.
const FLUSH_AT_CLOSE = 1024 * 1024;
const BELOW_EVERY_KEY = Buffer.from([0x00]);

export async function flushBeforeClose(db: Db, dir: string): Promise<void> {
  if (logBytes(dir) >= FLUSH_AT_CLOSE) await db.compactRange(BELOW_EVERY_KEY, BELOW_EVERY_KEY);
}

// The bytes in the store's logs (NNNNNN.log; its info log is LOG), what the next open replays.
export function logBytes(dir: string): number {
  let bytes = 0;
  for (const name of fs.readdirSync(dir)) if (name.endsWith('.log')) bytes += fs.statSync(path.join(dir, name)).size;
  return bytes;
}
