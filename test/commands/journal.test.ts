// parley journal inspect [--type TYPE] [--since SEQ] [--json]; parley journal rebuild.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { openJournal } from '../../src/events/journal.js';
import { expectRefused, jsonLines, lines, ok, runParley, tempHome } from '../helpers/cli.js';

const BIG = 1099511627775;

// A profile made the way a person makes one: a contact (with its default grants), a grant.
async function made(home: string): Promise<void> {
  await ok(['contacts', 'add', String(BIG), '--name', 'Ann'], { home });
  await ok(['limits', 'grant', '--peer', String(BIG), '--messages', '7'], { home });
}

describe('journal', () => {
  test('journal - a new user inspects an empty journal and rebuilds nothing', async () => {
    const home = path.join(tempHome(), 'profile');
    expect(await runParley(['journal', 'inspect', '--json'], { home })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const rebuilt = await ok(['journal', 'rebuild', '--json'], { home });
    const [r] = jsonLines(rebuilt.stdout);
    expect(Object.keys(r).sort()).toEqual(['events', 'ms', 'skipped']);
    expect(r).toMatchObject({ events: 0, skipped: 0 });
    expect(Number.isSafeInteger(r.ms)).toBe(true);
  });

  test('journal - inspect --json prints {seq,at,type,...fields} of every event, in order, with --home', async () => {
    const home = tempHome();
    await made(home);
    const r = await ok(['journal', 'inspect', '--json'], { home });
    expect(r.stderr).toBe('');
    const events = jsonLines(r.stdout);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    for (const e of events) {
      expect(Object.keys(e).slice(0, 3)).toEqual(['seq', 'at', 'type']);
      expect(Number.isSafeInteger(e.at)).toBe(true);
      expect(Math.abs((e.at as number) - Date.now())).toBeLessThan(10 * 60_000);
      expect(Number.isSafeInteger(e.v)).toBe(true);
    }
    // The fields of each event, with the schema version the journal stamped on it.
    expect(events.map(({ seq, at, ...rest }) => rest)).toEqual([
      { type: 'contact.added', peer: BIG, name: 'Ann', whitelisted: true, v: 2 },
      { type: 'quota.granted', peer: BIG, direction: 'inbound', kind: 'messages', n: 1000, v: 1 },
      { type: 'quota.granted', peer: BIG, direction: 'inbound', kind: 'files', n: 1000, v: 1 },
      { type: 'quota.granted', peer: BIG, direction: 'inbound', kind: 'messages', n: 7, v: 1 },
    ]);
    for (const e of events) {
      const keys = Object.keys(e).sort();
      const expected = e.type === 'contact.added' ? ['at', 'name', 'peer', 'seq', 'type', 'v', 'whitelisted'] : ['at', 'direction', 'kind', 'n', 'peer', 'seq', 'type', 'v'];
      expect(keys).toEqual(expected);
    }

    // The same events as the journal holds them.
    const journal = await openJournal(path.join(home, 'journal'));
    const stored: unknown[] = [];
    try {
      await journal.scan((e) => stored.push(e));
    } finally {
      await journal.close();
    }
    expect(events).toEqual(stored);

    const plain = await ok(['journal', 'inspect'], { home });
    expect(lines(plain.stdout)).toHaveLength(4);
    expect(lines(plain.stdout)[0]).toMatch(/^1\t\d{4}-\d\d-\d\dT[\d:.]+Z\tcontact\.added\t/);
  });

  test('journal - inspect filters by --type and --since (inclusive), with PARLEY_HOME', async () => {
    const home = path.join(tempHome(), 'env-profile');
    await made(home);
    const env = { PARLEY_HOME: home };
    const seqs = async (...args: string[]) => jsonLines((await ok(['journal', 'inspect', '--json', ...args], { env })).stdout).map((e) => e.seq);
    expect(await seqs()).toEqual([1, 2, 3, 4]);
    expect(await seqs('--type', 'quota.granted')).toEqual([2, 3, 4]);
    expect(await seqs('--type', 'contact.added')).toEqual([1]);
    expect(await seqs('--type', 'message.sent')).toEqual([]);
    expect(await seqs('--since', '3')).toEqual([3, 4]);
    expect(await seqs('--since', '4')).toEqual([4]);
    expect(await seqs('--since', '5')).toEqual([]);
    expect(await seqs('--since', '0')).toEqual([1, 2, 3, 4]);
    expect(await seqs('--since', '2', '--type', 'contact.added')).toEqual([]);
    expect(await seqs('--type', 'quota.granted', '--since', '3')).toEqual([3, 4]);
  });

  test('journal - rebuild gives the same views as before and appends nothing', async () => {
    const home = tempHome();
    await made(home);
    const before = {
      journal: (await ok(['journal', 'inspect', '--json'], { home })).stdout,
      contacts: (await ok(['contacts', '--json'], { home })).stdout,
      limits: (await ok(['limits', '--json'], { home })).stdout,
    };
    const rebuilt = await ok(['journal', 'rebuild', '--json'], { home });
    expect(jsonLines(rebuilt.stdout)).toEqual([{ events: 4, skipped: 0, ms: expect.any(Number) }]);
    const plain = await ok(['journal', 'rebuild'], { home, env: { PARLEY_HOME: '/nonexistent-parley-home' } });
    expect(plain.stdout).toMatch(/rebuilt the projections from 4 events/);
    expect(fs.existsSync('/nonexistent-parley-home')).toBe(false); // --home won
    expect((await ok(['journal', 'inspect', '--json'], { home })).stdout).toBe(before.journal);
    expect((await ok(['contacts', '--json'], { home })).stdout).toBe(before.contacts);
    expect((await ok(['limits', '--json'], { home })).stdout).toBe(before.limits);
  });

  test('journal - inspect refuses an unknown type and a bad --since with exit 2', async () => {
    const home = tempHome();
    await made(home);
    const before = (await ok(['journal', 'inspect', '--json'], { home })).stdout;
    const bad = [
      ['journal', 'inspect', '--type', 'message.shouted'],
      ['journal', 'inspect', '--since', 'abc'],
      ['journal', 'inspect', '--since', '-1'],
      ['journal', 'inspect', '--since', '1.5'],
    ];
    (await Promise.all(bad.map((args) => runParley(args, { home })))).forEach(expectRefused);
    expect((await ok(['journal', 'inspect', '--json'], { home })).stdout).toBe(before);
  });

  test('journal - commander usage errors exit 2 with one line', async () => {
    const home = path.join(tempHome(), 'profile');
    const env = { PARLEY_HOME: home };
    const cases: [string[], RegExp][] = [
      [['journal', 'inspect', '--bogus'], /unknown option '--bogus'/],
      [['journal', 'inspect', '--type'], /argument missing/],
      [['journal', 'inspect', '--since'], /argument missing/],
      [['journal', 'rebuild', 'now'], /too many arguments/],
      [['journal', 'shred'], /unknown command 'shred'/],
      [['jounral', 'inspect'], /unknown command 'jounral'/],
    ];
    const results = await Promise.all(cases.map(([args]) => runParley(args, { env })));
    results.forEach((r, i) => {
      expectRefused(r);
      expect(r.stderr).toMatch(cases[i][1]);
    });
    expect(fs.existsSync(home)).toBe(false);
  });
});
