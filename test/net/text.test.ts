import { describe, expect, it } from 'vitest';
import { LIMITS } from '../../src/net/constants.js';
import { hasControlChars, reasonText } from '../../src/net/text.js';

// Each side of every range the rule names, and the printable characters next to them.
const CASES: Array<[string, string, boolean]> = [
  ['plain text', 'Ann', false],
  ['NUL, the first of C0', 'a\u0000b', true],
  ['BEL', 'a\u0007b', true],
  ['ESC', '\u001b[2J', true],
  ['U+001F, the last of C0', 'a\u001fb', true],
  ['space, right after C0', 'a b', false],
  ['tilde, right before DEL', 'a~b', false],
  ['DEL', 'a\u007fb', true],
  ['U+0080, the first of C1', 'a\u0080b', true],
  ['NEL (U+0085)', 'a\u0085b', true],
  ['CSI (U+009B), an escape without ESC', '\u009b2J', true],
  ['U+009F, the last of C1', 'a\u009fb', true],
  ['no-break space, right after C1', 'a\u00a0b', false],
  ['letters beyond Latin-1', 'Борис 🐻', false],
];

describe('text', () => {
  for (const [name, text, control] of CASES) {
    it(`text - ${name} ${control ? 'is' : 'is not'} a control character`, () => {
      expect(hasControlChars(text)).toBe(control);
    });
  }

  it('text - reasonText turns every control character into a space and keeps the rest', () => {
    expect(reasonText('bad\u0007name\u009b2J\r\n')).toBe('bad name 2J  ');
    // Called twice in a row: a shared /g regex must not carry its position from one call to the next.
    expect(reasonText('\u0000\u0000')).toBe('  ');
    expect(reasonText('\u0000\u0000')).toBe('  ');
    for (const [, text] of CASES) expect(hasControlChars(reasonText(text))).toBe(false);
  });

  it('text - reasonText cuts a reason to the longest a control message carries', () => {
    expect(reasonText('x'.repeat(LIMITS.MAX_REASON_LENGTH + 10))).toHaveLength(LIMITS.MAX_REASON_LENGTH);
  });
});
