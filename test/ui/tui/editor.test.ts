import { describe, expect, it } from 'vitest';
import { backspace, clear, del, empty, end, home, insert, left, replace, right, undo, withText } from '../../../src/ui/tui/editor.js';

describe('editor', () => {
  it('editor - inserts at the cursor and moves it', () => {
    const e = insert(left(left(insert(empty(), 'held'))), 'llo wor');
    expect(e.text).toBe('hello world');
    expect(e.cursor).toBe(9);
  });

  it('editor - a run of typing is one undo step, a paste another', () => {
    let e = empty();
    for (const c of 'hi') e = insert(e, c);
    e = insert(e, ' pasted text');
    expect(e.text).toBe('hi pasted text');
    e = undo(e);
    expect(e.text).toBe('hi');
    e = undo(e);
    expect(e.text).toBe('');
    expect(undo(e)).toBe(e);
  });

  it('editor - backspace and delete take a whole character, a surrogate pair too', () => {
    expect(backspace(withText('a😀')).text).toBe('a');
    expect(del(home(withText('😀b'))).text).toBe('b');
    expect(backspace(empty()).text).toBe('');
    const moved = right(left(withText('😀')));
    expect(moved.cursor).toBe(2);
  });

  it('editor - home and end go to the ends of the line the cursor is on', () => {
    const e = withText('one\ntwo');
    expect(home(e).cursor).toBe(4);
    expect(end(home(e)).cursor).toBe(7);
  });

  it('editor - clear after sending can be undone; replace is one step', () => {
    const sent = clear(withText('gone'));
    expect(sent.text).toBe('');
    expect(undo(sent).text).toBe('gone');
    const done = replace(withText('/send-file re'), '/send-file report.pdf');
    expect(done.text).toBe('/send-file report.pdf');
    expect(undo(done).text).toBe('/send-file re');
  });

  it('editor - a newline is text', () => {
    expect(insert(withText('a'), '\n').text).toBe('a\n');
  });
});
