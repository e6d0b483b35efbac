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
