// The chunk buffers a peer link gathers FILE_CHUNK payloads into and the receiver gives back once
// a chunk is written (src/net/chunk-buffers.ts), and the frame decoder's use of them.
import { describe, expect, it } from 'vitest';
import { dropChunkBuffers, freeChunkBuffers, giveBackChunkBuffer, takeChunkBuffer } from '../../src/net/chunk-buffers.js';
import { CONTENT } from '../../src/net/constants.js';
import { chunkContentId, createFrameDecoder, encodeFrame } from '../../src/net/frame.js';

describe('chunk buffers', () => {
  it('chunk buffers - one given back is handed out again for its length only, once', () => {
    dropChunkBuffers();
    const a = takeChunkBuffer(4096);
    expect(a.length).toBe(4096);
    giveBackChunkBuffer(a);
    giveBackChunkBuffer(a);
    expect(freeChunkBuffers()).toBe(1);
    expect(takeChunkBuffer(1000)).not.toBe(a);
    expect(takeChunkBuffer(4096)).toBe(a);
    expect(takeChunkBuffer(4096)).not.toBe(a);
  });

  it('chunk buffers - a buffer this module did not make, or a part of one, is never taken back', () => {
    dropChunkBuffers();
    giveBackChunkBuffer(Buffer.allocUnsafeSlow(4096));
    giveBackChunkBuffer(Buffer.alloc(4096));
    const mine = takeChunkBuffer(8192);
    giveBackChunkBuffer(mine.subarray(0, 4096));
    giveBackChunkBuffer(mine.subarray(4096));
    expect(freeChunkBuffers()).toBe(0);
  });

  it('chunk buffers - at most 8 wait, so a burst of chunks is not kept for ever', () => {
    dropChunkBuffers();
    const taken = Array.from({ length: 12 }, () => takeChunkBuffer(2048));
    for (const b of taken) giveBackChunkBuffer(b);
    expect(freeChunkBuffers()).toBe(8);
  });

  it('chunk buffers - the decoder gathers a payload that spans reads into the buffer it is given, and takes one that came whole where it lies', () => {
    const given: Array<[number, number]> = [];
    const gather = Buffer.alloc(5000);
    const decoder = createFrameDecoder({
      payloadBuffer: (length, type) => {
        given.push([length, type]);
        return gather;
      },
    });
    const payload = Buffer.alloc(5000, 7);
    payload.write('first and last', 0);
    const wire = encodeFrame({ contentType: CONTENT.FILE_CHUNK, flags: 0, source: 1, destination: 2, contentId: chunkContentId(1, 3), payload });
    expect(decoder.push(wire.subarray(0, 1000))).toEqual([]);
    const [spanning] = decoder.push(wire.subarray(1000));
    expect(spanning.payload).toBe(gather);
    expect(spanning.payload.equals(payload)).toBe(true);
    expect(given).toEqual([[5000, CONTENT.FILE_CHUNK]]);
    const [whole] = decoder.push(wire);
    expect(whole.payload).not.toBe(gather);
    expect(whole.payload.equals(payload)).toBe(true);
    expect(given).toHaveLength(1);
  });
});
