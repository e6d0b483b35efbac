// The `show-bits` view (the original's teaching view): a message as the bytes of its frame, as
// the sender's client builds it (src/net/frame.ts header, then the MessagePack payload of
// src/net/chat.ts), in hex with offsets and the header's first bytes in binary. Rebuilt here
// from the stored message: the same fields, the same encoders. The TLS records that carried it
// are the socket's; `parley up --keylog` and Wireshark show those. Pure.
//
//   frameBytes({ id: 'm1', text: 'Hi', at: 0 }, 42, 7)  // => <50 4c 01 02 00 00 00 00 00 2a ...>
import { encodeChat, messagePayloads } from '../../net/chat.js';
import { CONTENT, FLAGS } from '../../net/constants.js';
import { encodeFrame } from '../../net/frame.js';

// Bytes shown of a frame: the header and the first of the payload; a long message's whole
// frames would fill the screen.
export const BITS_SHOWN = 96;

// The frame of a message's first packet, from `source` to `destination`.
export function frameBytes(m: { id: string; text: string; at: number; replyTo?: string | null }, source: number, destination: number): Buffer {
  const [first] = messagePayloads({ id: m.id, text: m.text, at: m.at, ...(m.replyTo ? { replyTo: m.replyTo } : {}) });
  return encodeFrame({ contentType: CONTENT.TEXT, flags: FLAGS.NONE, source, destination, contentId: 0, payload: encodeChat(first) });
}

// => ['0000  50 4c 01 02 ...', ...], 16 bytes a row, at most BITS_SHOWN bytes.
export function hexRows(bytes: Buffer): string[] {
  const rows: string[] = [];
  for (let at = 0; at < Math.min(bytes.length, BITS_SHOWN); at += 16) {
    const hex = [...bytes.subarray(at, Math.min(at + 16, BITS_SHOWN))].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    rows.push(`${at.toString(16).padStart(4, '0')}  ${hex}`);
  }
  if (bytes.length > BITS_SHOWN) rows.push('…');
  return rows;
}

// The first `n` bytes in binary. => '01010000 01001100 00000001'
export function binaryOf(bytes: Buffer, n = 4): string {
  return [...bytes.subarray(0, n)].map((b) => b.toString(2).padStart(8, '0')).join(' ');
}
