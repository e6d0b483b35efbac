// Putting a received file in place (parts.ts): under a name not taken, never over a file
// that is there, recorded first so that a crash half-way is finished at the next start; the
// room a folder's disk has for an offer, and what to say when the disk fills up meanwhile.
import { statfs } from 'node:fs/promises';
import fs, { type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { uniqueName } from './filename.js';

// The file a transfer is written into until it is whole: beside its destination, named after it
// and after the transfer, so that two offers of one name from one folder never share it, and cut
// so that the name stays within 255 bytes. => '/dl/report.pdf.3f2a9c01.part'
export function partPath(dest: string, peer: number, id: string): string {
  const tag = createHash('sha256').update(`${peer}/${id}`).digest('hex').slice(0, 8);
  let stem = path.basename(dest);
  while (Buffer.byteLength(stem) > 200) stem = [...stem].slice(0, -1).join('');
  return path.join(path.dirname(dest), `${stem}.${tag}.part`);
}

// Where a completed file was put and its root: `<base>.done` (sums.ts), written before the file
// takes its name, so that a crash between the two is finished at the next start (completeFrom),
// and kept afterwards, so that a sender that missed `done` hears it again.
export type Done = { path: string; root: string };

export async function readDone(base: string): Promise<Done | null> {
  try {
    const d = JSON.parse(await fs.readFile(`${base}.done`, 'utf8')) as Done;
    return typeof d.path === 'string' && typeof d.root === 'string' && /^[0-9a-f]{64}$/.test(d.root) ? d : null;
  } catch {
    return null;
  }
}

// Puts `part` (partPath) in dest's folder under dest's name, or a free name like it, never over a
// file that is there: link(2) then unlink, not rename, which would replace a file that took the
// name meanwhile; asked again when another program took it first. The name is recorded in
// `<base>.done` before the link. `done`: a record from a run that crashed while placing.
export async function placeUnder(dest: string, from: string, root: Buffer, base: string, done?: Done): Promise<Done> {
  const dir = path.dirname(dest);
  let final = done?.path;
  for (;;) {
    if (final === undefined) {
      final = path.join(dir, await uniqueName(dir, path.basename(dest)));
      await fs.writeFile(`${base}.done`, JSON.stringify({ path: final, root: root.toString('hex') }));
    }
    const partThere = await fs.stat(from).catch(() => null);
    // Placed already, the .part gone: nothing left to do.
    if (!partThere) break;
    try {
      await fs.link(from, final);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // The link made before a crash, or another file that took the name: only the first is ours.
      const there = await fs.stat(final).catch(() => null);
      if (!there || there.ino !== partThere.ino || there.dev !== partThere.dev) {
        final = undefined;
        continue;
      }
    }
    await fs.unlink(from);
    break;
  }
  return { path: final, root: root.toString('hex') };
}

// Free bytes for a file in `dir` (or the nearest folder above it that exists); null when the
// system cannot tell.
export async function freeBytes(dir: string): Promise<number | null> {
  let d = path.resolve(dir);
  for (;;) {
    try {
      const st = await statfs(d);
      return Number(st.bavail) * Number(st.bsize);
    } catch {
      const up = path.dirname(d);
      if (up === d) return null;
      d = up;
    }
  }
}

// Writes all of `data` at `pos`. A write may take fewer bytes than asked when the disk fills up
// (the next one then fails with ENOSPC): a chunk half written must never be journaled as stored.
export async function writeWhole(fh: FileHandle, data: Uint8Array, pos: number): Promise<void> {
  for (let at = 0; at < data.length; ) {
    const { bytesWritten } = await fh.write(data, at, data.length - at, pos + at);
    // Not seen on a regular file; said rather than looped on.
    if (bytesWritten <= 0) throw Object.assign(new Error(`the disk took none of ${data.length - at} bytes`), { code: 'EIO' });
    at += bytesWritten;
  }
}

// Why a received file could not be stored, as both sides show it (the sender reads it in the
// `fail` payload): the code, never the receiver's paths.
// => 'the disk is full: no space left for the file (ENOSPC)'
export function storeFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return 'the disk is full: no space left for the file (ENOSPC)';
  if (code === 'EDQUOT') return 'the disk is full: the disk quota is used up (EDQUOT)';
  return `the file cannot be stored: ${typeof code === 'string' ? code : (err as Error).message}`;
}
