// The blind relay's splice: every byte read from one connection is written unchanged to the other
// (docs/PROTOCOL.md section 8). The server never frames them; the peers run their own TLS inside.
//
// Bounded per direction: when the receiving side's write buffer is full (write() returns false at
// its high-water mark, 16 KiB), reading from the sending side stops until 'drain', so a relay
// holds at most one read (up to 64 KiB) plus the receiver's buffer per direction, whatever the
// two peers do. Fair between relays: each busy direction gets one read per turn of the event loop
// (libuv polls ready sockets in turn), so N busy relays share the server's forwarding equally and
// none can queue work ahead of the others; `bytesPerSecond` caps what one direction may take.
import type { Duplex } from 'node:stream';

export type Direction = 'a>b' | 'b>a';

export type SpliceOptions = {
  // 0: no cap. Else each direction carries at most this many bytes a second on average: after a
  // read that goes beyond it, reading waits until the bytes are paid for.
  bytesPerSecond: number;
  // Sees every chunk as it is forwarded (tests check that only TLS records pass). Must not throw.
  onData?: (direction: Direction, chunk: Buffer) => void;
  now?: () => number;
};

export type Splice = {
  bytes: () => number;
  // When a byte last went through, either way.
  lastActivity: () => number;
  // Stops forwarding (timers included); the caller closes the sockets.
  stop: () => void;
};

// `first` holds bytes each side sent after its relay-request, before the splice began; they go
// through first, in order.
export function splice(a: Duplex, b: Duplex, options: SpliceOptions, first: { a?: Buffer; b?: Buffer } = {}): Splice {
  const now = options.now ?? Date.now;
  let bytes = 0;
  let last = now();
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();

  function forward(from: Duplex, to: Duplex, direction: Direction): void {
    let waitingDrain = false;
    let throttled = false;
    // Token bucket: the time at which what this direction has carried is paid for at
    // bytesPerSecond. Ahead of the clock, reading waits until then.
    let paidUntil = 0;

    const resume = (): void => {
      if (!stopped && !waitingDrain && !throttled) from.resume();
    };
    const onDrain = (): void => {
      waitingDrain = false;
      resume();
    };
    const push = (chunk: Buffer): void => {
      bytes += chunk.length;
      last = now();
      options.onData?.(direction, chunk);
      if (!to.write(chunk) && !waitingDrain) {
        waitingDrain = true;
        from.pause();
        to.once('drain', onDrain);
      }
      if (options.bytesPerSecond > 0) {
        paidUntil = Math.max(paidUntil, last) + (chunk.length / options.bytesPerSecond) * 1000;
        const wait = paidUntil - last;
        if (wait >= 1 && !throttled) {
          throttled = true;
          from.pause();
          const timer = setTimeout(() => {
            timers.delete(timer);
            throttled = false;
            resume();
          }, Math.ceil(wait));
          timers.add(timer);
        }
      }
    };
    from.on('data', (chunk: Buffer) => {
      if (!stopped) push(chunk);
    });
    // A peer that closes its side (TLS close_notify is inside; this is the outer stream's end)
    // ends the other side once what was queued has gone.
    from.on('end', () => {
      if (!stopped) to.end();
    });
    const early = direction === 'a>b' ? first.a : first.b;
    if (early && early.length > 0) push(early);
    resume();
  }

  forward(a, b, 'a>b');
  forward(b, a, 'b>a');

  return {
    bytes: () => bytes,
    lastActivity: () => last,
    stop: () => {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
