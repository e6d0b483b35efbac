// A yes-or-no question to the person at the terminal, for a step that spends what cannot be had
// back (a message of several packets of a contact's limit). Asked only when both standard input
// and standard error are a terminal; otherwise the command wants --yes (exit 5 without it), so
// that a script never hangs on a question nobody sees.
import readline from 'node:readline';
import { EXIT, parleyError } from '../errors.js';
import { clientProfile } from './io.js';

export type AskIo = {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
};

// Yes in the languages Parley speaks; anything else, an empty line included, is no.
const YES = new Set(['y', 'yes', 'д', 'да']);

export function isYes(answer: string): boolean {
  return YES.has(answer.trim().toLowerCase());
}

// Whether a question can be asked here: a person at a terminal, in this process. A command that
// runs inside the client (`parley up`) never asks: the client's terminal is not the caller's.
export function canAsk(io: AskIo = { input: process.stdin, output: process.stderr }): boolean {
  return !clientProfile() && io.input.isTTY === true && io.output.isTTY === true;
}

// Asks `question` and reads one line. The terminal stays in its own line mode (readline's
// `terminal: false`), so its echo, its line editing and Ctrl+C work as for any other program;
// Ctrl+D (end of input) answers no.
export function askYesNo(question: string, io: AskIo = { input: process.stdin, output: process.stderr }): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: io.input, output: io.output, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(isYes(line));
    });
    rl.once('close', () => {
      if (answered) return;
      io.output.write('\n');
      resolve(false);
    });
    io.output.write(question);
  });
}

// Whether `packets` may be spent: one packet always may (every message and file spends at least
// one, and asking each time would teach people to say yes); more need --yes or a yes at the
// terminal, else exit 5 with `refusal`. Asked here, in the caller's process, before the command
// goes to a running client (which has no terminal of the caller's): the answer travels on as
// --yes. `mayAsk`: false when standard input is the command's data, not the person. Returns
// whether the command goes on with --yes.
export async function confirmSpend(o: { packets: number; yes: boolean; mayAsk: boolean; question: string; refusal: string }): Promise<boolean> {
  let yes = o.yes;
  if (o.packets > 1 && !yes && o.mayAsk && canAsk()) yes = await askYesNo(o.question);
  if (o.packets > 1 && !yes) throw parleyError('CONFIRM_NEEDED', o.refusal, EXIT.CONFIRM);
  return yes;
}
