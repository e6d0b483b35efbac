// How a long-running command (`up`, `demo`, the console, the screen) hears that it is to end:
// SIGINT (Ctrl+C), SIGTERM, SIGHUP (the window closed) or SIGBREAK (Ctrl+Break, which Node emits
// on Windows only; elsewhere its listener never hears from one), all ending it the same clean way.
// They listen from before they start their work, so a signal that comes while they start stops
// them too once they are up, and until everything has stopped, so a second Ctrl+C does not end
// the process half-way through the stop. `parley server` waits the same way.

// SIGHUP: the console window was closed (on Windows too, where Node emits it for a closed console).
export const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'];

export type Signals = {
  // The first signal that came, or null.
  received: () => NodeJS.Signals | null;
  // Resolves with the first signal: at once when one came already.
  first: () => Promise<NodeJS.Signals>;
  // Stops listening (in a `finally`, once everything has stopped).
  stop: () => void;
};

const noop = (): void => undefined;

export type SignalOptions = {
  // Called at every signal, the first and any after it.
  onSignal?: (signal: NodeJS.Signals) => void;
};

// Listens to SIGNALS from now on.
export function catchSignals({ onSignal = noop }: SignalOptions = {}): Signals {
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

// Ends the process by SIGHUP, as a hung-up program ends, once everything is stopped and the
// caller's own listeners are off. An exit instead would fail: Node resets the terminal's mode at
// exit, and that terminal is gone (EIO), which Node 20 takes for a bug of its own and aborts
// (nodejs/node#51519: "Assertion failed" in ResetStdio, exit 134).
export async function endByHangup(): Promise<void> {
  process.kill(process.pid, 'SIGHUP');
  // A listener of some library (signal-exit) may take the signal first and send it again: the
  // process waits for it rather than ending on its own before it comes.
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
