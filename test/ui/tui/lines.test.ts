import { describe, expect, it } from 'vitest';
import { en } from '../../../src/ui/i18n/en.js';
import { ru } from '../../../src/ui/i18n/ru.js';
import { chatBlocks, noticeText, statusMark, type ChatInput } from '../../../src/ui/tui/lines.js';
import { message, NOW } from './fake.js';

const base = (over: Partial<ChatInput>): ChatInput => ({ t: en, language: 'en', width: 40, rows: [], notices: [], transfers: [], nameOf: (p) => (p === 7 ? 'Bob' : String(p)), selected: null, showBits: false, me: 42, ...over });
const texts = (c: ChatInput): string[][] => chatBlocks(c).map((b) => b.rows.map((r) => r.text));

describe('lines', () => {
  it('lines - a day separator before the first message of each day, mine on the right', () => {
    const day2 = NOW + 86_400_000;
    const blocks = chatBlocks(base({ rows: [message(1, 7, 'hi'), message(2, 7, 'yo', { direction: 'out', status: 'read' }), message(3, 7, 'next day', { at: day2, received_at: null })] }));
    expect(blocks.map((b) => b.key)).toEqual(['day:1', 'm:1', 'm:2', 'day:3', 'm:3']);
    expect(blocks[0].rows[0].text).toContain('December 1, 2026');
    expect(blocks[2].rows.every((r) => r.align === 'right')).toBe(true);
    expect(blocks[2].rows[blocks[2].rows.length - 1].text).toContain('✓✓ read');
  });

  it('lines - a reply quotes its message; edited and failed say so', () => {
    const rows = [message(1, 7, 'the question'), message(2, 7, 'the answer', { direction: 'out', status: 'failed', reason: 'refused', reply_to: 'm1', edited_at: NOW })];
    const [, , answer] = texts(base({ width: 80, rows }));
    expect(answer[1]).toBe('┃ Bob: the question');
    expect(answer[3]).toBe('sent 09:05, received 09:05 · ✗ failed · refused · edited');
  });

  it('lines - a long message wraps within the bubble; a newline stays a line', () => {
    const [, m] = texts(base({ width: 25, rows: [message(1, 7, 'one two three four five six\nseven')] }));
    expect(m.slice(1, -1)).toEqual(['one two three four', 'five six', 'seven']);
  });

  it('lines - notices and transfers go where their seq puts them', () => {
    const notices = [{ id: 0, seq: 1.5, at: NOW, peer: 7, notice: { kind: 'route' as const, peer: 7, from: 'relay', to: 'direct' } }];
    const transfers = [{ seq: 3, id: 't', peer: 7, direction: 'in' as const, name: 'a.pdf', size: 2000, done: 0, wire_bytes: 0, state: 'offered' as const, reason: null, mb_per_s: null, avg_mb_per_s: null, path: null }];
    const blocks = chatBlocks(base({ rows: [message(1, 7, 'a'), message(5, 7, 'b')], notices, transfers }));
    expect(blocks.map((b) => b.key)).toEqual(['day:1', 'm:1', 'n:0', 't:7/in/t', 'm:5']);
    expect(blocks[2].rows.map((r) => r.text).join(' ')).toBe('— Bob: the route changed, relay → direct.');
    expect(blocks[3].rows.map((r) => r.text)).toEqual(['⇣ a.pdf  2.0 kB', 'offered to you: Alt+A accepts, Alt+D', 'declines']);
  });

  it('lines - show-bits adds the frame as built: its size, hex with offsets, its start in binary', () => {
    const [, m] = texts(base({ width: 80, showBits: true, rows: [message(1, 7, 'Hi')] }));
    const at = m.findIndex((r) => r.startsWith('The frame as built'));
    expect(m[at]).toMatch(/^The frame as built, \d+ bytes/);
    // 'P' 'L', version 1, TEXT (2), flags 0, from 7 (uint40), to 42.
    expect(m.find((r) => r.startsWith('0000'))).toBe('0000  50 4c 01 02 00 00 00 00 00 07 00 00 00 00 2a 00');
    expect(m[m.length - 1]).toBe('01010000 01001100 00000001 00000010');
  });

  it('lines - every word from the catalogue: Russian', () => {
    expect(statusMark(ru, 'delivered')).toBe('✓✓ доставлено');
    expect(noticeText(ru, { kind: 'server', online: false }, String)).toBe('Сервер пропал: не в сети, переподключаемся.');
    const [sep] = texts(base({ t: ru, language: 'ru', rows: [message(1, 7, 'привет')] }));
    expect(sep[0]).toContain('1 декабря 2026');
  });
});
