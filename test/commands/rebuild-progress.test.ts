// A profile an older Parley wrote (the journal alone, no stored views) is rebuilt at the first
// open; a person at a terminal sees how far it is once it takes more than a second, and the
// command then answers as it would have. `script` gives the command a real pseudo-terminal.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openJournal } from '../../src/events/journal.js';
import type { NewEvent } from '../../src/events/types.js';
import { CLI, runParley, runProgram, tempHome } from '../helpers/cli.js';

// Enough that the rebuild takes well over a second on a fast machine (about 40,000 events a
// second here, docs/BENCHMARKS.md).
const MESSAGES = 300_000;

// The journal as Parley 0.1.0 left it: events only, texts in plain, no view records.
async function oldProfile(): Promise<string> {
  const home = tempHome();
  const journal = await openJournal(path.join(home, 'journal'), home);
  try {
    for (let from = 0; from < MESSAGES; from += 5000) {
      const batch: NewEvent[] = [];
      for (let i = from; i < from + 5000; i++) batch.push({ type: 'message.received', id: 'm' + i, peer: 5, text: 'old ' + i, sentAt: 1, at: 2 });
      await journal.appendMany(batch);
    }
  } finally {
    await journal.close();
  }
  return home;
}

describe('rebuild progress', () => {
  it('rebuild progress - a view rebuilt at open shows how far it is on a terminal once it takes a second; piped, nothing; both answer the same', async () => {
    const home = await oldProfile();
    const twin = tempHome();
    fs.cpSync(home, twin, { recursive: true });

    const command = `${process.execPath} ${CLI} history --peer 5 --limit 2 --home ${home}`;
    const tty = await runProgram('/usr/bin/script', ['-qec', command, '/dev/null'], { timeoutMs: 180_000 });
    expect(tty.code, tty.stdout + tty.stderr).toBe(0);
    // On the terminal: the line rewritten in place, up to 100%, then the answer.
    expect(tty.stdout).toMatch(/\rparley: rebuilding the [a-z, ]*messages[a-z, ]* view from the journal: \d+%/);
    expect(tty.stdout).toMatch(/: 100%\r?\n/);
    const answer = tty.stdout.slice(tty.stdout.lastIndexOf('100%'));
    expect(answer).toContain('old ' + (MESSAGES - 2));
    expect(answer).toContain('old ' + (MESSAGES - 1));

    // The same profile piped: no progress at all, the same two messages.
    const piped = await runParley(['history', '--peer', '5', '--limit', '2'], { home: twin, timeoutMs: 180_000 });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout.trim().split('\n').map((l) => l.trim())).toEqual(answer.split(/\r?\n/).slice(1).map((l) => l.trim()).filter(Boolean));

    // Once rebuilt, a start has nothing to rebuild: no progress even on a terminal.
    const again = await runProgram('/usr/bin/script', ['-qec', command, '/dev/null'], { timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain('rebuilding');
  }, 400_000);
});
