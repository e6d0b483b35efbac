import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT_PREFIX, eventKey, KEY_LENGTH, seqOfKey } from '../../src/events/codec.js';
import { openJournal, type Journal } from '../../src/events/journal.js';
import { logBytes } from '../../src/events/level.js';
import type { NewEvent, Stored } from '../../src/events/types.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-journal-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const msg = (i: number): NewEvent => ({ type: 'message.sent', id: 'm' + i, peer: 7, text: 'text ' + i, packets: 1 });

async function all(journal: Journal, since?: number): Promise<Stored[]> {
  const out: Stored[] = [];
  await journal.scan((e) => out.push(e), { since });
  return out;
}

// One chained batch the journal wrote: the seqs of the events it put and deleted (other keys
// in it are not counted), whether it asked for sync, and whether LevelDB had stored it (its
// write resolved).
type Write = { puts: number[]; dels: number[]; sync: boolean; stored: boolean };

const isEventKey = (key: Buffer): boolean => key.length === KEY_LENGTH && key[0] === EVENT_PREFIX;

// The journal's store, watched at the LevelDB call: what the journal promises (synced durable
// batches, one batch per tick, notice after storing) is only seen there, not in what it reads
// back. `failNext` makes the next batch fail as a full disk would, without writing anything.
function watchedStore() {
  const writes: Write[] = [];
  let failure: Error | null = null;
  let store: ClassicLevel<Buffer, Buffer> | null = null;
  const level = (dir: string): ClassicLevel<Buffer, Buffer> => {
    const db = new ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const batch = db.batch.bind(db) as (...args: unknown[]) => unknown;
    // Array batches (putMeta) go through untouched: only the chained batch of appends is watched.
    db.batch = ((...args: unknown[]) => {
      if (args.length > 0) return batch(...args);
      const chained = batch() as ReturnType<ClassicLevel<Buffer, Buffer>['batch']>;
      const w: Write = { puts: [], dels: [], sync: false, stored: false };
      // Watched at _put and _del, the calls that reach LevelDB's WriteBatch: the journal makes
      // them straight for all but a batch's first operation (journal.ts, writeBatch).
      const raw = chained as unknown as Record<'_put' | '_del', (...args: unknown[]) => void>;
      const put = raw._put.bind(chained);
      const del = raw._del.bind(chained);
      const write = chained.write.bind(chained);
      raw._put = (key, value, options) => {
        if (isEventKey(key as Buffer)) w.puts.push(seqOfKey(key as Buffer));
        put(key, value, options);
      };
      raw._del = (key, options) => {
        if (isEventKey(key as Buffer)) w.dels.push(seqOfKey(key as Buffer));
        del(key, options);
      };
      chained.write = (async (options?: { sync?: boolean }) => {
        w.sync = options?.sync === true;
        writes.push(w);
        if (failure) {
          const err = failure;
          failure = null;
          await chained.close();
          throw err;
        }
        await write(options as never);
        w.stored = true;
      }) as never;
      return chained;
    }) as never;
    store = db;
    return db;
  };
  return {
    level,
    writes,
    store: () => store as ClassicLevel<Buffer, Buffer>,
    failNext: (err: Error) => {
      failure = err;
    },
  };
}

const noSpace = (): Error => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });

describe('journal', () => {
  it('journal - a close after a MiB or more of writes leaves no log for the next open to replay; after less, LevelDB keeps its log', async () => {
    const long = 'x'.repeat(1000);
    const dir = path.join(tempDir(), 'journal');
    let journal = await openJournal(dir);
    await journal.appendMany(Array.from({ length: 1500 }, (_, i) => ({ ...msg(i), text: long })));
    expect(logBytes(dir)).toBeGreaterThan(1024 * 1024);
    await journal.close();
    expect(logBytes(dir)).toBe(0);
    journal = await openJournal(dir);
    expect(journal.lastSeq()).toBe(1500);
    await journal.appendMany(Array.from({ length: 100 }, (_, i) => msg(1500 + i)));
    await journal.close();
    expect(logBytes(dir)).toBeGreaterThan(0);
    journal = await openJournal(dir);
    expect((await all(journal)).map((e) => e.seq)).toEqual(Array.from({ length: 1600 }, (_, i) => i + 1));
    await journal.close();
  });

  it('journal - appends made in one tick get consecutive seqs in call order', async () => {
    const journal = await openJournal(tempDir());
    const stored = await Promise.all([journal.append(msg(1)), journal.append(msg(2)), journal.appendMany([msg(3), msg(4)])]);
    expect(stored[0].seq).toBe(1);
    expect(stored[1].seq).toBe(2);
    expect(stored[2].map((e) => e.seq)).toEqual([3, 4]);
    expect((await all(journal)).map((e) => (e as { id: string }).id)).toEqual(['m1', 'm2', 'm3', 'm4']);
    await journal.close();
  });

  it('journal - the events of one appendMany get one time, even when the clock moves while they are stamped; a given time is kept', async () => {
    const journal = await openJournal(tempDir());
    // A clock that moves a millisecond on every reading: a batch stamped event by event
    // would span three times.
    let clock = 1_000;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => clock++);
    try {
      const stored = await journal.appendMany([msg(1), msg(2), { ...msg(3), at: 5 }, msg(4)]);
      expect(stored.map((e) => e.at)).toEqual([stored[0].at, stored[0].at, 5, stored[0].at]);
      const next = await journal.append(msg(5));
      expect(next.at).toBeGreaterThan(stored[0].at);
    } finally {
      now.mockRestore();
    }
    await journal.close();
  });

  it('journal - appends made in one tick go to LevelDB in one batch', async () => {
    const w = watchedStore();
    const journal = await openJournal(tempDir(), undefined, { level: w.level });
    const stored = await Promise.all(Array.from({ length: 50 }, (_, i) => journal.append(msg(i))));
    expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(w.writes).toHaveLength(1);
    expect(w.writes[0].puts).toEqual(stored.map((e) => e.seq));
    await journal.close();
  });

  it('journal - a batch with a durable event is written with sync, one of only non-durable events without', async () => {
    const w = watchedStore();
    const journal = await openJournal(tempDir(), undefined, { level: w.level });
    const chunks: NewEvent = { type: 'transfer.chunks-stored', id: 't1', chunks: [0, 1] };
    const link = (): NewEvent => ({ type: 'link.opened', peer: 7, route: 'lan' });
    await journal.append(msg(1));
    await journal.appendMany([chunks, link()]);
    // Non-durable events in the same tick as a durable one share its batch, and its sync.
    await Promise.all([journal.append(link()), journal.append(msg(2))]);
    expect(w.writes.map((x) => ({ puts: x.puts, sync: x.sync }))).toEqual([
      { puts: [1], sync: true },
      { puts: [2, 3], sync: false },
      { puts: [4, 5], sync: true },
    ]);
    await journal.close();
  });

  it('journal - a lazy appendMany is written without sync, unless a durable append shares its batch', async () => {
    const w = watchedStore();
    const journal = await openJournal(tempDir(), undefined, { level: w.level });
    const sentAndSpent = (): NewEvent[] => [
      { type: 'quota.spent', peer: 7, direction: 'outbound', kind: 'messages', n: 1, ref: 'a' },
      { type: 'message.transmitted', id: 'a', peer: 7, msgSeq: 1 },
    ];
    await journal.appendMany(sentAndSpent(), { lazy: true });
    await journal.appendMany(sentAndSpent());
    await Promise.all([journal.appendMany(sentAndSpent(), { lazy: true }), journal.append(msg(3))]);
    expect(w.writes.map((x) => ({ puts: x.puts, sync: x.sync }))).toEqual([
      { puts: [1, 2], sync: false },
      { puts: [3, 4], sync: true },
      { puts: [5, 6, 7], sync: true },
    ]);
    await journal.close();
  });

  it('journal - synced() waits for every synced batch queued or under way, not for lazy ones, and for failed ones too', async () => {
    const w = watchedStore();
    const journal = await openJournal(tempDir(), undefined, { level: w.level });
    // Nothing queued: at once.
    await journal.synced();
    const lazy = (ref: string): NewEvent[] => [{ type: 'quota.spent', peer: 7, direction: 'outbound', kind: 'messages', n: 1, ref }];
    // A lazy batch alone holds nothing up: synced() resolves before it is stored.
    const lazyDone = journal.appendMany(lazy('a'), { lazy: true });
    await journal.synced();
    expect(w.writes.filter((x) => x.stored)).toHaveLength(0);
    await lazyDone;
    // Two synced batches, the second queued while the first is written: synced() waits for both.
    const first = journal.append(msg(1));
    const waited = journal.synced().then(() => w.writes.map((x) => ({ puts: x.puts, sync: x.sync, stored: x.stored })));
    await new Promise((resolve) => setImmediate(resolve));
    const second = journal.append(msg(2));
    expect(await waited).toEqual([
      { puts: [1], sync: false, stored: true },
      { puts: [2], sync: true, stored: true },
      { puts: [3], sync: true, stored: true },
    ]);
    await Promise.all([first, second]);
    // A synced batch that fails lets the waiters go too.
    w.failNext(noSpace());
    const failing = journal.append(msg(3));
    const afterFailure = journal.synced();
    await expect(failing).rejects.toMatchObject({ code: 'JOURNAL_WRITE_FAILED' });
    await afterFailure;
    await journal.close();
  });

  it('journal - after a failed batch the next append, without a reopen, takes the next number after the last stored', async () => {
    const w = watchedStore();
    const journal = await openJournal(tempDir(), undefined, { level: w.level });
    await journal.appendMany([msg(1), msg(2)]);
    w.failNext(noSpace());
    // Two appends numbered 3 and 4, both in the failing batch: neither number may be lost.
    const failed = await Promise.allSettled([journal.append(msg(3)), journal.append(msg(4))]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((failed[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'JOURNAL_WRITE_FAILED' });
    expect(w.writes[1]).toMatchObject({ puts: [3, 4], stored: false });
    expect(journal.lastSeq()).toBe(2);
    const next = await journal.append(msg(5));
    expect(next.seq).toBe(3);
    expect((await journal.appendMany([msg(6), msg(7)])).map((e) => e.seq)).toEqual([4, 5]);
    expect((await all(journal)).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await all(journal)).map((e) => (e as { id: string }).id)).toEqual(['m1', 'm2', 'm5', 'm6', 'm7']);
    await journal.close();
  });

  it('journal - a subscriber hears of an event only once its batch is stored, and can read it then', async () => {
    const w = watchedStore();
    const journal = await openJournal(tempDir(), undefined, { level: w.level });
    const heard: Array<{ seq: number; stored: boolean; readable: boolean }> = [];
    journal.subscribe((e) => {
      const write = w.writes.find((x) => x.puts.includes(e.seq));
      heard.push({ seq: e.seq, stored: write?.stored === true, readable: w.store().getSync(eventKey(e.seq)) !== undefined });
    });
    await Promise.all([journal.append(msg(1)), journal.appendMany([msg(2), msg(3)])]);
    await journal.append({ type: 'link.opened', peer: 7, route: 'lan' });
    // A batch that fails is heard of by no one.
    w.failNext(noSpace());
    await expect(journal.append(msg(5))).rejects.toMatchObject({ code: 'JOURNAL_WRITE_FAILED' });
    expect(heard).toEqual([1, 2, 3, 4].map((seq) => ({ seq, stored: true, readable: true })));
    await journal.close();
  });

  it('journal - reads from a seq, inclusive, and numbering goes on after a reopen', async () => {
    const dir = tempDir();
    let journal = await openJournal(dir);
    await journal.appendMany([msg(1), msg(2), msg(3)]);
    await journal.close();
    journal = await openJournal(dir);
    expect(journal.lastSeq()).toBe(3);
    const e = await journal.append(msg(4));
    expect(e.seq).toBe(4);
    expect((await all(journal, 3)).map((x) => x.seq)).toEqual([3, 4]);
    const read: number[] = [];
    for await (const x of journal.read({ since: 2 })) read.push(x.seq);
    expect(read).toEqual([2, 3, 4]);
    await journal.close();
  });

  it('journal - subscribers see each event once, in order, until they unsubscribe', async () => {
    const journal = await openJournal(tempDir());
    const seen: number[] = [];
    const off = journal.subscribe((e) => seen.push(e.seq));
    const last = journal.append(msg(1));
    await journal.appendMany([msg(2), msg(3)]);
    await last;
    off();
    await journal.append(msg(4));
    expect(seen).toEqual([1, 2, 3]);
    await journal.close();
  });

  it('journal - an event of an unknown type is refused before it takes a number', async () => {
    const journal = await openJournal(tempDir());
    await expect(journal.append({ type: 'nope' } as never)).rejects.toMatchObject({ code: 'EVENT_INVALID' });
    expect((await journal.append(msg(1))).seq).toBe(1);
    await journal.close();
  });

  it('journal - appendRemoving deletes what its pick names and appends, in one batch', async () => {
    const w = watchedStore();
    const journal = await openJournal(tempDir(), undefined, { level: w.level });
    await journal.appendMany([msg(1), msg(2), msg(3)]);
    const cleared = await journal.appendRemoving({ type: 'chat.cleared', peer: 7, removed: 0 }, async () => ({ removes: [1, 3], dels: [] }));
    expect(cleared).toMatchObject({ seq: 4, removed: 2 });
    expect(w.writes.slice(1)).toEqual([{ puts: [4], dels: [1, 3], sync: true, stored: true }]);
    expect((await all(journal)).map((e) => e.seq)).toEqual([2, 4]);
    const [stored] = (await all(journal, 4)) as Array<Stored & { removed: number }>;
    expect(stored.removed).toBe(2);
    await journal.close();
  });

  it('journal - appends made while a removal is picking are either before it and removed, or after it and kept', async () => {
    const journal = await openJournal(tempDir());
    await journal.appendMany(Array.from({ length: 3000 }, (_, i) => msg(i)));
    const before = journal.append(msg(-1)); // queued before the clear: must be removed
    // The pick reads the store: it runs once every event queued before the clear is stored.
    const clearing = journal.appendRemoving({ type: 'chat.cleared', peer: 7, removed: 0 }, async () => {
      const removes: number[] = [];
      await journal.scan((e) => {
        if (e.type === 'message.sent') removes.push(e.seq);
      });
      return { removes, dels: [] };
    });
    const after = journal.append(msg(-2)); // queued after: must stay
    const [b, c, a] = await Promise.all([before, clearing, after]);
    expect(b.seq).toBeLessThan(c.seq);
    expect(a.seq).toBe(c.seq + 1);
    expect(c).toMatchObject({ removed: 3001 });
    expect((await all(journal)).map((e) => e.seq)).toEqual([c.seq, a.seq]);
    await journal.close();
  });

  it('journal - a second open of the same store says the profile is in use', async () => {
    const home = tempDir();
    const dir = path.join(home, 'journal');
    const journal = await openJournal(dir, home);
    await expect(openJournal(dir, home)).rejects.toMatchObject({ code: 'PROFILE_IN_USE', exitCode: 3, message: `profile ${home} is in use by another Parley` });
    await journal.close();
  });

  it('journal - close stores what was queued, then refuses new appends', async () => {
    const dir = tempDir();
    const journal = await openJournal(dir);
    await journal.append(msg(1));
    const pending = [journal.append(msg(2)), journal.append(msg(3))];
    await journal.close();
    const results = await Promise.allSettled(pending);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    await expect(journal.append(msg(4))).rejects.toMatchObject({ code: 'JOURNAL_CLOSED' });
    const again = await openJournal(dir);
    expect(again.lastSeq()).toBe(3);
    await again.close();
  });

  it('journal - 40-bit ids and ms times come back as the same integers', async () => {
    const journal = await openJournal(tempDir());
    await journal.append({ type: 'contact.added', peer: 2 ** 40 - 1, name: 'max', whitelisted: true, at: 1_795_769_707_050 });
    const [e] = await all(journal);
    expect(e).toMatchObject({ peer: 2 ** 40 - 1, at: 1_795_769_707_050, v: 2 });
    await journal.close();
  });
});
