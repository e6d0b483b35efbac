// parley send-file, parley transfers and transfers accept|decline|cancel, run as a person runs
// them: the refusals that journal nothing, the offer (its spend and its event in one batch), the
// list as JSON and as a table, the answers and their state rules, and the same commands
// forwarded to a running client. Transfers offered by a peer are written straight into the
// profile (appendEvents), as the transfer engine would journal them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/events/types.js';
import { CLI, appendEvents, expectRefused, jsonLines, lines, ok, ROOT, runParley, runProgram, tempHome } from '../helpers/cli.js';
import { clientInitArgs, startUp } from '../helpers/client.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';

const MIB = 1_048_576;
const ROW_KEYS = ['seq', 'id', 'peer', 'direction', 'name', 'size', 'done', 'wire_bytes', 'state', 'reason', 'mb_per_s', 'avg_mb_per_s', 'path'];

async function journal(home: string, type?: string): Promise<Array<Record<string, unknown>>> {
  const r = await ok(['journal', 'inspect', '--json', ...(type ? ['--type', type] : [])], { home });
  return jsonLines(r.stdout);
}

async function listed(home: string, extra: string[] = []): Promise<Array<Record<string, unknown>>> {
  return jsonLines((await ok(['transfers', '--json', ...extra], { home })).stdout);
}

async function profileWithBob(prefix = 'files'): Promise<string> {
  const home = tempHome(prefix);
  await ok(['contacts', 'add', '77', '--name', 'Bob'], { home });
  return home;
}

// A file of `size` bytes in a folder of its own.
function fileOf(name: string, size: number): string {
  const file = path.join(tempHome('src'), name);
  fs.writeFileSync(file, Buffer.alloc(size, 7));
  return file;
}

const offerIn = (id: string, peer: number, name: string, size: number, at = 1000): NewEvent => ({ type: 'transfer.offered', id, peer, direction: 'in', name, size, chunkSize: MIB, at });

describe('send-file - refusals journal nothing', () => {
  it('send-file - a missing file, a folder, a pipe and a name the receiver would refuse: exit 2, one line', async () => {
    const home = await profileWithBob();
    const before = await journal(home);
    const dir = tempHome('src');
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // Names Linux takes and a receiver refuses.
    const device = fileOf('nul.txt', 10);
    const dotted = fileOf('report.pdf.', 10);
    const bidi = fileOf('invoice\u202efdp.exe', 10);
    const cases: Array<[string, string]> = [
      [path.join(dir, 'missing.bin'), `parley: ${path.join(dir, 'missing.bin')} does not exist\n`],
      [dir, `parley: ${dir} is a folder: send the files in it one by one, or an archive of it\n`],
      [fifo, `parley: ${fifo} is not a regular file (a device, a pipe or a socket): only files can be sent\n`],
      [device, "parley: the receiver would refuse this file's name: NUL is a device name on Windows, with or without an extension; send a copy under another name\n"],
      [dotted, "parley: the receiver would refuse this file's name: the name ends with a dot or a space, which Windows drops; send a copy under another name\n"],
      [bidi, "parley: the receiver would refuse this file's name: the name has a bidirectional text control (U+202E), which can make it read as another name; send a copy under another name\n"],
    ];
    const results = await Promise.all(cases.map(([file]) => runParley(['send-file', '--to', '77', '--yes', file], { home })));
    results.forEach((r, i) => {
      expectRefused(r);
      expect(r.stderr).toBe(cases[i][1]);
    });
    expect(await journal(home)).toEqual(before);
  });

  it.skipIf(process.getuid?.() === 0)('send-file - a file it may not read: exit 2', async () => {
    const home = await profileWithBob();
    const file = fileOf('secret.bin', 10);
    fs.chmodSync(file, 0o000);
    const r = await runParley(['send-file', '--to', '77', file], { home });
    expectRefused(r);
    expect(r.stderr).toBe(`parley: cannot read ${file} (EACCES): check its permissions\n`);
  });

  it('send-file - to someone who is not a contact: exit 4, the journal unchanged', async () => {
    const home = await profileWithBob();
    const before = await journal(home);
    const r = await runParley(['send-file', '--to', '78', '--yes', fileOf('a.bin', 10)], { home });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('parley: 78 is not one of your contacts: add it first with parley contacts add 78 --name NAME\n');
    expect(await journal(home)).toEqual(before);
  });

  it('send-file - more than one packet without --yes and without a terminal: exit 5, nothing journaled; a bad id: exit 2', async () => {
    const home = await profileWithBob();
    const before = await journal(home);
    const r = await runParley(['send-file', '--to', '77', fileOf('two.bin', 65_536)], { home, input: 'y\n' });
    expect(r.code).toBe(5);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('parley: this file takes 2 packets of your file limit with 77: add --yes to send it\n');
    expectRefused(await runParley(['send-file', '--to', 'bob', '--yes', fileOf('a.bin', 1)], { home }));
    expect(await journal(home)).toEqual(before);
  });
});

describe('send-file - an offer', () => {
  it('send-file - journals quota.spent and transfer.offered in one batch, with the absolute path of a relative one', async () => {
    const home = await profileWithBob();
    const file = fileOf('report.pdf', 3 * MIB + 5);
    // runParley runs in the repository's folder: the path is relative to it.
    const relative = path.relative(ROOT, file);
    expect(path.isAbsolute(relative)).toBe(false);
    const r = await ok(['send-file', '--to', '77', '--yes', '--json', relative], { home });
    const [printed] = jsonLines(r.stdout);
    expect(printed).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), state: 'offered' });
    const id = printed.id as string;
    const packets = Math.ceil((3 * MIB + 5) / 65_535);
    // Nothing granted yet, no client running: both said.
    expect(lines(r.stderr)).toEqual([
      `parley: Bob has granted you 0 more file packet(s) and this file takes ${packets}: it waits for their grant (a new contact's first grant comes with the first link)`,
      "parley: it goes when your client (parley up) and Bob's are both running; there is no store-and-forward yet",
    ]);
    const events = (await journal(home)).slice(-2);
    expect(events).toEqual([
      expect.objectContaining({ type: 'quota.spent', peer: 77, direction: 'outbound', kind: 'files', n: packets, ref: id }),
      expect.objectContaining({ type: 'transfer.offered', id, peer: 77, direction: 'out', name: 'report.pdf', size: 3 * MIB + 5, chunkSize: MIB, path: file }),
    ]);
    // One batch: one time.
    expect(events[0].at).toBe(events[1].at);
    expect((await ok(['limits', '--peer', '77', '--json'], { home })).stdout).toContain(`"spent":${packets}`);
  });

  it('send-file - one packet needs no --yes, and within the grant nothing is said of it', async () => {
    const home = await profileWithBob();
    await appendEvents(home, [{ type: 'quota.granted', peer: 77, direction: 'outbound', kind: 'files', n: 5 }]);
    const r = await ok(['send-file', '--to', '77', fileOf('note.txt', 65_535)], { home });
    expect(r.stdout).toMatch(/^[0-9a-f]{16} offered\n$/);
    expect(r.stderr).not.toContain('granted');
    expect(await journal(home, 'transfer.offered')).toEqual([expect.objectContaining({ name: 'note.txt', size: 65_535 })]);
  });

  it('send-file - an empty file spends one packet', async () => {
    const home = await profileWithBob();
    await ok(['send-file', '--to', '77', fileOf('empty', 0)], { home });
    expect(await journal(home, 'quota.spent')).toEqual([expect.objectContaining({ n: 1 })]);
  });

  it('send-file - on a terminal: asked; y offers it, n exits 5', async () => {
    const home = await profileWithBob();
    const file = fileOf('big.bin', 200_000);
    const onTerminal = (answer: string) =>
      runProgram('/usr/bin/script', ['-qec', `${process.execPath} ${CLI} send-file --to 77 --home ${home} ${file}`, '/dev/null'], { input: answer, timeoutMs: 60_000 });
    const no = await onTerminal('n\n');
    expect(no.code, no.stdout).toBe(5);
    expect(no.stdout).toContain('This file takes 4 packets of your file limit with 77. Send it? [y/N] ');
    expect(await journal(home, 'transfer.offered')).toEqual([]);
    const yes = await onTerminal('y\n');
    expect(yes.code, yes.stdout).toBe(0);
    expect(yes.stdout).toMatch(/[0-9a-f]{16} offered/);
    expect(await journal(home, 'transfer.offered')).toHaveLength(1);
  });
});

describe('transfers - the list', () => {
  it('transfers - an outgoing offer as JSON: every field, from the stored view', async () => {
    const home = await profileWithBob();
    const file = fileOf('a.bin', 10);
    const id = (jsonLines((await ok(['send-file', '--to', '77', '--json', file], { home })).stdout)[0] as { id: string }).id;
    const rows = await listed(home);
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0])).toEqual(ROW_KEYS);
    expect(rows[0]).toEqual({ seq: expect.any(Number), id, peer: 77, direction: 'out', name: 'a.bin', size: 10, done: 0, wire_bytes: 0, state: 'offered', reason: null, mb_per_s: null, avg_mb_per_s: null, path: file });
  });

  it('transfers - incoming ones: done bytes capped at the size, the average speed over the time active, a live speed of 0 without a client and none once finished, the reason of an end', async () => {
    const home = await profileWithBob();
    const size = 3 * MIB + 100;
    await appendEvents(home, [
      offerIn('t1', 77, 'movie.mkv', size, 1000),
      { type: 'transfer.accepted', id: 't1', peer: 77, direction: 'in', path: '/dl/movie.mkv', at: 2000 },
      { type: 'transfer.chunks-stored', id: 't1', peer: 77, direction: 'in', chunks: [0, 1], wireBytes: 2 * MIB + 10, at: 3000 },
      offerIn('t2', 77, 'small.txt', 100, 4000),
      { type: 'transfer.accepted', id: 't2', peer: 77, direction: 'in', path: '/dl/small.txt', at: 4100 },
      { type: 'transfer.chunks-stored', id: 't2', peer: 77, direction: 'in', chunks: [0], wireBytes: 100, at: 4200 },
      { type: 'transfer.completed', id: 't2', peer: 77, direction: 'in', at: 4300 },
      offerIn('t3', 77, 'junk.exe', 5, 5000),
      { type: 'transfer.declined', id: 't3', peer: 77, direction: 'in', reason: 'not now', at: 5100 },
    ]);
    const rows = await listed(home);
    // Newest offer first.
    expect(rows.map((r) => r.id)).toEqual(['t3', 't2', 't1']);
    expect(rows[2]).toMatchObject({ direction: 'in', name: 'movie.mkv', size, done: 2 * MIB, wire_bytes: 2 * MIB + 10, state: 'active', reason: null, path: '/dl/movie.mkv' });
    // 2 MiB in 1 s active (accepted at 2000, last update at 3000; the wait for the acceptance
    // does not count), in 10^6 bytes a second; no client runs on the profile, so nothing moves:
    // a live speed of 0.
    expect(rows[2].avg_mb_per_s).toBe(2.097);
    expect(rows[2].mb_per_s).toBe(0);
    // 100 bytes in 200 ms active (4100 to 4300): 0.0005 MB/s, to the kB/s.
    expect(rows[1]).toMatchObject({ state: 'completed', done: 100, size: 100, mb_per_s: null, avg_mb_per_s: 0.001, reason: null });
    expect(rows[0]).toMatchObject({ state: 'declined', reason: 'not now', done: 0, mb_per_s: null, avg_mb_per_s: null, path: null });
  });

  it('transfers - paged newest first with --limit and --before, and a table without --json', async () => {
    const home = await profileWithBob();
    await appendEvents(home, [offerIn('a', 77, 'a.txt', 10), offerIn('b', 77, 'b.txt', 2_500_000), offerIn('c', 77, 'c.txt', 10)]);
    const all = await listed(home);
    expect(all.map((r) => r.id)).toEqual(['c', 'b', 'a']);
    expect((await listed(home, ['--limit', '2'])).map((r) => r.id)).toEqual(['c', 'b']);
    expect((await listed(home, ['--limit', '2', '--before', String(all[1].seq)])).map((r) => r.id)).toEqual(['a']);
    expect(await listed(home, ['--limit', '0'])).toEqual([]);

    const table = lines((await ok(['transfers'], { home })).stdout);
    expect(table).toEqual(['c  ← Bob  c.txt  10 B  0%  offered', 'b  ← Bob  b.txt  2.5 MB  0%  offered', 'a  ← Bob  a.txt  10 B  0%  offered']);
    expect((await ok(['transfers'], { home: tempHome('none') })).stdout).toBe('no transfers\n');
    expectRefused(await runParley(['transfers', '--limit', '-1'], { home }));
  });

  it('transfers - a name or reason from a peer never reaches the terminal raw', async () => {
    const home = await profileWithBob();
    await appendEvents(home, [
      offerIn('x', 77, 'a\u001b[2Jb\u202e.txt', 10),
      { type: 'transfer.declined', id: 'x', peer: 77, direction: 'in', reason: 'no\u009b31m', at: 2000 },
    ]);
    const table = (await ok(['transfers'], { home })).stdout;
    expect(table).toBe('x  ← Bob  a\\u001b[2Jb\\u202e.txt  10 B  0%  declined: no\\u009b31m\n');
    const json = (await ok(['transfers', '--json'], { home })).stdout;
    // eslint-disable-next-line no-control-regex
    expect(json.trimEnd()).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(JSON.parse(json)).toMatchObject({ name: 'a\u001b[2Jb\u202e.txt', reason: 'no\u009b31m' });
  });
});

describe('transfers - accept, decline, cancel', () => {
  it('transfers accept - an offer becomes active, going to the downloads folder (made now); a second accept: exit 2 saying its state', async () => {
    const home = await profileWithBob();
    await appendEvents(home, [offerIn('t1', 77, 'photo.jpg', 10)]);
    const r = await ok(['transfers', 'accept', 't1', '--json'], { home });
    const target = path.join(home, 'downloads', 'photo.jpg');
    expect(jsonLines(r.stdout)).toEqual([{ id: 't1', peer: 77, state: 'active', path: target }]);
    expect(fs.statSync(path.join(home, 'downloads')).isDirectory()).toBe(true);
    expect(await journal(home, 'transfer.accepted')).toEqual([expect.objectContaining({ id: 't1', peer: 77, direction: 'in', path: target })]);
    expect((await listed(home))[0]).toMatchObject({ state: 'active', path: target });

    const again = await runParley(['transfers', 'accept', 't1'], { home });
    expectRefused(again);
    expect(again.stderr).toBe('parley: transfer t1 from Bob (77) is active: only an offer can be accepted\n');
    expect(await journal(home, 'transfer.accepted')).toHaveLength(1);
  });

  it('transfers accept - into the downloads folder set; a folder that cannot be made: exit 2, nothing journaled', async () => {
    const home = await profileWithBob();
    await appendEvents(home, [offerIn('t1', 77, 'a.txt', 10), offerIn('t2', 77, 'b.txt', 10)]);
    const set = path.join(tempHome('dl'), 'in');
    await ok(['settings', 'set', 'downloads', set], { home });
    expect(lines((await ok(['transfers', 'accept', 't1'], { home })).stdout)).toEqual([`t1 accepted: it goes to ${path.join(set, 'a.txt')}`]);

    const blocked = path.join(home, 'blocked');
    fs.writeFileSync(blocked, '');
    await ok(['settings', 'set', 'downloads', path.join(blocked, 'in')], { home });
    const r = await runParley(['transfers', 'accept', 't2'], { home });
    expectRefused(r);
    expect(r.stderr).toMatch(/^parley: cannot use the downloads folder .*blocked\/in \(ENOTDIR\)/);
    expect(await journal(home, 'transfer.accepted')).toHaveLength(1);
  });

  it('transfers accept - an unknown id: exit 4; a bad one: exit 2; my own offer is not one to accept', async () => {
    const home = await profileWithBob();
    const unknown = await runParley(['transfers', 'accept', 'nope'], { home });
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toBe('parley: there is no transfer nope (parley transfers lists them)\n');
    expectRefused(await runParley(['transfers', 'accept', 'a b'], { home }));
    const mine = (jsonLines((await ok(['send-file', '--to', '77', '--json', fileOf('a.bin', 1)], { home })).stdout)[0] as { id: string }).id;
    expect((await runParley(['transfers', 'accept', mine], { home })).code).toBe(4);
  });

  it('transfers accept - the same id offered by two contacts: exit 2 naming both, --peer chooses', async () => {
    const home = await profileWithBob();
    await ok(['contacts', 'add', '5', '--name', 'Ann'], { home });
    await appendEvents(home, [offerIn('same', 77, 'from-bob.txt', 10), offerIn('same', 5, 'from-ann.txt', 10)]);
    const r = await runParley(['transfers', 'accept', 'same'], { home });
    expectRefused(r);
    expect(r.stderr).toBe('parley: 2 transfers have the id same (from Ann (5), from Bob (77)): choose one with --peer ID\n');
    await ok(['transfers', 'accept', 'same', '--peer', '5'], { home });
    expect(await journal(home, 'transfer.accepted')).toEqual([expect.objectContaining({ id: 'same', peer: 5 })]);
    // Only Bob's is an offer now: no --peer needed.
    await ok(['transfers', 'accept', 'same'], { home });
    expect((await journal(home, 'transfer.accepted')).map((e) => e.peer)).toEqual([5, 77]);
    expect((await runParley(['transfers', 'accept', 'same', '--peer', '6'], { home })).code).toBe(4);
  });

  it('transfers accept - an offer whose name got into the view is never a path out of the downloads folder', async () => {
    const home = await profileWithBob();
    await appendEvents(home, [offerIn('evil', 77, '../../.bashrc', 10)]);
    const r = await runParley(['transfers', 'accept', 'evil'], { home });
    expectRefused(r);
    expect(r.stderr).toBe('parley: transfer evil cannot be accepted: the name has a path separator (/ or \\): a name, not a path; decline it\n');
    expect(await journal(home, 'transfer.accepted')).toEqual([]);
  });

  it('transfers decline - an offer, with a reason or without; an active one or a bad reason: exit 2', async () => {
    const home = await profileWithBob();
    await appendEvents(home, [offerIn('t1', 77, 'a.txt', 10), offerIn('t2', 77, 'b.txt', 10), offerIn('t3', 77, 'c.txt', 10)]);
    expect((await ok(['transfers', 'decline', 't1', '--reason', 'too big for me'], { home })).stdout).toBe('t1 declined\n');
    expect(jsonLines((await ok(['transfers', 'decline', 't2', '--json'], { home })).stdout)).toEqual([{ id: 't2', peer: 77, state: 'declined', reason: 'no reason given' }]);
    expect(await journal(home, 'transfer.declined')).toEqual([
      expect.objectContaining({ id: 't1', peer: 77, direction: 'in', reason: 'too big for me' }),
      expect.objectContaining({ id: 't2', peer: 77, direction: 'in', reason: 'no reason given' }),
    ]);
    expect((await listed(home, ['--limit', '3'])).map((r) => [r.id, r.state, r.reason])).toEqual([
      ['t3', 'offered', null],
      ['t2', 'declined', 'no reason given'],
      ['t1', 'declined', 'too big for me'],
    ]);

    expectRefused(await runParley(['transfers', 'decline', 't3', '--reason', 'a\u001b[2J'], { home }));
    expectRefused(await runParley(['transfers', 'decline', 't3', '--reason', ' '], { home }));
    await ok(['transfers', 'accept', 't3'], { home });
    const active = await runParley(['transfers', 'decline', 't3'], { home });
    expectRefused(active);
    expect(active.stderr).toBe('parley: transfer t3 from Bob (77) is active: only an offer can be declined (parley transfers cancel stops it)\n');
    const declined = await runParley(['transfers', 'decline', 't1'], { home });
    expect(declined.stderr).toBe('parley: transfer t1 from Bob (77) is declined: only an offer can be declined\n');
    expect(await journal(home, 'transfer.declined')).toHaveLength(2);
  });

  it('transfers cancel - mine or theirs, offered or active; a finished one: exit 2 saying its state', async () => {
    const home = await profileWithBob();
    const mine = (jsonLines((await ok(['send-file', '--to', '77', '--json', fileOf('a.bin', 1)], { home })).stdout)[0] as { id: string }).id;
    await appendEvents(home, [
      offerIn('t1', 77, 'b.txt', 10),
      { type: 'transfer.accepted', id: 't1', peer: 77, direction: 'in', path: '/dl/b.txt' },
      offerIn('t2', 77, 'c.txt', 10),
      { type: 'transfer.completed', id: 't2', peer: 77, direction: 'in' },
    ]);
    expect(jsonLines((await ok(['transfers', 'cancel', mine, '--json'], { home })).stdout)).toEqual([{ id: mine, peer: 77, direction: 'out', state: 'cancelled' }]);
    expect((await ok(['transfers', 'cancel', 't1'], { home })).stdout).toBe('t1 cancelled\n');
    expect(await journal(home, 'transfer.cancelled')).toEqual([
      expect.objectContaining({ id: mine, peer: 77, direction: 'out', by: 'me' }),
      expect.objectContaining({ id: 't1', peer: 77, direction: 'in', by: 'me' }),
    ]);
    expect((await listed(home)).map((r) => [r.id, r.state, r.reason])).toEqual([
      ['t2', 'completed', null],
      ['t1', 'cancelled', 'cancelled by me'],
      [mine, 'cancelled', 'cancelled by me'],
    ]);

    const finished = await runParley(['transfers', 'cancel', 't2'], { home });
    expectRefused(finished);
    expect(finished.stderr).toBe('parley: transfer t2 from Bob (77) is completed already: there is nothing to cancel\n');
    const again = await runParley(['transfers', 'cancel', mine, '--peer', '77'], { home });
    expect(again.stderr).toBe(`parley: transfer ${mine} to Bob (77) is cancelled already: there is nothing to cancel\n`);
    expect((await runParley(['transfers', 'cancel', 'nope'], { home })).code).toBe(4);
    expect(await journal(home, 'transfer.cancelled')).toHaveLength(2);
  });

  it('transfers cancel - the same id both ways with one contact: --direction chooses', async () => {
    const home = await profileWithBob();
    await appendEvents(home, [
      { type: 'transfer.offered', id: 'dup', peer: 77, direction: 'out', name: 'mine.txt', size: 1, chunkSize: MIB, path: '/x/mine.txt' },
      offerIn('dup', 77, 'theirs.txt', 1),
    ]);
    const r = await runParley(['transfers', 'cancel', 'dup', '--peer', '77'], { home });
    expectRefused(r);
    expect(r.stderr).toBe('parley: 2 transfers have the id dup (from Bob (77), to Bob (77)): choose one with --peer ID --direction in|out\n');
    expectRefused(await runParley(['transfers', 'cancel', 'dup', '--direction', 'sideways'], { home }));
    await ok(['transfers', 'cancel', 'dup', '--direction', 'out'], { home });
    expect(await journal(home, 'transfer.cancelled')).toEqual([expect.objectContaining({ id: 'dup', direction: 'out' })]);
  });
});

describe('transfers - with a running client', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeServerPki(['alice']);
  });
  afterAll(() => cleanup(pki?.dir));

  it("transfers - send-file, the list and an answer go to the running client; a relative path is the caller's", async () => {
    const home = tempHome('files-up');
    await ok(clientInitArgs(pki, 'alice', '127.0.0.1:1'), { home });
    await ok(['contacts', 'add', '77', '--name', 'Bob'], { home });
    await appendEvents(home, [offerIn('t1', 77, 'in.txt', 10)]);
    const file = fileOf('out.txt', 10);
    const u = startUp(pki, home);
    try {
      await u.waitFor('Ctrl+C stops it');
      // Typed in the file's folder; the client runs in another.
      const sent = await runProgram('/bin/sh', ['-c', `cd '${path.dirname(file)}' && '${process.execPath}' '${CLI}' send-file --to 77 --json out.txt --home '${home}'`]);
      expect(sent.code, sent.stderr).toBe(0);
      expect(sent.stderr).toContain('Bob is offline: it goes when their client is up');
      const id = (jsonLines(sent.stdout)[0] as { id: string }).id;
      await ok(['transfers', 'accept', 't1'], { home });
      const rows = await listed(home);
      expect(rows.map((r) => [r.id, r.direction, r.state, r.path])).toEqual([
        [id, 'out', 'offered', file],
        ['t1', 'in', 'active', path.join(home, 'downloads', 'in.txt')],
      ]);
    } finally {
      u.child.kill('SIGTERM');
      await u.exited;
    }
  });
});
