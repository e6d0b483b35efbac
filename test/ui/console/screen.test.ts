// The console's terminal without a terminal: streams that say they are one (readline then edits
// the line as on a real terminal), and a pipe. A line printed while another is half typed comes
// out whole on a line of its own, and the prompt and the half-typed text are drawn again after
// it; the typed line still arrives whole.
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createScreen } from '../../../src/ui/console/screen.js';

function fakeTerminal(tty: boolean) {
  const input = Object.assign(new PassThrough(), { isTTY: tty, setRawMode: () => input, isRaw: false });
  let written = '';
  const output = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _enc, done) {
        written += chunk.toString();
        done();
      },
    }),
    { isTTY: tty, columns: 80 },
  );
  return { input, output, written: () => written, clear: () => (written = '') };
}

// Escape sequences out, as the eye sees the text.
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

async function firstLine(lines: AsyncIterable<string>): Promise<string> {
  for await (const line of lines) return line;
  throw new Error('no line');
}

describe('screen', () => {
  it('screen - on a terminal: a line printed while "hel" is typed clears it, prints whole, and draws the prompt and "hel" again', async () => {
    const term = fakeTerminal(true);
    const screen = createScreen(term);
    screen.setPrompt('Bob> ');
    term.input.write('hel');
    expect(plain(term.written())).toContain('Bob> hel');
    term.clear();
    screen.print('[09:05] Bob: ping');
    const out = term.written();
    // Cleared first (erase the line, back to its start), then the text and its end of line...
    expect(out.startsWith('\x1b[2K')).toBe(true);
    expect(out).toContain('[09:05] Bob: ping\n');
    // ...then the prompt and the partial input again, after it.
    const after = out.slice(out.indexOf('ping\n') + 5);
    expect(plain(after)).toContain('Bob> hel');
    const line = firstLine(screen.lines);
    term.input.write('lo\r');
    expect(await line).toBe('hello');
    screen.close();
  });

  it('screen - on a terminal: the line entered is taken off the screen (its text comes back formatted)', () => {
    const term = fakeTerminal(true);
    const screen = createScreen(term);
    screen.setPrompt('Bob> ');
    term.clear();
    screen.eraseEntered('x'.repeat(100));
    // "Bob> " and 100 characters take two rows of 80.
    expect(term.written().match(/\x1b\[1A\x1b\[2K/g)).toHaveLength(2);
    screen.close();
  });

  it('screen - through a pipe: no prompt, lines printed whole, lines read whole', async () => {
    const term = fakeTerminal(false);
    const screen = createScreen(term);
    screen.setPrompt('Bob> ');
    term.input.write('hel');
    screen.print('[09:05] Bob: ping');
    term.input.write('lo\n');
    expect(await firstLine(screen.lines)).toBe('hello');
    expect(term.written()).toBe('[09:05] Bob: ping\n');
    screen.eraseEntered('hello');
    expect(term.written()).toBe('[09:05] Bob: ping\n');
    screen.close();
    // After the end, still printed (the goodbye).
    screen.print('Bye.');
    expect(term.written()).toBe('[09:05] Bob: ping\nBye.\n');
  });
});
