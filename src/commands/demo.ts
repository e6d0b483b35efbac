// parley demo [--home DIR] [--no-ui] [--json]: Parley on one machine with one command (issue 12):
// a local server, the echo bot, and a UI on the first profile with the bot as a contact. The
// setup is node/demo.ts; this file runs it until the person is done, then stops everything.
import type { Command } from 'commander';
import { EXIT, parleyError } from '../errors.js';
import { startDemo, type Demo } from '../node/demo.js';
import type { RunInClient } from './client.js';
import { openConsole } from './console.js';
import { openUi } from './ui.js';
import { clientProfile, resolvePath } from './io.js';
import { catchSignals, endByHangup } from './signals.js';
import { printError, printJson, printLine } from './common.js';

type DemoOpts = { home?: string; ui?: boolean; console?: boolean; json?: boolean };

export function registerDemoCommands(program: Command, runInClient: RunInClient): void {
  program
    .command('demo')
    .description('try Parley on this computer: a local server, an echo bot as your contact, and the screen on your demo profile')
    .option('--home <dir>', 'the demo\'s folder, kept for the next run (default: a new folder in the temp folder, named when it starts)')
    .option('--no-ui', 'open no UI: print your profile and the bot\'s id, and run until Ctrl+C')
    .option('--console', 'open the line console (parley console) instead of the screen')
    .option('--json', 'with --no-ui: print {"dir","home","id","bot_id","server"} as one JSON line')
    .action(async (opts: DemoOpts, cmd: Command) => {
      process.exitCode = await runDemo(cmd, opts, runInClient);
    });
}

async function runDemo(cmd: Command, opts: DemoOpts, runInClient: RunInClient): Promise<number> {
  if (clientProfile()) throw parleyError('DEMO_IN_CLIENT', 'the demo runs in your terminal, not as a command sent to a client', EXIT.USAGE);
  // `parley --home DIR demo` as well as `parley demo --home DIR`; never PARLEY_HOME, which names
  // a person's own profile, not a demo's folder.
  const home = (cmd.optsWithGlobals() as DemoOpts).home;
  // Listened to from the start: a signal while the demo starts stops it once it is up.
  const signals = catchSignals();
  let demo: Demo | null = null;
  try {
    demo = await startDemo(home === undefined ? undefined : resolvePath(home), { runInClient, log: printError });
    // The line console reads standard input line by line when it is not a terminal (a script
    // piped in), so --console opens it then too; the screen needs a terminal.
    const ui = opts.ui !== false && (process.stdin.isTTY === true || opts.console === true);
    if (ui && signals.received() === null) {
      printError(`parley demo: the demo's folder is ${demo.dir} (parley demo --home ${demo.dir} starts this demo again); the echo bot is ${demo.botId}, chosen: type a message`);
      // The screen (src/ui/tui), or the line console when asked: both attach to the user's client
      // this process runs, and end on Ctrl+C, /quit or SIGHUP.
      try {
        if (opts.console !== true) return await openUi({ home: demo.userHome, cwd: process.cwd(), runInClient });
        return await openConsole(demo.userHome, undefined, runInClient, demo.botId, true);
      } catch (err) {
        // The terminal window was closed: the console's last writes and its raw mode off fail
        // with EIO. That is the person leaving, not a failure; everything stops as on /quit.
        if ((err as NodeJS.ErrnoException).code === 'EIO') return EXIT.OK;
        throw err;
      }
    }
    if (opts.ui !== false) printError('parley demo: standard input is not a terminal, so no UI opens: the demo runs until Ctrl+C, as with --no-ui');
    if (opts.json) printJson({ dir: demo.dir, home: demo.userHome, id: demo.userId, bot_id: demo.botId, server: demo.server });
    else {
      printLine(`demo folder: ${demo.dir}`);
      printLine(`your profile: ${demo.userHome} (id ${demo.userId})`);
      printLine(`the echo bot: ${demo.botId}`);
      printLine(`try: parley send --home ${demo.userHome} --to ${demo.botId} hi; then parley history --home ${demo.userHome} --peer ${demo.botId}`);
    }
    printError('parley demo: running; Ctrl+C stops the server, the bot and the clients');
    printError(`parley demo: stopping (${await signals.first()})`);
    return EXIT.OK;
  } finally {
    // Listened to until everything has stopped: a second Ctrl+C, or a write to a closed terminal
    // (cli.ts turns it into SIGHUP), must not end the process half-way through the stop.
    await demo?.stop();
    signals.stop();
    // The window was closed (or a write found its terminal gone): the process ends by the
    // hang-up, not by an exit that Node 20 turns into an abort on the gone terminal.
    if (signals.received() === 'SIGHUP') await endByHangup();
  }
}
