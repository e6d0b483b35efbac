import { describe, expect, it } from 'vitest';
import { decodeEvent, encodeValue, eventKey, seqOfKey } from '../../src/events/codec.js';
import { upcastIn } from '../../src/events/schema.js';
import { CLIENT_EVENTS } from '../../src/events/types.js';

describe('codec', () => {
  it.each([1, 255, 256, 65_536, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, 2 ** 47 + 11])('codec - key of seq %i reads back and sorts in order', (seq) => {
    const key = eventKey(seq);
    expect(key[0]).toBe(0x65);
    expect(seqOfKey(key)).toBe(seq);
    expect(Buffer.compare(eventKey(seq), eventKey(seq + 1))).toBe(-1);
  });

  it('codec - times and 40-bit ids are written as MessagePack uint64, not float64', () => {
    const value = encodeValue({ type: 'message.sent', at: 1_795_769_707_050, peer: 2 ** 40 - 1, id: 'a', text: 't', packets: 1, v: 1 });
    // 0xcf is uint64, 0xcb float64
    expect(value.includes(0xcb)).toBe(false);
    expect(value.filter((b) => b === 0xcf).length).toBe(2);
    const back = decodeEvent(9, value);
    expect(back).toMatchObject({ seq: 9, at: 1_795_769_707_050, peer: 2 ** 40 - 1 });
  });

  it('codec - undefined fields are left out, not written as an extension', () => {
    const value = encodeValue({ type: 'message.sent', at: 1, peer: 1, id: 'a', text: 't', packets: 1, replyTo: undefined, v: 1 });
    expect(value.includes(0xd4)).toBe(false);
    expect('replyTo' in decodeEvent(1, value)).toBe(false);
  });

  it('codec - an undecodable value names its seq', () => {
    expect(() => decodeEvent(42, Buffer.from([0xc1]))).toThrowError(expect.objectContaining({ code: 'JOURNAL_CORRUPT', message: expect.stringContaining('event 42') }));
    expect(() => decodeEvent(43, encodeValue({ type: 'no.such', at: 1 }))).toThrowError(expect.objectContaining({ code: 'JOURNAL_CORRUPT' }));
    expect(() => decodeEvent(44, encodeValue([1, 2]))).toThrowError(expect.objectContaining({ code: 'JOURNAL_CORRUPT' }));
  });

  it('codec - an event written by a newer Parley is refused with a reason, not misread', () => {
    const newer = encodeValue({ type: 'message.sent', at: 1, v: 9, id: 'a', peer: 1, text: 't', packets: 1 });
    expect(() => decodeEvent(7, newer)).toThrowError(expect.objectContaining({ code: 'JOURNAL_CORRUPT', message: expect.stringContaining('written by a newer Parley') }));
  });

  it('codec - a contact.added of version 1 is upcast to a whitelisted contact', () => {
    const v1 = encodeValue({ type: 'contact.added', at: 1, peer: 7, name: 'Ann', v: 1 });
    expect(decodeEvent(1, v1)).toMatchObject({ type: 'contact.added', v: 2, whitelisted: true, name: 'Ann' });
    // Written before versions existed: no v at all.
    expect(upcastIn(CLIENT_EVENTS, { type: 'contact.added', at: 1, peer: 7, name: 'Ann' } as never)).toMatchObject({ v: 2, whitelisted: true });
  });
});
