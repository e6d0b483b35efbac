// A damaged value in the store: written with classic-level straight onto HOME/journal, at the key
// of an existing event, while no profile is open. The error names its seq; the commands that
// can go on do, with a warning naming it, every time they run; the scan that may not skip throws.
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { describe, expect, test } from 'vitest';
import { eventKey } from '../../src/events/codec.js';
import { openJournal } from '../../src/events/journal.js';
import type { NewEvent } from '../../src/events/types.js';
import { encodeMsgpack } from '../../src/events/msgpack.js';
import { openProfile } from '../../src/node/profile.js';
import { jsonLines, lines, runParley, tempHome, type RunResult } from '../helpers/cli.js';

const AT = Date.UTC(2024, 5, 1, 12, 0, 0);
const BAD = 4; // the seq that gets a damaged value: Ann's reply

const EVENTS: NewEvent[] = [
  { type: 'contact.added', peer: 5, name: 'Ann', whitelisted: true, at: AT },
  { type: 'quota.granted', peer: 5, direction: 'inbound', kind: 'messages', n: 10, at: AT + 1 },
  { type: 'message.sent', id: 'm1', peer: 5, text: 'one', packets: 1, at: AT + 2 },
  { type: 'message.received', id: 'r1', peer: 5, text: 'two', sentAt: AT + 3, at: AT + 4 },
  { type: 'quota.spent', peer: 5, direction: 'inbound', kind: 'messages', n: 1, ref: 'r1', at: AT + 4 },
  { type: 'contact.added', peer: 6, name: 'Bo', whitelisted: true, at: AT + 5 },
  { type: 'message.sent', id: 'm2', peer: 5, text: 'three', packets: 1, at: AT + 6 },
];

// Values a MessagePack reader cannot make an event of.
const DAMAGE: { name: string; value: Buffer }[] = [
  { name: 'the byte 0xc1, which MessagePack never uses', value: Buffer.from([0xc1]) },
  { name: 'a valid MessagePack number', value: Buffer.from([0x2a]) },
  { name: 'truncated MessagePack', value: encodeMsgpack({ type: 'message.received', id: 'r1', peer: 5, text: 'two', at: AT + 4 }).subarray(0, 12) },
  { name: 'a map of an unknown type', value: encodeMsgpack({ type: 'message.shouted', at: AT + 4 }) },
];

async function damagedProfile(home: string, value: Buffer, viaProfile: boolean): Promise<void> {
  if (viaProfile) {
    // Through a profile, which leaves checkpoints that already hold the event's effect.
    const profile = await openProfile(home);
    await profile.appendMany(structuredClone(EVENTS));
    await profile.close();
  } else {
    const journal = await openJournal(path.join(home, 'journal'), home);
    await journal.appendMany(structuredClone(EVENTS));
    await journal.close();
  }
  const db = new ClassicLevel<Buffer, Buffer>(path.join(home, 'journal'), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    expect(await db.get(eventKey(BAD))).toBeDefined(); // an existing event's key
    await db.put(eventKey(BAD), value);
  } finally {
    await db.close();
  }
}

function expectWarned(r: RunResult, what: string): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(0);
  expect(r.stderr, what).toMatch(new RegExp(`\\bevent ${BAD}\\b`));
  expect(r.stderr, what).not.toMatch(/\n\s+at /);
}

describe('corrupt', () => {
  for (const { name, value } of DAMAGE) {
    test(`corrupt - ${name} at seq ${BAD}: inspect shows the rest, commands go on with a warning, scan throws JOURNAL_CORRUPT`, async () => {
      const home = tempHome('corrupt');
      await damagedProfile(home, value, false);

      // journal inspect: every other event, and the bad seq named on stderr.
      const inspect = await runParley(['journal', 'inspect', '--json'], { home });
      expectWarned(inspect, 'journal inspect');
      expect(jsonLines(inspect.stdout).map((e) => e.seq)).toEqual([1, 2, 3, 5, 6, 7]);
      const since = await runParley(['journal', 'inspect', '--since', String(BAD), '--json'], { home });
      expectWarned(since, 'journal inspect --since');
      expect(jsonLines(since.stdout).map((e) => e.seq)).toEqual([5, 6, 7]);

      // The commands that can go on do, each time, with a warning naming the seq.
      const contacts = await runParley(['contacts', '--json'], { home });
      expectWarned(contacts, 'contacts');
      expect(jsonLines(contacts.stdout).map((c) => c.name)).toEqual(['Ann', 'Bo']);
      const again = await runParley(['contacts', '--json'], { home });
      expectWarned(again, 'contacts, a second time');
      expect(again.stdout).toBe(contacts.stdout);

      const limits = await runParley(['limits', '--peer', '5', '--json'], { home });
      expectWarned(limits, 'limits');
      expect(jsonLines(limits.stdout)[0].inbound).toEqual({ messages: { granted: 10, spent: 1, left: 9 }, files: { granted: 0, spent: 0, left: 0 } });
      const audit = await runParley(['limits', 'audit', '--json'], { home });
      expectWarned(audit, 'limits audit');
      // The unreadable event might have been a grant or a spend: the audit cannot vouch for it.
      expect(jsonLines(audit.stdout).at(-1)).toEqual({ consistent: false });
      expect(audit.stderr).toContain('event 4 cannot be read, so the audit cannot vouch for it');

      const history = await runParley(['history', '--peer', '5', '--json'], { home });
      expectWarned(history, 'history');
      expect(jsonLines(history.stdout).map((m) => m.id)).toEqual(['m1', 'm2']);
      const exported = await runParley(['history', 'export', '--peer', '5', '--format', 'csv'], { home });
      expectWarned(exported, 'history export');

      const rebuilt = await runParley(['journal', 'rebuild', '--json'], { home });
      expectWarned(rebuilt, 'journal rebuild');
      expect(jsonLines(rebuilt.stdout)[0]).toMatchObject({ events: 7, skipped: 1 });

      // A command that writes goes on too, and the damage is still named afterwards.
      const grant = await runParley(['limits', 'grant', '--peer', '5', '--messages', '5', '--json'], { home });
      expectWarned(grant, 'limits grant');
      expectWarned(await runParley(['contacts'], { home }), 'contacts after a write');

      // openProfile lists it in skipped, at every start.
      for (let i = 0; i < 2; i++) {
        const profile = await openProfile(home);
        try {
          expect(profile.skipped.map((s) => s.seq)).toEqual([BAD]);
          expect(profile.skipped[0].message).toMatch(new RegExp(`\\bevent ${BAD}\\b`));
        } finally {
          await profile.close();
        }
      }

      // A scan that may not skip throws JOURNAL_CORRUPT naming the seq.
      const journal = await openJournal(path.join(home, 'journal'), home);
      try {
        const seen: number[] = [];
        const err = await journal.scan((e) => seen.push(e.seq)).then(
          () => null,
          (e: unknown) => e as Error & { code?: string },
        );
        expect(err).not.toBeNull();
        expect(err?.code).toBe('JOURNAL_CORRUPT');
        expect(err?.message).toMatch(new RegExp(`\\bevent ${BAD}\\b`));
        expect(seen).toEqual([1, 2, 3]); // everything before it was delivered
        const skipped: number[] = [];
        const rest: number[] = [];
        await journal.scan((e) => rest.push(e.seq), { onCorrupt: (_e, seq) => skipped.push(seq) });
        expect(skipped).toEqual([BAD]);
        expect(rest).toEqual([1, 2, 3, 5, 6, 7, 8]);
      } finally {
        await journal.close();
      }
    });
  }

  test('corrupt - damage under an existing checkpoint: the views keep the event, a rebuild names and skips it', async () => {
    const home = tempHome('corrupt-cp');
    await damagedProfile(home, Buffer.from([0xc1]), true);
    // The views were written before the damage and still list Ann's reply, but its text lives
    // only in the damaged event: history shows what it can read.
    const history = await runParley(['history', '--peer', '5', '--json'], { home });
    expect(history).toMatchObject({ code: 0, stderr: '' });
    expect(jsonLines(history.stdout).map((m) => m.id)).toEqual(['m1', 'm2']);
    // journal inspect reads every value, and names it.
    const inspect = await runParley(['journal', 'inspect', '--json'], { home });
    expectWarned(inspect, 'journal inspect');
    expect(jsonLines(inspect.stdout).map((e) => e.seq)).toEqual([1, 2, 3, 5, 6, 7]);
    // A rebuild from the journal cannot have the reply any more: it says so, and from then on
    // every start names it.
    const rebuilt = await runParley(['journal', 'rebuild', '--json'], { home });
    expectWarned(rebuilt, 'journal rebuild');
    expect(jsonLines(rebuilt.stdout)[0]).toMatchObject({ skipped: 1 });
    const after = await runParley(['history', '--peer', '5', '--json'], { home });
    expectWarned(after, 'history after the rebuild');
    expect(jsonLines(after.stdout).map((m) => m.id)).toEqual(['m1', 'm2']);
  });
});
