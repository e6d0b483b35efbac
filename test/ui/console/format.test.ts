// The console's lines: messages, contacts, errors, and text from a peer made harmless.
import { describe, expect, it } from 'vitest';
import { contactLine, errorLine, messageLine, safe, sizeText, timeOf, who } from '../../../src/ui/console/format.js';
import { en } from '../../../src/ui/i18n/en.js';
import { ru } from '../../../src/ui/i18n/ru.js';

// 9:05 in the local time zone, as the console shows times.
const AT = new Date(2025, 0, 2, 9, 5, 30).getTime();

describe('format', () => {
  it.each([
    ['in', en, { direction: 'in', at: AT, text: 'hi' }, '[09:05] Bob (77): hi'],
    ['out', en, { direction: 'out', at: AT, text: 'hi' }, '[09:05] you → Bob (77): hi'],
    ['out, with its status', en, { direction: 'out', at: AT, text: 'hi', status: 'delivered' }, '[09:05] you → Bob (77): hi (delivered)'],
    ['edited, in Russian', ru, { direction: 'out', at: AT, text: 'hi', status: 'read', edited: true }, '[09:05] вы → Bob (77): hi (прочитано, изменено)'],
    ['in, status received shows nothing', en, { direction: 'in', at: AT, text: 'hi', status: 'received' }, '[09:05] Bob (77): hi'],
    ['several lines, indented', en, { direction: 'in', at: AT, text: 'one\ntwo' }, '[09:05] Bob (77): one\n    two'],
  ] as const)('format - a message line: %s', (_what, t, m, line) => {
    expect(messageLine(t, m, 'Bob (77)')).toBe(line);
  });

  it('format - control characters, escape sequences and bidi controls from a peer are shown as escapes', () => {
    expect(safe('a\x1b[2Jb\u009bc\u202ed\x07')).toBe('a\\u001b[2Jb\\u009bc\\u202ed\\u0007');
    expect(messageLine(en, { direction: 'in', at: AT, text: '\x1b]0;owned\x07' }, 'Bob (77)')).toBe('[09:05] Bob (77): \\u001b]0;owned\\u0007');
    expect(who(77, 'Bob\nFake line')).toBe('Bob\\u000aFake line (77)');
  });

  it('format - a contact is its name and id, or its id alone', () => {
    expect(who(77, 'Bob')).toBe('Bob (77)');
    expect(who(77, '77')).toBe('77');
    expect(who(77, undefined)).toBe('77');
  });

  it('format - times and sizes', () => {
    expect(timeOf(new Date(2025, 5, 1, 23, 59).getTime())).toBe('23:59');
    expect(sizeText(512)).toBe('512 B');
    expect(sizeText(1500)).toBe('1.5 kB');
    expect(sizeText(12_345_678)).toBe('12.3 MB');
  });

  it('format - a contact line: id, name, presence and route, unread when any', () => {
    expect(contactLine(en, { id: 77, name: 'Bob', presence: 'online', route: 'direct', unread: 2 })).toBe('77  Bob  online (direct)  2 unread');
    expect(contactLine(ru, { id: 77, name: 'Bob', presence: 'offline', route: null, unread: 0 })).toBe('77  Bob  не в сети');
  });

  it.each([
    [{ code: 'UNKNOWN_COMMAND', command: '/x' }, 'Unknown command /x: /help lists them.'],
    [{ code: 'USAGE', usage: '/to ID' }, 'Usage: /to ID'],
    [{ code: 'BAD_ID', text: 'seven' }, '"seven" is not an id: ids are whole numbers from 1 to 1099511627775.'],
    [{ code: 'BAD_TID', text: 'a\x1bb' }, '"a\\u001bb" is not a transfer id: 1 to 64 printable characters, no spaces.'],
    [{ code: 'BAD_LANG', text: 'de' }, '"de" is not a language here: en, ru.'],
  ] as const)('format - the error %j in one line', (error, line) => {
    expect(errorLine(en, error)).toBe(line);
  });
});
