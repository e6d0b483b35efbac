import fc from 'fast-check';
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encodeMsgpack } from '../../src/events/msgpack.js';

const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true });
const reference = new Packr({ useRecords: false });

// What an event may hold: maps with string keys, strings of any script, safe integers, floats,
// booleans, null, arrays, bytes.
const value = fc.letrec((tie) => ({
  any: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary' }),
    fc.maxSafeInteger(),
    fc.maxSafeNat(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isSafeInteger(d) && !Object.is(d, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 300 }),
    fc.array(tie('any'), { maxLength: 20 }),
    fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), tie('any'), { maxKeys: 20 }),
  ),
})).any;

// msgpackr hands bytes back as Buffers.
function asDecoded(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(asDecoded);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asDecoded(x)]));
  return v;
}

describe('msgpack', () => {
  it('msgpack - whatever it writes, msgpackr reads back the same', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(unpackr.unpack(encodeMsgpack(v))).toEqual(asDecoded(v));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    [0, '00'],
    [127, '7f'],
    [128, 'cc80'],
    [-1, 'ff'],
    [-33, 'd0df'],
    [65_535, 'cdffff'],
    [2 ** 32 - 1, 'ceffffffff'],
    [2 ** 32, 'cf0000000100000000'],
    [2 ** 40 - 1, 'cf000000ffffffffff'],
    [-(2 ** 31) - 1, 'd3ffffffff7fffffff'],
    [1.5, 'cb3ff8000000000000'],
    ['', 'a0'],
    ['é', 'a2c3a9'],
    [true, 'c3'],
    [null, 'c0'],
  ])('msgpack - %s is written as %s', (v, hex) => {
    expect(encodeMsgpack(v).toString('hex')).toBe(hex);
  });

  it('msgpack - a map leaves out undefined values and matches the reference encoder otherwise', () => {
    const e = { type: 'message.sent', id: 'm1', peer: 42, text: 'Привет 👋', packets: 1, replyTo: undefined, chunks: [1, 2, 300] };
    const { replyTo: _unused, ...defined } = e;
    const ours = encodeMsgpack(e);
    const theirs = reference.pack(defined);
    // msgpackr always writes a map16 header (de 00 06); ours is the shortest form, fixmap 86.
    expect(ours[0]).toBe(0x86);
    expect(theirs.subarray(0, 3).toString('hex')).toBe('de0006');
    expect(ours.subarray(1).equals(theirs.subarray(3))).toBe(true);
  });

  it('msgpack - values handed out earlier are not overwritten by later ones, across slabs', () => {
    const big = 'x'.repeat(100_000);
    const first = encodeMsgpack({ a: 1, s: 'keep' });
    const copy = Buffer.from(first);
    for (let i = 0; i < 20; i++) encodeMsgpack({ big, i });
    expect(first.equals(copy)).toBe(true);
  });

  it('msgpack - refuses what an event cannot hold', () => {
    expect(() => encodeMsgpack({ f: () => 1 })).toThrow(TypeError);
  });
});
