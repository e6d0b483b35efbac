import { describe, expect, it } from 'vitest';
import { createFrameDecoder } from '../../../src/net/frame.js';
import { decodeChat } from '../../../src/net/chat.js';
import { BITS_SHOWN, binaryOf, frameBytes, hexRows } from '../../../src/ui/tui/bits.js';

describe('bits', () => {
  it('bits - the frame rebuilt reads back as the message it carries', () => {
    const bytes = frameBytes({ id: 'm1', text: 'привет', at: 1234, replyTo: 'm0' }, 42, 7);
    const frames = createFrameDecoder().push(bytes);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ source: 42, destination: 7 });
    expect(decodeChat(Buffer.from(frames[0].payload))).toMatchObject({ k: 'msg', id: 'm1', text: 'привет', at: 1234, replyTo: 'm0' });
  });

  it('bits - hex rows of 16 with offsets, cut after BITS_SHOWN bytes; binary of the start', () => {
    const rows = hexRows(Buffer.alloc(200, 0xab));
    expect(rows[0]).toBe('0000  ' + Array(16).fill('ab').join(' '));
    expect(rows[1].startsWith('0010  ')).toBe(true);
    expect(rows).toHaveLength(BITS_SHOWN / 16 + 1);
    expect(rows[rows.length - 1]).toBe('…');
    expect(binaryOf(Buffer.from([0x50, 0x4c]), 2)).toBe('01010000 01001100');
  });
});
