// Tab completion of a file's path in `/send-file PATH`: the longest start that every matching
// entry of the folder shares, a "/" after a folder. The choice is pure (`completeFrom`); the
// folder is read by `completePath`.
//
//   completeFrom('rep', ['report.pdf', 'reports/', 'notes.txt'])  // => 'report'
import fs from 'node:fs';
import path from 'node:path';

export function commonStart(words: readonly string[]): string {
  if (words.length === 0) return '';
  let start = words[0];
  for (const w of words) while (!w.startsWith(start)) start = start.slice(0, -1);
  return start;
}

// `entries`: the folder's names, a folder's with a trailing "/". The completed last part, or
// `part` itself when nothing matches.
export function completeFrom(part: string, entries: readonly string[]): string {
  const matches = entries.filter((e) => e.startsWith(part) && (part.startsWith('.') || !e.startsWith('.')));
  return matches.length === 0 ? part : commonStart(matches);
}

// `typed`: the path as typed so far, relative to `cwd` or absolute (~ is the home folder). The
// path completed as far as it goes; unchanged when the folder cannot be read.
export function completePath(typed: string, cwd: string, homeDir: string): string {
  const expanded = typed.startsWith('~/') ? path.join(homeDir, typed.slice(2)) : typed;
  const slash = typed.lastIndexOf('/');
  const dirTyped = slash === -1 ? '' : typed.slice(0, slash + 1);
  const part = slash === -1 ? typed : typed.slice(slash + 1);
  const dir = path.resolve(cwd, slash === -1 ? '.' : expanded.slice(0, expanded.lastIndexOf('/') + 1) || '/');
  let entries: string[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true }).map((d) => (d.isDirectory() ? d.name + '/' : d.name));
  } catch {
    return typed;
  }
  return dirTyped + completeFrom(part, entries);
}
