// The name of a file that comes from a peer (or that I offer one): whether a receiver may write
// it into its downloads folder, and a free name there when it is taken.
//
// The name of an offer is written on the receiver's disk and shown on both sides' terminals, so
// it is refused whole rather than cleaned up: a cleaned name is one the sender never chose, and
// the sender learns the reason instead (issue 11, "a hostile offer is refused with a reason shown
// on both sides"). The rules are those of the strictest system a receiver may run on (Windows,
// NTFS) plus what a terminal would obey, so an offer that one receiver takes, every receiver
// takes. The receiver checks every offer (src/node/files.ts); `parley send-file` checks the
// name first, so the sender is told at once rather than by a declined offer.
import fs from 'node:fs/promises';
import path from 'node:path';

// NAME_MAX of ext4, XFS, APFS and Btrfs, in bytes; NTFS counts 255 UTF-16 units, which a name of
// 255 bytes of UTF-8 never exceeds.
export const MAX_NAME_BYTES = 255;

// Devices Windows opens instead of a file of that name, in any case, with or without an
// extension ("nul.txt", "Com1.tar.gz"), and with spaces before the dot ("con .txt"): Microsoft,
// "Naming Files, Paths, and Namespaces". The docs list COM0, LPT0 and the superscript digits
// too; CONIN$ and CONOUT$ are the console's.
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;

// The escape characters that start a terminal control sequence: ESC (7-bit) and CSI (8-bit).
const ESCAPE = /[\u001b\u009b]/;
// C0, DEL and C1: a newline would forge a line of output, a BEL ring, a NUL cut the name short.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Bidi marks, embeddings, overrides and isolates: "invoice\u202Efdp.exe" shows as
// "invoiceexe.pdf" (the right-to-left override trick). U+061C, the Arabic letter mark, is the
// same kind of mark.
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
// A surrogate alone is no character: no file system stores it as it is.
const LONE_SURROGATE = /[\ud800-\udfff]/u;
// "C:x" (relative to drive C's folder), "/x", "\x", "\\server\share".
const ABSOLUTE = /^([a-zA-Z]:|[/\\])/;

// => "U+202E"
function codePoint(c: string): string {
  return 'U+' + (c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0');
}

// Why a receiver refuses `name`, or null when it may be written as it is. The reason names the
// rule and the offending character by its code point, never the name itself (but for a device
// name, letters and digits alone), so it is safe to print and to send to the peer.
// => checkFileName('report.pdf') === null; checkFileName('../x') === 'the name has a path separator (/ or \\): a name, not a path'
export function checkFileName(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (LONE_SURROGATE.test(name)) return 'the name is not valid Unicode';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) return `the name is ${bytes} bytes of UTF-8, over ${MAX_NAME_BYTES}`;
  if (name === '.' || name === '..') return `"${name}" names a folder, not a file`;
  if (ABSOLUTE.test(name)) return 'the name is an absolute path';
  if (name.includes('/') || name.includes('\\')) return 'the name has a path separator (/ or \\): a name, not a path';
  const escape = ESCAPE.exec(name);
  if (escape) return `the name has a terminal escape sequence (${codePoint(escape[0])})`;
  const control = CONTROL.exec(name);
  if (control) return `the name has a control character (${codePoint(control[0])})`;
  const bidi = BIDI.exec(name);
  if (bidi) return `the name has a bidirectional text control (${codePoint(bidi[0])}), which can make it read as another name`;
  if (name.includes(':')) return 'the name has a colon, which names an alternate data stream on NTFS';
  // Windows strips a trailing dot or space: "a.txt." would become "a.txt", another file.
  if (name.endsWith('.') || name.endsWith(' ')) return 'the name ends with a dot or a space, which Windows drops';
  const stem = name.split('.')[0].trimEnd();
  if (RESERVED.test(stem)) return `${stem.toUpperCase()} is a device name on Windows, with or without an extension`;
  return null;
}

// The name split where a counter goes: before the last extension, or before ".tar.gz" and its
// kin; a dotfile's leading dot is no extension. => ['archive', '.tar.gz'], ['.bashrc', '']
function splitExtension(name: string): [string, string] {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return [name, ''];
  const stem = name.slice(0, dot);
  const tar = stem.toLowerCase().endsWith('.tar') && stem.length > 4 ? dot - 4 : dot;
  return [name.slice(0, tar), name.slice(tar)];
}

// `text` cut to at most `bytes` bytes of UTF-8, on a character boundary.
function cutToBytes(text: string, bytes: number): string {
  let out = '';
  let used = 0;
  for (const c of text) {
    const n = Buffer.byteLength(c, 'utf8');
    if (used + n > bytes) break;
    out += c;
    used += n;
  }
  return out;
}

async function taken(file: string): Promise<boolean> {
  // lstat, not stat: a symbolic link that points nowhere still holds its name, and a rename onto
  // it would replace the link.
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

// A name in `dir` that holds nothing now: `name` itself, else "name (1).ext", "name (2).ext", ...
// as browsers name a second download. The stem is cut when the counter would take the name past
// 255 bytes. `name` is one checkFileName accepts; so is the answer.
//
// Free now, not reserved: another program may take it before the caller writes. The caller makes
// it its own without overwriting (fs.link, or a copy with COPYFILE_EXCL) and asks again if that
// fails with EEXIST. Never throws but for an error reading `dir` (EACCES, ENOTDIR).
// => 'photo (2).jpg' when 'photo.jpg' and 'photo (1).jpg' exist
export async function uniqueName(dir: string, name: string): Promise<string> {
  if (!(await taken(path.join(dir, name)))) return name;
  let [stem, ext] = splitExtension(name);
  // An "extension" that leaves no room for a counter is part of the name.
  if (Buffer.byteLength(ext, 'utf8') > MAX_NAME_BYTES / 2) [stem, ext] = [name, ''];
  for (let n = 1; ; n++) {
    const suffix = ` (${n})${ext}`;
    const room = MAX_NAME_BYTES - Buffer.byteLength(suffix, 'utf8');
    // A cut may end the stem with a space or dot: the ")" after it keeps the name valid.
    const candidate = cutToBytes(stem, room) + suffix;
    if (!(await taken(path.join(dir, candidate)))) return candidate;
  }
}
