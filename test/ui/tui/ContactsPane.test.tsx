import React from 'react';
import chalk from 'chalk';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../../src/ui/i18n/en.js';
import { ru } from '../../../src/ui/i18n/ru.js';
import { ContactsPane } from '../../../src/ui/tui/ContactsPane.js';
import { statusRow } from './fake.js';

// Colours are what this pane says with: let chalk (ink's) write them here too.
let level: typeof chalk.level;
beforeAll(() => {
  level = chalk.level;
  chalk.level = 3;
});
afterAll(() => void (chalk.level = level));

const contacts = statusRow().contacts;
// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('ContactsPane', () => {
  it('ContactsPane - name or id, presence as a coloured word, unread, the open chat marked', () => {
    const r = render(<ContactsPane t={en} contacts={contacts} current={7} folder="main" search={null} unread={{ main: 2, spam: 0 }} width={30} height={8} />);
    const frame = r.lastFrame() ?? '';
    const lines = plain(frame).split('\n');
    expect(lines[1]).toContain('Main 2  Spam');
    expect(lines[2]).toMatch(/▶ Bob +online/);
    expect(lines[3]).toMatch(/ {2}Eve +offline 2/);
    expect(lines[4]).toMatch(/ {2}11 +refused/);
    // online green, offline pale red (#e08080), refused grey.
    expect(frame).toContain('\x1b[32monline');
    expect(frame).toContain('\x1b[38;2;224;128;128moffline');
    expect(frame).toMatch(/\x1b\[90mrefused/);
    // The open chat in inverse.
    expect(frame).toMatch(/\x1b\[7m[^\n]*▶ Bob/);
    r.unmount();
  });

  it('ContactsPane - the search field, the spam folder, in Russian', () => {
    const r = render(<ContactsPane t={ru} contacts={contacts.slice(1, 2)} current={null} folder="spam" search="ev" unread={{ main: 0, spam: 2 }} width={30} height={8} />);
    const frame = plain(r.lastFrame() ?? '');
    expect(frame).toContain('Поиск: ev');
    expect(frame).toContain('Спам 2');
    expect(frame).toMatch(/Eve +не в сети 2/);
    r.unmount();
  });

  it('ContactsPane - a list longer than the pane keeps the open chat in view', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ id: i + 1, name: `c${i + 1}`, presence: 'offline' as const, route: null, unread: 0 }));
    const r = render(<ContactsPane t={en} contacts={many} current={25} folder="main" search={null} unread={{ main: 2, spam: 0 }} width={30} height={8} />);
    const frame = plain(r.lastFrame() ?? '');
    expect(frame).toContain('▶ c25');
    expect(frame).not.toContain('c1 ');
    r.unmount();
  });
});
