// The bulk queue of a peer link (docs/PROTOCOL.md section 9, "The scheduler"). A link has two
// queues. The urgent one is the socket's own buffer: CONTROL, TEXT and FILE_CONTROL frames are
// written at once, as they come. The bulk one is here: FILE_CHUNK frames wait in this queue and
// go to the socket only while what the socket has not yet written is under the window. So an
// urgent frame written during a transfer lands behind at most the window plus one bulk frame,
// never behind the whole queue, and bulk bytes that wait here never count against the link's
// bound on a peer that does not read (they are not in the socket). What the kernels' socket
// buffers hold beyond the socket's own is not bounded here: the transfer layer's received window
// does that (node/credit.ts).
//
// No socket in here: the link passes `unwritten` (socket.writableLength) and `write`, and calls
// pump() whenever a write of the link completes. Tests drive it with a counter.
//
//   const bulk = createScheduler({ window: BULK_WINDOW, unwritten: () => socket.writableLength, write });
//   const handed = await bulk.push([header, chunk]);   // => true, or false: the link ended first

const KIB = 1024;

// 256 KiB. The window bounds what an urgent frame waits behind in this process: the window plus
// one chunk (at most 1 MiB), 1.25 MiB, about 0.1 s at 100 Mbit/s. Throughput needs no more:
// measured on loopback TLS (64 MiB in chunks of 64 KiB or of 1 MiB, windows of 16 KiB to 1 MiB),
// the rate was the same within the noise of a shared machine (170 to 570 MiB/s), because the
// queue is pumped again as each chunk leaves the socket and the kernel's send buffer keeps the
// wire busy meanwhile. 256 KiB rather than less keeps a few 64 KiB chunks ready in the socket,
// a margin for a turn of the event loop spent elsewhere while the kernel's send buffer is still
// small (it starts at 16 KiB and grows with the path). A window of 4 MiB broke the link: with a
// chunk on top the socket held more than the 4 MiB that means "the peer does not read" (writer.ts).
export const BULK_WINDOW = 256 * KIB;

export type SchedulerOptions = {
  // The bytes the socket holds that it has not yet written, urgent and bulk together
  // (socket.writableLength). Urgent bytes hold bulk back too: they go first.
  unwritten: () => number;
  // Writes one frame's parts to the socket, in order, and calls `done` once the last part has
  // left the socket's buffer (or failed). Returns false when the socket is gone.
  write: (parts: readonly Buffer[], done: () => void) => boolean;
  window?: number;
};

export type Scheduler = {
  // Queues one bulk frame (its parts: header, payload). Resolves true once the frame has been
  // handed to the socket (which is not to say the peer has it), false when the link ended
  // first: the frame was not written and never will be on this link. Never rejects, so a caller
  // that queued many frames and awaits them one by one leaves no rejection unhandled. The parts
  // are kept, not copied: do not change them afterwards.
  // `written`, when given, is called once the frame's bytes have left the socket's buffer (never,
  // when the link ends first): from then on nothing reads the parts, and their buffers may be
  // used again (chunk-buffers.ts).
  push: (parts: readonly Buffer[], written?: () => void) => Promise<boolean>;
  // Writes waiting frames, oldest first, while the socket holds less than the window. Call it
  // whenever a write of the link completes; it is cheap when nothing waits.
  pump: () => void;
  // The link ended: every waiting frame settles false, and later pushes settle false at once.
  end: () => void;
  // Bytes waiting in this queue (not yet handed to the socket).
  queued: () => number;
};

type Waiting = { parts: readonly Buffer[]; size: number; settle: (handed: boolean) => void; written?: () => void };

// Whether the next bulk frame may go to a socket holding `unwritten` bytes: only under the window.
// Written this way the socket holds at most window - 1 + the frame's size in bulk, and an urgent
// frame written after waits behind no more than that.
export function mayWriteBulk(unwritten: number, window: number): boolean {
  return unwritten < window;
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  const window = options.window ?? BULK_WINDOW;
  if (!Number.isSafeInteger(window) || window < 1) throw new RangeError(`the bulk window must be a whole number of bytes, at least 1, not ${String(window)}`);
  const { unwritten, write } = options;
  // A FIFO with a moving head: shift() on a long array copies it.
  let queue: Waiting[] = [];
  let head = 0;
  let bytes = 0;
  let ended = false;
  // pump() is re-entered when a write completes synchronously: the outer loop carries on.
  let pumping = false;

  function pump(): void {
    if (pumping || ended) return;
    pumping = true;
    try {
      while (head < queue.length && !ended && mayWriteBulk(unwritten(), window)) {
        const w = queue[head];
        queue[head++] = undefined as unknown as Waiting;
        bytes -= w.size;
        if (head > 1024 && head * 2 > queue.length) {
          queue = queue.slice(head);
          head = 0;
        }
        const after = w.written;
        const handed = write(w.parts, after ? () => (after(), pump()) : pump);
        w.settle(handed);
        if (!handed) end();
      }
    } finally {
      pumping = false;
    }
  }

  function end(): void {
    if (ended) return;
    ended = true;
    const left = queue.slice(head);
    queue = [];
    head = 0;
    bytes = 0;
    for (const w of left) w.settle(false);
  }

  return {
    push(parts, written) {
      if (ended) return Promise.resolve(false);
      const size = parts.reduce((n, p) => n + p.length, 0);
      return new Promise<boolean>((settle) => {
        queue.push({ parts, size, settle, written });
        bytes += size;
        pump();
      });
    },
    pump,
    end,
    queued: () => bytes,
  };
}
