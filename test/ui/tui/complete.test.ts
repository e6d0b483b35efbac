import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commonStart, completeFrom, completePath } from '../../../src/ui/tui/complete.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tui-complete-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('complete', () => {
  it.each([
    ['rep', ['report.pdf', 'reports/', 'notes.txt'], 'report'],
    ['n', ['report.pdf', 'notes.txt'], 'notes.txt'],
    ['x', ['a'], 'x'],
    ['', ['.hidden', 'seen'], 'seen'],
    ['.h', ['.hidden', 'seen'], '.hidden'],
  ])('complete - %j among %j', (part, entries, expected) => {
    expect(completeFrom(part, entries)).toBe(expected);
  });

  it('complete - the common start', () => {
    expect(commonStart(['abc', 'abd'])).toBe('ab');
    expect(commonStart([])).toBe('');
  });

  it('complete - reads the folder: a file whole, a folder with its slash, a path under it', () => {
    fs.mkdirSync(path.join(dir, 'photos'));
    fs.writeFileSync(path.join(dir, 'photos', 'cat.jpg'), 'x');
    fs.writeFileSync(path.join(dir, 'report.pdf'), 'x');
    expect(completePath('rep', dir, os.homedir())).toBe('report.pdf');
    expect(completePath('pho', dir, os.homedir())).toBe('photos/');
    expect(completePath('photos/c', dir, os.homedir())).toBe('photos/cat.jpg');
    expect(completePath(path.join(dir, 'photos', 'c'), '/', os.homedir())).toBe(path.join(dir, 'photos', 'cat.jpg'));
    expect(completePath('nowhere/x', dir, os.homedir())).toBe('nowhere/x');
  });
});
