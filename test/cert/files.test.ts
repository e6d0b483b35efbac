import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAbsent, KEY_MODE, readText, writeNewFiles } from '../../cert/files.js';
import { removeDir, tempDir } from './helpers.js';

describe('files', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('files');
  });
  afterAll(() => removeDir(dir));

  it('files - writes a set of new files, creating folders, keys readable by their owner only', () => {
    const key = path.join(dir, 'a', 'b', 'domain.key');
    const csr = path.join(dir, 'a', 'b', 'domain.csr');
    writeNewFiles([
      { file: key, data: 'KEY', mode: KEY_MODE },
      { file: csr, data: 'CSR' },
    ]);
    expect(readText(key, 'key')).toBe('KEY');
    expect(readText(csr, 'csr')).toBe('CSR');
    if (process.platform !== 'win32') expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    // No temporary file is left behind.
    expect(fs.readdirSync(path.dirname(key)).sort()).toEqual(['domain.csr', 'domain.key']);
  });

  it('files - never overwrites: FILE_EXISTS, exit code 2, and nothing of the set written', () => {
    const existing = path.join(dir, 'existing.crt');
    fs.writeFileSync(existing, 'OLD');
    const fresh = path.join(dir, 'fresh.key');
    expect(() => writeNewFiles([{ file: fresh, data: 'NEW' }, { file: existing, data: 'NEW' }])).toThrow(expect.objectContaining({ code: 'FILE_EXISTS', exitCode: 2 }));
    expect(fs.existsSync(fresh)).toBe(false);
    expect(readText(existing, 'x')).toBe('OLD');
    expect(() => ensureAbsent([fresh, existing])).toThrow(expect.objectContaining({ code: 'FILE_EXISTS' }));
  });

  it('files - a failure half-way removes what was already placed', () => {
    const first = path.join(dir, 'half', 'first.key');
    // A folder where the second file's parent should be: mkdir fails.
    fs.mkdirSync(path.join(dir, 'half'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'half', 'blocker'), '');
    const second = path.join(dir, 'half', 'blocker', 'second.crt');
    expect(() => writeNewFiles([{ file: first, data: 'A' }, { file: second, data: 'B' }])).toThrow(expect.objectContaining({ code: 'FILE_UNWRITABLE', exitCode: 2 }));
    expect(fs.readdirSync(path.join(dir, 'half'))).toEqual(['blocker']);
  });

  it('files - readText names the file it cannot read', () => {
    expect(() => readText(path.join(dir, 'nope'), 'certificate')).toThrow(expect.objectContaining({ code: 'FILE_UNREADABLE', message: expect.stringContaining('nope') }));
  });
});
