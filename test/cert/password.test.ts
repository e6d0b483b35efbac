import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obtainPassword, readPasswordFile, type PromptIo } from '../../cert/password.js';
import { removeDir, tempDir } from './helpers.js';

// A stream that passes for a terminal: isTTY, and setRawMode recorded.
function fakeTerminal(typed: string[]): PromptIo & { written: () => string; rawModes: boolean[] } {
  const input = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode: (raw: boolean) => void };
  const output = new PassThrough();
  let written = '';
  const rawModes: boolean[] = [];
  output.on('data', (d) => (written += d));
  input.isTTY = true;
  input.setRawMode = (raw: boolean) => {
    rawModes.push(raw);
    // Type the next answer once the prompt has switched to raw mode.
    if (raw && typed.length > 0) {
      const next = typed.shift()!;
      setImmediate(() => input.write(next));
    }
  };
  return { input, output, written: () => written, rawModes };
}

describe('password', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('password');
  });
  afterAll(() => removeDir(dir));

  function file(name: string, text: string): string {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  }

  it('password - a password file gives its first line, without \\n or \\r\\n', () => {
    const cases: Array<[string, string]> = [
      ['secret\n', 'secret'],
      ['secret\r\nsecond line\n', 'secret'],
      ['no newline', 'no newline'],
      ['  spaces kept  \n', '  spaces kept  '],
      ['пароль\n', 'пароль'],
    ];
    cases.forEach(([text, expected], i) => expect(readPasswordFile(file(`p${i}`, text))).toBe(expected));
  });

  it('password - an empty or missing password file is refused', () => {
    expect(() => readPasswordFile(file('empty', '\n'))).toThrow(expect.objectContaining({ code: 'PASSWORD_FILE_EMPTY', exitCode: 2 }));
    expect(() => readPasswordFile(path.join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'FILE_UNREADABLE', exitCode: 2 }));
  });

  it('password - the file comes first, then the environment', async () => {
    const environment = { PARLEY_CA_PASSWORD: 'from env' };
    const noTerminal = { input: new PassThrough(), output: new PassThrough() };
    expect(await obtainPassword({ what: 'CA', env: 'PARLEY_CA_PASSWORD', file: file('f', 'from file\n'), environment, io: noTerminal })).toBe('from file');
    expect(await obtainPassword({ what: 'CA', env: 'PARLEY_CA_PASSWORD', environment, io: noTerminal })).toBe('from env');
  });

  it('password - with no source and no terminal: PASSWORD_NEEDED, exit code 5, naming --password-file', async () => {
    const noTerminal = { input: new PassThrough(), output: new PassThrough() };
    const attempt = obtainPassword({ what: 'key', env: 'PARLEY_KEY_PASSWORD', environment: {}, io: noTerminal });
    await expect(attempt).rejects.toMatchObject({ code: 'PASSWORD_NEEDED', exitCode: 5 });
    await expect(attempt).rejects.toThrow(/--password-file/);
  });

  it('password - a new password is asked twice on the terminal, echoing nothing', async () => {
    const term = fakeTerminal(['s3cret\r', 's3cret\r']);
    const password = await obtainPassword({ what: 'CA', env: 'X', environment: {}, confirm: true, io: term });
    expect(password).toBe('s3cret');
    expect(term.written()).toBe('CA password: \nCA password again: \n');
    expect(term.rawModes).toEqual([true, false, true, false]);
  });

  it('password - backspace edits, and the two answers must agree', async () => {
    const edited = fakeTerminal(['pass\u007f\u007fssword\r']);
    expect(await obtainPassword({ what: 'key', env: 'X', environment: {}, io: edited })).toBe('password');
    const differ = fakeTerminal(['one-password\r', 'another\r']);
    await expect(obtainPassword({ what: 'key', env: 'X', environment: {}, confirm: true, io: differ })).rejects.toMatchObject({ code: 'PASSWORD_MISMATCH' });
  });

  it('password - Ctrl-C cancels; a new password shorter than 4 is refused from any source', async () => {
    await expect(obtainPassword({ what: 'key', env: 'X', environment: {}, io: fakeTerminal(['ab\u0003']) })).rejects.toMatchObject({ code: 'PASSWORD_CANCELLED' });
    await expect(obtainPassword({ what: 'key', env: 'X', environment: {}, confirm: true, io: fakeTerminal(['abc\r']) })).rejects.toMatchObject({ code: 'PASSWORD_TOO_SHORT' });
    await expect(obtainPassword({ what: 'key', env: 'X', environment: { X: 'abc' }, confirm: true })).rejects.toMatchObject({ code: 'PASSWORD_TOO_SHORT' });
    // An existing key's password is taken as it is: the key decides whether it is right.
    expect(await obtainPassword({ what: 'key', env: 'X', environment: { X: 'abc' } })).toBe('abc');
  });
});
