// parley contacts [--json]; parley contacts add ID --name NAME — run as a new user runs them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { appendEvents, expectRefused, jsonLines, lines, ok, runParley, tempHome } from '../helpers/cli.js';

const CONTACT_KEYS = ['blocked', 'folder', 'id', 'name', 'whitelisted'];
const BAD_IDS = ['0', '1099511627776', 'abc', '-1', '1.5'];

function expectContactRow(row: Record<string, unknown>): void {
  expect(Object.keys(row).sort()).toEqual(CONTACT_KEYS);
  expect(Number.isSafeInteger(row.id)).toBe(true);
  expect(typeof row.name).toBe('string');
  expect(typeof row.folder).toBe('string');
  expect(typeof row.whitelisted).toBe('boolean');
  expect(typeof row.blocked).toBe('boolean');
}

async function journalOf(home: string): Promise<string> {
  const r = await runParley(['journal', 'inspect', '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('contacts', () => {
  test('contacts - a new user lists no contacts, with and without --json', async () => {
    const home = path.join(tempHome(), 'profile');
    const json = await runParley(['contacts', '--json'], { home });
    expect(json).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const plain = await runParley(['contacts'], { home });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/no contacts yet/);
  });

  test('contacts - add then list with --home prints {id,name,folder,whitelisted,blocked}', async () => {
    const home = path.join(tempHome(), 'profile');
    const added = await runParley(['contacts', 'add', '42', '--name', 'Ann', '--json'], { home });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toBe('');
    const [row] = jsonLines(added.stdout);
    expectContactRow(row);
    expect(row).toEqual({ id: 42, name: 'Ann', folder: 'main', whitelisted: true, blocked: false });
    expect(fs.existsSync(path.join(home, 'journal'))).toBe(true);

    await runParley(['contacts', 'add', '7', '--name', 'Борис 🐻'], { home });
    const list = await runParley(['contacts', '--json'], { home });
    expect(list.code).toBe(0);
    const rows = jsonLines(list.stdout);
    rows.forEach(expectContactRow);
    expect(rows).toEqual([
      { id: 7, name: 'Борис 🐻', folder: 'main', whitelisted: true, blocked: false },
      { id: 42, name: 'Ann', folder: 'main', whitelisted: true, blocked: false },
    ]);

    const plain = await runParley(['contacts'], { home });
    expect(plain.code).toBe(0);
    expect(lines(plain.stdout)).toHaveLength(2);
    expect(plain.stdout).toContain('Борис 🐻');
  });

  test('contacts - PARLEY_HOME chooses the profile, and --home wins over it', async () => {
    const dir = tempHome();
    const envHome = path.join(dir, 'env-profile');
    const optHome = path.join(dir, 'opt-profile');
    const env = { PARLEY_HOME: envHome };
    const added = await runParley(['contacts', 'add', '1099511627775', '--name', 'Max', '--json'], { env });
    expect(added.code, added.stderr).toBe(0);
    expect(jsonLines(added.stdout)).toEqual([{ id: 1099511627775, name: 'Max', folder: 'main', whitelisted: true, blocked: false }]);
    expect(fs.existsSync(path.join(envHome, 'journal'))).toBe(true);

    const listed = await runParley(['contacts', '--json'], { env });
    expect(jsonLines(listed.stdout).map((r) => r.id)).toEqual([1099511627775]);

    // --home over PARLEY_HOME: the other profile is written, the env's one is left alone.
    const other = await runParley(['contacts', 'add', '3', '--name', 'Cy', '--json'], { env, home: optHome });
    expect(other.code, other.stderr).toBe(0);
    expect(jsonLines((await runParley(['contacts', '--json'], { home: optHome })).stdout).map((r) => r.id)).toEqual([3]);
    expect(jsonLines((await runParley(['contacts', '--json'], { env })).stdout).map((r) => r.id)).toEqual([1099511627775]);
  });

  test('contacts - adding a known contact again renames it, with no second contact', async () => {
    const home = tempHome();
    await runParley(['contacts', 'add', '9', '--name', 'Old'], { home });
    const again = await runParley(['contacts', 'add', '9', '--name', 'New', '--json'], { home });
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stdout)).toEqual([{ id: 9, name: 'New', folder: 'main', whitelisted: true, blocked: false }]);
    expect(jsonLines((await runParley(['contacts', '--json'], { home })).stdout)).toHaveLength(1);
    const renamed = jsonLines((await runParley(['journal', 'inspect', '--type', 'contact.renamed', '--json'], { home })).stdout);
    expect(renamed.map((e) => e.name)).toEqual(['New']);
  });

  for (const bad of BAD_IDS) {
    test(`contacts - refuses id ${bad} with exit 2 and creates no profile`, async () => {
      const home = path.join(tempHome(), 'profile');
      const r = await runParley(['contacts', 'add', bad, '--name', 'X'], { home });
      expectRefused(r);
      expect(r.stderr).toContain(`"${bad}"`);
      // The id is checked before the profile is opened: not even its folder is made.
      expect(fs.existsSync(home)).toBe(false);
    });

    test(`contacts - refuses id ${bad} with exit 2 and writes nothing to an existing profile`, async () => {
      const home = tempHome();
      await runParley(['contacts', 'add', '5', '--name', 'Ann'], { home });
      const before = await journalOf(home);
      expectRefused(await runParley(['contacts', 'add', bad, '--name', 'X', '--json'], { home }));
      expect(await journalOf(home)).toBe(before);
    });
  }

  test('contacts - refuses an empty or control-character name with exit 2', async () => {
    const home = path.join(tempHome(), 'profile');
    expectRefused(await runParley(['contacts', 'add', '5', '--name', '   '], { home }));
    expectRefused(await runParley(['contacts', 'add', '5', '--name', 'a\u0007b'], { home }));
    expect(fs.existsSync(home)).toBe(false);
  });

  test('contacts - refuses a name with a C1 control character (U+0080..U+009F) with exit 2, as the wire would', async () => {
    const home = path.join(tempHome(), 'profile');
    // NEL, CSI (a terminal may read it as ESC [) and the last of C1; a no-break space, just after C1, is a letter.
    for (const name of ['Ann\u0085', 'a\u009b2Jb', 'Ann\u009f']) {
      const r = await runParley(['contacts', 'add', '5', '--name', name], { home });
      expectRefused(r);
      expect(r.stderr).toMatch(/contact name must be 1 to 100 characters with no control characters \(U\+0000-U\+001F, U\+007F-U\+009F\)/);
    }
    expect(fs.existsSync(home)).toBe(false);
    const ok = await runParley(['contacts', 'add', '5', '--name', 'Ann\u00a0Lee', '--json'], { home });
    expect(ok.code, ok.stderr).toBe(0);
    expect(jsonLines(ok.stdout)).toEqual([{ id: 5, name: 'Ann\u00a0Lee', folder: 'main', whitelisted: true, blocked: false }]);
  });

  test('contacts - commander usage errors exit 2 with one line', async () => {
    const home = path.join(tempHome(), 'profile');
    const cases: [string[], RegExp][] = [
      [['contacts', '--bogus'], /unknown option '--bogus'/],
      [['contacts', 'add', '--name', 'X'], /missing required argument 'id'/],
      [['contacts', 'add', '5'], /required option '--name <name>' not specified/],
      [['contacts', 'add', '5', '--name'], /argument missing/],
      [['contacts', 'add', '5', '6', '--name', 'X'], /too many arguments/],
    ];
    // The profile through the environment: an option appended after `--name` would be its value.
    const results = await Promise.all(cases.map(([args]) => runParley(args, { env: { PARLEY_HOME: home } })));
    results.forEach((r, i) => {
      expectRefused(r);
      expect(r.stderr).toMatch(cases[i][1]);
    });
    expect(fs.existsSync(home)).toBe(false);
  });

  test('contacts remove - the contact leaves the list, its unacknowledged messages fail, its chat and limits stay; added again it finds its history', async () => {
    const home = tempHome();
    await ok(['contacts', 'add', '7', '--name', 'Ann'], { home });
    await ok(['contacts', 'add', '8', '--name', 'Bo'], { home });
    // A chat with history: one of mine delivered, one of hers, then two that wait for a link.
    await appendEvents(home, [
      { type: 'message.sent', id: 'd1', peer: 7, text: 'delivered', packets: 1 },
      { type: 'message.delivered', id: 'd1', peer: 7, receivedAt: 1_700_000_000_000 },
      { type: 'message.received', id: 'r1', peer: 7, text: 'hers', sentAt: 1_700_000_000_000 },
      { type: 'message.sent', id: 's1', peer: 7, text: 'sent, never acknowledged', packets: 1 },
      { type: 'message.transmitted', id: 's1', peer: 7 },
    ]);
    const pending = JSON.parse((await ok(['send', '--to', '7', '--json', 'pending'], { home })).stdout) as { id: string };
    const limitsBefore = (await ok(['limits', '--peer', '7', '--json'], { home })).stdout;

    const removed = await ok(['contacts', 'remove', '7', '--json'], { home });
    expect(jsonLines(removed.stdout)).toEqual([{ id: 7, removed: true, failed: 2, blocked: false }]);
    expect(jsonLines((await ok(['contacts', '--json'], { home })).stdout).map((r) => r.id)).toEqual([8]);
    const history = jsonLines((await ok(['history', '--peer', '7', '--json'], { home })).stdout);
    expect(history.map((m) => [m.id, m.status, m.reason])).toEqual([
      ['d1', 'delivered', null],
      ['r1', 'received', null],
      ['s1', 'failed', 'contact removed'],
      [pending.id, 'failed', 'contact removed'],
    ]);
    const failed = jsonLines((await ok(['journal', 'inspect', '--type', 'message.failed', '--json'], { home })).stdout);
    expect(failed.map((e) => [e.id, e.peer, e.reason])).toEqual([['s1', 7, 'contact removed'], [pending.id, 7, 'contact removed']]);
    expect((await ok(['limits', '--peer', '7', '--json'], { home })).stdout).toBe(limitsBefore);

    // No longer a contact: nothing can be sent to it (exit 4), and nothing is journaled.
    const before = await journalOf(home);
    const send = await runParley(['send', '--to', '7', 'still there?'], { home });
    expect(send.code).toBe(4);
    expect(send.stderr).toMatch(/7 is not one of your contacts/);
    expect(await journalOf(home)).toBe(before);

    // Added again: the same chat, and the grant it had (no second default grant).
    await ok(['contacts', 'add', '7', '--name', 'Anna'], { home });
    expect(jsonLines((await ok(['contacts', '--json'], { home })).stdout)).toEqual([
      { id: 7, name: 'Anna', folder: 'main', whitelisted: true, blocked: false },
      { id: 8, name: 'Bo', folder: 'main', whitelisted: true, blocked: false },
    ]);
    expect(jsonLines((await ok(['history', '--peer', '7', '--json'], { home })).stdout)).toEqual(history);
    expect((await ok(['limits', '--peer', '7', '--json'], { home })).stdout).toBe(limitsBefore);
    const grants = jsonLines((await ok(['journal', 'inspect', '--type', 'quota.granted', '--json'], { home })).stdout).filter((e) => e.peer === 7);
    expect(grants).toHaveLength(2);
    expect(jsonLines((await ok(['limits', 'audit', '--peer', '7', '--json'], { home })).stdout).at(-1)).toEqual({ consistent: true });
    // Only what is sent after goes: the failed ones stay failed.
    await ok(['send', '--to', '7', 'hello again'], { home });
    const again = jsonLines((await ok(['history', '--peer', '7', '--json'], { home })).stdout);
    expect(again.map((m) => m.status)).toEqual(['delivered', 'received', 'failed', 'failed', 'pending']);
  });

  test('contacts remove - a blocked contact leaves the list but stays blocked', async () => {
    const home = tempHome();
    await ok(['contacts', 'add', '7', '--name', 'Ann'], { home });
    await ok(['contacts', 'block', '7'], { home });
    const removed = await ok(['contacts', 'remove', '7'], { home });
    expect(removed.stdout).toMatch(/^Ann \(7\) removed from your contacts\n7 stays blocked: parley contacts block 7 --undo lets it in\n$/);
    expect(jsonLines((await ok(['contacts', '--json'], { home })).stdout)).toEqual([{ id: 7, name: '7', folder: 'main', whitelisted: false, blocked: true }]);
  });

  test('contacts remove - an unknown id exits 4 with one line and journals nothing; a bad one exits 2', async () => {
    const home = tempHome();
    await ok(['contacts', 'add', '5', '--name', 'Ann'], { home });
    await ok(['contacts', 'remove', '5'], { home });
    const before = await journalOf(home);
    for (const id of ['9', '5']) {
      const r = await runParley(['contacts', 'remove', id, '--json'], { home });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toEqual([`parley: ${id} is not one of your contacts (parley contacts lists them)`]);
    }
    expect(await journalOf(home)).toBe(before);
    expectRefused(await runParley(['contacts', 'remove', 'abc'], { home }));
    expect(await journalOf(home)).toBe(before);
    // Where there is no profile, none is made for the refusal.
    const none = path.join(tempHome(), 'profile');
    expect((await runParley(['contacts', 'remove', '9'], { home: none })).code).toBe(4);
    expect(fs.existsSync(none)).toBe(false);
  });

  test('contacts move - to spam and back: journaled once each way, listed with the folder', async () => {
    const home = tempHome();
    await ok(['contacts', 'add', '7', '--name', 'Ann'], { home });
    expect((await ok(['contacts', 'move', '7', 'spam'], { home })).stdout).toBe('Ann (7) moved to spam\n');
    expect((await ok(['contacts', 'move', '7', 'spam'], { home })).stdout).toBe('Ann (7) is in spam already\n');
    expect(jsonLines((await ok(['contacts', '--json'], { home })).stdout)).toEqual([{ id: 7, name: 'Ann', folder: 'spam', whitelisted: true, blocked: false }]);
    expect(lines((await ok(['contacts'], { home })).stdout)).toEqual(['7\tAnn\tspam\twhitelisted']);
    const back = await ok(['contacts', 'move', '7', 'main', '--json'], { home });
    expect(jsonLines(back.stdout)).toEqual([{ id: 7, name: 'Ann', folder: 'main', whitelisted: true, blocked: false }]);
    const moves = jsonLines(await journalOf(home)).filter((e) => e.type === 'contact.moved').map((e) => e.folder);
    expect(moves).toEqual(['spam', 'main']);
  });

  test('contacts move - an unknown folder exits 2 with one line, an unknown contact 4; nothing journaled, no profile made', async () => {
    const home = tempHome();
    await ok(['contacts', 'add', '7', '--name', 'Ann'], { home });
    const before = await journalOf(home);
    for (const folder of ['work', 'Spam', '', 'spam\nx']) {
      const r = await runParley(['contacts', 'move', '7', folder], { home });
      expectRefused(r);
      expect(r.stderr).toMatch(/^parley: the folder must be main or spam, got /);
    }
    expectRefused(await runParley(['contacts', 'move', 'abc', 'spam'], { home }));
    const unknown = await runParley(['contacts', 'move', '9', 'spam'], { home });
    expect(unknown.code, unknown.stderr).toBe(4);
    expect(lines(unknown.stderr)).toHaveLength(1);
    expect(await journalOf(home)).toBe(before);
    const none = path.join(tempHome(), 'profile');
    expect((await runParley(['contacts', 'move', '9', 'spam'], { home: none })).code).toBe(4);
    expect(fs.existsSync(none)).toBe(false);
  });
});
