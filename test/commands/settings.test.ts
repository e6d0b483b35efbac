// parley settings [--json]; parley settings set KEY VALUE — run as a new user runs them.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { settingsOf } from '../../src/projections/settings.js';
import { appendEvents as append, expectRefused, jsonLines, lines, ok, ROOT, runParley, tempHome } from '../helpers/cli.js';

// The downloads folder's default is in the profile.
const defaults = (home: string) => ({ language: 'en', 'lan-discovery': 'on', 'default-quota-messages': 1000, 'default-quota-files': 1000, notify: 'on', 'auto-accept-files': 'off', downloads: path.join(home, 'downloads'), 'listen-port': 0, mouse: 'off', 'show-bits': 'off' });
const defaultLines = (home: string) => ['language en', 'lan-discovery on', 'default-quota-messages 1000', 'default-quota-files 1000', 'notify on', 'auto-accept-files off', `downloads ${path.join(home, 'downloads')}`, 'listen-port 0', 'mouse off', 'show-bits off'];

// Values each key refuses. Digits only for the counts: no sign, point, exponent, hex or space.
const BAD_VALUES: [string, string][] = [
  ['language', 'de'],
  ['language', 'RU'],
  ['language', ''],
  ['language', 'en\nru'],
  ['default-quota-messages', '-1'],
  ['default-quota-messages', '1.5'],
  ['default-quota-messages', 'ten'],
  ['default-quota-messages', ''],
  ['default-quota-files', '1e3'],
  ['default-quota-files', '0x10'],
  ['default-quota-files', ' 5'],
  ['default-quota-files', '1000000000001'],
  ['default-quota-files', '99999999999999999999'],
  ['notify', 'yes'],
  ['notify', 'true'],
  ['notify', 'ON'],
  ['notify', '1'],
  ['auto-accept-files', 'yes'],
  ['auto-accept-files', 'true'],
  ['downloads', ''],
  ['downloads', '  '],
  ['downloads', 'dl\nfake line'],
  ['downloads', '/tmp/\u001b[2J'],
  ['lan-discovery', 'no'],
  ['listen-port', '65536'],
  ['listen-port', '-1'],
  ['listen-port', '80.5'],
  ['mouse', 'yes'],
  ['mouse', 'wheel'],
  ['show-bits', 'true'],
  ['show-bits', 'hex'],
];
const UNKNOWN_KEYS = ['colour', 'Language', 'toString', '__proto__', ''];

async function journalOf(home: string): Promise<string> {
  const r = await runParley(['journal', 'inspect', '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

async function settingsEvents(home: string): Promise<Array<{ key: unknown; value: unknown }>> {
  return jsonLines(await journalOf(home))
    .filter((e) => e.type === 'settings.changed')
    .map((e) => ({ key: e.key, value: e.value }));
}

async function listed(home: string): Promise<Record<string, unknown>> {
  const r = await ok(['settings', '--json'], { home });
  expect(r.stderr).toBe('');
  // One JSON object on one line.
  expect(lines(r.stdout)).toHaveLength(1);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('settings', () => {
  test('settings - a new user sees every key with its default, as JSON and as lines, and no profile is made', async () => {
    const home = path.join(tempHome(), 'profile');
    const json = await runParley(['settings', '--json'], { home });
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(json.stdout).toBe(JSON.stringify(defaults(home)) + '\n');

    const plain = await runParley(['settings'], { home });
    expect(plain).toMatchObject({ code: 0, stderr: '' });
    expect(lines(plain.stdout)).toEqual(defaultLines(home));
    expect(fs.existsSync(home)).toBe(false);
  });

  test('settings - set then list shows the new values, journaled as settings.changed', async () => {
    const home = path.join(tempHome(), 'profile');
    const ru = await ok(['settings', 'set', 'language', 'ru'], { home });
    expect(ru.stdout).toBe('language is now ru\n');
    expect(ru.stderr).toBe('');
    expect((await ok(['settings', 'set', 'notify', 'off'], { home })).stdout).toBe('notify is now off\n');
    expect((await ok(['settings', 'set', 'default-quota-messages', '0'], { home })).stdout).toBe('default-quota-messages is now 0\n');
    const json = await ok(['settings', 'set', 'default-quota-files', '1000000000000', '--json'], { home });
    const set = { ...defaults(home), language: 'ru', 'default-quota-messages': 0, 'default-quota-files': 1000000000000, notify: 'off' };
    expect(jsonLines(json.stdout)).toEqual([set]);

    expect(await listed(home)).toEqual(set);
    const plain = await ok(['settings'], { home });
    expect(lines(plain.stdout)).toEqual(['language ru', 'lan-discovery on', 'default-quota-messages 0', 'default-quota-files 1000000000000', 'notify off', 'auto-accept-files off', `downloads ${path.join(home, 'downloads')}`, 'listen-port 0', 'mouse off', 'show-bits off']);

    // Numbers as numbers, on/off as booleans.
    expect(await settingsEvents(home)).toEqual([
      { key: 'language', value: 'ru' },
      { key: 'notify', value: false },
      { key: 'default-quota-messages', value: 0 },
      { key: 'default-quota-files', value: 1000000000000 },
    ]);

    // And back: the last value wins.
    await ok(['settings', 'set', 'language', 'en'], { home });
    await ok(['settings', 'set', 'notify', 'on'], { home });
    expect(await listed(home)).toEqual({ ...defaults(home), 'default-quota-messages': 0, 'default-quota-files': 1000000000000 });
  });

  test('settings - the Russian language is accepted and survives a journal rebuild', async () => {
    const home = tempHome();
    await ok(['settings', 'set', 'language', 'ru'], { home });
    await ok(['journal', 'rebuild'], { home });
    expect(await listed(home)).toEqual({ ...defaults(home), language: 'ru' });
    expect(lines((await ok(['settings'], { home })).stdout)).toContain('language ru');
  });

  test('settings - setting a value it already has journals nothing', async () => {
    const home = tempHome();
    const first = await ok(['settings', 'set', 'notify', 'off'], { home });
    expect(first.stdout).toBe('notify is now off\n');
    const again = await ok(['settings', 'set', 'notify', 'off'], { home });
    expect(again.stdout).toBe('notify is off already\n');
    // A default counts as the value a key has.
    expect((await ok(['settings', 'set', 'lan-discovery', 'on'], { home })).stdout).toBe('lan-discovery is on already\n');
    expect((await ok(['settings', 'set', 'default-quota-files', '1000'], { home })).stdout).toBe('default-quota-files is 1000 already\n');
    expect(await settingsEvents(home)).toEqual([{ key: 'notify', value: false }]);
  });

  test('settings - the language defaults to the environment\'s (LC_ALL, LC_MESSAGES, LANG); set once, it holds whatever the environment says', async () => {
    const home = tempHome();
    const ru = { LANG: 'ru_RU.UTF-8', LC_ALL: undefined, LC_MESSAGES: undefined };
    expect(lines((await ok(['settings'], { home, env: ru })).stdout)).toContain('language ru');
    expect(lines((await ok(['settings'], { home, env: { ...ru, LC_ALL: 'en_GB.UTF-8' } })).stdout)).toContain('language en');
    expect(lines((await ok(['settings'], { home, env: { LANG: 'C.UTF-8', LC_ALL: undefined, LC_MESSAGES: undefined } })).stdout)).toContain('language en');
    // The default from the environment is not a value set: setting it journals it, once.
    expect((await ok(['settings', 'set', 'language', 'ru'], { home, env: ru })).stdout).toBe('language is now ru\n');
    expect((await ok(['settings', 'set', 'language', 'ru'], { home, env: ru })).stdout).toBe('language is ru already\n');
    expect(lines((await ok(['settings'], { home, env: { LANG: 'en_US.UTF-8' } })).stdout)).toContain('language ru');
    expect(await settingsEvents(home)).toEqual([{ key: 'language', value: 'ru' }]);
  });

  test('settings - every bad value is refused with exit 2 and one line, writing nothing', async () => {
    const home = tempHome();
    await ok(['contacts', 'add', '5', '--name', 'Ann'], { home });
    const before = await journalOf(home);
    // Refusals never open the profile, so they may run side by side: four at a time, since thirty
    // processes at once on a loaded two-CPU machine outlast runParley's bound.
    const results: Awaited<ReturnType<typeof runParley>>[] = [];
    for (let i = 0; i < BAD_VALUES.length; i += 4) {
      results.push(...(await Promise.all(BAD_VALUES.slice(i, i + 4).map(([key, value]) => runParley(['settings', 'set', key, value], { home })))));
    }
    results.forEach((r, i) => {
      expectRefused(r);
      expect(r.stderr).toMatch(new RegExp(`^parley: ${BAD_VALUES[i][0]} must be `));
    });
    const stderrOf = (key: string, value: string) => results[BAD_VALUES.findIndex(([k, v]) => k === key && v === value)].stderr;
    expect(stderrOf('language', 'de')).toBe('parley: language must be en or ru, got "de"\n');
    expect(stderrOf('language', 'en\nru')).toBe('parley: language must be en or ru, got "en\\u000aru"\n');
    expect(stderrOf('default-quota-messages', '-1')).toBe('parley: default-quota-messages must be a whole number from 0 to 1000000000000, got "-1"\n');
    expect(stderrOf('notify', 'yes')).toBe('parley: notify must be on or off, got "yes"\n');
    expect(await journalOf(home)).toBe(before);
    expect(await settingsEvents(home)).toEqual([]);

    // Nor is a profile made for one: not even with --json.
    const fresh = path.join(tempHome(), 'profile');
    const quoted = await runParley(['settings', 'set', 'notify', 'say "hi" \\', '--json'], { home: fresh });
    expectRefused(quoted);
    expect(quoted.stderr).toBe('parley: notify must be on or off, got "say \\"hi\\" \\\\"\n');
    expect(fs.existsSync(fresh)).toBe(false);
  });

  test('settings - auto-accept-files and downloads: a relative folder is journaled absolute, from where the command was typed, and not made yet', async () => {
    const home = tempHome();
    expect((await ok(['settings', 'set', 'auto-accept-files', 'on'], { home })).stdout).toBe('auto-accept-files is now on\n');
    // runParley runs in the repository's folder.
    const relative = path.join('no-such-parent', 'dl');
    expect((await ok(['settings', 'set', 'downloads', relative], { home })).stdout).toBe(`downloads is now ${path.join(ROOT, relative)}\n`);
    expect(fs.existsSync(path.join(ROOT, 'no-such-parent'))).toBe(false);
    const elsewhere = path.join(tempHome(), 'incoming');
    await ok(['settings', 'set', 'downloads', elsewhere], { home });
    expect(await listed(home)).toEqual({ ...defaults(home), 'auto-accept-files': 'on', downloads: elsewhere });
    expect(await settingsEvents(home)).toEqual([
      { key: 'auto-accept-files', value: true },
      { key: 'downloads', value: path.join(ROOT, relative) },
      { key: 'downloads', value: elsewhere },
    ]);
    expect((await ok(['settings', 'set', 'downloads', elsewhere], { home })).stdout).toBe(`downloads is ${elsewhere} already\n`);
    expect(await settingsEvents(home)).toHaveLength(3);
  });

  test('settings - mouse and show-bits are off by default; set on, journaled as true; and off again', async () => {
    const home = tempHome();
    expect((await ok(['settings', 'set', 'mouse', 'on'], { home })).stdout).toBe('mouse is now on\n');
    expect((await ok(['settings', 'set', 'show-bits', 'on'], { home })).stdout).toBe('show-bits is now on\n');
    expect(await listed(home)).toEqual({ ...defaults(home), mouse: 'on', 'show-bits': 'on' });
    expect(await settingsEvents(home)).toEqual([
      { key: 'mouse', value: true },
      { key: 'show-bits', value: true },
    ]);
    expect((await ok(['settings', 'set', 'mouse', 'off'], { home })).stdout).toBe('mouse is now off\n');
    expect((await ok(['settings', 'set', 'show-bits', 'off'], { home })).stdout).toBe('show-bits is now off\n');
    expect(await listed(home)).toEqual(defaults(home));
    expect(settingsOf({ mouse: true, 'show-bits': 'on' })).toMatchObject({ mouse: true, 'show-bits': false });
  });

  test('settings - a file is no downloads folder: exit 2, nothing journaled', async () => {
    const home = tempHome();
    const file = path.join(home, 'a-file');
    fs.writeFileSync(file, 'x');
    const r = await runParley(['settings', 'set', 'downloads', file], { home });
    expectRefused(r);
    expect(r.stderr).toBe(`parley: ${file} is a file, not a folder: choose another downloads folder\n`);
    expect(await settingsEvents(home)).toEqual([]);
  });

  test('settings - an unknown key is refused with exit 2, naming the keys there are', async () => {
    const home = tempHome();
    await ok(['settings', 'set', 'notify', 'off'], { home });
    const before = await journalOf(home);
    const results = await Promise.all(UNKNOWN_KEYS.map((key) => runParley(['settings', 'set', key, 'en'], { home })));
    results.forEach((r, i) => {
      expectRefused(r);
      expect(r.stderr).toBe(`parley: unknown setting "${UNKNOWN_KEYS[i]}": the settings are language, lan-discovery, default-quota-messages, default-quota-files, notify, auto-accept-files, downloads, listen-port, mouse, show-bits\n`);
    });
    expect(await journalOf(home)).toBe(before);
  });

  test('settings - commander usage errors exit 2 with one line', async () => {
    const home = path.join(tempHome(), 'profile');
    const cases: [string[], RegExp][] = [
      [['settings', '--bogus'], /unknown option '--bogus'/],
      [['settings', 'extra'], /too many arguments/],
      [['settings', 'set'], /missing required argument 'key'/],
      [['settings', 'set', 'language'], /missing required argument 'value'/],
      [['settings', 'set', 'language', 'ru', 'en'], /too many arguments/],
    ];
    const results = await Promise.all(cases.map(([args]) => runParley(args, { home })));
    results.forEach((r, i) => {
      expectRefused(r);
      expect(r.stderr).toMatch(cases[i][1]);
    });
    expect(fs.existsSync(home)).toBe(false);
  });

  test('settings - a journaled value a key does not take, or a key nobody knows, reads as the default', async () => {
    const home = tempHome();
    await append(home, [
      { type: 'settings.changed', key: 'language', value: 'ru' },
      { type: 'settings.changed', key: 'language', value: 'de' },
      { type: 'settings.changed', key: 'notify', value: 'off' },
      { type: 'settings.changed', key: 'default-quota-messages', value: -5 },
      { type: 'settings.changed', key: 'default-quota-files', value: 2.5 },
      { type: 'settings.changed', key: 'auto-accept-files', value: 'on' },
      // Not absolute: no caller's folder to resolve it from any more.
      { type: 'settings.changed', key: 'downloads', value: 'tmp' },
      { type: 'settings.changed', key: 'colour', value: 'red' },
    ]);
    expect(await listed(home)).toEqual(defaults(home));
    // A good value after them counts again, and setting the default it reads as journals nothing.
    await ok(['settings', 'set', 'language', 'ru'], { home });
    await ok(['settings', 'set', 'notify', 'on'], { home });
    expect(await listed(home)).toEqual({ ...defaults(home), language: 'ru' });
    expect((await settingsEvents(home)).slice(-1)).toEqual([{ key: 'language', value: 'ru' }]);
  });

  test('settings - settingsOf gives the client typed values, defaults filled in', () => {
    expect(settingsOf({})).toEqual({ language: 'en', 'lan-discovery': true, 'default-quota-messages': 1000, 'default-quota-files': 1000, notify: true, 'auto-accept-files': false, downloads: null, 'listen-port': 0, mouse: false, 'show-bits': false });
    expect(settingsOf({ language: 'ru', notify: false, 'default-quota-files': 7, other: 1, 'auto-accept-files': true, downloads: '/srv/in' })).toEqual({
      language: 'ru',
      'lan-discovery': true,
      'default-quota-messages': 1000,
      'default-quota-files': 7,
      notify: false,
      'auto-accept-files': true,
      downloads: '/srv/in',
      'listen-port': 0,
      mouse: false,
      'show-bits': false,
    });
  });
});

describe('settings in use', () => {
  test('settings - lan-discovery is on by default; set off, it is journaled as false', async () => {
    const home = tempHome('settings-lan');
    expect((await ok(['settings', 'set', 'lan-discovery', 'off'], { home })).stdout).toBe('lan-discovery is now off\n');
    expect(settingsOf({ 'lan-discovery': false })['lan-discovery']).toBe(false);
    expect((await listed(home))['lan-discovery']).toBe('off');
    expect(await settingsEvents(home)).toEqual([{ key: 'lan-discovery', value: false }]);
  });

  test('settings - default-quota-messages and default-quota-files are the first grant to a new contact', async () => {
    const home = tempHome('settings-grant');
    expect((await runParley(['settings', 'set', 'default-quota-messages', '25'], { home })).code).toBe(0);
    expect((await runParley(['settings', 'set', 'default-quota-files', '0'], { home })).code).toBe(0);
    expect((await runParley(['contacts', 'add', '7', '--name', 'Ann'], { home })).code).toBe(0);
    const [row] = jsonLines((await runParley(['limits', '--json'], { home })).stdout) as Array<{ inbound: { messages: { granted: number }; files: { granted: number } } }>;
    expect(row.inbound.messages.granted).toBe(25);
    expect(row.inbound.files.granted).toBe(0);
  });
});
