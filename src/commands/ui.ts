// parley [--home DIR]: the Ink UI (src/ui/tui). Like `parley console` it attaches to the client
// running on the profile, or starts one in this process when none runs and stops it at the end.
// Without a terminal it says so and points to the line mode and the commands (exit 2), before
// ink would fail on raw mode. `parley demo` opens the UI through openUi too. The attaching, the
// signals and the end are attached.ts's, as for the console.
import { EXIT, parleyError } from '../errors.js';
import { languageOf } from '../projections/settings.js';
import { catalogue } from '../ui/i18n/index.js';
import { runAttached } from './attached.js';
import type { RunInClient } from './client.js';
import { endByHangup } from './signals.js';
import { clientProfile } from './io.js';

export type UiOptions = {
  home: string;
  cwd: string;
  // How the started client runs commands: the program's (cli.ts) unless a caller passes its own.
  runInClient?: RunInClient;
  // When no client runs: the key's password, first line (else PARLEY_KEY_PASSWORD, else asked).
  passwordFile?: string;
};

// A write that goes nowhere, and says so to who waits for it (ink waits for its last frame's).
function written(_chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
  const done = typeof encoding === 'function' ? encoding : callback;
  if (typeof done === 'function') queueMicrotask(() => done());
  return true;
}

export async function openUi(options: UiOptions): Promise<number> {
  // Sent to a running client as a command, it would draw on the client's terminal, not yours.
  if (clientProfile()) throw parleyError('UI_IN_CLIENT', 'the screen runs in your terminal, not as a command sent to the client', EXIT.USAGE);
  if (process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
    process.stderr.write(catalogue(languageOf(process.env)).uiNeedsTerminal + '\n');
    return EXIT.USAGE;
  }
  const { home } = options;
  let hungUp = false;
  // The started client's notes go to standard error until it is up; after that the screen opens,
  // and they would tear its frame.
  let quiet = false;
  try {
    return await runAttached({
      home,
      passwordFile: options.passwordFile,
      runInClient: async () => options.runInClient ?? (await import('../cli.js')).runInClient,
      log: (line) => {
        if (!quiet) process.stderr.write(line + '\n');
      },
      started: () => (quiet = true),
      onSignal: (signal) => {
        // The window closed: its terminal is gone and a write to it fails (EIO), which would end
        // the process before the client it started is closed. What is left to say has no reader.
        if (signal === 'SIGHUP') {
          hungUp = true;
          for (const stream of [process.stdout, process.stderr]) stream.write = written as typeof stream.write;
        }
      },
      open: async (startedHere) => {
        // Loaded here, not at the top: ink, React and yoga take about 0.7 s to load, which every
        // other command (and `parley up`'s start) would pay.
        const { startTui } = await import('../ui/tui/start.js');
        try {
          return await startTui({ home, cwd: options.cwd, stdin: process.stdin, stdout: process.stdout, startedHere });
        } catch (err) {
          // The client went away between its answer and the subscription's snapshot.
          throw parleyError('UI_NOT_ATTACHED', `the client on ${home} did not answer the screen: ${(err as Error).message}; try again`, EXIT.BUSY, err);
        }
      },
    });
  } finally {
    // Cleaned up (the client started here closed): the hang-up ends the process as it would have
    // (endByHangup says why), unless a caller still listens (parley demo: it stops its server and
    // bot first, then ends so).
    if (hungUp) await endByHangup();
  }
}
