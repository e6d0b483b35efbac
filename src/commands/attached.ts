// How `parley console` and the screen (`parley`) run on a profile: attached to the client running
// on it, or, when none runs, to one started in this process as `up` does, so a UI has one way to
// the client. Either UI ends the one clean way whatever asks (/quit, Ctrl+C, a signal, the client
// gone) and says what is still pending before its `done` resolves; the client started here is
// closed after that.
import { EXIT } from '../errors.js';
import type { RunningClient } from '../node/client.js';
import { isClientAnswering } from '../node/control.js';
import { identityToStart, startOwnClient, type RunInClient } from './client.js';
import { catchSignals } from './signals.js';

// What RunningConsole and RunningTui have in common.
export type RunningUi = {
  // Resolves with the UI's exit code once it has ended and said what is pending.
  done: Promise<number>;
  // Ends it as /quit does.
  stop: () => void;
};

export type AttachedOptions = {
  home: string;
  // When no client runs: the key's password, first line (else PARLEY_KEY_PASSWORD, else asked).
  passwordFile?: string;
  // How the started client runs commands. A function, asked only once the password is known,
  // because the screen's default is imported from cli.ts, which imports the screen.
  runInClient: () => Promise<RunInClient>;
  // Where the notes of a client started here go, called at each note: the caller moves them
  // as its UI comes up.
  log: (line: string) => void;
  // Called once the client started here is up, before the UI opens.
  started?: () => void;
  // What a signal does besides stopping the UI.
  onSignal?: (signal: NodeJS.Signals) => void;
  // Opens the UI. `startedHere`: the client was started for it (none ran), which it says once.
  open: (startedHere: boolean) => Promise<RunningUi>;
};

// => EXIT.OK when the UI ended with 0 (or a signal came before it opened), else EXIT.BUSY.
export async function runAttached(options: AttachedOptions): Promise<number> {
  const { home } = options;
  let own: RunningClient | null = null;
  let ui: RunningUi | null = null;
  // Ctrl+C reaches a UI as a key or a line; SIGINT from elsewhere, SIGTERM and SIGHUP (the
  // window closed) end it the same way, and a signal while the client starts ends it at once.
  const signals = catchSignals({
    onSignal: (signal) => {
      options.onSignal?.(signal);
      ui?.stop();
    },
  });
  try {
    if (!(await isClientAnswering(home))) {
      const identity = await identityToStart(home, options.passwordFile);
      own = await startOwnClient(home, identity, await options.runInClient(), options.log);
      options.started?.();
    }
    if (signals.received() !== null) return EXIT.OK;
    ui = await options.open(own !== null);
    if (signals.received() !== null) ui.stop();
    const code = await ui.done;
    return code === 0 ? EXIT.OK : EXIT.BUSY;
  } finally {
    signals.stop();
    await own?.close();
  }
}
