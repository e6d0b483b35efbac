import { describe, expect, it } from 'vitest';
import { CONTENT, ERR, FRAME, LIMITS, PAYLOAD_LIMIT, PROTOCOL_VERSION } from '../../src/net/constants.js';
import {
  chunkContentId,
  createFrameDecoder,
  encodeFrame,
  encodeFrameHeader,
  splitChunkContentId,
  versionRefusedFrame,
  type Frame,
} from '../../src/net/frame.js';
import { catchErr } from './helpers.js';

function frame(fields: Partial<Frame> = {}): Frame {
  return { contentType: CONTENT.CONTROL, flags: 0, source: 0, destination: 0, contentId: 0, payload: Buffer.alloc(0), ...fields };
}

function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

// Decodes `wire` pushed in the given pieces and returns every frame, payloads copied.
function decodeIn(pieces: Buffer[], options = {}): Frame[] {
  const d = createFrameDecoder(options);
  const out: Frame[] = [];
  for (const p of pieces) out.push(...d.push(p));
  return out;
}


// A header with chosen raw bytes, for inputs encodeFrame refuses to make.
function rawHeader(patch: Record<number, number>, length = 0): Buffer {
  const h = encodeFrameHeader(frame(), 0);
  h.writeUInt32BE(length, FRAME.OFFSET_LENGTH);
  for (const [at, value] of Object.entries(patch)) h[Number(at)] = value;
  return h;
}

const CASES: Array<[string, Frame]> = [
  ['an empty control frame', frame()],
  ['a text frame between the largest ids', frame({ contentType: CONTENT.TEXT, source: LIMITS.MAX_ID, destination: LIMITS.MAX_ID, contentId: 1, payload: bytes(100) })],
  ['a content id beyond 32 bits', frame({ contentType: CONTENT.TEXT, source: 7, destination: 9, contentId: 2 ** 32 + 5, payload: bytes(3) })],
  ['the largest content id', frame({ contentType: CONTENT.FILE_CONTROL, contentId: LIMITS.MAX_CONTENT_ID, payload: bytes(27) })],
  ['a file chunk of 64 KiB', frame({ contentType: CONTENT.FILE_CHUNK, source: 1, destination: 2, contentId: chunkContentId(1, 0), payload: bytes(65536) })],
  ['a control frame at its limit', frame({ payload: bytes(LIMITS.MAX_CONTROL_PAYLOAD) })],
  ['a file chunk at its limit', frame({ contentType: CONTENT.FILE_CHUNK, payload: bytes(LIMITS.MAX_CHUNK_PAYLOAD, 7) })],
];

describe('frame', () => {
  it('frame - writes the header byte by byte as PROTOCOL.md says', () => {
    const h = encodeFrameHeader(
      { contentType: CONTENT.TEXT, flags: 0, source: 0x0102030405, destination: 0x0a0b0c0d0e, contentId: 2 ** 32 + 0x11223344 },
      0x00010203,
    );
    expect(h.toString('hex')).toBe(
      '504c' + '01' + '02' + '00' + '0102030405' + '0a0b0c0d0e' + '0000000111223344' + '00010203',
    );
    expect(h.length).toBe(FRAME.HEADER_SIZE);
    expect(PROTOCOL_VERSION).toBe(1);
  });

  for (const [name, f] of CASES) {
    it(`frame - round-trips ${name}`, () => {
      const wire = encodeFrame(f);
      expect(wire.length).toBe(FRAME.HEADER_SIZE + f.payload.length);
      const [got, ...more] = decodeIn([wire]);
      expect(more).toEqual([]);
      expect({ ...got, payload: undefined }).toEqual({ ...f, payload: undefined });
      expect(got.payload.equals(f.payload)).toBe(true);
    });
  }

  it('frame - header then payload written apart equals one encoded frame', () => {
    const f = CASES[1][1];
    expect(Buffer.concat([encodeFrameHeader(f, f.payload.length), f.payload]).equals(encodeFrame(f))).toBe(true);
  });

  it('frame - decodes the same frames whatever byte the stream is split at', () => {
    const frames = [CASES[0][1], CASES[1][1], CASES[2][1], CASES[3][1]];
    const wire = Buffer.concat(frames.map(encodeFrame));
    for (let at = 0; at <= wire.length; at++) {
      const got = decodeIn([wire.subarray(0, at), wire.subarray(at)]);
      expect(got.map((g) => g.payload.toString('hex'))).toEqual(frames.map((f) => f.payload.toString('hex')));
      expect(got.map((g) => g.contentId)).toEqual(frames.map((f) => f.contentId));
    }
  });

  it('frame - decodes the same frames split at every pair of positions', () => {
    const frames = [CASES[0][1], CASES[2][1], frame({ contentType: CONTENT.TEXT, payload: bytes(5) })];
    const wire = Buffer.concat(frames.map(encodeFrame));
    for (let a = 0; a <= wire.length; a++) {
      for (let b = a; b <= wire.length; b++) {
        const got = decodeIn([wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)]);
        expect(got.map((g) => g.payload.toString('hex'))).toEqual(frames.map((f) => f.payload.toString('hex')));
      }
    }
  });

  it('frame - decodes a stream fed one byte at a time', () => {
    const frames = CASES.slice(0, 4).map(([, f]) => f);
    const wire = Buffer.concat(frames.map(encodeFrame));
    const got = decodeIn([...wire].map((b) => Buffer.from([b])));
    expect(got.map((g) => ({ ...g, payload: g.payload.toString('hex') }))).toEqual(
      frames.map((f) => ({ ...f, payload: f.payload.toString('hex') })),
    );
  });

  it('frame - hands out a view of the pushed chunk when the payload arrived whole', () => {
    const wire = encodeFrame(CASES[1][1]);
    const [got] = decodeIn([wire]);
    expect(got.payload.buffer).toBe(wire.buffer);
  });

  it('frame - decodes many frames from one chunk', () => {
    const wire = Buffer.concat(Array.from({ length: 1000 }, (_, i) => encodeFrame(frame({ contentId: i, payload: bytes(i % 7) }))));
    const got = decodeIn([wire]);
    expect(got.map((g) => g.contentId)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('frame - rejects a length over the limit as soon as the header is read', () => {
    const d = createFrameDecoder();
    const err = catchErr(() => d.push(rawHeader({}, LIMITS.MAX_CONTROL_PAYLOAD + 1)));
    expect(err.code).toBe(ERR.FRAME_TOO_LARGE);
  });

  it('frame - rejects a length over the limit of each content type', () => {
    for (const type of Object.values(CONTENT)) {
      const err = catchErr(() => decodeIn([rawHeader({ [FRAME.OFFSET_TYPE]: type }, PAYLOAD_LIMIT[type] + 1)]));
      expect(err.code).toBe(ERR.FRAME_TOO_LARGE);
    }
    const huge = catchErr(() => decodeIn([rawHeader({ [FRAME.OFFSET_TYPE]: CONTENT.FILE_CHUNK }, 0xffffffff)]));
    expect(huge.code).toBe(ERR.FRAME_TOO_LARGE);
  });

  it('frame - rejects a length over the decoder maxPayload', () => {
    const wire = encodeFrame(frame({ contentType: CONTENT.TEXT, payload: bytes(101) }));
    expect(catchErr(() => decodeIn([wire], { maxPayload: 100 })).code).toBe(ERR.FRAME_TOO_LARGE);
    expect(decodeIn([wire], { maxPayload: 101 })).toHaveLength(1);
  });

  it('frame - rejects a bad maxPayload option at once', () => {
    for (const maxPayload of [-1, 1.5, LIMITS.MAX_FRAME_PAYLOAD + 1, Number.NaN]) {
      expect(catchErr(() => createFrameDecoder({ maxPayload })).code).toBe(ERR.FRAME_INVALID);
    }
  });

  it('frame - rejects bad magic at the first wrong byte', () => {
    const first = catchErr(() => createFrameDecoder().push(Buffer.from([0x16])));
    expect(first.code).toBe(ERR.FRAME_BAD_MAGIC);
    const second = catchErr(() => createFrameDecoder().push(Buffer.from([0x50, 0x00])));
    expect(second.code).toBe(ERR.FRAME_BAD_MAGIC);
    const tls = catchErr(() => createFrameDecoder().push(Buffer.from('160301020001000001fc0303', 'hex')));
    expect(tls.code).toBe(ERR.FRAME_BAD_MAGIC);
  });

  it('frame - rejects another version after three bytes and says which', () => {
    for (const version of [2, 3, 255]) {
      const err = catchErr(() => createFrameDecoder().push(Buffer.from([0x50, 0x4c, version])));
      expect(err.code).toBe(ERR.FRAME_BAD_VERSION);
      expect(err.peerVersion).toBe(version);
    }
    const whole = catchErr(() => decodeIn([rawHeader({ [FRAME.OFFSET_VERSION]: 2 }, 10)]));
    expect(whole.code).toBe(ERR.FRAME_BAD_VERSION);
  });

  it('frame - rejects an unknown content type', () => {
    for (const type of [0, 5, 0x7f, 0xff]) {
      expect(catchErr(() => decodeIn([rawHeader({ [FRAME.OFFSET_TYPE]: type })])).code).toBe(ERR.FRAME_BAD_TYPE);
    }
  });

  it('frame - rejects flags that version 1 does not define', () => {
    for (const flags of [1, 0x80, 0xff]) {
      expect(catchErr(() => decodeIn([rawHeader({ [FRAME.OFFSET_FLAGS]: flags })])).code).toBe(ERR.FRAME_BAD_FLAGS);
    }
  });

  it('frame - rejects a content id over 2^53 - 1', () => {
    const err = catchErr(() => decodeIn([rawHeader({ [FRAME.OFFSET_CONTENT_ID + 1]: 0x20 })]));
    expect(err.code).toBe(ERR.FRAME_BAD_CONTENT_ID);
  });

  it('frame - rejects bad input the same way when the header is split', () => {
    const wire = rawHeader({ [FRAME.OFFSET_TYPE]: 9 });
    for (let at = 1; at < wire.length; at++) {
      const d = createFrameDecoder();
      expect(d.push(wire.subarray(0, at))).toEqual([]);
      expect(catchErr(() => d.push(wire.subarray(at))).code).toBe(ERR.FRAME_BAD_TYPE);
    }
  });

  it('frame - stays failed after an error and keeps the frames before it', () => {
    const good = encodeFrame(frame({ contentId: 42, payload: bytes(3) }));
    const d = createFrameDecoder();
    const err = catchErr(() => d.push(Buffer.concat([good, Buffer.from([0x00, 0x01])])));
    expect(err.code).toBe(ERR.FRAME_BAD_MAGIC);
    expect(err.frames?.map((f) => f.contentId)).toEqual([42]);
    const again = catchErr(() => d.push(good));
    expect(again.code).toBe(ERR.FRAME_BAD_MAGIC);
    expect(again.frames).toEqual([]);
  });

  it('frame - writes the version-refused reply in its fixed form', () => {
    expect(versionRefusedFrame().toString('hex')).toBe('504c000101');
    expect(versionRefusedFrame([1, 2, 7]).toString('hex')).toBe('504c0003010207');
    expect(catchErr(() => versionRefusedFrame([])).code).toBe(ERR.FRAME_INVALID);
    expect(catchErr(() => versionRefusedFrame([0])).code).toBe(ERR.FRAME_INVALID);
  });

  it('frame - reads a version-refused reply split anywhere', () => {
    const wire = versionRefusedFrame([2, 3]);
    for (let at = 0; at <= wire.length; at++) {
      const d = createFrameDecoder();
      const err = catchErr(() => {
        d.push(wire.subarray(0, at));
        d.push(wire.subarray(at));
      });
      expect(err.code).toBe(ERR.FRAME_VERSION_REFUSED);
      expect(err.peerVersions).toEqual([2, 3]);
    }
  });

  it('frame - reads a version-refused reply after valid frames', () => {
    const err = catchErr(() => decodeIn([Buffer.concat([encodeFrame(frame({ contentId: 1 })), versionRefusedFrame([9])])]));
    expect(err.code).toBe(ERR.FRAME_VERSION_REFUSED);
    expect(err.peerVersions).toEqual([9]);
    expect(err.frames).toHaveLength(1);
  });

  it('frame - reads a version-refused reply that names no version', () => {
    const err = catchErr(() => decodeIn([Buffer.from('504c0000', 'hex')]));
    expect(err.code).toBe(ERR.FRAME_VERSION_REFUSED);
    expect(err.peerVersions).toEqual([]);
  });

  it('frame - answers a newer peer with a reply that peer can read', () => {
    // A version-2 peer's first bytes, whatever its header holds after them.
    const theirs = Buffer.from('504c02ffffffff', 'hex');
    const err = catchErr(() => createFrameDecoder().push(theirs));
    expect(err.code).toBe(ERR.FRAME_BAD_VERSION);
    // The reply starts with magic and the 0 version byte that every version reads the same way.
    const reply = versionRefusedFrame();
    expect([...reply.subarray(0, 3)]).toEqual([0x50, 0x4c, 0x00]);
    expect(catchErr(() => createFrameDecoder().push(reply)).peerVersions).toEqual([PROTOCOL_VERSION]);
  });

  it('frame - stops after the frame stopWhen picks and hands back the rest', () => {
    const first = encodeFrame(frame({ contentId: 1 }));
    const second = encodeFrame(frame({ contentId: 2 }));
    const tail = Buffer.from('16030100', 'hex');
    const wire = Buffer.concat([first, second, tail]);
    for (let at = 0; at <= wire.length; at++) {
      const d = createFrameDecoder({ stopWhen: (f) => f.contentId === 2 });
      const got = [...d.push(wire.subarray(0, at))];
      const stoppedEarly = got.some((f) => f.contentId === 2);
      if (!stoppedEarly) got.push(...d.push(wire.subarray(at)));
      expect(got.map((f) => f.contentId)).toEqual([1, 2]);
      const rest = stoppedEarly ? Buffer.concat([d.rest(), wire.subarray(at)]) : d.rest();
      expect(rest.equals(tail)).toBe(true);
      expect(catchErr(() => d.push(Buffer.alloc(1))).code).toBe(ERR.FRAME_DECODER_STOPPED);
    }
  });

  it('frame - refuses to encode fields out of range', () => {
    const bad: Array<Partial<Frame>> = [
      { contentType: 0 as never },
      { contentType: 5 as never },
      { flags: 1 },
      { source: -1 },
      { source: 2 ** 40 },
      { destination: 1.5 },
      { contentId: -1 },
      { contentId: 2 ** 53 },
      { payload: bytes(LIMITS.MAX_CONTROL_PAYLOAD + 1) },
      { payload: 'text' as never },
    ];
    for (const fields of bad) expect(catchErr(() => encodeFrame(frame(fields))).code).toBe(ERR.FRAME_INVALID);
  });

  it('frame - packs a transfer tag and chunk index into a content id and back', () => {
    for (const [transfer, index] of [[1, 0], [3, 10], [2 ** 21 - 1, 2 ** 32 - 1]]) {
      const id = chunkContentId(transfer, index);
      expect(id).toBeLessThanOrEqual(LIMITS.MAX_CONTENT_ID);
      expect(splitChunkContentId(id)).toEqual({ transfer, index });
    }
    expect(chunkContentId(3, 10)).toBe(12884901898);
    for (const [transfer, index] of [[0, 0], [2 ** 21, 0], [1, 2 ** 32], [1, -1]]) {
      expect(catchErr(() => chunkContentId(transfer, index)).code).toBe(ERR.FRAME_INVALID);
    }
  });
});
