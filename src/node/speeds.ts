// Live speeds of the transfers the running engine moves (issue 11: `mb_per_s` in `parley
// transfers`): bytes counted as they move, the rate taken over the last WINDOW_MS. The stored
// view cannot give it: progress is journaled once per flush (every 4 MiB or 250 ms,
// receiving.ts) and the record keeps one point of it, not two. The receiver counts chunk bytes as
// they come off the link, the sender the bytes the receiver acks (files.ts).
//
// One meter per open profile, found by the profile object: a command forwarded to the running
// client (control.ts) runs on the client's own profile and finds the meter its engine fills; a
// command that opens the profile itself finds none, and then nothing moves (one process at a
// time holds a profile). The clock is passed in: the meter is plain arithmetic.
import type { Direction } from '../events/types.js';

// The rate is over this much of the recent past: long enough to span several acks of a slow
// link (one per 250 ms at most), short enough that a stall shows within seconds.
export const WINDOW_MS = 3_000;
// Samples closer than this are one: about 30 per transfer in the window, whatever the rate.
const SAMPLE_MS = 100;

// [time in ms, bytes moved in all up to then]
type Sample = [number, number];

export type Meter = {
  moved: (peer: number, direction: Direction, id: string, bytes: number, now: number) => void;
  // Bytes per second over the window up to `now`; null when this meter never saw it move.
  rate: (peer: number, direction: Direction, id: string, now: number) => number | null;
  // The transfer stopped (paused or ended): a resumed one starts a new count.
  drop: (peer: number, direction: Direction, id: string) => void;
};

export function createMeter(windowMs = WINDOW_MS): Meter {
  const moving = new Map<string, Sample[]>();
  const keyOf = (peer: number, direction: Direction, id: string): string => `${peer}/${direction}/${id}`;

  function moved(peer: number, direction: Direction, id: string, bytes: number, now: number): void {
    const key = keyOf(peer, direction, id);
    const samples = moving.get(key);
    if (!samples) {
      // The first bytes only start the count: when they began to move is not known.
      moving.set(key, [[now, bytes]]);
      return;
    }
    const last = samples[samples.length - 1];
    const total = last[1] + bytes;
    // The latest sample moves forward, unless it is the only one (the start of the count).
    if (samples.length > 1 && now - last[0] < SAMPLE_MS) {
      last[0] = now;
      last[1] = total;
    } else samples.push([now, total]);
    // One sample at or before the window's start is kept: the base the rate is measured from.
    while (samples.length > 2 && samples[1][0] <= now - windowMs) samples.shift();
  }

  function rate(peer: number, direction: Direction, id: string, now: number): number | null {
    const samples = moving.get(keyOf(peer, direction, id));
    if (!samples) return null;
    let base = samples[0];
    for (const s of samples) if (s[0] <= now - windowMs) base = s;
    const bytes = samples[samples.length - 1][1] - base[1];
    const ms = now - base[0];
    return bytes > 0 && ms > 0 ? (bytes * 1000) / ms : 0;
  }

  function drop(peer: number, direction: Direction, id: string): void {
    moving.delete(keyOf(peer, direction, id));
  }

  return { moved, rate, drop };
}

const meters = new WeakMap<object, Meter>();

// The meter the engine of this profile fills (files.ts), made on first use.
export function meterOf(profile: object): Meter {
  let m = meters.get(profile);
  if (!m) {
    m = createMeter();
    meters.set(profile, m);
  }
  return m;
}

// The meter of a profile an engine runs on, if one does in this process.
export function runningMeter(profile: object): Meter | undefined {
  return meters.get(profile);
}
