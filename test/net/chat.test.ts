// TEXT payloads on a peer link (src/net/chat.ts): each kind round-trips, and anything else is
// refused with a reason, never a crash.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeChat, encodeChat, MAX_TEXT_BYTES, type ChatPayload } from '../../src/net/chat.js';

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
    ['a text over the bound', packr.pack({ k: 'msg', id: 'a', text: 'x'.repeat(MAX_TEXT_BYTES + 1), at: 1 })],
    ['a negative time', packr.pack({ k: 'msg', id: 'a', text: 'x', at: -1 })],
    ['a replyTo that is no id', packr.pack({ k: 'msg', id: 'a', text: 'x', at: 1, replyTo: '' })],
    ['a grant of a fraction', packr.pack({ k: 'grant', messages: 1.5, files: 0 })],
    ['a refused without need', packr.pack({ k: 'refused', id: 'a' })],
  ])('refuses %s', (_what, bytes) => {
    expect(() => decodeChat(bytes)).toThrow(/payload/);
  });
});
