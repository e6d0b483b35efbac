import { describe, expect, it } from 'vitest';
import { causeText } from '../src/errors.js';

const errno = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('errors', () => {
  const cases: Array<[string, unknown, Parameters<typeof causeText>[1], string]> = [
    ['an Error: its message', new Error('bad magic'), {}, 'bad magic'],
    ['a message of several lines: the first', new Error('first line\n    at somewhere'), {}, 'first line'],
    ['an empty message: the code', errno('EPIPE', ''), {}, 'EPIPE'],
    ['an empty message and no code: the name', new RangeError(''), {}, 'RangeError'],
    ['a system error: its message', errno('ENOENT', "ENOENT: no such file or directory, open '/x'"), {}, "ENOENT: no such file or directory, open '/x'"],
    ['a system error, code asked for: the code', errno('EADDRINUSE', 'listen EADDRINUSE: address already in use'), { code: true }, 'EADDRINUSE'],
    ['code asked for, none there: the message', new Error('timed out'), { code: true }, 'timed out'],
    ['a string', 'gone', {}, 'gone'],
    ['a number', 42, {}, '42'],
    ['null', null, {}, 'null'],
    ['nothing', undefined, {}, 'unknown reason'],
    ['a long message cut', new Error('x'.repeat(300)), { max: 200 }, 'x'.repeat(200)],
  ];
  for (const [name, cause, options, want] of cases) {
    it(`errors - causeText of ${name}`, () => {
      expect(causeText(cause, options)).toBe(want);
    });
  }
});
