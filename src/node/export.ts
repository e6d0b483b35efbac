// History as a person takes it away: JSON lines, CSV (RFC 4180) or Markdown. Pure functions of
// the messages as the profile reads them (history.ts), one row at a time, so an export streams
// in flat memory however long the chat, and `history` and `history export` always agree.
import type { ChatMessage } from './history.js';

export type HistoryRow = {
  seq: number;
  id: string;
  peer: number;
  direction: 'out' | 'in';
  at: number;
  received_at: number | null;
  text: string;
  status: string;
  edited_at: number | null;
  reply_to: string | null;
  reason: string | null;
};

export const HISTORY_COLUMNS: (keyof HistoryRow)[] = ['seq', 'id', 'peer', 'direction', 'at', 'received_at', 'text', 'status', 'edited_at', 'reply_to', 'reason'];

export const FORMATS = ['jsonl', 'csv', 'md'] as const;
export type Format = (typeof FORMATS)[number];

export function historyRow(m: ChatMessage): HistoryRow {
  return {
    seq: m.seq,
    id: m.id,
    peer: m.peer,
    direction: m.direction,
    at: m.at,
    received_at: m.receivedAt,
    text: m.text,
    status: m.status,
    edited_at: m.editedAt,
    reply_to: m.replyTo,
    reason: m.reason,
  };
}

// A cell a spreadsheet would run as a formula (=, +, -, @, or a tab or carriage return first) gets
// a leading apostrophe: a message from someone else must never run in the reader's Excel
// (OWASP, "CSV injection"). JSON lines keep the text exactly.
const FORMULA_START = /^[=+\-@\t\r]/;

// RFC 4180: fields with a comma, a quote, CR or LF are quoted, quotes doubled, lines end in CRLF.
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = "'" + text;
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

// The file starts with a UTF-8 byte order mark: Excel on Windows, where most people open a CSV,
// reads a file without one in the local ANSI code page and garbles every Cyrillic letter.
// Readers that know UTF-8 skip it (Python's csv with encoding='utf-8-sig', LibreOffice).
export const UTF8_BOM = '\ufeff';

function pad(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

// Local calendar day and time of the machine that exports: what the person saw.
export function dayOf(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function timeOf(at: number): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// Markdown special characters in a message are escaped so the text reads as written.
function mdText(text: string): string {
  return text.replace(/([\\`*_[\]#<>|])/g, '\\$1').replace(/\r?\n/g, '  \n  ');
}

// An export is a header, then one piece per message; the Markdown one remembers the last day
// it headed. => exporter('csv', 5, 'Ann').row(m) === '12,a,5,out,...\r\n'
export type Exporter = { header: string; row: (m: ChatMessage) => string };

export function exporter(format: Format, peer: number, name: string): Exporter {
  if (format === 'jsonl') return { header: '', row: (m) => JSON.stringify(historyRow(m)) + '\n' };
  if (format === 'csv') {
    return {
      header: UTF8_BOM + HISTORY_COLUMNS.join(',') + '\r\n',
      row(m) {
        const row = historyRow(m);
        return HISTORY_COLUMNS.map((c) => csvField(row[c])).join(',') + '\r\n';
      },
    };
  }
  let day = '';
  return {
    header: `# Chat with ${mdText(name)} (${peer})\n`,
    row(m) {
      let out = '';
      const d = dayOf(m.at);
      if (d !== day) {
        day = d;
        out += `\n## ${d}\n\n`;
      }
      const who = m.direction === 'out' ? 'me' : mdText(name);
      const marks: string[] = [m.status];
      if (m.editedAt !== null) marks.push('edited');
      if (m.replyTo !== null) marks.push(`reply to ${m.replyTo}`);
      if (m.reason !== null) marks.push(mdText(m.reason));
      return out + `- **${timeOf(m.at)}** ${who}: ${mdText(m.text)} _(${marks.join(', ')})_\n`;
    },
  };
}

// The whole export of `messages` as one string: for tests and small chats.
export function exportText(format: Format, messages: ChatMessage[], peer: number, name: string): string {
  const e = exporter(format, peer, name);
  let out = e.header;
  for (const m of messages) out += e.row(m);
  return out;
}
