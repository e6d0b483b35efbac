// parley history --peer ID [--json]; history export; history clear — run as a new user runs them.
// Messaging does not exist yet, so the messages are written into the profile as the client
// will write them (openProfile + appendMany), then the built CLI reads them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { NewEvent } from '../../src/events/types.js';
import { openJournal } from '../../src/events/journal.js';
import { openProfile } from '../../src/node/profile.js';
import { chatKeysOf, expectRefused, filesContaining, jsonLines, ok, runParley, runPython, tempHome } from '../helpers/cli.js';

const COLUMNS = ['seq', 'id', 'peer', 'direction', 'at', 'received_at', 'text', 'status', 'edited_at', 'reply_to', 'reason'];
const BAD_IDS = ['0', '1099511627776', 'abc', '-1', '1.5'];

const D1 = Date.UTC(2024, 2, 1, 10, 0, 0); // 2024-03-01 10:00 UTC
const D2 = Date.UTC(2024, 2, 2, 9, 30, 0); // 2024-03-02 09:30 UTC
const BIG = 1099511627775; // the largest id

// Words that appear nowhere else, to find a text in the raw bytes of the store.
const ANN_WORDS = ['kestrel4417', 'quokka7319', 'marmot5528', 'narwhal6604'];
const BO_WORD = 'ocelot2291';

const TEXT_M1 = `Hello, "Ann" ${ANN_WORDS[0]}`;
const TEXT_R1 = `Привет, мир!\nКак дела? 👋 ${ANN_WORDS[1]}`;
const TEXT_M2 = `line one\r\nline "two", end ${ANN_WORDS[2]}`;
const TEXT_M2_EDITED = `line one\r\nline "two", edited 🍉,"" ${ANN_WORDS[3]}`;
const TEXT_R2 = ' padded, tomorrow ';

const SEED: NewEvent[] = [
  { type: 'contact.added', peer: 5, name: 'Ann', whitelisted: true, at: D1 - 5000 },
  { type: 'contact.added', peer: BIG, name: 'Bo', whitelisted: true, at: D1 - 4000 },
  { type: 'quota.granted', peer: 5, direction: 'outbound', kind: 'messages', n: 10, at: D1 - 3000 },
  { type: 'message.sent', id: 'm1', peer: 5, text: TEXT_M1, packets: 1, at: D1 },
  { type: 'quota.spent', peer: 5, direction: 'outbound', kind: 'messages', n: 1, ref: 'm1', at: D1 },
  { type: 'message.delivered', id: 'm1', peer: 5, receivedAt: D1 + 2000, at: D1 + 2500 },
  { type: 'message.read', id: 'm1', peer: 5, by: 'peer', at: D1 + 60_000 },
  { type: 'message.received', id: 'r1', peer: 5, text: TEXT_R1, sentAt: D1 + 120_000, replyTo: 'm1', at: D1 + 121_000 },
  { type: 'quota.spent', peer: 5, direction: 'inbound', kind: 'messages', n: 1, ref: 'r1', at: D1 + 121_000 },
  { type: 'message.sent', id: 'm2', peer: 5, text: TEXT_M2, packets: 1, replyTo: 'r1', at: D1 + 180_000 },
  { type: 'quota.spent', peer: 5, direction: 'outbound', kind: 'messages', n: 1, ref: 'm2', at: D1 + 180_000 },
  { type: 'message.edited', id: 'm2', peer: 5, direction: 'out', text: TEXT_M2_EDITED, at: D1 + 200_000 },
  { type: 'message.received', id: 'r3', peer: BIG, text: `Bo keeps this, ${BO_WORD}`, sentAt: D1 + 250_000, at: D1 + 251_000 },
  { type: 'message.received', id: 'r2', peer: 5, text: TEXT_R2, sentAt: D2, at: D2 + 500 },
  { type: 'message.read', id: 'r1', peer: 5, by: 'me', at: D2 + 1000 },
  { type: 'message.sent', id: 'm3', peer: BIG, text: 'and a reply to Bo', packets: 1, replyTo: 'r3', at: D2 + 2000 },
];
// The events of Ann's chat, which a clear removes.
const ANN_MESSAGE_EVENTS = SEED.filter((e) => e.type.startsWith('message.') && (e as { peer: number }).peer === 5).length;

const ANN_HISTORY = [
  { seq: 4, id: 'm1', peer: 5, direction: 'out', at: D1, received_at: D1 + 2000, text: TEXT_M1, status: 'read', edited_at: null, reply_to: null, reason: null },
  { seq: 8, id: 'r1', peer: 5, direction: 'in', at: D1 + 120_000, received_at: D1 + 121_000, text: TEXT_R1, status: 'read', edited_at: null, reply_to: 'm1', reason: null },
  { seq: 10, id: 'm2', peer: 5, direction: 'out', at: D1 + 180_000, received_at: null, text: TEXT_M2_EDITED, status: 'pending', edited_at: D1 + 200_000, reply_to: 'r1', reason: null },
  { seq: 14, id: 'r2', peer: 5, direction: 'in', at: D2, received_at: D2 + 500, text: TEXT_R2, status: 'received', edited_at: null, reply_to: null, reason: null },
];
const BO_HISTORY = [
  { seq: 13, id: 'r3', peer: BIG, direction: 'in', at: D1 + 250_000, received_at: D1 + 251_000, text: `Bo keeps this, ${BO_WORD}`, status: 'received', edited_at: null, reply_to: null, reason: null },
  { seq: 16, id: 'm3', peer: BIG, direction: 'out', at: D2 + 2000, received_at: null, text: 'and a reply to Bo', status: 'pending', edited_at: null, reply_to: 'r3', reason: null },
];

async function seed(home: string, events: NewEvent[] = SEED): Promise<void> {
  const profile = await openProfile(home);
  try {
    // A copy: the journal completes the objects it is given (at, v, seq).
    await profile.appendMany(structuredClone(events));
  } finally {
    await profile.close();
  }
}

function expectRow(row: Record<string, unknown>): void {
  expect(Object.keys(row).sort()).toEqual([...COLUMNS].sort());
  expect(typeof row.id).toBe('string');
  expect(Number.isSafeInteger(row.peer)).toBe(true);
  expect(['in', 'out']).toContain(row.direction);
  expect(Number.isSafeInteger(row.at)).toBe(true);
  expect(row.received_at === null || Number.isSafeInteger(row.received_at)).toBe(true);
  expect(typeof row.text).toBe('string');
  expect(typeof row.status).toBe('string');
  expect(row.edited_at === null || Number.isSafeInteger(row.edited_at)).toBe(true);
  expect(row.reply_to === null || typeof row.reply_to === 'string').toBe(true);
}

async function journalOf(home: string): Promise<Record<string, unknown>[]> {
  return jsonLines((await ok(['journal', 'inspect', '--json'], { home })).stdout);
}

// A CSV file read by Python's csv module, as RFC 4180 says to read it: UTF-8 (its BOM skipped), newline=''.
async function readCsvWithPython(file: string): Promise<string[][]> {
  const code = "import csv, json, sys\nwith open(sys.argv[1], encoding='utf-8-sig', newline='') as f:\n    print(json.dumps(list(csv.reader(f)), ensure_ascii=False))";
  const r = await runPython(code, [file]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as string[][];
}

describe('history', () => {
  test('history - a new user has no history with anyone: an unknown peer is refused with exit 4, nothing is created', async () => {
    const home = path.join(tempHome(), 'profile');
    for (const args of [['history', '--peer', '5', '--json'], ['history', 'export', '--peer', '5', '--format', 'csv'], ['history', 'clear', '--peer', '5']]) {
      expect(await runParley(args, { home })).toMatchObject({ code: 4, stdout: '', stderr: 'parley: 5 is not one of your contacts: add it first with parley contacts add 5 --name NAME\n' });
    }
    expect(fs.existsSync(home)).toBe(false);
  });

  test('history - a contact with no messages yet has an empty history', async () => {
    const home = tempHome();
    expect((await runParley(['contacts', 'add', '5', '--name', 'Ann'], { home })).code).toBe(0);
    expect(await runParley(['history', '--peer', '5', '--json'], { home })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const plain = await ok(['history', '--peer', '5'], { home });
    expect(plain.stdout).toMatch(/no messages with Ann/);
    const csv = await ok(['history', 'export', '--peer', '5', '--format', 'csv'], { home });
    expect(csv.stdout).toBe('\ufeff' + COLUMNS.join(',') + '\r\n');
  });

  test('history - --json prints one message per line with status, receipts, edits and replies', async () => {
    const home = tempHome();
    await seed(home);
    const r = await ok(['history', '--peer', '5', '--json'], { home });
    expect(r.stderr).toBe('');
    const rows = jsonLines(r.stdout);
    rows.forEach(expectRow);
    expect(rows).toEqual(ANN_HISTORY);

    const bo = jsonLines((await ok(['history', '--peer', String(BIG), '--json'], { home })).stdout);
    bo.forEach(expectRow);
    expect(bo).toEqual(BO_HISTORY);

    const plain = await ok(['history', '--peer', '5'], { home: home, env: { TZ: 'UTC' } });
    expect(plain.stdout).toContain('-- 2024-03-01 --');
    expect(plain.stdout).toContain('-- 2024-03-02 --');
    expect(plain.stdout).toContain('(edited)');
    expect(plain.stdout).toContain('[reply to m1]');
  });

  test('history - PARLEY_HOME chooses the profile for history and export', async () => {
    const home = path.join(tempHome(), 'env-profile');
    await seed(home);
    const env = { PARLEY_HOME: home };
    expect(jsonLines((await ok(['history', '--peer', '5', '--json'], { env })).stdout)).toEqual(ANN_HISTORY);
    const out = path.join(path.dirname(home), 'ann.jsonl');
    await ok(['history', 'export', '--peer', '5', '--format', 'jsonl', '--out', out], { env });
    expect(jsonLines(fs.readFileSync(out, 'utf8'))).toEqual(ANN_HISTORY);
  });

  test('history - export jsonl, to stdout and to --out, is what history --json prints', async () => {
    const home = tempHome();
    await seed(home);
    const json = (await ok(['history', '--peer', '5', '--json'], { home })).stdout;
    const stdout = await ok(['history', 'export', '--peer', '5', '--format', 'jsonl'], { home });
    expect(stdout.stdout).toBe(json);
    const out = path.join(home, 'ann.jsonl');
    const written = await ok(['history', 'export', '--peer', '5', '--format', 'jsonl', '--out', out], { home });
    expect(written.stdout).toBe('');
    expect(fs.readFileSync(out, 'utf8')).toBe(json);
  });

  test('history - export csv is RFC 4180: Python csv reads back the jsonl, commas, quotes, newlines, Cyrillic and emoji included', async () => {
    const home = tempHome();
    await seed(home);
    const jsonl = jsonLines((await ok(['history', 'export', '--peer', '5', '--format', 'jsonl'], { home })).stdout);
    const out = path.join(home, 'ann.csv');
    await ok(['history', 'export', '--peer', '5', '--format', 'csv', '--out', out], { home });
    const raw = fs.readFileSync(out);
    // A UTF-8 byte order mark first, for Excel on Windows; then the header row.
    expect(raw.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
    expect(raw.subarray(3).toString('utf8').startsWith(COLUMNS.join(',') + '\r\n')).toBe(true);

    const table = await readCsvWithPython(out);
    expect(table[0]).toEqual(COLUMNS);
    const expected = jsonl.map((row) => COLUMNS.map((c) => (row[c] === null ? '' : String(row[c]))));
    expect(table.slice(1)).toEqual(expected);
    // The hard texts really are in there.
    expect(table.slice(1).map((r) => r[COLUMNS.indexOf('text')])).toEqual([TEXT_M1, TEXT_R1, TEXT_M2_EDITED, TEXT_R2]);

    const stdout = await ok(['history', 'export', '--peer', '5', '--format', 'csv'], { home });
    expect(stdout.stdout).toBe(raw.toString('utf8'));
  });

  test('history - export md has a heading per day (TZ=UTC) with each message under its day', async () => {
    const home = tempHome();
    await seed(home);
    const out = path.join(home, 'ann.md');
    await ok(['history', 'export', '--peer', '5', '--format', 'md', '--out', out], { home, env: { TZ: 'UTC' } });
    const md = fs.readFileSync(out, 'utf8');
    expect(md.split('\n')[0]).toMatch(/^# .*Ann.*5/);
    const headings = md.split('\n').filter((l) => /^#{2,} /.test(l));
    expect(headings).toEqual(['## 2024-03-01', '## 2024-03-02']);
    const [, day1, day2] = md.split(/^## .*$/m);
    // Messages are list items headed by their time of day.
    expect(day1.match(/^- .*$/gm)?.map((l) => l.match(/\d\d:\d\d/)?.[0])).toEqual(['10:00', '10:02', '10:03']);
    expect(day2.match(/^- .*$/gm)?.map((l) => l.match(/\d\d:\d\d/)?.[0])).toEqual(['09:30']);
    for (const word of ANN_WORDS.filter((w) => w !== ANN_WORDS[2])) expect(md).toContain(word); // m2 shows its edit
    expect(md).toContain('Привет');
    expect(md).toContain('🍉');
    expect(md).toContain('edited');

    // Another time zone moves the day boundary: the headings follow the exporting machine's clock.
    const tokyo = await ok(['history', 'export', '--peer', '5', '--format', 'md'], { home, env: { TZ: 'Asia/Tokyo' } });
    expect(tokyo.stdout.split('\n').filter((l) => l.startsWith('## '))).toEqual(['## 2024-03-01', '## 2024-03-02']);
    expect(tokyo.stdout).toContain('19:00');
  });

  for (const format of ['jsonl', 'csv', 'md']) {
    test(`history - export ${format} to an existing --out is refused with exit 2 and the file untouched`, async () => {
      const home = tempHome();
      await seed(home);
      const dir = path.join(home, 'out');
      fs.mkdirSync(dir);
      const out = path.join(dir, `ann.${format}`);
      fs.writeFileSync(out, 'keep me\n');
      const past = new Date(Date.UTC(2020, 0, 1));
      fs.utimesSync(out, past, past);
      const r = await runParley(['history', 'export', '--peer', '5', '--format', format, '--out', out], { home });
      expectRefused(r);
      expect(r.stderr).toContain(out);
      expect(fs.readFileSync(out, 'utf8')).toBe('keep me\n');
      expect(fs.statSync(out).mtimeMs).toBe(past.getTime());
      expect(fs.readdirSync(dir)).toEqual([`ann.${format}`]); // no temporary file left beside it
    });
  }

  test('history - export refuses an unknown format and a missing folder with exit 2, writing nothing', async () => {
    const home = tempHome();
    await seed(home);
    const before = await journalOf(home);
    const r1 = await runParley(['history', 'export', '--peer', '5', '--format', 'xml'], { home });
    expectRefused(r1);
    const missing = path.join(home, 'no', 'such', 'dir', 'ann.csv');
    expectRefused(await runParley(['history', 'export', '--peer', '5', '--format', 'csv', '--out', missing], { home }));
    expect(fs.existsSync(path.join(home, 'no'))).toBe(false);
    expect(await journalOf(home)).toEqual(before);
  });

  for (const bad of BAD_IDS) {
    test(`history - refuses id ${bad} with exit 2 in history, export and clear, writing nothing`, async () => {
      const fresh = path.join(tempHome(), 'profile');
      const commands = (out: string) => [
        ['history', '--peer', bad, '--json'],
        ['history', 'export', '--peer', bad, '--format', 'jsonl', '--out', out],
        ['history', 'clear', '--peer', bad],
      ];
      const freshOut = path.join(path.dirname(fresh), 'x.jsonl');
      // Refusals never open the profile, so they may run side by side.
      for (const r of await Promise.all(commands(freshOut).map((args) => runParley(args, { home: fresh })))) {
        expectRefused(r);
        expect(r.stderr).toContain(`"${bad}"`);
      }
      expect(fs.existsSync(fresh)).toBe(false);
      expect(fs.existsSync(freshOut)).toBe(false);

      const home = tempHome();
      await seed(home);
      const before = await journalOf(home);
      const out = path.join(home, 'x.jsonl');
      (await Promise.all(commands(out).map((args) => runParley(args, { home })))).forEach(expectRefused);
      expect(fs.existsSync(out)).toBe(false);
      expect(await journalOf(home)).toEqual(before);
    });
  }

  test('history - commander usage errors and a missing --peer exit 2 with one line', async () => {
    const home = path.join(tempHome(), 'profile');
    const env = { PARLEY_HOME: home };
    const cases: [string[], RegExp][] = [
      [['history', '--bogus'], /unknown option '--bogus'/],
      [['history'], /--peer/],
      [['history', '--peer'], /argument missing/],
      [['history', 'export', '--peer', '5'], /required option '--format <format>' not specified/],
      [['history', 'export', '--format', 'csv'], /required option '--peer <id>' not specified/],
      [['history', 'export', '--peer', '5', '--format', 'csv', '--out'], /argument missing/],
      [['history', 'clear'], /required option '--peer <id>' not specified/],
      [['history', 'clear', '--peer', '5', '--everything'], /unknown option '--everything'/],
    ];
    const results = await Promise.all(cases.map(([args]) => runParley(args, { env })));
    results.forEach((r, i) => {
      expectRefused(r);
      expect(r.stderr).toMatch(cases[i][1]);
    });
    expect(fs.existsSync(home)).toBe(false);
  });

  test('history - clear --peer forgets the chat in history, exports, unread and on disk, keeps quotas and the other chat', async () => {
    const home = tempHome();
    const journalDir = path.join(home, 'journal');
    await seed(home);
    const before = await journalOf(home);
    const auditBefore = (await ok(['limits', 'audit', '--json'], { home })).stdout;
    const boBefore = (await ok(['history', '--peer', String(BIG), '--json'], { home })).stdout;
    // Before: no text is in the raw bytes of the store (each is sealed with its chat's key), and
    // Ann's key is in the profile's keys.json.
    for (const word of [...ANN_WORDS, BO_WORD]) expect(filesContaining(home, word), word).toEqual([]);
    const [annKey] = chatKeysOf(home, 5);
    const [boKey] = chatKeysOf(home, BIG);
    expect(filesContaining(home, annKey).map((f) => path.relative(home, f))).toEqual(['keys.json']);

    const cleared = await ok(['history', 'clear', '--peer', '5', '--json'], { home });
    const [c] = jsonLines(cleared.stdout);
    expect(Object.keys(c).sort()).toEqual(['peer', 'removed', 'seq']);
    expect(c).toEqual({ peer: 5, seq: SEED.length + 1, removed: ANN_MESSAGE_EVENTS });

    // The views agree: nothing with Ann, Bo intact.
    expect(await runParley(['history', '--peer', '5', '--json'], { home })).toMatchObject({ code: 0, stdout: '' });
    expect((await ok(['history', 'export', '--peer', '5', '--format', 'jsonl'], { home })).stdout).toBe('');
    const csvOut = path.join(home, 'after.csv');
    await ok(['history', 'export', '--peer', '5', '--format', 'csv', '--out', csvOut], { home });
    expect(await readCsvWithPython(csvOut)).toEqual([COLUMNS]);
    const md = (await ok(['history', 'export', '--peer', '5', '--format', 'md'], { home, env: { TZ: 'UTC' } })).stdout;
    expect(md.split('\n').filter((l) => l.startsWith('## '))).toEqual([]);
    expect((await ok(['history', '--peer', String(BIG), '--json'], { home })).stdout).toBe(boBefore);
    const profile = await openProfile(home);
    try {
      expect(profile.unread(5)).toBe(0);
      expect(profile.unread(BIG)).toBe(1);
      expect(profile.chat(5)).toBeUndefined();
      expect(await profile.page(5)).toEqual([]);
    } finally {
      await profile.close();
    }

    // The journal: Ann's message events are gone, the clear says how many, the rest is as it was.
    const after = await journalOf(home);
    const kept = before.filter((e) => !(String(e.type).startsWith('message.') && e.peer === 5));
    expect(before.length - kept.length).toBe(ANN_MESSAGE_EVENTS);
    expect(after.slice(0, -1)).toEqual(kept);
    const inspected = jsonLines((await ok(['journal', 'inspect', '--type', 'chat.cleared', '--json'], { home })).stdout);
    expect(inspected).toHaveLength(1);
    expect(inspected[0]).toMatchObject({ seq: c.seq, type: 'chat.cleared', peer: 5, removed: ANN_MESSAGE_EVENTS });
    expect(Number.isSafeInteger(inspected[0].at)).toBe(true);
    expect(after[after.length - 1]).toEqual(inspected[0]);

    // Quotas stay: the audit is the same and still adds up.
    const auditAfter = (await ok(['limits', 'audit', '--json'], { home })).stdout;
    expect(auditAfter).toBe(auditBefore);
    expect(jsonLines(auditAfter).at(-1)).toEqual({ consistent: true });

    // And the key that sealed Ann's texts is gone from every file: whatever copy of them a
    // LevelDB file still holds cannot be opened. Bo's stays.
    expect(filesContaining(home, annKey)).toEqual([]);
    expect(filesContaining(home, boKey).map((f) => path.relative(home, f))).toEqual(['keys.json']);
    for (const word of [...ANN_WORDS, BO_WORD]) expect(filesContaining(home, word), word).toEqual([]);
  });

  test('history - clear of a chat that an older Parley stored in plain rewrites the store: the text leaves the disk', async () => {
    const home = tempHome();
    const journalDir = path.join(home, 'journal');
    // The journal alone writes what Parley 0.1 wrote: texts in plain, no views, no keys.
    const journal = await openJournal(journalDir, home);
    await journal.appendMany(structuredClone(SEED));
    await journal.close();
    await ok(['contacts'], { home }); // a first open by this version: views built, nothing sealed
    for (const word of [...ANN_WORDS, BO_WORD]) expect(filesContaining(journalDir, word), word).not.toEqual([]);
    expect((await ok(['history', '--peer', '5', '--json'], { home })).stdout).toBe(ANN_HISTORY.map((m) => JSON.stringify(m) + '\n').join(''));

    const [c] = jsonLines((await ok(['history', 'clear', '--peer', '5', '--json'], { home })).stdout);
    expect(c).toEqual({ peer: 5, seq: SEED.length + 1, removed: ANN_MESSAGE_EVENTS });
    for (const word of ANN_WORDS) expect(filesContaining(journalDir, word), word).toEqual([]);
    expect(filesContaining(journalDir, BO_WORD)).not.toEqual([]);
    expect((await ok(['history', '--peer', String(BIG), '--json'], { home })).stdout).toBe(BO_HISTORY.map((m) => JSON.stringify(m) + '\n').join(''));
  });

  test('history - clear with PARLEY_HOME, then a second clear removes nothing more', async () => {
    const home = path.join(tempHome(), 'env-profile');
    await seed(home);
    const env = { PARLEY_HOME: home };
    const first = jsonLines((await ok(['history', 'clear', '--peer', '5', '--json'], { env })).stdout);
    expect(first).toEqual([{ peer: 5, seq: SEED.length + 1, removed: ANN_MESSAGE_EVENTS }]);
    const plain = await ok(['history', 'clear', '--peer', '5'], { env });
    expect(plain.stdout).toMatch(/\(0 events removed from the disk\)/);
    const clears = jsonLines((await ok(['journal', 'inspect', '--type', 'chat.cleared', '--json'], { env })).stdout);
    expect(clears.map((e) => e.removed)).toEqual([ANN_MESSAGE_EVENTS, 0]);
    for (const word of ANN_WORDS) expect(filesContaining(path.join(home, 'journal'), word), word).toEqual([]);
  });

  test('history keep - off and on per chat, journaled once each; listed with every contact, as JSON and lines, and in status', async () => {
    const home = tempHome();
    await seed(home);
    expect(jsonLines((await ok(['history', 'keep', '--json'], { home })).stdout)).toEqual([
      { peer: 5, name: 'Ann', keep: true },
      { peer: BIG, name: 'Bo', keep: true },
    ]);
    expect((await ok(['history', 'keep', '--peer', '5', 'off'], { home })).stdout).toBe('5\tAnn\tnot kept: cleared when the client closes\n');
    expect(jsonLines((await ok(['history', 'keep', '--peer', '5', 'off', '--json'], { home })).stdout)).toEqual([{ peer: 5, name: 'Ann', keep: false }]);
    expect(jsonLines((await ok(['history', 'keep', '--json'], { home })).stdout)).toEqual([
      { peer: 5, name: 'Ann', keep: false },
      { peer: BIG, name: 'Bo', keep: true },
    ]);
    expect((await ok(['history', 'keep'], { home })).stdout).toBe(`5\tAnn\tnot kept: cleared when the client closes\n${BIG}\tBo\tkept\n`);
    const status = JSON.parse((await ok(['status', '--json'], { home })).stdout) as { contacts: Array<{ id: number; keep_history: boolean }> };
    expect(status.contacts.map((c) => [c.id, c.keep_history])).toEqual([[5, false], [BIG, true]]);
    // Nothing is cleared by the command itself: only a client's close does it.
    expect(jsonLines((await ok(['history', '--peer', '5', '--json'], { home })).stdout)).toHaveLength(ANN_HISTORY.length);
    await ok(['history', 'keep', '--peer', '5', 'on'], { home });
    expect(jsonLines((await ok(['history', 'keep', '--peer', '5', '--json'], { home })).stdout)).toEqual([{ peer: 5, name: 'Ann', keep: true }]);
    const changes = (await journalOf(home)).filter((e) => e.type === 'chat.keep-changed').map((e) => [e.peer, e.keep]);
    expect(changes).toEqual([[5, false], [5, true]]);
  });

  test('history keep - a bad value or id exits 2, a value without --peer 2, an unknown peer 4; nothing journaled', async () => {
    const home = tempHome();
    await seed(home);
    const before = await journalOf(home);
    for (const args of [['--peer', '5', 'yes'], ['--peer', '5', 'OFF'], ['--peer', 'abc', 'off'], ['off'], ['--peer', '5', 'off', 'on']]) {
      expectRefused(await runParley(['history', 'keep', ...args], { home }));
    }
    const unknown = await runParley(['history', 'keep', '--peer', '9', 'off'], { home });
    expect(unknown.code, unknown.stderr).toBe(4);
    expect(await journalOf(home)).toEqual(before);
    const none = path.join(tempHome(), 'profile');
    expect((await runParley(['history', 'keep', '--peer', '9', 'off'], { home: none })).code).toBe(4);
    expect(fs.existsSync(none)).toBe(false);
  });
});
