// The frame loop every link runs (src/net/link.ts): feeding chunks, the answer to refused bytes,
// the address and type checks of a control frame, and the bounded write.
import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { CONTENT, ERR, FLAGS } from '../../src/net/constants.js';
import { encodeControl } from '../../src/net/control.js';
import { createFrameDecoder, encodeFrame, versionRefusedFrame, type Frame } from '../../src/net/frame.js';
import { controlFrame, controlOf, feed, refusalFor, writeBounded } from '../../src/net/link.js';
import type { NetError } from '../../src/net/errors.js';
import { catchErr } from './helpers.js';

const HB = encodeControl({ type: 'heartbeat' });


describe('link - feed', () => {
  it('hands on frames split across chunks, in order', () => {
    const wire = Buffer.concat([controlFrame(0, 7, HB), controlFrame(0, 7, encodeControl({ type: 'heartbeat-ack' }))]);
    const d = createFrameDecoder();
    const got: Frame[] = [];
    for (let i = 0; i < wire.length; i += 5) expect(feed(d, wire.subarray(i, i + 5), (f) => got.push(f) > 0)).toBeNull();
    expect(got.map((f) => f.payload)).toEqual([HB, encodeControl({ type: 'heartbeat-ack' })]);
  });

  it('stops handing on frames when onFrame returns false', () => {
    const wire = Buffer.concat([controlFrame(0, 7, HB), controlFrame(0, 7, HB), controlFrame(0, 7, HB)]);
    let n = 0;
    expect(feed(createFrameDecoder(), wire, () => ++n < 2)).toBeNull();
    expect(n).toBe(2);
  });

  it('hands on the valid frames before bad bytes, then returns the error', () => {
    const wire = Buffer.concat([controlFrame(0, 7, HB), Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
    const got: Frame[] = [];
    const err = feed(createFrameDecoder(), wire, (f) => got.push(f) > 0);
    expect(got).toHaveLength(1);
    expect(err?.code).toBe(ERR.FRAME_BAD_MAGIC);
  });
});

describe('link - refusalFor', () => {
  const withByte = (at: number, v: number): Buffer => {
    const b = controlFrame(0, 0, HB);
    b[at] = v;
    return b;
  };
  const frameOfVersion = (v: number): Buffer => withByte(2, v);
  const errOf = (bytes: Buffer): NetError => feed(createFrameDecoder(), bytes, () => true) as NetError;

  it.each([
    ['a frame of version 2', 'VERSION_REFUSED', 'reply', frameOfVersion(2)],
    ['a version-refused reply', 'VERSION_REFUSED', 'nothing', versionRefusedFrame([2])],
    ['bytes that are not a frame', 'BAD_FRAME', 'error', Buffer.from('SSH-2.0-OpenSSH\r\n'.padEnd(40, ' '))],
    ['an unknown content type', 'BAD_FRAME', 'error', withByte(3, 0x7f)],
  ])('%s: %s, answered with %s', (_what, code, answer, bytes) => {
    const r = refusalFor(errOf(bytes));
    expect(r.code).toBe(code);
    if (answer === 'reply') expect(r.reply).toEqual(versionRefusedFrame());
    if (answer === 'nothing') expect(r.reply).toBeNull();
    if (answer === 'error') expect(r.reply).toMatchObject({ type: 'error', code });
  });

  it('a control payload that does not decode: BAD_CONTROL with the reader\'s reason', () => {
    const err = catchErr(() => controlOf({ ...head(0, 0), payload: Buffer.from([0xc1]) }, 0, 0));
    expect(refusalFor(err)).toEqual({ code: 'BAD_CONTROL', reply: { type: 'error', code: 'BAD_CONTROL', reason: expect.any(String) } });
  });
});

function head(source: number, destination: number, contentType: Frame['contentType'] = CONTENT.CONTROL): Omit<Frame, 'payload'> {
  return { contentType, flags: FLAGS.NONE, source, destination, contentId: 0 };
}

describe('link - controlOf', () => {
  it.each([
    // [source, destination, from, to, ok]
    [7, 0, 7, 0, true],
    [0, 0, 7, 0, true], // a client before login-ok writes 0
    [8, 0, 7, 0, false], // another client's id
    [0, 5, 7, 0, false], // to someone but the server
    [0, 7, 0, 7, true],
    [0, 0, 0, 7, true],
    [0, 9, 0, 7, false],
    [0, 9, 0, null, true], // login-ok brings the id: any destination before it
    [3, 9, 0, null, false],
  ])('from %i to %i where %i writes to %s: %s', (source, destination, from, to, ok) => {
    const frame = { ...head(source, destination), payload: HB };
    if (ok) expect(controlOf(frame, from, to)).toEqual({ type: 'heartbeat' });
    else expect(catchErr(() => controlOf(frame, from, to)).code).toBe(ERR.FRAME_BAD_ADDRESS);
  });

  it('a frame that is not CONTROL is refused with FRAME_BAD_TYPE', () => {
    const frame = { ...head(0, 0, CONTENT.TEXT), payload: Buffer.from('hi') };
    expect(catchErr(() => controlOf(frame, 0, 0)).code).toBe(ERR.FRAME_BAD_TYPE);
    expect(refusalFor(catchErr(() => controlOf(frame, 0, 0))).code).toBe('BAD_FRAME');
  });

  it('controlFrame writes the header as encodeFrame does', () => {
    expect(controlFrame(0, 7, HB)).toEqual(encodeFrame({ ...head(0, 7), payload: HB }));
  });
});

describe('link - writeBounded', () => {
  it('says closed, ok, wait and over as the other side stops reading', async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => accepted.push(s.pause()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    try {
      expect(writeBounded(socket, Buffer.alloc(10), 1_000)).toBe('ok');
      const big = Buffer.alloc(64 * 1024);
      // Written in one go, the queue is past the high-water mark at once, then past the bound.
      const seen: string[] = [];
      for (let i = 0; i < 4_000 && seen.at(-1) !== 'over'; i++) seen.push(writeBounded(socket, big, 8 * 1024 * 1024));
      // The kernel may take the first writes whole ('ok'); then each one waits, until the bound.
      expect(seen.at(-1)).toBe('over');
      expect(seen.slice(seen.indexOf('wait'), -1).every((w) => w === 'wait')).toBe(true);
      expect(seen.indexOf('wait')).toBeGreaterThanOrEqual(0);
      expect(socket.writableLength).toBeGreaterThan(8 * 1024 * 1024);
      socket.destroy();
      expect(writeBounded(socket, big, 1_000)).toBe('closed');
    } finally {
      socket.destroy();
      for (const s of accepted) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });
});
