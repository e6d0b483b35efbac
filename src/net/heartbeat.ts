// The heartbeat of the client's server session (docs/PROTOCOL.md "Timing"): the times of the last
// bytes each way, a heartbeat after everyMs of sending nothing, the end after deadAfterMs of
// receiving nothing. What a heartbeat or the end writes is the session's (session.ts); a peer
// link keeps its own (peer.ts), and the server's deadlines are a pure function (server/deadlines.ts).
//
//   const heartbeat = createHeartbeat({ now }, { live, beat, dead });
//   heartbeat.sent();                    // on every write; received() on every read
//   heartbeat.start(msg.heartbeatMs);    // at login-ok: the interval the server announced
//   heartbeat.stop();                    // detach, or the socket closed

export type HeartbeatOptions = {
  // The clock for the bookkeeping. Timers still run on the event loop.
  now: () => number;
  // Send one after this much silence instead of the announced interval.
  everyMs?: number;
  // The end when nothing came for this long (default three of the intervals).
  deadAfterMs?: number;
};

export type HeartbeatHooks = {
  // False once the session ended or was detached: the timer is not set again.
  live: () => boolean;
  // Send a heartbeat (the write calls sent()).
  beat: () => void;
  // Nothing came for deadAfterMs: end the session. The timer is not set again.
  dead: (reason: string) => void;
};

export type Heartbeat = {
  // No timer runs before this (nor ever, when it is not called).
  start: (announcedMs: number) => void;
  sent: () => void;
  // Any bytes are a sign of life, a frame still arriving too.
  received: () => void;
  stop: () => void;
};

export function createHeartbeat(options: HeartbeatOptions, hooks: HeartbeatHooks): Heartbeat {
  const { now } = options;
  let lastTx = now();
  let lastRx = now();
  let everyMs = 0;
  let deadAfterMs = 0;
  let timer: NodeJS.Timeout | null = null;

  // One timer, set for whichever is due first.
  function arm(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!hooks.live() || everyMs === 0) return;
    const due = Math.min(lastTx + everyMs, lastRx + deadAfterMs);
    timer = setTimeout(tick, Math.max(1, due - now()));
  }

  function tick(): void {
    timer = null;
    const t = now();
    if (t - lastRx >= deadAfterMs) {
      hooks.dead(`nothing received for ${deadAfterMs} ms`);
      return;
    }
    if (t - lastTx >= everyMs) hooks.beat();
    arm();
  }

  return {
    start(announcedMs) {
      everyMs = options.everyMs ?? announcedMs;
      deadAfterMs = options.deadAfterMs ?? 3 * Math.max(everyMs, announcedMs);
      arm();
    },
    sent() {
      lastTx = now();
    },
    received() {
      lastRx = now();
    },
    stop() {
      if (timer) clearTimeout(timer);
    },
  };
}
