// History as a person takes it away: JSON lines, CSV (RFC 4180) or Markdown. Pure functions of
// the chat projection, so `history` and `history export` always agree with the view.
import type { ChatMessage } from '../projections/chats.js';

export type HistoryRow = {
  id: string;
  peer: number;
  direction: 'out' | 'in';
  at: number;
  received_at: number | null;
  text: string;
  status: string;
  edited_at: number | null;
  reply_to: string | null;
};

export const HISTORY_COLUMNS: (keyof HistoryRow)[] = ['id', 'peer', 'direction', 'at', 'received_at', 'text', 'status', 'edited_at', 'reply_to'];

export function historyRow(m: ChatMessage): HistoryRow {
  return {
    id: m.id,
    peer: m.peer,
    direction: m.direction,
    at: m.at,
    received_at: m.receivedAt,
    text: m.text,
    status: m.status,
    edited_at: m.editedAt,
    reply_to: m.replyTo,
  };
}

export function toJsonl(messages: ChatMessage[]): string {
  let out = '';
  for (const m of messages) out += JSON.stringify(historyRow(m)) + '\n';
  return out;
}

// RFC 4180: fields with a comma, a quote, CR or LF are quoted, quotes doubled, lines end in CRLF.
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
}

// The file starts with a UTF-8 byte order mark: Excel on Windows, where most people open a CSV,
// reads a file without one in the local ANSI code page and garbles every Cyrillic letter.
// Readers that know UTF-8 skip it (Python's csv with encoding='utf-8-sig', LibreOffice).
export const UTF8_BOM = '\ufeff';

export function toCsv(messages: ChatMessage[]): string {
  let out = UTF8_BOM + HISTORY_COLUMNS.join(',') + '\r\n';
  for (const m of messages) {
    const row = historyRow(m);
    out += HISTORY_COLUMNS.map((c) => csvField(row[c])).join(',') + '\r\n';
  }
  return out;
}

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

export function toMarkdown(messages: ChatMessage[], peer: number, name: string): string {
  let out = `# Chat with ${mdText(name)} (${peer})\n`;
  let day = '';
  for (const m of messages) {
    const d = dayOf(m.at);
    if (d !== day) {
      day = d;
      out += `\n## ${d}\n\n`;
    }
    const who = m.direction === 'out' ? 'me' : mdText(name);
    const marks: string[] = [m.status];
    if (m.editedAt !== null) marks.push('edited');
    if (m.replyTo !== null) marks.push(`reply to ${m.replyTo}`);
    out += `- **${timeOf(m.at)}** ${who}: ${mdText(m.text)} _(${marks.join(', ')})_\n`;
  }
  return out;
}
