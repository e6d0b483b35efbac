// The names a receiver refuses (issue 11, every hostile name), and the free name it writes to
// when one is taken.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFileName, MAX_NAME_BYTES, uniqueName } from '../../src/node/filename.js';
import { tempHome } from '../helpers/cli.js';

// [what, name, part of the reason]
const HOSTILE: Array<[string, string, string]> = [
  ['empty', '', 'empty'],
  ['a slash', 'a/b.txt', 'path separator'],
  ['a backslash', 'a\\b.txt', 'path separator'],
  ['a parent folder', '..', 'folder'],
  ['the folder itself', '.', 'folder'],
  ['a climb out', '../../.bashrc', 'path separator'],
  ['a climb out, Windows', '..\\..\\boot.ini', 'path separator'],
  ['an absolute path', '/etc/passwd', 'absolute'],
  ['an absolute path, Windows', 'C:\\Windows\\win.ini', 'absolute'],
  ['a drive-relative path', 'C:evil.txt', 'absolute'],
  ['a UNC path', '\\\\server\\share\\x', 'absolute'],
  ['CON', 'CON', 'CON is a device name'],
  ['con in lower case', 'con', 'CON is a device name'],
  ['PRN with an extension', 'prn.txt', 'PRN is a device name'],
  ['AUX with two extensions', 'Aux.tar.gz', 'AUX is a device name'],
  ['NUL', 'NUL', 'NUL is a device name'],
  ['NUL with an extension', 'nul.pdf', 'NUL is a device name'],
  ['NUL, a space before the dot', 'nul .txt', 'NUL is a device name'],
  ['COM1', 'COM1', 'COM1 is a device name'],
  ['COM9 with an extension', 'com9.log', 'COM9 is a device name'],
  ['COM superscript', 'COM¹.txt', 'is a device name'],
  ['LPT1', 'lpt1', 'LPT1 is a device name'],
  ['LPT9 with an extension', 'LpT9.doc', 'LPT9 is a device name'],
  ['CONIN$', 'CONIN$', 'is a device name'],
  ['a colon (an NTFS stream)', 'file.txt:hidden', 'colon'],
  ['a colon after a word', 'report:b', 'colon'],
  ['a trailing dot', 'report.pdf.', 'ends with a dot or a space'],
  ['a trailing space', 'report.pdf ', 'ends with a dot or a space'],
  ['three dots', '...', 'ends with a dot or a space'],
  ['NUL the character', 'a\u0000b', 'control character (U+0000)'],
  ['a newline', 'a\nb.txt', 'control character (U+000A)'],
  ['a carriage return', 'a\rb.txt', 'control character (U+000D)'],
  ['a tab', 'a\tb.txt', 'control character (U+0009)'],
  ['a bell', 'a\u0007b', 'control character (U+0007)'],
  ['DEL', 'a\u007fb', 'control character (U+007F)'],
  ['a C1 control (NEL)', 'a\u0085b', 'control character (U+0085)'],
  ['an ESC sequence (clear screen)', '\u001b[2Jx.txt', 'terminal escape sequence (U+001B)'],
  ['an ESC sequence (window title)', '\u001b]0;pwned\u0007.txt', 'terminal escape sequence (U+001B)'],
  ['an 8-bit CSI', '\u009b31mred.txt', 'terminal escape sequence (U+009B)'],
  ['a right-to-left override', 'invoice\u202Efdp.exe', 'bidirectional text control (U+202E)'],
  ['a left-to-right embedding', 'a\u202Ab', 'U+202A'],
  ['a right-to-left embedding', 'a\u202Bb', 'U+202B'],
  ['a pop directional formatting', 'a\u202Cb', 'U+202C'],
  ['a left-to-right override', 'a\u202Db', 'U+202D'],
  ['a left-to-right isolate', 'a\u2066b', 'U+2066'],
  ['a right-to-left isolate', 'a\u2067b', 'U+2067'],
  ['a first strong isolate', 'a\u2068b', 'U+2068'],
  ['a pop directional isolate', 'a\u2069b', 'U+2069'],
  ['a left-to-right mark', 'a\u200Eb', 'U+200E'],
  ['a right-to-left mark', 'a\u200Fb', 'U+200F'],
  ['a lone surrogate', 'a\ud800b', 'not valid Unicode'],
  ['256 bytes of ASCII', 'a'.repeat(252) + '.txt', '256 bytes of UTF-8, over 255'],
  ['256 bytes of Cyrillic', 'я'.repeat(128), '256 bytes of UTF-8, over 255'],
];

const FINE = [
  'report.pdf',
  'a',
  '.bashrc',
  'archive.tar.gz',
  'Отчёт за май.docx',
  '写真 2024.jpg',
  '😀.png',
  'a..b',
  '..hidden',
  'console.log',
  'nul-terminated.txt',
  'COM10',
  'LPT',
  'comma, semi; and (brackets).txt',
  ' leading space',
  'a'.repeat(251) + '.txt',
  'я'.repeat(127) + 'a',
];

describe('filename', () => {
  it.each(HOSTILE)('filename - refuses %s', (_what, name, reason) => {
    expect(checkFileName(name)).toContain(reason);
  });

  it.each(FINE)('filename - takes %j', (name) => {
    expect(checkFileName(name)).toBeNull();
  });

  it('filename - a reason holds no character of the name that a terminal would obey, so it is safe to print and to send', () => {
    for (const [, name] of HOSTILE) {
      const reason = checkFileName(name) as string;
      // eslint-disable-next-line no-control-regex
      expect(reason).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/);
    }
  });

  it('filename - a free name is kept as it is', async () => {
    const dir = tempHome('names');
    expect(await uniqueName(dir, 'photo.jpg')).toBe('photo.jpg');
  });

  it('filename - a taken name gets (1), (2), ... before its extension', async () => {
    const dir = tempHome('names');
    fs.writeFileSync(path.join(dir, 'photo.jpg'), '');
    expect(await uniqueName(dir, 'photo.jpg')).toBe('photo (1).jpg');
    fs.writeFileSync(path.join(dir, 'photo (1).jpg'), '');
    expect(await uniqueName(dir, 'photo.jpg')).toBe('photo (2).jpg');
  });

  it.each([
    ['archive.tar.gz', 'archive (1).tar.gz'],
    ['notes', 'notes (1)'],
    ['.bashrc', '.bashrc (1)'],
    ['my.report.pdf', 'my.report (1).pdf'],
  ])('filename - %s taken: %s', async (name, next) => {
    const dir = tempHome('names');
    fs.writeFileSync(path.join(dir, name), '');
    expect(await uniqueName(dir, name)).toBe(next);
  });

  it('filename - a folder, and a symbolic link that points nowhere, hold their names too', async () => {
    const dir = tempHome('names');
    fs.mkdirSync(path.join(dir, 'a.txt'));
    fs.symlinkSync(path.join(dir, 'missing'), path.join(dir, 'a (1).txt'));
    expect(await uniqueName(dir, 'a.txt')).toBe('a (2).txt');
  });

  it('filename - the counter never takes a name past 255 bytes: the stem is cut, on a character boundary', async () => {
    const dir = tempHome('names');
    const ascii = 'a'.repeat(MAX_NAME_BYTES - 4) + '.txt';
    fs.writeFileSync(path.join(dir, ascii), '');
    const next = await uniqueName(dir, ascii);
    expect(next).toBe('a'.repeat(MAX_NAME_BYTES - 8) + ' (1).txt');
    expect(Buffer.byteLength(next)).toBe(MAX_NAME_BYTES);

    // 2 bytes a letter: a cut in the middle of one would leave a broken character.
    const cyrillic = 'я'.repeat(125) + '.txt';
    fs.writeFileSync(path.join(dir, cyrillic), '');
    const cut = await uniqueName(dir, cyrillic);
    expect(cut).toBe('я'.repeat(123) + ' (1).txt');
    expect(checkFileName(cut)).toBeNull();
  });
});
