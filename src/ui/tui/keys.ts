// What a key press (or a paste) means, from the raw sequence the terminal sent; pure, no I/O.
// Ink's input parser hands over one event per key sequence, and a paste or a burst of typing
// as one text chunk (DESIGN.md, "Ink 6 on Node 20"). Reading the raw sequence here, rather than
// useInput's flags, tells apart what those flags merge: Ctrl+J ("\n") from Enter ("\r"),
// Alt+Enter ("\x1b\r"), and a mouse wheel report from typed text.
//
//   readKey('\r')             // => { kind: 'enter' }
//   readKey('hi\rthere')      // => { kind: 'text', text: 'hi\nthere' }  (a paste: text, not sent)
//   readKeys('hi\r')          // => text 'hi', then enter (typing and Enter read in one chunk)
//   readKey('\x1bй')          // => { kind: 'alt', letter: 'q' }          (Alt+q on a Russian layout)
//   readKey('\x1b[<65;10;5M') // => { kind: 'wheel', direction: 'down' }

export type NavName = 'up' | 'down' | 'left' | 'right' | 'pageUp' | 'pageDown' | 'home' | 'end';

export type Key =
  | { kind: 'text'; text: string }
  | { kind: 'enter' }
  | { kind: 'newline' }
  | { kind: 'tab' }
  | { kind: 'backspace' }
  | { kind: 'delete' }
  | { kind: 'escape' }
  // `mod`: with Alt or Ctrl held (Alt+Up moves between chats).
  | { kind: 'nav'; name: NavName; mod: boolean }
  | { kind: 'ctrl'; letter: string }
  // The Latin letter on the key pressed with Alt, whatever the layout.
  | { kind: 'alt'; letter: string }
  | { kind: 'wheel'; direction: 'up' | 'down' }
  | { kind: 'ignored' };

// The Russian ЙЦУКЕН layout over US QWERTY: the letter on the same physical key.
const RUSSIAN = 'йцукенгшщзхъфывапролджэячсмитьбюё';
const LATIN = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`";
const LATIN_OF: ReadonlyMap<string, string> = new Map([...RUSSIAN].map((c, i) => [c, LATIN[i]]));

// A hotkey letter as the Latin letter on its key, lower case. => 'q' from 'Й', 'й' or 'Q'
export function hotkeyOf(letter: string): string {
  const lower = letter.toLowerCase();
  return LATIN_OF.get(lower) ?? lower;
}

const CSI_FINAL: Record<string, NavName> = { A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end' };
const CSI_TILDE: Record<string, NavName> = { '1': 'home', '7': 'home', '4': 'end', '8': 'end', '5': 'pageUp', '6': 'pageDown' };

// SGR mouse reports (after \x1b[?1000h\x1b[?1006h): button 64 is the wheel up, 65 down.
// eslint-disable-next-line no-control-regex
const MOUSE = /^\x1b?\[<(\d+);\d+;\d+[Mm]$/;
// eslint-disable-next-line no-control-regex
const CSI = /^\x1b\x1b?(?:\[|O)([0-9;]*)([A-Za-z~])$/;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

function csiKey(raw: string): Key | null {
  const m = CSI.exec(raw);
  if (!m) return null;
  const [, params, final] = m;
  const parts = params.split(';');
  // "1;3" is Alt, "1;5" Ctrl; a doubled escape is Alt too (some terminals).
  const mod = raw.startsWith('\x1b\x1b') || (parts[1] !== undefined && parts[1] !== '1');
  if (final === '~') {
    if (parts[0] === '3') return { kind: 'delete' };
    const name = CSI_TILDE[parts[0]];
    // Bracketed paste markers and the rest (F-keys) do nothing.
    return name ? { kind: 'nav', name, mod } : { kind: 'ignored' };
  }
  const name = CSI_FINAL[final];
  return name ? { kind: 'nav', name, mod } : { kind: 'ignored' };
}

// The keys of one input event: a held Backspace can come as several in one chunk, and so can
// a line typed and its Enter when the program reads late: one line then "\r" is the text and
// Enter. Seen with tmux sending a line, then Enter: in two of three tries with parley.exe demo
// under wine (node.exe there reads late, while the frame is drawn), and natively in about one
// send in eight to a bare raw-mode reader.
// A chunk with a line break inside stays a paste, and its line breaks stay text.
export function readKeys(raw: string): Key[] {
  if (/^[\x7f\b]{2,}$/.test(raw)) return [...raw].map(() => ({ kind: 'backspace' }));
  if (raw.length > 1 && raw.endsWith('\r') && !/[\r\n\x1b]/.test(raw.slice(0, -1))) return [readKey(raw.slice(0, -1)), { kind: 'enter' }];
  return [readKey(raw)];
}

export function readKey(raw: string): Key {
  if (raw === '\r') return { kind: 'enter' };
  if (raw === '\n' || raw === '\x1b\r' || raw === '\x1b\n') return { kind: 'newline' };
  if (raw === '\t') return { kind: 'tab' };
  if (raw === '\x7f' || raw === '\b') return { kind: 'backspace' };
  if (raw === '\x1b' || raw === '\x1b\x1b') return { kind: 'escape' };
  const mouse = MOUSE.exec(raw);
  if (mouse) {
    const button = Number(mouse[1]);
    return button === 64 ? { kind: 'wheel', direction: 'up' } : button === 65 ? { kind: 'wheel', direction: 'down' } : { kind: 'ignored' };
  }
  const csi = csiKey(raw);
  if (csi) return csi;
  if (raw.length === 1 && raw < ' ') return { kind: 'ctrl', letter: String.fromCharCode(raw.charCodeAt(0) + 96) };
  if (raw.startsWith('\x1b') && [...raw].length === 2) return { kind: 'alt', letter: hotkeyOf(raw.slice(1)) };
  if (raw.startsWith('\x1b')) return { kind: 'ignored' };
  // Typed or pasted text: its line breaks stay text, tabs become spaces, other controls go.
  const text = raw.replace(/\r\n?/g, '\n').replace(/\t/g, '    ').replace(CONTROLS, '');
  return text.length > 0 ? { kind: 'text', text } : { kind: 'ignored' };
}
