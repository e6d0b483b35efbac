// The console's terminal: lines printed above the line being typed, which stays as it was. On a
// terminal, readline edits the line; a line printed meanwhile clears it, is written, and the
// prompt and the partial input are drawn again (`prompt(true)` keeps the cursor where it was).
// Without a terminal (a pipe: scripts and tests), lines are read as they come and printed whole,
// with no prompt: a prompt with no newline would glue itself to the next printed line.
import readline from 'node:readline';

export type ScreenIo = {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
};

export type Screen = {
  // Every typed line, in order; ends with the input (Ctrl+D, or the pipe's end).
  lines: AsyncIterable<string>;
  print: (text: string) => void;
  setPrompt: (prompt: string) => void;
  // On a terminal: takes the line just entered off the screen (its text comes back formatted).
  eraseEntered: (line: string) => void;
  // Ctrl+C at the terminal (readline turns it into this, not a signal).
  onInterrupt: (listener: () => void) => void;
  close: () => void;
};

export function createScreen(io: ScreenIo): Screen {
  const terminal = io.input.isTTY === true && io.output.isTTY === true;
  const rl = readline.createInterface({ input: io.input, output: terminal ? io.output : undefined, terminal, historySize: terminal ? 100 : 0 });
  let prompt = '';
  let closed = false;
  // Whether the cursor is at the start of an empty row (a line was just entered), or on the
  // prompt's row: ended there (Ctrl+C, Ctrl+D, a signal), the next text goes on a row of its own.
  let fresh = true;
  rl.on('line', () => (fresh = true));
  rl.once('close', () => {
    closed = true;
    if (terminal && !fresh) io.output.write('\n');
  });
  const redraw = (): void => {
    fresh = false;
    rl.prompt(true);
  };
  // Taken now: readline reads from the start, and a line that comes before anyone iterates
  // (typed, or piped, while the console attaches) would otherwise be lost.
  const iterator = rl[Symbol.asyncIterator]();

  function print(text: string): void {
    if (!terminal || closed) {
      io.output.write(text + '\n');
      return;
    }
    readline.clearLine(io.output, 0);
    readline.cursorTo(io.output, 0);
    io.output.write(text + '\n');
    redraw();
  }

  return {
    lines: { [Symbol.asyncIterator]: () => iterator },
    print,
    setPrompt(next) {
      prompt = next;
      if (!terminal) return;
      rl.setPrompt(prompt);
      redraw();
    },
    eraseEntered(line) {
      if (!terminal) return;
      // The rows the prompt and the line took: one more for each full width of the terminal.
      const rows = Math.max(1, Math.ceil((prompt.length + line.length) / Math.max(1, io.output.columns ?? 80)));
      for (let i = 0; i < rows; i++) io.output.write('\x1b[1A\x1b[2K');
      readline.cursorTo(io.output, 0);
    },
    onInterrupt(listener) {
      rl.on('SIGINT', listener);
    },
    close() {
      if (!closed) rl.close();
    },
  };
}
