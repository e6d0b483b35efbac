// A per-minute allowance that starts its minute at the first use after the last one ended (a
// fixed window, not a sliding log: one number and one time per session, whatever the rate).
// Introductions (introductions.ts) and list changes (presence.ts) are both bounded by it.
export type Window = { readonly start: number; readonly count: number };

export const WINDOW_MS = 60_000;

export const FRESH_WINDOW: Window = Object.freeze({ start: 0, count: 0 });

// => { ok: true, window: { start: 5000, count: 1 }, waitMs: 0 } for spend(FRESH_WINDOW, 5000, 30)
export function spend(window: Window, now: number, perMinute: number): { ok: boolean; window: Window; waitMs: number } {
  const current = now - window.start >= WINDOW_MS ? { start: now, count: 0 } : window;
  const next = { start: current.start, count: current.count + 1 };
  const ok = next.count <= perMinute;
  return { ok, window: next, waitMs: ok ? 0 : current.start + WINDOW_MS - now };
}
