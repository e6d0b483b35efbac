import React from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { en } from '../../../src/ui/i18n/en.js';
import { ru } from '../../../src/ui/i18n/ru.js';
import { KeysView } from '../../../src/ui/tui/KeysView.js';

describe('KeysView', () => {
  it('KeysView - every key, in the language of the screen; cut to the pane', () => {
    const r = render(<KeysView t={en} width={110} height={30} />);
    const frame = r.lastFrame() ?? '';
    expect(frame).toContain('Alt+т is Alt+N');
    expect(frame).toContain('Alt+X                cancel the file');
    expect(frame).toContain('Ctrl+C, /quit');
    r.rerender(<KeysView t={ru} width={110} height={8} />);
    const short = r.lastFrame() ?? '';
    expect(short).toContain('Клавиши');
    expect(short.split('\n')).toHaveLength(8);
    r.unmount();
  });
});
