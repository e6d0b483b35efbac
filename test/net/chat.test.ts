// TEXT payloads on a peer link (src/net/chat.ts): each kind round-trips, and anything else is
// refused with a reason, never a crash.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { assemble, decodeChat, encodeChat, MAX_PARTS, MAX_TEXT_BYTES, messagePayloads, PACKET_DATA, type Assembly, type ChatPayload, type WholeMessage } from '../../src/net/chat.js';
import { utf8Text } from '../../src/net/text.js';

const packr = new Packr({ useRecords: false });

describe('chat payloads', () => {
  it.each<ChatPayload>([
    { k: 'msg', id: 'a1', text: 'Привет 👋', at: 1_760_000_000_000 },
    { k: 'msg', id: 'x'.repeat(64), text: '', at: 0, replyTo: 'b2' },
    { k: 'ack', id: 'a1', at: 1_760_000_000_000 },
    { k: 'refused', id: 'a1', need: 3 },
    { k: 'grant', messages: 1000, files: 2 ** 40 },
  ])('round-trips %j', (p) => {
    expect(decodeChat(encodeChat(p))).toEqual(p);
  });

  it('reads integers in any MessagePack form (another writer\'s float-free uint32, uint64)', () => {
    expect(decodeChat(packr.pack({ k: 'ack', id: 'a', at: 5 }))).toEqual({ k: 'ack', id: 'a', at: 5 });
  });

  it.each([
    ['not MessagePack', Buffer.from([0xc1])],
    ['not a map', packr.pack([1, 2])],
    ['an unknown kind', packr.pack({ k: 'nope' })],
    ['an id with a space', packr.pack({ k: 'ack', id: 'a b', at: 1 })],
    ['an id of 65 characters', packr.pack({ k: 'ack', id: 'x'.repeat(65), at: 1 })],
    ['a text that is not a string', packr.pack({ k: 'msg', id: 'a', text: 5, at: 1 })],
    ['a text over one packet', packr.pack({ k: 'msg', id: 'a', text: 'x'.repeat(PACKET_DATA + 1), at: 1 })],
    ['a long message of one part', packr.pack({ k: 'long', id: 'a', at: 1, parts: 1, data: Buffer.alloc(PACKET_DATA) })],
    ['a long message of too many parts', packr.pack({ k: 'long', id: 'a', at: 1, parts: MAX_PARTS + 1, data: Buffer.alloc(PACKET_DATA) })],
    ['a long message whose first packet is short', packr.pack({ k: 'long', id: 'a', at: 1, parts: 2, data: Buffer.alloc(10) })],
    ['a part whose data is text', packr.pack({ k: 'part', id: 'a', i: 1, data: 'x' })],
    ['a part of more than a packet', packr.pack({ k: 'part', id: 'a', i: 1, data: Buffer.alloc(PACKET_DATA + 1) })],
    ['a part numbered 0', packr.pack({ k: 'part', id: 'a', i: 0, data: Buffer.alloc(1) })],
    ['a negative time', packr.pack({ k: 'msg', id: 'a', text: 'x', at: -1 })],
    ['a replyTo that is no id', packr.pack({ k: 'msg', id: 'a', text: 'x', at: 1, replyTo: '' })],
    ['a grant of a fraction', packr.pack({ k: 'grant', messages: 1.5, files: 0 })],
    ['a refused without need', packr.pack({ k: 'refused', id: 'a' })],
  ])('refuses %s', (_what, bytes) => {
    expect(() => decodeChat(bytes)).toThrow(/payload/);
  });
});

// Feeds payloads through the wire form and the assembler, as a receiver does.
function receiveAll(payloads: ChatPayload[]): { whole: WholeMessage[]; errors: string[] } {
  let state: Assembly | null = null;
  const whole: WholeMessage[] = [];
  const errors: string[] = [];
  for (const sent of payloads) {
    const p = decodeChat(encodeChat(sent));
    if (p.k === 'msg') whole.push(p);
    else if (p.k === 'long' || p.k === 'part') {
      const step = assemble(state, p);
      state = step.next;
      if (step.error) errors.push(step.error);
      if (step.whole) whole.push(step.whole);
    }
  }
  return { whole, errors };
}

describe('messages in packets', () => {
  it('a text of one packet goes as one msg; a longer one in packets of at most 65,535 bytes, put together whole', () => {
    expect(messagePayloads({ id: 'a', text: 'x'.repeat(PACKET_DATA), at: 1 })).toHaveLength(1);
    // A four-byte character across the border of every packet.
    const text = 'ы' + '😀'.repeat(Math.floor((3 * PACKET_DATA) / 4));
    const payloads = messagePayloads({ id: 'a', text, at: 7, replyTo: 'r', again: true });
    expect(payloads).toHaveLength(Math.ceil(Buffer.byteLength(text) / PACKET_DATA));
    for (const p of payloads) expect(encodeChat(p).length).toBeLessThan(PACKET_DATA + 64);
    expect(receiveAll(payloads)).toEqual({ whole: [{ k: 'msg', id: 'a', text, at: 7, replyTo: 'r', again: true }], errors: [] });
  });

  it('the largest message, 1 MiB of UTF-8, in MAX_PARTS packets', () => {
    const text = 'я'.repeat(MAX_TEXT_BYTES / 2);
    const payloads = messagePayloads({ id: 'big', text, at: 1 });
    expect(payloads).toHaveLength(MAX_PARTS);
    expect(receiveAll(payloads).whole[0].text).toBe(text);
  });

  it('a packet out of its place drops the message, and the next one sent whole comes through', () => {
    const long = messagePayloads({ id: 'a', text: 'x'.repeat(3 * PACKET_DATA), at: 1 });
    const other = messagePayloads({ id: 'b', text: 'y'.repeat(2 * PACKET_DATA), at: 1 });
    const got = receiveAll([long[0], long[2], long[1], ...other, ...long]);
    expect(got.whole.map((m) => m.id)).toEqual(['b', 'a']);
    expect(got.errors).toHaveLength(2);
    // Another message's packet in the middle of one.
    expect(receiveAll([long[0], other[0], long[1], other[1]]).whole).toEqual([]);
    // A short packet before the last.
    const short = { ...(long[1] as Extract<ChatPayload, { k: 'part' }>), data: Buffer.from('x') };
    expect(receiveAll([long[0], short, long[2]]).whole).toEqual([]);
  });

  it('bytes that are not UTF-8 show as bytes; valid ones, split anywhere, read whole', () => {
    expect(utf8Text(Buffer.from([0x68, 0xff, 0x69]))).toBe('h\\xffi');
    expect(utf8Text(Buffer.from([0xe2, 0x82]))).toBe('\\xe2\\x82');
    expect(utf8Text(Buffer.from([0xed, 0xa0, 0x80]))).toBe('\\xed\\xa0\\x80'); // a surrogate
    expect(utf8Text(Buffer.from([0xc0, 0xaf]))).toBe('\\xc0\\xaf'); // overlong
    expect(utf8Text(Buffer.from('Привет, мир 👋'))).toBe('Привет, мир 👋');
    // A long message whose bytes are not all UTF-8 arrives, shown as bytes where they are not.
    const head = { k: 'long', id: 'a', at: 1, parts: 2, data: Buffer.alloc(PACKET_DATA, 0x61) } as const;
    const tail = { k: 'part', id: 'a', i: 1, data: Buffer.from([0xff, 0x62]) } as const;
    expect(receiveAll([head, tail]).whole[0].text.slice(-6)).toBe('a\\xffb');
  });
});
