// The chunk hashes of a transfer, kept on disk beside the profile, not in memory: a file of
// 32 bytes per chunk, the SHA-256 of chunk c at offset 32·c, written where the chunk is read
// (sender) or stored (receiver) and flushed before the event that says the chunk is acked or
// stored. The root that checks the whole file (docs/PROTOCOL.md section 9, "Files") is the SHA-256
// over these hashes in chunk order, computed by streaming this file once at the end: 32 bytes per
// MiB of data (3 MB for 100 GB), read in pieces of 64 KiB, so memory stays flat and the file
// itself is never read twice.
//
//   <home>/transfers/o-<peer>-<hex of the id>.sums   a transfer I send
//   <home>/transfers/i-<peer>-<hex of the id>.sums   a transfer I receive
//   <home>/transfers/i-<peer>-<hex of the id>.done   where the received file was put and its root,
//                                                    written before it takes its name (a crash
//                                                    between the two is finished at the next
//                                                    start) and kept, so a sender that missed
//                                                    `done` hears it again (accepting.ts)
//   <home>/transfers/i-<peer>-<hex of the id>.spent  empty: its inbound packets were spent
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Direction } from '../events/types.js';

export const HASH_BYTES = 32;
const READ_PIECE = 64 * 1024;

export function sumsBase(home: string, peer: number, direction: Direction, id: string): string {
  return path.join(home, 'transfers', `${direction === 'out' ? 'o' : 'i'}-${peer}-${Buffer.from(id, 'utf8').toString('hex')}`);
}

// Opens a file for positional reads and writes, creating it (and its folder) when missing, never
// truncating it: what a previous run wrote is kept.
export async function openKept(file: string): Promise<fs.FileHandle> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  try {
    return await fs.open(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return fs.open(file, 'w+');
  }
}

// A chunk's SHA-256, made on the event loop: about 0.7 ms of CPU a MiB, in place. WebCrypto's
// digest, which runs on libuv's threads, copies the bytes first, on the event loop, into memory
// the allocator takes from the system and gives back for each chunk; on this machine's virtual
// CPUs each page of it faulted in at great cost, and the copy alone took 3.6–4.7 ms a MiB for
// minutes at a time (perf: memmove and page faults, 65% of the sender's main thread), 0.2 ms in
// the other runs. A worker thread hashing the chunk buffers in place (SharedArrayBuffers) avoids
// both, but adds 12 MiB to each client, a receiver's peak went over 150 MiB, and messages during
// a transfer were no faster than with the hash made here (docs/BENCHMARKS.md, transfer, "WebCrypto's
// copy").
export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

// The root over the first `count` chunk hashes of a sums file. A hash the file lacks (it is
// shorter) reads as zeros, so the roots differ and the transfer fails rather than completes.
export async function rootOf(sums: fs.FileHandle, count: number): Promise<Buffer> {
  const hash = createHash('sha256');
  const piece = Buffer.alloc(READ_PIECE);
  const total = count * HASH_BYTES;
  for (let at = 0; at < total; at += READ_PIECE) {
    const want = Math.min(READ_PIECE, total - at);
    piece.fill(0, 0, want);
    await sums.read(piece, 0, want, at);
    hash.update(piece.subarray(0, want));
  }
  return hash.digest();
}

export async function removeQuietly(file: string): Promise<void> {
  await fs.rm(file, { force: true }).catch(() => undefined);
}
