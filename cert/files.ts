// Writing the tooling's outputs all-or-nothing: never over an existing file, never half a key.
// Each file is written whole to a temporary name beside its target, flushed, then put in place
// with a hard link (which, like open(..., 'wx'), fails if the target exists, so two operators
// racing cannot overwrite each other); if any step fails, every file of the set is removed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileExists, fileUnreadable, fileUnwritable } from './errors.js';

export type NewFile = { file: string; data: string | Buffer; mode?: number };

// Private keys: readable by their owner only (Windows ignores the mode; its ACLs follow the folder).
export const KEY_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

export function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw fileUnreadable(file, what, err);
  }
}

// Throws FILE_EXISTS for the first of `files` that exists. Called before any password prompt or
// key generation, so the operator learns at once; writeNewFiles checks again when it commits.
export function ensureAbsent(files: readonly string[]): void {
  for (const file of files) if (fs.existsSync(file)) throw fileExists(file);
}

export function writeNewFiles(files: readonly NewFile[]): void {
  ensureAbsent(files.map((f) => f.file));
  const placed: string[] = [];
  try {
    for (const entry of files) {
      fs.mkdirSync(path.dirname(path.resolve(entry.file)), { recursive: true });
      placeFile(entry);
      placed.push(entry.file);
    }
  } catch (err) {
    for (const file of placed) fs.rmSync(file, { force: true });
    if ((err as { code?: string }).code === 'FILE_EXISTS') throw err;
    throw fileUnwritable(files[placed.length]?.file ?? files[0].file, err);
  }
}

function placeFile(entry: NewFile): void {
  const target = path.resolve(entry.file);
  const temp = tempBeside(target);
  const fd = fs.openSync(temp, 'wx', entry.mode ?? PUBLIC_MODE);
  try {
    try {
      fs.writeFileSync(fd, entry.data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    linkInPlace(temp, target, entry.file);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

// One new file written piece by piece (an export of any length, in flat memory), with the same
// promise as writeNewFiles: whole or not at all, never over an existing file.
export async function writeNewFileStreamed(file: string, fill: (write: (text: string) => Promise<void>) => Promise<void>, mode = PUBLIC_MODE): Promise<void> {
  ensureAbsent([file]);
  const target = path.resolve(file);
  const temp = tempBeside(target);
  try {
    const handle = await fs.promises.open(temp, 'wx', mode);
    try {
      await fill(async (text) => {
        await handle.write(text);
      });
      await handle.sync();
    } finally {
      await handle.close();
    }
    linkInPlace(temp, target, file);
  } catch (err) {
    if ((err as { code?: string }).code === 'FILE_EXISTS') throw err;
    throw fileUnwritable(file, err);
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

function tempBeside(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
}

function linkInPlace(temp: string, target: string, file: string): void {
  try {
    fs.linkSync(temp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw fileExists(file);
    // Some file systems (FAT on a USB stick, some network shares) have no hard links: fall back
    // to check-then-rename, which is only unsafe against a concurrent writer of the same name.
    if (fs.existsSync(target)) throw fileExists(file);
    fs.renameSync(temp, target);
  }
}
