// The console's typed lines read into what they ask for: table-driven, no I/O.
import { describe, expect, it } from 'vitest';
import { HISTORY_DEFAULT, parseId, parseInput, USAGE } from '../../../src/ui/console/input.js';

describe('input', () => {
  it.each([
    ['hello', { kind: 'text', text: 'hello' }],
    ['  spaced  ', { kind: 'text', text: '  spaced  ' }],
    ['Привет 👋', { kind: 'text', text: 'Привет 👋' }],
    ['//etc is a folder', { kind: 'text', text: '/etc is a folder' }],
    ['a line from Windows\r', { kind: 'text', text: 'a line from Windows' }],
    ['', { kind: 'empty' }],
    ['   ', { kind: 'empty' }],
    ['/to 77', { kind: 'to', id: 77 }],
    ['/to  1099511627775 ', { kind: 'to', id: 2 ** 40 - 1 }],
    ['/send-file notes.md', { kind: 'send-file', path: 'notes.md' }],
    ['/send-file My Documents/a b.txt', { kind: 'send-file', path: 'My Documents/a b.txt' }],
    ['/contacts', { kind: 'contacts' }],
    ['/history', { kind: 'history', limit: HISTORY_DEFAULT }],
    ['/history 5', { kind: 'history', limit: 5 }],
    ['/requests accept 12', { kind: 'requests', action: 'accept', id: 12 }],
    ['/requests refuse 12', { kind: 'requests', action: 'refuse', id: 12 }],
    ['/transfers accept a3f09c2e7b41d580', { kind: 'transfers', action: 'accept', tid: 'a3f09c2e7b41d580' }],
    ['/transfers decline t1', { kind: 'transfers', action: 'decline', tid: 't1' }],
    ['/transfers cancel t1', { kind: 'transfers', action: 'cancel', tid: 't1' }],
    ['/lang ru', { kind: 'lang', language: 'ru' }],
    ['/lang EN', { kind: 'lang', language: 'en' }],
    ['/help', { kind: 'help' }],
    ['/quit', { kind: 'quit' }],
    ['/exit', { kind: 'quit' }],
  ])('input - %j', (line, expected) => {
    expect(parseInput(line)).toEqual(expected);
  });

  it.each([
    ['/to seven', { code: 'BAD_ID', text: 'seven' }],
    ['/to 0', { code: 'BAD_ID', text: '0' }],
    ['/to -3', { code: 'BAD_ID', text: '-3' }],
    ['/to 1e3', { code: 'BAD_ID', text: '1e3' }],
    ['/to 1099511627776', { code: 'BAD_ID', text: '1099511627776' }],
    ['/to', { code: 'USAGE', usage: USAGE.to }],
    ['/to 1 2', { code: 'USAGE', usage: USAGE.to }],
    ['/send-file', { code: 'USAGE', usage: USAGE['send-file'] }],
    ['/contacts all', { code: 'USAGE', usage: '/contacts' }],
    ['/history 0', { code: 'USAGE', usage: USAGE.history }],
    ['/history 501', { code: 'USAGE', usage: USAGE.history }],
    ['/history lots', { code: 'USAGE', usage: USAGE.history }],
    ['/requests accept', { code: 'USAGE', usage: USAGE.requests }],
    ['/requests maybe 12', { code: 'USAGE', usage: USAGE.requests }],
    ['/requests accept twelve', { code: 'BAD_ID', text: 'twelve' }],
    ['/transfers pause t1', { code: 'USAGE', usage: USAGE.transfers }],
    ['/transfers accept', { code: 'USAGE', usage: USAGE.transfers }],
    ['/transfers accept ' + 'x'.repeat(65), { code: 'BAD_TID', text: 'x'.repeat(65) }],
    ['/transfers accept тид', { code: 'BAD_TID', text: 'тид' }],
    ['/lang de', { code: 'BAD_LANG', text: 'de' }],
    ['/lang', { code: 'USAGE', usage: USAGE.lang }],
    ['/frobnicate', { code: 'UNKNOWN_COMMAND', command: '/frobnicate' }],
    ['/', { code: 'UNKNOWN_COMMAND', command: '/' }],
    ['/TO 7', { code: 'UNKNOWN_COMMAND', command: '/TO' }],
  ])('input - %j is refused with a reason', (line, error) => {
    expect(parseInput(line)).toEqual({ kind: 'error', error });
  });

  it('input - parseId takes 1 to 2^40 - 1 in digits only', () => {
    expect(parseId(' 42 ')).toBe(42);
    for (const bad of ['', '0', '+5', '5.0', '0x10', '١٢', String(2 ** 40), '9'.repeat(20)]) expect(parseId(bad), bad).toBeNull();
  });
});
