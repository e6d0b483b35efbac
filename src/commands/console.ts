// parley console [--home DIR] [--password-file FILE]: the line mode (src/ui/console). It attaches
// to the client running on the profile; when none runs, it starts one in this process, as `up`
// does, and attaches to it the same way, so the UI has one way to the client. The client
// started here stops with the console (attached.ts, as for the screen).
import type { Command } from 'commander';
import { ENV } from '../../cert/constants.js';
import { EXIT, parleyError } from '../errors.js';
import { startConsole } from '../ui/console/console.js';
import { runAttached } from './attached.js';
import type { RunInClient } from './client.js';
import { clientProfile } from './io.js';
import { homeOf, profileOptions } from './common.js';

export function registerConsoleCommands(program: Command, runInClient: RunInClient): void {
  profileOptions(program.command('console').description('the line console: chat with your contacts, slash commands for the rest (/help)'))
    .option('--password-file <file>', `when no client runs: the key password, first line (else ${ENV.KEY_PASSWORD}, else asked)`)
    .action(async (opts: { passwordFile?: string }, cmd: Command) => {
      process.exitCode = await openConsole(homeOf(cmd), opts.passwordFile, runInClient);
    });
}

// `to`: the contact written to from the start (the demo's bot). `clientStops`: the caller stops
// the client when the console ends (the demo's), as it stops one started here.
export async function openConsole(home: string, passwordFile: string | undefined, runInClient: RunInClient, to?: number, clientStops = false): Promise<number> {
  // Sent to a running client as a command, it would talk to the client's terminal, not yours.
  if (clientProfile()) throw parleyError('CONSOLE_IN_CLIENT', 'the console runs in your terminal, not as a command sent to the client', EXIT.USAGE);
  // Until the console is up, the started client's notes go to standard error; then above the
  // line being typed, like everything else the console prints.
  let log = (line: string): void => void process.stderr.write(line + '\n');
  return runAttached({
    home,
    passwordFile,
    runInClient: async () => runInClient,
    log: (line) => log(line),
    open: async (startedHere) => {
      const console = await startConsole({ home, cwd: process.cwd(), input: process.stdin, output: process.stdout, startedHere, to, clientStops: clientStops || startedHere });
      log = (line) => console.print(line);
      return console;
    },
  });
}
