// A full disk: appends fail with a clear error, nothing acknowledged is lost, numbering stays
// gap-free, and the journal opens and goes on once space is free again. A real full file
// system: a small tmpfs mounted for the test (root only; CI runs as root). Outside CI a run
// that cannot mount says so on stderr and skips; in CI (CI set) it fails, or the test would
// silently never run there.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJournal, type Journal } from '../../src/events/journal.js';

const isRoot = process.getuid?.() === 0;
const inCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false' && process.env.CI !== '0';
let mnt = '';
let mounted = false;
let whyNot = 'not root';

// The reason a command failed: its own first line on stderr ("target is busy"), not Node's
// "Command failed: ...".
function whyFailed(err: unknown): string {
  return String((err as { stderr?: Buffer }).stderr || (err as Error).message).trim().split('\n')[0];
}

beforeAll(() => {
  if (!isRoot) return;
  mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    // Root in a container without CAP_SYS_ADMIN cannot mount: said, then skipped (failed in CI).
    whyNot = `mount failed: ${whyFailed(err)}`;
  }
});

// Unmounts whatever the test did. The test closes what it opened in a finally; should something
// still hold the tmpfs busy, it is detached (umount -l) rather than left mounted, and said.
afterAll(() => {
  if (!mnt) return;
  if (mounted) {
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch (err) {
      process.stderr.write(`full-disk test: ${whyFailed(err)}; detaching it\n`);
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    }
    mounted = false;
  }
  fs.rmSync(mnt, { recursive: true, force: true });
});

describe('journal on a full disk', () => {
  it('journal - a full disk fails appends with JOURNAL_WRITE_FAILED and keeps what was stored', async (ctx) => {
    if (!mounted) {
      if (inCi) throw new Error(`full-disk test cannot run in CI: ${whyNot}`);
      process.stderr.write(`full-disk test skipped: ${whyNot}\n`);
      ctx.skip();
    }
    // What the test holds open on the tmpfs is closed whatever happens: an open file keeps the
    // tmpfs busy, and afterAll could not unmount it.
    let journal: Journal | null = null;
    let fd: number | null = null;
    try {
      const home = path.join(mnt, 'home');
      fs.mkdirSync(home);
      const dir = path.join(home, 'journal');
      journal = await openJournal(dir, home);
      // Leave LevelDB little room, then write until the disk is full.
      const filler = path.join(mnt, 'filler');
      fd = fs.openSync(filler, 'w');
      try {
        for (;;) fs.writeSync(fd, Buffer.alloc(64 * 1024));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      fs.closeSync(fd);
      fd = null;
      fs.truncateSync(filler, fs.statSync(filler).size - 256 * 1024);

      const acknowledged: number[] = [];
      let failure: unknown = null;
      const text = 'x'.repeat(2000);
      for (let i = 0; i < 10_000 && !failure; i++) {
        try {
          const batch = await journal.appendMany(Array.from({ length: 20 }, (_, k) => ({ type: 'message.sent' as const, id: `m${i}-${k}`, peer: 7, text, packets: 1 })));
          for (const e of batch) acknowledged.push(e.seq);
        } catch (err) {
          failure = err;
        }
      }
      expect(failure).toMatchObject({ code: 'JOURNAL_WRITE_FAILED', message: expect.stringContaining('free disk space') });
      expect(acknowledged.length).toBeGreaterThan(0);
      await journal.close().catch(() => undefined);
      journal = null;

      // Space again: the journal opens, holds every acknowledged event, gap-free, and goes on.
      fs.rmSync(filler);
      journal = await openJournal(dir, home);
      const seqs: number[] = [];
      await journal.scan((e) => seqs.push(e.seq));
      expect(seqs.slice(0, acknowledged.length)).toEqual(acknowledged);
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
      const next = await journal.append({ type: 'message.sent', id: 'after', peer: 7, text: 'ok', packets: 1 });
      expect(next.seq).toBe(seqs.length + 1);
    } finally {
      if (fd !== null) fs.closeSync(fd);
      await (journal as Journal | null)?.close().catch(() => undefined);
    }
  });
});
