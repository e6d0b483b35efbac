// The way out of a peer link (peer.ts, docs/PROTOCOL.md section 9): two queues onto one socket.
// Urgent frames (CONTROL, TEXT, FILE_CONTROL) are written at once; FILE_CHUNK frames wait in the
// bulk queue (scheduler.ts) and go to the socket only while it holds less than a window, so a
// message never waits behind a transfer. Every frame, urgent or bulk, passes one bound on what the
// peer leaves unread (MAX_WRITE_QUEUE). What a frame says is the link's; this only writes bytes.
//
//   const writer = createWriter(socket, { wrote: () => (lastTx = Date.now()), over: (unread) => ... });
//   writer.urgent(encodeFrame(...));                   // => true, or false: wait for drained()
//   const handed = await writer.bulk([header, chunk]); // => true, or false: the link ended first
import type { Socket } from 'node:net';
import { LIMITS } from './constants.js';
import { writeBounded, type WriteResult } from './link.js';
import { createScheduler } from './scheduler.js';

// What this side leaves unwritten before it gives up on a peer that does not read: a few of the
// largest frames. Bulk frames count only while in the socket, which holds at most the bulk window
// plus one chunk of them (1.25 MiB, scheduler.ts); those waiting in the bulk queue do not count,
// so a transfer alone never trips it, and urgent frames that pile up still do. (A window near
// 4 MiB would let a transfer alone trip it: peer.test.ts checks the share stays under half.)
export const MAX_WRITE_QUEUE = 4 * LIMITS.MAX_FRAME_PAYLOAD;

export type WriterHooks = {
  // Bytes went to the socket (the link's heartbeat counts from the last write).
  wrote: () => void;
  // The socket holds more than MAX_WRITE_QUEUE: `unread` bytes. The link ends itself here; the
  // writer destroys the socket right after.
  over: (unread: number) => void;
};

export type Writer = {
  // The urgent queue: writes at once; false when the link ended or the urgent frames not yet
  // written fill the socket's buffer (wait for drained()). Bulk bytes do not make it false.
  urgent: (buf: Buffer) => boolean;
  // The bulk queue: one frame's parts (header, payload), as scheduler.ts's push.
  bulk: (parts: readonly Buffer[], written?: () => void) => Promise<boolean>;
  // Resolves once the urgent frames written so far have left the socket's buffer (or the socket
  // is gone); bulk bytes are not waited for.
  drained: () => Promise<void>;
  // The link ends: nothing more goes out but the last word (bye, error), the bulk queue settles.
  end: () => void;
  // The socket closed: whoever waits in drained() goes on.
  settleDrained: () => void;
};

export function createWriter(socket: Socket, hooks: WriterHooks): Writer {
  // Urgent bytes written to the socket and not yet out of its buffer; drained() callers wait for 0.
  let urgentUnwritten = 0;
  let drainWaiters: Array<() => void> = [];

  // Every frame goes out here, urgent or bulk: one bound on what the peer leaves unread.
  // `done` runs once the bytes left the socket's buffer (never when 'closed').
  function put(buf: Buffer, done?: () => void): WriteResult {
    const written = writeBounded(socket, buf, MAX_WRITE_QUEUE, done);
    if (written === 'closed') return written;
    hooks.wrote();
    if (written === 'over') {
      hooks.over(socket.writableLength);
      socket.destroy();
    }
    return written;
  }

  // The urgent queue: at once. Its completion may let bulk go again (urgent bytes hold it back).
  function urgent(buf: Buffer): boolean {
    const written = put(buf, () => {
      urgentUnwritten -= buf.length;
      if (urgentUnwritten === 0) settleDrained();
      bulk.pump();
    });
    // A write's callback never runs before write() returns: counting after is safe.
    if (written !== 'closed') urgentUnwritten += buf.length;
    return (written === 'ok' || written === 'wait') && urgentUnwritten < socket.writableHighWaterMark;
  }

  function settleDrained(): void {
    const waiters = drainWaiters;
    drainWaiters = [];
    for (const w of waiters) w();
  }

  // The bulk queue's writer: header then payload, back to back (no copy of the chunk), so no
  // urgent frame can come between them; the payload's completion pumps the queue again.
  const bulk = createScheduler({
    unwritten: () => socket.writableLength,
    write: (parts, done) => {
      for (let i = 0; i < parts.length; i++) {
        const written = put(parts[i], i === parts.length - 1 ? done : undefined);
        if (written === 'closed' || written === 'over') return false;
      }
      return true;
    },
  });

  return {
    urgent,
    bulk: (parts, written) => bulk.push(parts, written),
    drained: () => (urgentUnwritten === 0 || socket.destroyed ? Promise.resolve() : new Promise<void>((r) => drainWaiters.push(r))),
    end: () => bulk.end(),
    settleDrained,
  };
}
