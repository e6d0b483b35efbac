// A line typed at the console, read into what it asks for; pure, no I/O. Text goes to the
// current contact; a line that starts with "/" is a command mirroring `parley`'s own:
//
//   parseInput('hello')             // => { kind: 'text', text: 'hello' }
//   parseInput('//etc is a folder') // => { kind: 'text', text: '/etc is a folder' }
//   parseInput('/to 77')            // => { kind: 'to', id: 77 }
//   parseInput('/to seven')         // => { kind: 'error', error: { code: 'BAD_ID', text: 'seven' } }
import { LIMITS } from '../../net/constants.js';
import { LANGUAGES, type Language } from '../../projections/settings.js';

export type InputError =
  | { code: 'UNKNOWN_COMMAND'; command: string }
  | { code: 'USAGE'; usage: string }
  | { code: 'BAD_ID'; text: string }
  | { code: 'BAD_TID'; text: string }
  | { code: 'BAD_LANG'; text: string };

export type Input =
  | { kind: 'empty' }
  | { kind: 'text'; text: string }
  | { kind: 'to'; id: number }
  | { kind: 'send-file'; path: string }
  | { kind: 'contacts' }
  | { kind: 'history'; limit: number }
  | { kind: 'requests'; action: 'accept' | 'refuse'; id: number }
  | { kind: 'transfers'; action: 'accept' | 'decline' | 'cancel'; tid: string }
  | { kind: 'lang'; language: Language }
  | { kind: 'help' }
  | { kind: 'quit' }
  | { kind: 'error'; error: InputError };

export const HISTORY_DEFAULT = 20;
// What one page request gives (node/attach.ts, PAGE_LIMIT.MAX).
export const HISTORY_MAX = 500;

export const USAGE = Object.freeze({
  to: '/to ID',
  'send-file': '/send-file PATH',
  history: `/history [N] (N from 1 to ${HISTORY_MAX})`,
  requests: '/requests accept|refuse ID',
  transfers: '/transfers accept|decline|cancel TID',
  lang: `/lang ${LANGUAGES.join('|')}`,
});

// A message or transfer id, as the commands take it: printable ASCII, no space.
const TID = /^[\x21-\x7e]{1,64}$/;

const error = (e: InputError): Input => ({ kind: 'error', error: e });

// => 77 from ' 77 ', or null for anything that is not an id (1 to 2^40 - 1).
export function parseId(text: string): number | null {
  const trimmed = text.trim();
  if (!/^[0-9]{1,13}$/.test(trimmed)) return null;
  const n = Number(trimmed);
  return n >= 1 && n <= LIMITS.MAX_ID ? n : null;
}

export function parseInput(line: string): Input {
  // A line from a Windows pipe ends in \r; a paste may carry a trailing newline.
  const text = line.replace(/\r?\n?$/, '');
  if (text.trim().length === 0) return { kind: 'empty' };
  if (text.startsWith('//')) return { kind: 'text', text: text.slice(1) };
  if (!text.startsWith('/')) return { kind: 'text', text };
  const [name, ...words] = text.trim().split(/\s+/);
  // The path keeps its spaces: everything after the command's name.
  const rest = text.trim().slice(name.length).trim();
  switch (name) {
    case '/to': {
      if (words.length !== 1) return error({ code: 'USAGE', usage: USAGE.to });
      const id = parseId(words[0]);
      return id === null ? error({ code: 'BAD_ID', text: words[0] }) : { kind: 'to', id };
    }
    case '/send-file':
      return rest.length === 0 ? error({ code: 'USAGE', usage: USAGE['send-file'] }) : { kind: 'send-file', path: rest };
    case '/contacts':
      return words.length === 0 ? { kind: 'contacts' } : error({ code: 'USAGE', usage: '/contacts' });
    case '/history': {
      if (words.length === 0) return { kind: 'history', limit: HISTORY_DEFAULT };
      const n = Number(words[0]);
      if (words.length > 1 || !/^[0-9]+$/.test(words[0]) || n < 1 || n > HISTORY_MAX) return error({ code: 'USAGE', usage: USAGE.history });
      return { kind: 'history', limit: n };
    }
    case '/requests': {
      const [action, idText] = words;
      if (words.length !== 2 || (action !== 'accept' && action !== 'refuse')) return error({ code: 'USAGE', usage: USAGE.requests });
      const id = parseId(idText);
      return id === null ? error({ code: 'BAD_ID', text: idText }) : { kind: 'requests', action, id };
    }
    case '/transfers': {
      const [action, tid] = words;
      if (words.length !== 2 || (action !== 'accept' && action !== 'decline' && action !== 'cancel')) return error({ code: 'USAGE', usage: USAGE.transfers });
      return TID.test(tid) ? { kind: 'transfers', action, tid } : error({ code: 'BAD_TID', text: tid });
    }
    case '/lang': {
      if (words.length !== 1) return error({ code: 'USAGE', usage: USAGE.lang });
      const language = LANGUAGES.find((l) => l === words[0].toLowerCase());
      return language ? { kind: 'lang', language } : error({ code: 'BAD_LANG', text: words[0] });
    }
    case '/help':
    case '/?':
      return { kind: 'help' };
    case '/quit':
    case '/exit':
      return { kind: 'quit' };
    default:
      return error({ code: 'UNKNOWN_COMMAND', command: name });
  }
}
