import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openJournal, type Journal } from '../../src/events/journal.js';
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

describe('journal', () => {
  it('journal - appends made in one tick get consecutive seqs in call order, one batch', async () => {
    const journal = await openJournal(tempDir());
    const stored = await Promise.all([journal.append(msg(1)), journal.append(msg(2)), journal.appendMany([msg(3), msg(4)])]);
    expect(stored[0].seq).toBe(1);
    expect(stored[1].seq).toBe(2);
    expect(stored[2].map((e) => e.seq)).toEqual([3, 4]);
    expect((await all(journal)).map((e) => (e as { id: string }).id)).toEqual(['m1', 'm2', 'm3', 'm4']);
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

  it('journal - subscribers see each event once, in order, after it is stored', async () => {
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

  it('journal - appendRemoving deletes what it selects and appends, in one batch', async () => {
    const journal = await openJournal(tempDir());
    await journal.appendMany([msg(1), msg(2), msg(3)]);
    const cleared = await journal.appendRemoving({ type: 'chat.cleared', peer: 7, removed: 0 }, (e) => e.seq !== 2);
    expect(cleared).toMatchObject({ seq: 4, removed: 2 });
    expect((await all(journal)).map((e) => e.seq)).toEqual([2, 4]);
    const [stored] = (await all(journal, 4)) as Array<Stored & { removed: number }>;
    expect(stored.removed).toBe(2);
    await journal.close();
  });

  it('journal - appends made while a removal is selecting are either before it and removed, or after it and kept', async () => {
    const journal = await openJournal(tempDir());
    await journal.appendMany(Array.from({ length: 3000 }, (_, i) => msg(i)));
    const before = journal.append(msg(-1)); // queued before the clear: must be removed
    const clearing = journal.appendRemoving({ type: 'chat.cleared', peer: 7, removed: 0 }, (e) => e.type === 'message.sent');
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
