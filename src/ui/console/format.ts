// The console's lines, made from what the client tells and what a person typed; pure, no I/O.
// Text from elsewhere (a message, a name, a reason) is made safe first: a control character or
// an escape sequence from a peer must never move the cursor or rewrite the screen.
//
//   messageLine(en, { direction: 'in', at, text: 'hi' }, 'Bob (77)')  // => '[09:05] Bob (77): hi'
import type { Catalogue } from '../i18n/index.js';
import { LANGUAGES } from '../../projections/settings.js';
import type { InputError } from './input.js';

// C0 and C1 controls but the newline, DEL, and the bidi controls that turn text around (U+061C,
// the Arabic letter mark, is one: filename.ts says why).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const escape = (c: string): string => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');

// A message's text. => 'a\\u001b[2Jb' from 'a\x1b[2Jb'; a newline goes on, indented under the
// line's start.
export function safe(text: string): string {
  return text.replace(UNSAFE, escape).replace(/\n/g, '\n    ');
}

// A name, a reason, a file name: one line, so a newline is escaped too (a name must not forge a
// line of its own). => 'Bob\\u000aFake' from 'Bob\nFake'
export function oneLine(text: string): string {
  return text.replace(UNSAFE, escape).replace(/\n/g, escape);
}

// The local time of day. => '09:05'
export function timeOf(at: number): string {
  const d = new Date(at);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// A contact as shown: its name and id, or the id alone when it has no other name.
// => 'Bob (77)', '77'
export function who(id: number, name: string | null | undefined): string {
  return name && name !== String(id) ? `${oneLine(name)} (${id})` : String(id);
}

// => '512 B', '1.5 kB', '12.3 MB': powers of 1000, as the speeds (MB/s), so SI's spelling, kB.
// The one way a size is shown: by `parley transfers`, the console and the screen.
export function sizeText(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

export type ShownMessage = { direction: 'in' | 'out'; at: number; text: string; status?: string; edited?: boolean };

// One message: time, who wrote it, the text; in a history, my messages end with their status.
// => '[09:05] you → Bob (77): hi (delivered)'
export function messageLine(t: Catalogue, m: ShownMessage, peer: string): string {
  const from = m.direction === 'in' ? peer : `${t.you} → ${peer}`;
  const marks = [m.status !== undefined ? (t.status[m.status] ?? m.status) : '', m.edited ? t.edited : ''].filter((s) => s !== '');
  return `[${timeOf(m.at)}] ${from}: ${safe(m.text)}${marks.length > 0 ? ` (${marks.join(', ')})` : ''}`;
}

export type ShownContact = { id: number; name: string; presence: string; route: string | null; unread: number };

// => '77  Bob  online (direct)  2 unread'
export function contactLine(t: Catalogue, c: ShownContact): string {
  const presence = (t.presence[c.presence] ?? c.presence) + (c.route ? ` (${c.route})` : '');
  return [String(c.id), oneLine(c.name), presence, c.unread > 0 ? t.unread(c.unread) : ''].filter((s) => s !== '').join('  ');
}

// What is wrong with a typed line, in one line.
export function errorLine(t: Catalogue, e: InputError): string {
  switch (e.code) {
    case 'UNKNOWN_COMMAND':
      return t.unknownCommand(oneLine(e.command.slice(0, 40)));
    case 'USAGE':
      return t.usage(e.usage);
    case 'BAD_ID':
      return t.badId(oneLine(e.text.slice(0, 40)));
    case 'BAD_TID':
      return t.badTid(oneLine(e.text.slice(0, 64)));
    case 'BAD_LANG':
      return t.badLang(oneLine(e.text.slice(0, 20)), LANGUAGES.join(', '));
  }
}
