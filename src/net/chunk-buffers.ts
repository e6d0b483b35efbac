// Buffers for the payloads of FILE_CHUNK frames, used again once a chunk is written. A peer link
// gathers each chunk (1 MiB) from the socket's reads into one buffer; a new one per chunk is a
// new ArrayBuffer per MiB received, and V8 runs a full collection each time such memory has
// grown by some tens of MiB: during a 1 GiB transfer the receiver collected 79 times, pauses of
// up to 22 ms each, and a message that came meanwhile waited for them (docs/BENCHMARKS.md,
// transfer). The receiver gives a chunk's buffer back once the chunk is on the disk
// (receiving.ts); one it never gives back (a chunk refused, a link gone) is collected as before.
//
//   const buf = takeChunkBuffer(1_048_576);   // from the free list, else a new one
//   ... fill it, hash it, write it ...
//   giveBackChunkBuffer(buf);                 // only when nothing holds it any more

// At most this many wait in the free list: the receiver writes one chunk at a time, and a few
// more are being gathered or hashed meanwhile. 8 MiB at 1 MiB a chunk.
const MAX_FREE = 8;
const free: Buffer[] = [];
// The buffers this module made: only those are taken back, so a payload that was a slice of a
// socket's read (a frame that came whole in one read) is never handed out twice.
const made = new WeakSet<ArrayBufferLike>();

export function takeChunkBuffer(length: number): Buffer {
  for (let i = free.length - 1; i >= 0; i--) {
    if (free[i].length !== length) continue;
    const buf = free[i];
    free[i] = free[free.length - 1];
    free.pop();
    return buf;
  }
  // Its own ArrayBuffer, not a slice of Node's shared pool: it is given back whole.
  const buf = Buffer.allocUnsafeSlow(length);
  made.add(buf.buffer);
  return buf;
}

// The caller must hold no other reference to `buf` that it will still read or write: the next
// takeChunkBuffer of its length hands it out and it is filled again.
export function giveBackChunkBuffer(buf: Buffer): void {
  if (!made.has(buf.buffer) || buf.byteOffset !== 0 || buf.length !== buf.buffer.byteLength) return;
  if (free.length >= MAX_FREE || free.includes(buf)) return;
  free.push(buf);
}

// For tests: how many wait in the free list, and emptying it.
export function freeChunkBuffers(): number {
  return free.length;
}

export function dropChunkBuffers(): void {
  free.length = 0;
}
