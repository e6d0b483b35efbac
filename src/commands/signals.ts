// How a long-running command (`up`, `demo`, the console, the screen) hears that it is to end:
// SIGINT (Ctrl+C), SIGTERM, or SIGHUP (the window closed), all ending it the same clean way.
// Listened to from before the command starts its work, so a signal that comes while it starts
// stops it too once it is up, and until everything has stopped, so a second Ctrl+C does not end
// the process half-way through the stop.

// SIGHUP: the console window was closed (on Windows too, where Node emits it for a closed console).
export const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export type Signals = {
  // The first signal that came, or null.
  received: () => NodeJS.Signals | null;
  // Resolves with the first signal: at once when one came already.
  first: () => Promise<NodeJS.Signals>;
  // Stops listening (in a `finally`, once everything has stopped).
  stop: () => void;
};

const noop = (): void => undefined;

// Listens from now on. `onSignal` is called at every signal, the first and any after it.
export function catchSignals(onSignal: (signal: NodeJS.Signals) => void = noop): Signals {
  let received: NodeJS.Signals | null = null;
  let wake: (signal: NodeJS.Signals) => void = noop;
  const listener = (signal: NodeJS.Signals): void => {
    received ??= signal;
    onSignal(signal);
    wake(received);
  };
  for (const s of SIGNALS) process.on(s, listener);
  return {
    received: () => received,
    first: () => (received !== null ? Promise.resolve(received) : new Promise((resolve) => (wake = resolve))),
    stop: () => {
      for (const s of SIGNALS) process.off(s, listener);
    },
  };
}
