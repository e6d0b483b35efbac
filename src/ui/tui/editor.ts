// The input box's text: a cursor, the edits, and what Ctrl+Z takes back; pure values, each edit
// returns a new editor. A run of typing is one step to undo (as in most editors), a paste,
// a deletion or a newline one step each, so Ctrl+Z does not take back a letter at a time.
//
//   undo(insert(insert(empty(), 'he'), 'llo'))  // => the empty editor: one run of typing

export type Editor = {
  text: string;
  // In UTF-16 units, at a code point's start.
  cursor: number;
  // Earlier states, the latest last, at most UNDO_DEPTH.
  undo: Array<{ text: string; cursor: number }>;
  // What the last edit was, to join a run of typing into one undo step.
  last: 'type' | 'other';
};

const UNDO_DEPTH = 100;

export const empty = (): Editor => ({ text: '', cursor: 0, undo: [], last: 'other' });

export const withText = (text: string): Editor => ({ text, cursor: text.length, undo: [], last: 'other' });

function edit(e: Editor, text: string, cursor: number, kind: Editor['last']): Editor {
  if (text === e.text) return { ...e, cursor };
  const joins = kind === 'type' && e.last === 'type';
  const undo = joins ? e.undo : [...e.undo, { text: e.text, cursor: e.cursor }].slice(-UNDO_DEPTH);
  return { text, cursor, undo, last: kind };
}

// Typed text (one key, or a burst of keys) joins the run; a paste (more than a few characters
// at once, or with a line break) is a step of its own.
export function insert(e: Editor, s: string): Editor {
  const kind = s.length <= 2 && !s.includes('\n') && s !== ' ' ? 'type' : 'other';
  return edit(e, e.text.slice(0, e.cursor) + s + e.text.slice(e.cursor), e.cursor + s.length, kind);
}

// The length of the code point ending at `i` (a surrogate pair is one character).
function before(text: string, i: number): number {
  const c = text.charCodeAt(i - 1);
  return i >= 2 && c >= 0xdc00 && c <= 0xdfff ? 2 : 1;
}

function after(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 0xd800 && c <= 0xdbff ? 2 : 1;
}

export function backspace(e: Editor): Editor {
  if (e.cursor === 0) return e;
  const n = before(e.text, e.cursor);
  return edit(e, e.text.slice(0, e.cursor - n) + e.text.slice(e.cursor), e.cursor - n, 'other');
}

export function del(e: Editor): Editor {
  if (e.cursor >= e.text.length) return e;
  return edit(e, e.text.slice(0, e.cursor) + e.text.slice(e.cursor + after(e.text, e.cursor)), e.cursor, 'other');
}

export function left(e: Editor): Editor {
  return e.cursor === 0 ? e : { ...e, cursor: e.cursor - before(e.text, e.cursor), last: 'other' };
}

export function right(e: Editor): Editor {
  return e.cursor >= e.text.length ? e : { ...e, cursor: e.cursor + after(e.text, e.cursor), last: 'other' };
}

export function home(e: Editor): Editor {
  return { ...e, cursor: e.text.lastIndexOf('\n', e.cursor - 1) + 1, last: 'other' };
}

export function end(e: Editor): Editor {
  const nl = e.text.indexOf('\n', e.cursor);
  return { ...e, cursor: nl === -1 ? e.text.length : nl, last: 'other' };
}

// The whole text replaced (a Tab completion), as one step to undo.
export function replace(e: Editor, text: string): Editor {
  return edit(e, text, text.length, 'other');
}

// Sent: the box empties, and Ctrl+Z can bring the text back.
export function clear(e: Editor): Editor {
  return edit(e, '', 0, 'other');
}

export function undo(e: Editor): Editor {
  const prev = e.undo[e.undo.length - 1];
  if (!prev) return e;
  return { text: prev.text, cursor: prev.cursor, undo: e.undo.slice(0, -1), last: 'other' };
}
