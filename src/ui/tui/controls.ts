// What each key does in each mode of the screen, and the intents typed lines send. The App
// hands over its state (refs that change at once: a burst of keys sees each change) and the
// few things that act (dispatch, openChat, the terminal); this decides.
//
// Hotkeys are Alt+letter while typing (plain letters are text) and plain letters in the
// settings, the files and the confirmation; both read the letter on the key (keys.ts,
// hotkeyOf), so they work on a Russian layout too.
import os from 'node:os';
import { oneLine } from '../console/format.js';
import { parseId } from '../console/input.js';
import type { Terminal, Mode } from './App.js';
import type { TuiClient } from './client.js';
import { completePath } from './complete.js';
import * as ed from './editor.js';
import { hotkeyOf, type Key } from './keys.js';
import type { Layout } from './layout.js';
import type { Block } from './lines.js';
import { contactList, folderOf, keepOf, openTransfer, transfersOf, type Action, type Folder, type Model } from './model.js';
import { notice, runIntent, submit, tOf } from './typed.js';
import { KEEP_ROW, nextValue, settingRows } from './SettingsScreen.js';

export type Ui = {
  mode: Mode;
  editor: ed.Editor;
  folder: Folder;
  search: string;
  idAnswer: string;
  idError: string | null;
  // The command to run with --yes once confirmed, and the question asked.
  confirm: { argv: string[]; question: string } | null;
  // The selected message's index in the loaded rows (copy, reply), or none.
  selected: number | null;
  // The message the next one sent answers (Alt+Q on the selected one).
  replyTo: string | null;
  offset: number;
  note: string | null;
  settingsRow: number;
  filesOffset: number;
};

export type Controls = {
  client: TuiClient;
  cwd: string;
  terminal: Terminal;
  model: { current: Model };
  ui: { current: Ui };
  setUi: (patch: Partial<Ui>) => void;
  dispatch: (action: Action) => void;
  openChat: (peer: number) => Promise<void>;
  view: { blocks: Block[]; offset: number; maxOffset: number };
  layout: Layout;
  quit: () => void;
};

// OSC 52: the terminal (and tmux with set-clipboard on) puts the text on the system clipboard.
export const osc52 = (text: string): string => `\x1b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\x07`;

function moveChat(c: Controls, step: number): void {
  const list = contactList(c.model.current, c.ui.current.folder, c.ui.current.search);
  if (list.length === 0) return;
  const at = list.findIndex((x) => x.id === c.model.current.current);
  const next = list[(at + step + list.length) % list.length];
  if (next.id !== c.model.current.current) void c.openChat(next.id);
}

// From the offset as the keys left it, not as last drawn: several keys can come in one chunk.
function scroll(c: Controls, rows: number): void {
  c.setUi({ offset: Math.max(0, Math.min(c.view.maxOffset, Math.min(c.ui.current.offset, c.view.maxOffset) + rows)) });
}

// Select the message before or after the selected one, scrolled into view.
function select(c: Controls, step: number): void {
  const messages = c.view.blocks.filter((b) => b.message !== undefined);
  if (messages.length === 0) return;
  const at = messages.findIndex((b) => b.message === c.ui.current.selected);
  const next = messages[Math.max(0, Math.min(messages.length - 1, at === -1 ? messages.length - 1 : at + step))];
  const heights = c.view.blocks.map((b) => b.rows.length);
  const index = c.view.blocks.indexOf(next);
  const below = heights.slice(index + 1).reduce((a, b) => a + b, 0);
  let offset = c.view.offset;
  if (below < offset) offset = below;
  if (below + heights[index] > offset + c.layout.body) offset = below + heights[index] - c.layout.body;
  c.setUi({ selected: next.message ?? null, offset });
}

function copy(c: Controls, text: string, note: string): void {
  c.terminal.write(osc52(text));
  c.setUi({ note });
}

// Alt+A, Alt+R, Alt+D, Alt+X: answer the newest request or offer of this chat, stop a transfer.
function answer(c: Controls, letter: string): void {
  const m = c.model.current;
  const peer = m.current;
  if (letter === 'a' || letter === 'r') {
    const asker = m.requests.includes(peer ?? -1) ? peer : m.requests[m.requests.length - 1];
    if (asker !== undefined && asker !== null) return void runIntent(c, ['requests', letter === 'a' ? 'accept' : 'refuse', String(asker)]);
  }
  if (peer === null) return;
  if (letter === 'a' || letter === 'd') {
    const offer = openTransfer(m, peer, ['offered']);
    if (offer && offer.direction === 'in') void runIntent(c, ['transfers', letter === 'a' ? 'accept' : 'decline', '--peer', String(peer), '--json', '--', offer.id]);
  }
  if (letter === 'x') {
    const open = openTransfer(m, peer, ['active', 'paused', 'offered']);
    if (open) void runIntent(c, ['transfers', 'cancel', '--json', '--', open.id]);
  }
}

function chatKey(c: Controls, key: Key): void {
  const u = c.ui.current;
  const edit = (f: (e: ed.Editor) => ed.Editor): void => c.setUi({ editor: f(u.editor), note: null });
  switch (key.kind) {
    case 'enter':
      return submit(c);
    case 'newline':
      return edit((e) => ed.insert(e, '\n'));
    case 'text':
      return edit((e) => ed.insert(e, key.text));
    case 'backspace':
      return edit(ed.backspace);
    case 'delete':
      return edit(ed.del);
    case 'tab': {
      const m = /^\/send-file\s+(.*)$/s.exec(u.editor.text);
      if (m) edit((e) => ed.replace(e, u.editor.text.slice(0, u.editor.text.length - m[1].length) + completePath(m[1], c.cwd, os.homedir())));
      return;
    }
    case 'escape':
      return c.setUi({ selected: null, note: null, search: '', replyTo: null });
    case 'nav':
      if (key.mod && (key.name === 'up' || key.name === 'down')) return moveChat(c, key.name === 'up' ? -1 : 1);
      if (key.name === 'pageUp' || key.name === 'pageDown') return scroll(c, (key.name === 'pageUp' ? 1 : -1) * Math.max(1, c.layout.body - 1));
      if (key.name === 'left') return edit(ed.left);
      if (key.name === 'right') return edit(ed.right);
      if (key.name === 'home') return edit(ed.home);
      if (key.name === 'end') return edit(ed.end);
      // Up and Down scroll a row; in a box of several lines they are the box's.
      return scroll(c, key.name === 'up' ? 1 : key.name === 'down' ? -1 : 0);
    case 'ctrl':
      if (key.letter === 'z') return edit(ed.undo);
      if (key.letter === 'n' || key.letter === 'p') return moveChat(c, key.letter === 'p' ? -1 : 1);
      return;
    case 'alt':
      return altKey(c, key.letter);
  }
}

function altKey(c: Controls, letter: string): void {
  const m = c.model.current;
  const t = tOf(c);
  switch (letter) {
    case 'n':
    case 'p':
      return moveChat(c, letter === 'p' ? -1 : 1);
    case 'o':
      return c.setUi({ mode: 'openId', idAnswer: '', idError: null });
    case 'f':
      return c.setUi({ mode: 'search' });
    case 'm':
      return c.setUi({ folder: c.ui.current.folder === 'main' ? 'spam' : 'main' });
    case 'w':
      // Closing a chat puts it in spam, where its messages wait without cluttering the list;
      // in spam, the same key brings it back.
      if (m.current !== null) void runIntent(c, ['contacts', 'move', String(m.current), folderOf(m, m.current) === 'main' ? 'spam' : 'main']);
      return;
    case 's':
      return c.setUi({ mode: 'settings', settingsRow: 0 });
    case 'l':
      return c.setUi({ mode: 'files', filesOffset: 0 });
    case 'h':
      return c.setUi({ mode: 'keys' });
    case 'k':
    case 'j':
      return select(c, letter === 'k' ? -1 : 1);
    case 'y': {
      const row = c.ui.current.selected === null ? undefined : m.chat?.rows[c.ui.current.selected];
      if (row) copy(c, row.text, t.uiCopied);
      return;
    }
    case 'i':
      if (m.status.id !== null) copy(c, String(m.status.id), t.uiCopiedId(String(m.status.id)));
      return;
    case 'a':
    case 'r':
    case 'd':
    case 'x':
      return answer(c, letter);
    case 'q': {
      const row = c.ui.current.selected === null ? undefined : m.chat?.rows[c.ui.current.selected];
      if (row) c.setUi({ replyTo: row.id, selected: null, note: t.uiReplying(oneLine(row.text.split('\n')[0]).slice(0, 60)) });
      return;
    }
  }
}

function openIdKey(c: Controls, key: Key): void {
  const t = tOf(c);
  const u = c.ui.current;
  if (key.kind === 'escape') return c.setUi({ mode: 'chat' });
  if (key.kind === 'backspace') return c.setUi({ idAnswer: u.idAnswer.slice(0, -1), idError: null });
  if (key.kind === 'text') {
    const digits = key.text.replace(/[^0-9]/g, '');
    return c.setUi({ idAnswer: (u.idAnswer + digits).slice(0, 13), idError: digits.length === key.text.length ? null : t.uiDigitsOnly });
  }
  if (key.kind !== 'enter') return;
  const id = parseId(u.idAnswer);
  if (id === null) return c.setUi({ idError: t.badId(u.idAnswer) });
  if (!c.model.current.status.contacts.some((x) => x.id === id)) return c.setUi({ idError: t.notContact(id) });
  c.setUi({ mode: 'chat' });
  void c.openChat(id);
}

function searchKey(c: Controls, key: Key): void {
  const u = c.ui.current;
  if (key.kind === 'escape') return c.setUi({ mode: 'chat', search: '' });
  if (key.kind === 'backspace') return c.setUi({ search: u.search.slice(0, -1) });
  if (key.kind === 'text') return c.setUi({ search: u.search + key.text.replace(/\n/g, '') });
  if (key.kind === 'nav' && (key.name === 'up' || key.name === 'down')) return moveChat(c, key.name === 'up' ? -1 : 1);
  if (key.kind === 'enter') {
    const first = contactList(c.model.current, u.folder, u.search)[0];
    c.setUi({ mode: 'chat' });
    if (first && first.id !== c.model.current.current) void c.openChat(first.id);
  }
}

function settingsKey(c: Controls, key: Key): void {
  const u = c.ui.current;
  const m = c.model.current;
  const keep = keepOf(m, m.current);
  const rows = settingRows(m.settings, keep !== null);
  const letter = key.kind === 'text' ? hotkeyOf(key.text) : key.kind === 'alt' ? key.letter : '';
  if (key.kind === 'escape' || letter === 'q' || letter === 's') return c.setUi({ mode: 'chat' });
  if (key.kind === 'nav' && (key.name === 'up' || key.name === 'down')) {
    return c.setUi({ settingsRow: (u.settingsRow + (key.name === 'up' ? -1 : 1) + rows.length) % rows.length });
  }
  if (key.kind === 'enter' || (key.kind === 'text' && key.text === ' ')) {
    const k = rows[u.settingsRow];
    if (k === KEEP_ROW && m.current !== null) void runIntent(c, ['history', 'keep', '--peer', String(m.current), keep ? 'off' : 'on']);
    else if (k) void runIntent(c, ['settings', 'set', k, nextValue(k, m.settings[k])]);
  }
}

function filesKey(c: Controls, key: Key): void {
  const letter = key.kind === 'text' ? hotkeyOf(key.text) : key.kind === 'alt' ? key.letter : '';
  if (key.kind === 'escape' || letter === 'q' || letter === 'l') return c.setUi({ mode: 'chat' });
  const count = transfersOf(c.model.current, null).length;
  if (key.kind === 'nav' && (key.name === 'up' || key.name === 'down')) c.setUi({ filesOffset: Math.max(0, Math.min(count - 1, c.ui.current.filesOffset + (key.name === 'up' ? -1 : 1))) });
}

function confirmKey(c: Controls, key: Key): void {
  const confirm = c.ui.current.confirm;
  const letter = key.kind === 'text' ? hotkeyOf(key.text) : '';
  if (letter === 'y' && confirm) {
    c.setUi({ mode: 'chat', confirm: null });
    return void runIntent(c, confirm.argv);
  }
  if (letter === 'n' || key.kind === 'escape' || key.kind === 'enter') {
    c.setUi({ mode: 'chat', confirm: null });
    notice(c, { kind: 'notSent' });
  }
}

export function onKey(c: Controls, key: Key): void {
  if (key.kind === 'ctrl' && key.letter === 'c') return c.quit();
  if (key.kind === 'wheel') return scroll(c, key.direction === 'up' ? 3 : -3);
  switch (c.ui.current.mode) {
    case 'chat':
      return chatKey(c, key);
    case 'openId':
      return openIdKey(c, key);
    case 'search':
      return searchKey(c, key);
    case 'settings':
      return settingsKey(c, key);
    case 'files':
      return filesKey(c, key);
    case 'confirm':
      return confirmKey(c, key);
    case 'keys':
      // Any key goes back; the one that opened it too.
      return c.setUi({ mode: 'chat' });
  }
}
