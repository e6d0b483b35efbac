// The rule for text that a person will read on a terminal: reasons and agents in control
// messages, contact names, certificate names. One rule for all of them, so a name this side
// accepts is one the wire would carry (docs/PROTOCOL.md "Field kinds", reason).
import { LIMITS } from './constants.js';

// Control characters: C0 (U+0000..U+001F), DEL (U+007F) and C1 (U+0080..U+009F). C1 counts
// because a terminal may read U+009B as CSI: an escape sequence from a hostile peer could
// rewrite the screen without a single ESC byte.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// The same, to replace every one; used with replace() only, which starts a /g regex afresh.
const EVERY_CONTROL_CHAR = new RegExp(CONTROL_CHARS.source, 'g');

export function hasControlChars(text: string): boolean {
  return CONTROL_CHARS.test(text);
}

// A text made fit for a control message's reason: control characters become spaces, and it is
// cut to LIMITS.MAX_REASON_LENGTH. => 'bad\u0007name' becomes 'bad name'
export function reasonText(text: string): string {
  return text.replace(EVERY_CONTROL_CHAR, ' ').slice(0, LIMITS.MAX_REASON_LENGTH);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

// Bytes a peer says are UTF-8, as text: a byte that does not belong to a valid sequence shows as
// `\xNN` instead of failing or vanishing into U+FFFD, so the reader sees what came.
// => utf8Text(Buffer.from([0x68, 0xff, 0x69])) is 'h\\xffi'
export function utf8Text(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    // Some byte is not UTF-8: walked below.
  }
  let out = '';
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const n = sequenceAt(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += strictUtf8.decode(bytes.subarray(start, i)) + `\\x${bytes[i].toString(16).padStart(2, '0')}`;
    i += 1;
    start = i;
  }
  return out + strictUtf8.decode(bytes.subarray(start));
}

// The length of the valid UTF-8 sequence at `i` (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or 0.
function sequenceAt(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k] & 0xc0) !== 0x80) return 0;
  const c1 = b[i + 1];
  if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return 0;
  return n;
}
