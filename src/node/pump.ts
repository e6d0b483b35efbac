// The chunks of a transfer being sent, for sending.ts, once the receiver's `accept` is in (docs/
// PROTOCOL.md section 9, "Files"): each chunk the receiver lacks read at its offset, hashed, its
// hash written to the sums file (sums.ts), then `sum` and the chunk on the link, within the
// session's window of chunks sent and not acked (sending.ts, WINDOW_BYTES and WINDOW_CHUNKS) and,
// when the receiver reports what it takes (`got`), within RECEIVED_WINDOW of chunks it has not yet
// taken off the link (credit.ts). When every chunk is acked the root over the hashes goes.
import type fs from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { giveBackChunkBuffer, takeChunkBuffer } from '../net/chunk-buffers.js';
import { CONTENT } from '../net/constants.js';
import { encodeFiles, type FilePayload } from '../net/files.js';
import { chunkContentId } from '../net/frame.js';
import type { PeerLink } from '../net/peer.js';
import type { Transfer } from '../projections/transfer-values.js';
import { mayHand } from './credit.js';
import { HASH_BYTES, rootOf, sha256 } from './sums.js';

// Chunks read ahead of the one being hashed and sent. One read at a time left the sender waiting
// on the disk for 2 s of every 5.5 s of a 1 GiB transfer (bench/transfer.mjs, 1 MiB chunks).
const READ_AHEAD = 4;

type Reading = { c: number; buf: Buffer; read: Promise<number> };

// A transfer offered on one link (sending.ts, newSession), and its pump's state once accepted.
export type Session = {
  peer: number;
  id: string;
  tag: number;
  link: PeerLink;
  t: Transfer;
  fh: fs.FileHandle | null;
  sums: fs.FileHandle | null;
  // What the receiver has (accept) and the next chunk to look at past it.
  have: number[];
  next: number;
  resend: number[];
  inFlight: Set<number>;
  windowChunks: number;
  // The received window (credit.ts): chunk bytes handed to this link since the accept, the most
  // the receiver said it took, and whether it says so at all (its accept's `got`).
  sent: number;
  got: number;
  credit: boolean;
  wire: number;
  wake: (() => void) | null;
  running: boolean;
  rootSent: boolean;
};

export type PumpIo = {
  send: (peer: number, payload: FilePayload) => boolean;
  // Stops the session and journals the transfer failed (sending.ts).
  fail: (s: Session, reason: string) => Promise<void>;
};

// The file changed since it was offered: its size, or a change after the offer's time.
export async function changed(t: Transfer): Promise<string | null> {
  try {
    const st = await stat(t.path ?? '');
    if (!st.isFile()) return 'the file offered is no longer a file';
    if (st.size !== t.size) return `the file changed since it was offered: ${st.size} bytes, offered ${t.size}`;
    // Whole milliseconds: the offer's time is one, and a file written in the same millisecond
    // as its offer has a modification time a fraction above it.
    if (Math.floor(st.mtimeMs) > t.offeredAt) return 'the file changed since it was offered (modified after the offer)';
    return null;
  } catch (err) {
    return `the file offered cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

// The next chunk to send: one asked for again first, then the first one past `next` that the
// receiver does not have. undefined when none is left.
function nextChunk(s: Session): number | undefined {
  if (s.resend.length > 0) return s.resend.shift();
  const r = s.have;
  for (let i = 0; i < r.length; i += 2) {
    if (s.next >= r[i] && s.next < r[i + 1]) s.next = r[i + 1];
  }
  if (s.next >= s.t.chunkCount) return undefined;
  return s.next++;
}

// Reads, hashes and sends chunks while the session runs and the window has room; sends the root
// once everything is acked. Never throws, safe to run unawaited (failures end the transfer).
export async function pump(s: Session, io: PumpIo): Promise<void> {
  const { t } = s;
  // The chunk before this one, queued on the link: the next is hashed while it waits, and
  // queued only once it was handed to the socket (so at most two wait in the bulk queue).
  let previous: Promise<boolean> = Promise.resolve(true);
  // Chunks being read, in the order they go: READ_AHEAD reads in flight keep the disk (or the
  // page cache, through libuv's threads) busy while this thread hashes and encrypts.
  const ahead: Reading[] = [];
  while (s.running) {
    while (ahead.length < READ_AHEAD && s.inFlight.size + ahead.length < s.windowChunks) {
      const c = nextChunk(s);
      if (c === undefined) break;
      ahead.push(readChunk(s, c));
    }
    const r = ahead.shift();
    if (!r) {
      // The window is full, or nothing is left but acks (or chunks asked for again).
      if (s.inFlight.size < s.windowChunks) {
        if (!(await previous)) return;
        if (s.inFlight.size === 0 && s.resend.length === 0) return finishing(s, io);
      }
      if (s.resend.length === 0) await new Promise<void>((resolve) => (s.wake = resolve));
      continue;
    }
    const bytesRead = await r.read;
    if (!s.running) return;
    if (bytesRead !== r.buf.length) return io.fail(s, bytesRead < 0 ? 'the file offered cannot be read' : `the file changed since it was offered: chunk ${r.c} is short`);
    const h = sha256(r.buf);
    await (s.sums as fs.FileHandle).write(h, 0, HASH_BYTES, r.c * HASH_BYTES);
    if (!s.running || !(await previous)) return;
    // The receiver has not yet taken RECEIVED_WINDOW of what went: a message sent now would
    // wait behind it in the sockets; this chunk waits for its `got` instead.
    while (s.credit && s.running && !mayHand(s.sent, s.got)) await new Promise<void>((resolve) => (s.wake = resolve));
    if (!s.running) return;
    s.inFlight.add(r.c);
    s.link.sendFileControl(0, encodeFiles({ k: 'sum', id: t.id, c: r.c, h }));
    const len = r.buf.length;
    s.sent += len;
    const buf = r.buf;
    previous = s.link.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(s.tag, r.c), buf, () => giveBackChunkBuffer(buf)).then((handed) => {
      if (handed && s.running) s.wire += len;
      return handed;
    });
  }
}

// Starts reading chunk `c` into a buffer of its own: the link keeps it until the socket wrote it,
// which may be after sendBulk resolved; at most the scheduler's window, a chunk and the reads
// ahead of them are alive. The read resolves to the bytes read, -1 when it failed (a session
// stopped meanwhile closes its file under the read).
function readChunk(s: Session, c: number): Reading {
  const { chunkSize, size } = s.t;
  // Given back once the socket has written it (chunk-buffers.ts): a new MiB per chunk made the
  // garbage collector run a full collection every few tens of MiB sent.
  const buf = takeChunkBuffer(Math.min(chunkSize, size - c * chunkSize));
  const read = (s.fh as fs.FileHandle).read(buf, 0, buf.length, c * chunkSize).then(
    (r) => r.bytesRead,
    () => -1,
  );
  return { c, buf, read };
}

async function finishing(s: Session, io: PumpIo): Promise<void> {
  if (s.rootSent) return;
  const why = await changed(s.t);
  if (why) return io.fail(s, why);
  await (s.sums as fs.FileHandle).datasync();
  const root = await rootOf(s.sums as fs.FileHandle, s.t.chunkCount);
  s.rootSent = true;
  io.send(s.peer, { k: 'root', id: s.id, root });
}
