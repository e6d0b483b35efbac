// parley limits [--peer ID] [--json]; limits grant; limits audit — run as a new user runs them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { appendEvents as append, expectRefused, jsonLines, lines, runParley, tempHome } from '../helpers/cli.js';

const BAD_IDS = ['0', '1099511627776', 'abc', '-1', '1.5'];
const AUDIT_KEYS = ['at', 'balance', 'direction', 'kind', 'n', 'op', 'peer', 'seq'];

function expectBalance(b: unknown): void {
  expect(Object.keys(b as object).sort()).toEqual(['granted', 'left', 'spent']);
  for (const v of Object.values(b as object)) expect(Number.isSafeInteger(v)).toBe(true);
}

function expectLimitsRow(row: Record<string, unknown>): void {
  expect(Object.keys(row).sort()).toEqual(['inbound', 'outbound', 'peer']);
  expect(Number.isSafeInteger(row.peer)).toBe(true);
  for (const d of ['inbound', 'outbound']) {
    const side = row[d] as Record<string, unknown>;
    expect(Object.keys(side).sort()).toEqual(['files', 'messages']);
    expectBalance(side.messages);
    expectBalance(side.files);
  }
}

function zero() {
  return { granted: 0, spent: 0, left: 0 };
}

async function journalOf(home: string): Promise<string> {
  const r = await runParley(['journal', 'inspect', '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

// Contacts written as an older client or a test would, without the default grant that
// `contacts add` makes, so that the figures below are the grants of each test alone.
async function knownPeers(home: string, peers: number[]): Promise<void> {
  await append(home, peers.map((peer) => ({ type: 'contact.added' as const, peer, name: 'p' + peer, whitelisted: true })));
}

// The setup of the refusal tests: peer 5 a contact with a grant of 5 messages, checked, so that
// "the journal is unchanged" compares a journal that holds that grant.
async function grantedFive(home: string): Promise<string> {
  await knownPeers(home, [5]);
  const r = await runParley(['limits', 'grant', '--peer', '5', '--messages', '5'], { home });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('5 may now send me 5 packets of messages and 0 of files\n');
  const journal = await journalOf(home);
  expect(jsonLines(journal).filter((e) => e.type === 'quota.granted')).toEqual([expect.objectContaining({ peer: 5, direction: 'inbound', kind: 'messages', n: 5 })]);
  return journal;
}

describe('limits', () => {
  test('limits - a new user has no limits and an empty, consistent audit', async () => {
    const home = path.join(tempHome(), 'profile');
    expect(await runParley(['limits', '--json'], { home })).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const plain = await runParley(['limits'], { home });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/no limits yet/);
    const audit = await runParley(['limits', 'audit', '--json'], { home });
    expect(audit.code, audit.stderr).toBe(0);
    expect(jsonLines(audit.stdout)).toEqual([{ consistent: true }]);
  });

  test('limits - an id that is no contact of mine is refused with exit 4, and nothing is granted', async () => {
    const home = tempHome();
    await append(home, [{ type: 'contact.added', peer: 5, name: 'Bo', whitelisted: true }]);
    const before = await journalOf(home);
    for (const args of [['limits', '--peer', '99'], ['limits', 'audit', '--peer', '99'], ['limits', 'grant', '--peer', '99', '--messages', '3']]) {
      const r = await runParley(args, { home });
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.stderr).toBe('parley: 99 is not one of your contacts: add it first with parley contacts add 99 --name NAME\n');
    }
    expect(await journalOf(home)).toBe(before);
  });

  test('limits - a contact nobody granted anything shows zeros', async () => {
    const home = tempHome();
    await knownPeers(home, [1099511627775]);
    const r = await runParley(['limits', '--peer', '1099511627775', '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    const rows = jsonLines(r.stdout);
    rows.forEach(expectLimitsRow);
    expect(rows).toEqual([{ peer: 1099511627775, inbound: { messages: zero(), files: zero() }, outbound: { messages: zero(), files: zero() } }]);
  });

  test('limits - grant with --home then limits --json shows granted and left', async () => {
    const home = tempHome();
    await knownPeers(home, [7]);
    const granted = await runParley(['limits', 'grant', '--peer', '7', '--messages', '5', '--files', '3', '--json'], { home });
    expect(granted.code, granted.stderr).toBe(0);
    const [g] = jsonLines(granted.stdout);
    expectLimitsRow(g);
    const after1 = { peer: 7, inbound: { messages: { granted: 5, spent: 0, left: 5 }, files: { granted: 3, spent: 0, left: 3 } }, outbound: { messages: zero(), files: zero() } };
    expect(g).toEqual(after1);

    await runParley(['limits', 'grant', '--peer', '7', '--messages', '10'], { home });
    const shown = await runParley(['limits', '--json'], { home });
    expect(shown.code).toBe(0);
    const rows = jsonLines(shown.stdout);
    rows.forEach(expectLimitsRow);
    expect(rows).toEqual([{ ...after1, inbound: { messages: { granted: 15, spent: 0, left: 15 }, files: { granted: 3, spent: 0, left: 3 } } }]);

    const plain = await runParley(['limits', '--peer', '7'], { home });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('inbound messages 15/15');
  });

  test('limits - PARLEY_HOME chooses the profile for grant, limits and audit', async () => {
    const home = path.join(tempHome(), 'env-profile');
    const env = { PARLEY_HOME: home };
    await knownPeers(home, [1099511627775]);
    expect((await runParley(['limits', 'grant', '--peer', '1099511627775', '--files', '2'], { env })).code).toBe(0);
    expect(fs.existsSync(path.join(home, 'journal'))).toBe(true);
    const rows = jsonLines((await runParley(['limits', '--json'], { env })).stdout);
    expect(rows).toEqual([{ peer: 1099511627775, inbound: { messages: zero(), files: { granted: 2, spent: 0, left: 2 } }, outbound: { messages: zero(), files: zero() } }]);
    const audit = jsonLines((await runParley(['limits', 'audit', '--json'], { env })).stdout);
    expect(audit.map((l) => l.op ?? l.consistent)).toEqual(['grant', true]);
  });

  test('limits - a new contact gets the default grant of 1000 packets of each kind inbound', async () => {
    const home = tempHome();
    await runParley(['contacts', 'add', '5', '--name', 'Ann'], { home });
    const [row] = jsonLines((await runParley(['limits', '--json'], { home })).stdout);
    expect(row.inbound).toEqual({ messages: { granted: 1000, spent: 0, left: 1000 }, files: { granted: 1000, spent: 0, left: 1000 } });
  });

  test('limits - audit --json lists grants, spends and refusals in journal order with the running balance', async () => {
    const home = tempHome();
    await knownPeers(home, [5]);
    await runParley(['limits', 'grant', '--peer', '5', '--messages', '10'], { home });
    await append(home, [
      { type: 'quota.spent', peer: 5, direction: 'inbound', kind: 'messages', n: 3, ref: 'm1' },
      { type: 'quota.granted', peer: 5, direction: 'outbound', kind: 'files', n: 4 },
      { type: 'contact.added', peer: 6, name: 'Bo', whitelisted: true },
      { type: 'quota.spent', peer: 5, direction: 'outbound', kind: 'files', n: 4, ref: 't1' },
      { type: 'quota.refused', peer: 5, direction: 'outbound', kind: 'files', n: 1, ref: 't2' },
      { type: 'quota.granted', peer: 1099511627775, direction: 'inbound', kind: 'messages', n: 2 },
      { type: 'quota.spent', peer: 5, direction: 'inbound', kind: 'messages', n: 2 },
    ]);
    await runParley(['limits', 'grant', '--peer', '5', '--messages', '1'], { home });

    const r = await runParley(['limits', 'audit', '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = jsonLines(r.stdout);
    const audit = out.slice(0, -1);
    for (const l of audit) {
      expect(Object.keys(l).sort()).toEqual(AUDIT_KEYS);
      for (const k of ['seq', 'at', 'peer', 'n', 'balance']) expect(Number.isSafeInteger(l[k]), k).toBe(true);
    }
    const seqs = audit.map((l) => l.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(audit.map(({ seq, at, ...rest }) => rest)).toEqual([
      { peer: 5, direction: 'inbound', kind: 'messages', op: 'grant', n: 10, balance: 10 },
      { peer: 5, direction: 'inbound', kind: 'messages', op: 'spend', n: 3, balance: 7 },
      { peer: 5, direction: 'outbound', kind: 'files', op: 'grant', n: 4, balance: 4 },
      { peer: 5, direction: 'outbound', kind: 'files', op: 'spend', n: 4, balance: 0 },
      { peer: 5, direction: 'outbound', kind: 'files', op: 'refuse', n: 1, balance: 0 },
      { peer: 1099511627775, direction: 'inbound', kind: 'messages', op: 'grant', n: 2, balance: 2 },
      { peer: 5, direction: 'inbound', kind: 'messages', op: 'spend', n: 2, balance: 5 },
      { peer: 5, direction: 'inbound', kind: 'messages', op: 'grant', n: 1, balance: 6 },
    ]);
    expect(out[out.length - 1]).toEqual({ consistent: true });

    // The seqs are the journal's: the same events, same times, in journal inspect.
    const quota = jsonLines((await runParley(['journal', 'inspect', '--json'], { home })).stdout).filter((e) => String(e.type).startsWith('quota.'));
    expect(quota.map((e) => [e.seq, e.at])).toEqual(audit.map((l) => [l.seq, l.at]));

    // The balances the audit ends on are the ones limits shows.
    const [row] = jsonLines((await runParley(['limits', '--peer', '5', '--json'], { home })).stdout);
    expect(row).toEqual({
      peer: 5,
      inbound: { messages: { granted: 11, spent: 5, left: 6 }, files: zero() },
      outbound: { messages: zero(), files: { granted: 4, spent: 4, left: 0 } },
    });

    const only = jsonLines((await runParley(['limits', 'audit', '--peer', '1099511627775', '--json'], { home })).stdout);
    expect(only.map(({ seq, at, ...rest }) => rest)).toEqual([
      { peer: 1099511627775, direction: 'inbound', kind: 'messages', op: 'grant', n: 2, balance: 2 },
      { consistent: true },
    ]);

    const plain = await runParley(['limits', 'audit'], { home });
    expect(plain.code).toBe(0);
    expect(lines(plain.stdout)).toHaveLength(9);
    expect(plain.stdout).toMatch(/^consistent/m);
  });

  for (const bad of BAD_IDS) {
    test(`limits - refuses id ${bad} with exit 2 in limits, grant and audit, writing nothing`, async () => {
      const fresh = path.join(tempHome(), 'profile');
      const commands = [
        ['limits', '--peer', bad, '--json'],
        ['limits', 'grant', '--peer', bad, '--messages', '5'],
        ['limits', 'audit', '--peer', bad, '--json'],
      ];
      // Refusals never open the profile, so they may run side by side.
      for (const r of await Promise.all(commands.map((args) => runParley(args, { home: fresh })))) {
        expectRefused(r);
        expect(r.stderr).toContain(`"${bad}"`);
      }
      expect(fs.existsSync(fresh)).toBe(false);

      const home = tempHome();
      const before = await grantedFive(home);
      (await Promise.all(commands.map((args) => runParley(args, { home })))).forEach(expectRefused);
      expect(await journalOf(home)).toBe(before);
    });
  }

  test('limits - grant refuses no amount, zero, negative and fractional counts with exit 2', async () => {
    const home = tempHome();
    const before = await grantedFive(home);
    const extras = [[], ['--messages', '0'], ['--messages', '-3'], ['--files', '1.5'], ['--messages', 'ten'], ['--files', '2000000000000']];
    (await Promise.all(extras.map((extra) => runParley(['limits', 'grant', '--peer', '5', ...extra], { home })))).forEach(expectRefused);
    expect(await journalOf(home)).toBe(before);
  });

  test('limits - commander usage errors exit 2 with one line', async () => {
    const home = path.join(tempHome(), 'profile');
    const env = { PARLEY_HOME: home };
    const cases: [string[], RegExp][] = [
      [['limits', '--bogus'], /unknown option '--bogus'/],
      [['limits', 'grant', '--messages', '5'], /required option '--peer <id>' not specified/],
      [['limits', 'grant', '--messages', '5', '--peer'], /argument missing/],
      [['limits', 'audit', '--peer'], /argument missing/],
      [['limits', 'audit', 'extra'], /too many arguments/],
    ];
    const results = await Promise.all(cases.map(([args]) => runParley(args, { env })));
    results.forEach((r, i) => {
      expectRefused(r);
      expect(r.stderr).toMatch(cases[i][1]);
    });
    expect(fs.existsSync(home)).toBe(false);
  });
});
