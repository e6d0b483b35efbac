import React from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { en } from '../../../src/ui/i18n/en.js';
import { ru } from '../../../src/ui/i18n/ru.js';
import { nextValue, settingRows, SettingsScreen } from '../../../src/ui/tui/SettingsScreen.js';

const all = { language: 'en', 'auto-accept-files': 'off', mouse: 'on', notify: 'on', 'show-bits': 'off', downloads: '/x' };

describe('SettingsScreen', () => {
  it('SettingsScreen - a row per key the client has, the selected one marked', () => {
    const r = render(<SettingsScreen t={en} settings={all} keep={{ who: 'Bob', on: true }} selected={2} width={80} height={14} />);
    const frame = r.lastFrame() ?? '';
    expect(frame).toContain('Language: English');
    expect(frame).toContain('Accept files from contacts without asking: off');
    expect(frame).toContain('▶ Mouse wheel scrolls');
    expect(frame).toContain('Bell on a new message in another chat: on');
    expect(frame).toContain('Show each message as its bytes (hex and binary): off');
    expect(frame).toContain('Keep the history with Bob');
    expect(frame).not.toContain('downloads');
    r.unmount();
  });

  it('SettingsScreen - keys the client does not know yet are not shown; in Russian', () => {
    const r = render(<SettingsScreen t={ru} settings={{ language: 'ru', 'auto-accept-files': 'on', notify: 'off' }} keep={null} selected={0} width={80} height={12} />);
    const frame = r.lastFrame() ?? '';
    expect(frame).toContain('Язык: русский');
    expect(frame).toContain('вкл');
    expect(frame).not.toContain('Колесо');
    expect(settingRows({ language: 'en' }, false)).toEqual(['language']);
    r.unmount();
  });

  it('SettingsScreen - the next value: the next language, on for off', () => {
    expect(nextValue('language', 'en')).toBe('ru');
    expect(nextValue('language', 'ru')).toBe('en');
    expect(nextValue('notify', 'on')).toBe('off');
    expect(nextValue('mouse', 'off')).toBe('on');
  });
});
