// A crash: a child process appends in a loop (fixtures/appender.mjs, on the built modules) and is
// killed with SIGKILL once it has acknowledged enough events. On reopen the journal must hold
// seqs 1..N with no gap but those a history clear made (chat.cleared.removed accounts for each),
// every acknowledged event must be there as it was acknowledged, every value must decode, and
// the projections a start restores (checkpoint + tail) must equal a rebuild from empty. The
// same profile is killed and reopened several times, so each start also recovers the last.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { openJournal } from '../../src/events/journal.js';
import type { Stored } from '../../src/events/types.js';
import { journalSealer } from '../../src/node/sealer.js';
import { openProfile } from '../../src/node/profile.js';
import { chatKeysOf, CLI, filesUnder, startScript, tempHome } from '../helpers/cli.js';
import { allMessages, dumpViews } from '../helpers/views.js';

const APPENDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'appender.mjs');

// token: a random word in the text of a message, to look for in the store's raw bytes.
type Ack = { seq: number; type: string; peer: number; id: string; token?: string };

function parseAck(line: string): Ack | null {
  const m = /^ack (\d+) (\S+) (\d+) (\S+)(?: (\S+))?$/.exec(line);
  if (!m) return null;
  return m[5] === undefined ? { seq: Number(m[1]), type: m[2], peer: Number(m[3]), id: m[4] } : { seq: Number(m[1]), type: m[2], peer: Number(m[3]), id: m[4], token: m[5] };
}

const isAck = (line: string) => line.startsWith('ack ');

// One run of the appender: start it, wait (with a bound) for `until`, kill it with SIGKILL.
async function crashOnce(home: string, until: { acks: number } | { line: (l: string) => boolean }, clearAfter?: number): Promise<{ acks: Ack[]; lines: string[] }> {
  const args = clearAfter === undefined ? [home] : [home, String(clearAfter)];
  const script = startScript(APPENDER, args);
  try {
    await script.waitForLine((l) => l.startsWith('ready '), 20_000);
    if ('acks' in until) await script.waitForCount(isAck, until.acks, 60_000);
    else await script.waitForLine(until.line, 60_000);
  } finally {
    script.child.kill('SIGKILL');
  }
  const exit = await script.exited;
  expect(exit.signal, script.stderr()).toBe('SIGKILL');
  expect(script.stderr()).toBe('');
  // Lines printed before the kill: every ack among them was acknowledged.
  return { acks: script.lines.map(parseAck).filter((a): a is Ack => a !== null), lines: [...script.lines] };
}

function idOf(e: Stored): string | undefined {
  const f = e as Stored & { id?: string; ref?: string };
  return e.type === 'quota.spent' ? f.ref : f.id;
}

function peerOf(e: Stored): number | undefined {
  return (e as Stored & { peer?: number }).peer;
}

// Reopens after a crash and checks the journal against every ack seen so far.
async function checkJournal(home: string, acks: Ack[]): Promise<{ events: Stored[]; lastSeq: number; clears: Stored<Extract<Stored, { type: 'chat.cleared' }>>[]; owed: { peer: number; after: number } | null }> {
  const journal = await openJournal(path.join(home, 'journal'), home, { sealer: journalSealer(home) });
  const events: Stored[] = [];
  let lastSeq: number;
  let owed: { peer: number; after: number } | null = null;
  try {
    lastSeq = journal.lastSeq();
    // Without onCorrupt: any value that does not decode fails the test.
    await journal.scan((e) => events.push(e));
    // The mark of a clear under way (clearing.ts, CLEAR_OWED).
    const mark = await journal.getMeta('clear-owed');
    owed = mark ? (JSON.parse(mark.toString('utf8')) as { peer: number; after: number }) : null;
  } finally {
    await journal.close();
  }
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  const seqs = events.map((e) => e.seq);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]);
  expect(seqs[seqs.length - 1]).toBe(lastSeq);

  // Gaps: only a clear makes them, and its `removed` counts them all.
  const clears = events.filter((e) => e.type === 'chat.cleared') as Stored<Extract<Stored, { type: 'chat.cleared' }>>[];
  const missing: number[] = [];
  for (let s = 1; s <= lastSeq; s++) if (!bySeq.has(s)) missing.push(s);
  expect(missing.length).toBe(clears.reduce((sum, c) => sum + c.removed, 0));
  for (const c of clears) {
    // Nothing of that chat's messages is left before the clear.
    const left = events.filter((e) => e.seq < c.seq && e.type.startsWith('message.') && peerOf(e) === c.peer);
    expect(left.map((e) => e.seq)).toEqual([]);
  }
  if (missing.length > 0) expect(missing[missing.length - 1]).toBeLessThan(clears[clears.length - 1].seq);

  // Nothing acknowledged was lost: each ack is there as acknowledged, or a later clear removed it.
  expect(acks.length).toBeGreaterThan(0);
  for (const a of acks) {
    const e = bySeq.get(a.seq);
    if (e === undefined) {
      const removedBy = clears.find((c) => c.seq > a.seq && c.peer === a.peer);
      expect(removedBy, `acknowledged seq ${a.seq} (${a.type} ${a.id}) is missing and no clear explains it`).toBeDefined();
      expect(a.type.startsWith('message.')).toBe(true);
      continue;
    }
    expect({ seq: e.seq, type: e.type, peer: peerOf(e), id: idOf(e) }).toEqual({ seq: a.seq, type: a.type, peer: a.peer, id: a.id });
    if (a.token !== undefined) expect((e as Stored & { text: string }).text.endsWith(' ' + a.token)).toBe(true);
  }
  return { events, lastSeq, clears, owed };
}

// Which of these texts are still somewhere in the raw bytes of the files under dir, and where.
function textsInFiles(dir: string, texts: string[]): Map<string, string[]> {
  const needles = texts.map((t) => Buffer.from(t, 'utf8'));
  const found = new Map<string, string[]>();
  for (const file of filesUnder(dir)) {
    const bytes = fs.readFileSync(file);
    needles.forEach((n, i) => {
      if (bytes.includes(n)) found.set(texts[i], [...(found.get(texts[i]) ?? []), path.relative(dir, file)]);
    });
  }
  return found;
}

// A start (checkpoints + tail, and the stored views as the crash left them) gives the same views
// as a rebuild from empty: records, pages and unread counts included.
async function checkProjections(home: string): Promise<void> {
  const profile = await openProfile(home);
  try {
    expect(profile.skipped).toEqual([]);
    const started = await dumpViews(profile, [5, 6]);
    await profile.rebuild();
    expect(profile.skipped).toEqual([]);
    expect(await dumpViews(profile, [5, 6])).toEqual(started);
  } finally {
    await profile.close();
  }
}

describe('crash', () => {
  test('crash - SIGKILL while appending loses nothing acknowledged, leaves no gap, and the projections rebuild', async () => {
    expect(fs.existsSync(CLI), 'run `npx tsc -p .` first: the appender runs on dist/').toBe(true);
    const home = tempHome('crash');
    const acks: Ack[] = [];
    let previous = 0;
    for (const count of [2000, 700, 1300]) {
      const run = await crashOnce(home, { acks: count });
      expect(run.lines[0]).toBe(`ready ${previous}`); // a restart carries on where the journal ends
      acks.push(...run.acks);
      const { events, lastSeq, clears } = await checkJournal(home, acks);
      expect(clears).toEqual([]);
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
      expect(lastSeq).toBeGreaterThanOrEqual(Math.max(...acks.map((a) => a.seq)));
      await checkProjections(home);
      previous = lastSeq;
    }
  });

  test('crash - SIGKILL with a history clear midway: the only gaps are the clear\'s, and a cut-short clear is finished on reopen', async () => {
    const home = tempHome('crash-clear');
    const acks: Ack[] = [];
    // 1: no clear, killed at 1000 acks; the next start moves these events from LevelDB's log
    //    into its table files, which a clear must then rewrite.
    // 2: killed as the chat's old keys are about to be forgotten, after the clear's batch is
    //    stored: the next start must forget them.
    // 3: a clear after 600 acks, killed at 1500 (the clear is long done).
    // 4: killed as soon as a clear's batch is stored: its fresh checkpoints are cut short.
    // 5: killed as soon as a clear begins (its batch may or may not be stored; if not, the next
    //    start makes the clear again).
    // 6: a clear after 200 acks, killed at 800, on the store the cut-short clears left.
    const runs: { until: { acks: number } | { line: (l: string) => boolean }; clearAfter?: number }[] = [
      { until: { acks: 1000 } },
      { until: { line: (l) => l === 'forgetting' }, clearAfter: 300 },
      { until: { acks: 1500 }, clearAfter: 600 },
      { until: { line: (l) => l.startsWith('clear-stored ') }, clearAfter: 300 },
      { until: { line: (l) => l === 'clearing' }, clearAfter: 300 },
      { until: { acks: 800 }, clearAfter: 200 },
    ];
    let clearsSeen = 0;
    // Every key peer 5 had before its last clear: none may be left anywhere on the disk.
    const peer5Keys = new Set<string>();
    for (const { until, clearAfter } of runs) {
      const keysBefore = chatKeysOf(home, 5);
      const run = await crashOnce(home, until, clearAfter);
      acks.push(...run.acks);
      const { clears, owed } = await checkJournal(home, acks);
      const stored = run.lines.filter((l) => l.startsWith('clear-stored ')).map((l) => Number(l.split(' ')[1]));
      for (const line of run.lines.filter((l) => l.startsWith('cleared '))) {
        const [, seq, removed] = line.split(' ').map(Number);
        expect(clears.find((c) => c.seq === seq)).toMatchObject({ peer: 5, removed });
        expect(removed).toBeGreaterThan(0);
      }
      // A clear whose batch the child saw stored is there; one cut shorter may or may not be.
      for (const seq of stored) expect(clears.map((c) => c.seq)).toContain(seq);
      expect(clears.length).toBeGreaterThanOrEqual(clearsSeen + stored.length);
      expect(clears.length).toBeLessThanOrEqual(clearsSeen + 1);
      // A clear that began and whose batch is not in the journal is made again, whole, by the
      // next start (its records may already be gone by range).
      const cutShort = owed !== null && !clears.some((c) => c.seq > owed.after);
      const clearedNow = clears.length > clearsSeen || cutShort;

      // The first start after the crash finishes any clear the crash cut short: no removed
      // text is left in the views or in the store's files. (Checked before checkProjections,
      // whose rebuild replays the clear and would finish it anyway.)
      const last = clears[clears.length - 1];
      const profile = await openProfile(home);
      try {
        if (last) expect((await allMessages(profile, 5)).every((m) => m.seq > last.seq)).toBe(true);
        // A clear of this run whose batch is stored: the keys peer 5 had before it are forgotten
        // (by the clear, or by this start when the crash cut the clear short), but the new one.
        if (clearedNow) {
          for (const k of keysBefore) peer5Keys.add(k);
          expect(profile.keyring.keysOf(5)).toBe(1);
        }
      } finally {
        await profile.close();
      }
      const after = (await checkJournal(home, acks)).clears;
      expect(after.length).toBe(clears.length + (cutShort ? 1 : 0));
      clearsSeen = after.length;
      await checkProjections(home);
      // No text is ever on the disk in plain: every one is sealed with its chat's key.
      const tokens = acks.filter((a) => a.token !== undefined).map((a) => a.token as string);
      const plain = textsInFiles(home, tokens);
      expect([...plain].slice(0, 3), `${plain.size} of ${tokens.length} texts are on the disk in plain`).toEqual([]);
      if (!last) continue;
      // And no key of a cleared chat is left in any file: its texts cannot be opened, wherever
      // LevelDB's files still hold their sealed bytes. (The search works: the live keys are found.)
      const gone = textsInFiles(home, [...peer5Keys]);
      expect([...gone].slice(0, 3), `${gone.size} of ${peer5Keys.size} keys of a cleared chat are still on the disk`).toEqual([]);
      expect(textsInFiles(home, chatKeysOf(home, 6)).size).toBe(chatKeysOf(home, 6).length);
    }
    expect(clearsSeen).toBeGreaterThanOrEqual(4);
  });
  test('crash - a clear killed before it forgets the chat\'s old key is finished at the next start: no copy of the texts can be opened', async () => {
    const home = tempHome('crash-forget');
    // Ann's messages, then a start that moves them from LevelDB's log into a table file.
    const tokens = Array.from({ length: 40 }, () => crypto.randomBytes(18).toString('base64url'));
    const profile = await openProfile(home);
    try {
      await profile.appendMany(tokens.map((t, i) => ({ type: 'message.sent' as const, id: `a${i}`, peer: 5, text: `to Ann ${t}`, packets: 1 })));
      await profile.append({ type: 'message.sent', id: 'b0', peer: 6, text: 'to Bo', packets: 1 });
    } finally {
      await profile.close();
    }
    await (await openProfile(home)).close();
    // The texts are sealed on the disk: no token is there in plain, and the sealed bytes are what
    // a copy left behind in LevelDB's files would hold.
    expect(textsInFiles(home, tokens).size).toBe(0);
    const annKeys = chatKeysOf(home, 5);
    expect(annKeys).toHaveLength(1);
    const sealed: Buffer[] = [];
    const raw = await openJournal(path.join(home, 'journal'), home);
    try {
      await raw.scan((e) => {
        const m = e as Stored & { sealed?: Buffer; id: string };
        if (m.type === 'message.sent' && m.peer === 5) sealed.push(Buffer.from(m.sealed as Buffer));
      });
    } finally {
      await raw.close();
    }
    expect(sealed).toHaveLength(tokens.length);

    // The child clears Ann's chat and dies right after the clear's batch is stored, as the
    // chat's old key is about to be forgotten.
    const script = startScript(APPENDER, [home, '1', 'die-at-forget']);
    const exit = await script.exited;
    expect(exit.signal, script.stderr()).toBe('SIGKILL');
    expect(script.lines).toContain('forgetting');
    const storedClear = script.lines.find((l) => l.startsWith('clear-stored '));
    expect(storedClear).toBeDefined();
    expect(chatKeysOf(home, 5)).toContain(annKeys[0]); // the crash came before the key was forgotten

    // One ordinary start later, the old key is gone from every file, and nothing opens the
    // sealed texts any more.
    const again = await openProfile(home);
    try {
      expect((await allMessages(again, 5)).every((m) => m.seq > Number(storedClear?.split(' ')[1]))).toBe(true);
      expect(again.keyring.keysOf(5)).toBe(1);
      for (const bytes of sealed) expect(again.keyring.open(bytes)).toBeNull();
    } finally {
      await again.close();
    }
    expect(textsInFiles(home, annKeys).size).toBe(0);
    expect(textsInFiles(home, chatKeysOf(home, 6)).size).toBe(1);
    await checkJournal(home, script.lines.map(parseAck).filter((a): a is Ack => a !== null));
    await checkProjections(home);
  });
});
