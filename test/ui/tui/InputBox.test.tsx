import React from 'react';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { insert, withText } from '../../../src/ui/tui/editor.js';
import { InputBox, inputHeight } from '../../../src/ui/tui/InputBox.js';

describe('InputBox', () => {
  it('InputBox - grows with the lines typed, up to its bound', () => {
    const one = render(<InputBox editor={withText('hello')} width={40} maxRows={3} prompt={null} note={null} />);
    expect((one.lastFrame() ?? '').split('\n')).toHaveLength(3);
    expect(one.lastFrame()).toContain('hello');
    one.unmount();
    const editor = insert(withText('line one\nline two'), '\nline three\nline four');
    const many = render(<InputBox editor={editor} width={40} maxRows={3} prompt={null} note={null} />);
    const lines = (many.lastFrame() ?? '').split('\n');
    expect(lines).toHaveLength(5);
    // The rows around the cursor (at the end).
    expect(lines[1]).toContain('line two');
    expect(lines[3]).toContain('line four');
    expect(inputHeight(editor, 40, 3, false)).toBe(5);
    expect(inputHeight(editor, 40, 6, true)).toBe(7);
    many.unmount();
  });

  it('InputBox - a long line wraps in the box', () => {
    const r = render(<InputBox editor={withText('word '.repeat(20).trim())} width={30} maxRows={6} prompt={null} note={null} />);
    expect((r.lastFrame() ?? '').split('\n').length).toBeGreaterThan(4);
    r.unmount();
  });

  it('InputBox - a question in place of the text, with its error, and a note under it', () => {
    const r = render(<InputBox editor={withText('kept')} width={60} maxRows={3} prompt={{ text: 'Open the chat with id: ', answer: '12', error: 'An id is digits only.' }} note="Copied." />);
    const frame = r.lastFrame() ?? '';
    expect(frame).toContain('Open the chat with id: 12');
    expect(frame).toContain('An id is digits only.');
    expect(frame).not.toContain('kept');
    expect(frame.split('\n').pop()).toBe('Copied.');
    r.unmount();
  });
});
