// FILE_CONTROL payloads on a peer link (src/net/files.ts): each kind round-trips, and anything
// else is refused with a code and a reason, never a crash.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { chunksOf, decodeFiles, encodeFiles, FILES_ERR, isRanges, MAX_NAME_FIELD, MAX_RANGE_NUMBERS, MAX_TAG, rangesOf, type FilePayload } from '../../src/net/files.js';

const packr = new Packr({ useRecords: false });
const h = Buffer.alloc(32, 7);

describe('files payloads', () => {
  it.each<FilePayload>([
    { k: 'offer', id: 't1', tag: 1, name: 'отчёт 2025.pdf', size: 5 * 2 ** 40, chunkSize: 1_048_576 },
    { k: 'offer', id: 'x'.repeat(64), tag: MAX_TAG, name: 'a', size: 0, chunkSize: 1 },
    { k: 'offer', id: 't1', tag: 2, name: 'a', size: 10, chunkSize: 1_048_576, got: true },
    { k: 'accept', id: 't1', have: [] },
    { k: 'accept', id: 't1', have: [0, 3, 5, 2 ** 32] },
    { k: 'accept', id: 't1', have: [0, 4], got: true },
    { k: 'accept', id: 't1', have: [], got: false },
    { k: 'decline', id: 't1', reason: 'no room' },
    { k: 'decline', id: 't1', reason: 'over the grant', need: 12 },
    { k: 'sum', id: 't1', c: 2 ** 32 - 1, h },
    { k: 'ack', id: 't1', have: [4, 8] },
    { k: 'need', id: 't1', c: 0 },
    { k: 'got', id: 't1', n: 0 },
    { k: 'got', id: 't1', n: 2 ** 53 - 1 },
    { k: 'root', id: 't1', root: h },
    { k: 'done', id: 't1', root: h },
    { k: 'cancel', id: 't1', by: 'receiver', reason: 'cancelled by the receiver' },
    { k: 'fail', id: 't1', by: 'sender', reason: 'the file changed since it was offered' },
    { k: 'resume', id: 't1' },
  ])('files - round-trips %j', (p) => {
    expect(decodeFiles(encodeFiles(p))).toEqual(p);
  });

  it('files - reads integers in any MessagePack form', () => {
    expect(decodeFiles(packr.pack({ k: 'need', id: 'a', c: 5 }))).toEqual({ k: 'need', id: 'a', c: 5 });
  });

  it.each([
    ['not MessagePack (cut short)', Buffer.from([0x82, 0xa1]), FILES_ERR.MALFORMED],
    ['not a map', packr.pack([1, 2]), FILES_ERR.MALFORMED],
    ['a bin, not a map', packr.pack(Buffer.alloc(3)), FILES_ERR.MALFORMED],
    ['an unknown kind', packr.pack({ k: 'nope', id: 'a' }), FILES_ERR.UNKNOWN_KIND],
    ['an id with a space', packr.pack({ k: 'need', id: 'a b', c: 1 }), FILES_ERR.BAD_FIELD],
    ['an id of 65 characters', packr.pack({ k: 'need', id: 'x'.repeat(65), c: 1 }), FILES_ERR.BAD_FIELD],
    ['an offer with tag 0', packr.pack({ k: 'offer', id: 'a', tag: 0, name: 'n', size: 1, chunkSize: 1 }), FILES_ERR.BAD_FIELD],
    ['an offer with a tag over 2^21-1', packr.pack({ k: 'offer', id: 'a', tag: MAX_TAG + 1, name: 'n', size: 1, chunkSize: 1 }), FILES_ERR.BAD_FIELD],
    ['an offer without a name', packr.pack({ k: 'offer', id: 'a', tag: 1, name: '', size: 1, chunkSize: 1 }), FILES_ERR.BAD_FIELD],
    ['an offer with a huge name', packr.pack({ k: 'offer', id: 'a', tag: 1, name: 'x'.repeat(MAX_NAME_FIELD + 1), size: 1, chunkSize: 1 }), FILES_ERR.BAD_FIELD],
    ['an offer with a negative size', packr.pack({ k: 'offer', id: 'a', tag: 1, name: 'n', size: -1, chunkSize: 1 }), FILES_ERR.BAD_FIELD],
    ['an offer with a fractional size', packr.pack({ k: 'offer', id: 'a', tag: 1, name: 'n', size: 1.5, chunkSize: 1 }), FILES_ERR.BAD_FIELD],
    ['an offer with chunkSize 0', packr.pack({ k: 'offer', id: 'a', tag: 1, name: 'n', size: 1, chunkSize: 0 }), FILES_ERR.BAD_FIELD],
    ['an offer with chunks over 1 MiB', packr.pack({ k: 'offer', id: 'a', tag: 1, name: 'n', size: 1, chunkSize: 1_048_577 }), FILES_ERR.BAD_FIELD],
    ['an offer of more than 2^32 chunks', packr.pack({ k: 'offer', id: 'a', tag: 1, name: 'n', size: 2 ** 33, chunkSize: 1 }), FILES_ERR.BAD_FIELD],
    ['an accept whose have is odd', packr.pack({ k: 'accept', id: 'a', have: [1] }), FILES_ERR.BAD_FIELD],
    ['an accept whose ranges overlap', packr.pack({ k: 'accept', id: 'a', have: [0, 4, 3, 6] }), FILES_ERR.BAD_FIELD],
    ['an accept whose range is empty', packr.pack({ k: 'accept', id: 'a', have: [2, 2] }), FILES_ERR.BAD_FIELD],
    ['an accept with too many ranges', packr.pack({ k: 'accept', id: 'a', have: Array.from({ length: MAX_RANGE_NUMBERS + 2 }, (_, i) => 2 * i) }), FILES_ERR.BAD_FIELD],
    ['an ack whose have is not a list', packr.pack({ k: 'ack', id: 'a', have: 'all' }), FILES_ERR.BAD_FIELD],
    ['a decline without a reason', packr.pack({ k: 'decline', id: 'a' }), FILES_ERR.BAD_FIELD],
    ['a decline with a reason too long', packr.pack({ k: 'decline', id: 'a', reason: 'x'.repeat(513) }), FILES_ERR.BAD_FIELD],
    ['a decline whose need is text', packr.pack({ k: 'decline', id: 'a', reason: 'r', need: 'many' }), FILES_ERR.BAD_FIELD],
    ['a sum of 31 bytes', packr.pack({ k: 'sum', id: 'a', c: 1, h: Buffer.alloc(31) }), FILES_ERR.BAD_FIELD],
    ['a sum whose hash is text', packr.pack({ k: 'sum', id: 'a', c: 1, h: 'x'.repeat(32) }), FILES_ERR.BAD_FIELD],
    ['a sum of chunk 2^32', packr.pack({ k: 'sum', id: 'a', c: 2 ** 32, h }), FILES_ERR.BAD_FIELD],
    ['a need of chunk -1', packr.pack({ k: 'need', id: 'a', c: -1 }), FILES_ERR.BAD_FIELD],
    ['an offer whose got is text', packr.pack({ k: 'offer', id: 'a', tag: 1, name: 'n', size: 1, chunkSize: 1, got: 'yes' }), FILES_ERR.BAD_FIELD],
    ['an accept whose got is 1, not true', packr.pack({ k: 'accept', id: 'a', have: [], got: 1 }), FILES_ERR.BAD_FIELD],
    ['a got without n', packr.pack({ k: 'got', id: 'a' }), FILES_ERR.BAD_FIELD],
    ['a got of -1 bytes', packr.pack({ k: 'got', id: 'a', n: -1 }), FILES_ERR.BAD_FIELD],
    ['a got of 1.5 bytes', packr.pack({ k: 'got', id: 'a', n: 1.5 }), FILES_ERR.BAD_FIELD],
    ['a root of 33 bytes', packr.pack({ k: 'root', id: 'a', root: Buffer.alloc(33) }), FILES_ERR.BAD_FIELD],
    ['a done without a root', packr.pack({ k: 'done', id: 'a' }), FILES_ERR.BAD_FIELD],
    ['a cancel without a reason', packr.pack({ k: 'cancel', id: 'a', by: 'sender' }), FILES_ERR.BAD_FIELD],
    ['a cancel that says not who writes it', packr.pack({ k: 'cancel', id: 'a', reason: 'r' }), FILES_ERR.BAD_FIELD],
    ['a fail by a third party', packr.pack({ k: 'fail', id: 'a', by: 'relay', reason: 'r' }), FILES_ERR.BAD_FIELD],
    ['a resume without an id', packr.pack({ k: 'resume' }), FILES_ERR.BAD_FIELD],
    ['a fail whose reason is a number', packr.pack({ k: 'fail', id: 'a', by: 'sender', reason: 5 }), FILES_ERR.BAD_FIELD],
  ])('files - refuses %s', (_what, bytes, code) => {
    expect(() => decodeFiles(bytes)).toThrow(expect.objectContaining({ code }));
  });

  it('files - encodes got and an accept with got byte by byte (docs/PROTOCOL.md)', () => {
    expect(encodeFiles({ k: 'got', id: 't1', n: 1_048_576 }).toString('hex')).toBe('83a16ba3676f74a26964a27431a16ece00100000');
    expect(encodeFiles({ k: 'accept', id: 't1', have: [0, 4], got: true }).toString('hex')).toBe('84a16ba6616363657074a26964a27431a46861766592' + '0004' + 'a3676f74c3');
  });

  it('files - ranges: chunks to ranges and back', () => {
    expect(rangesOf([5, 3, 4, 9, 4])).toEqual([3, 6, 9, 10]);
    expect(rangesOf([])).toEqual([]);
    expect(chunksOf([3, 6, 9, 10])).toEqual([3, 4, 5, 9]);
    expect(isRanges([0, 1, 1, 2])).toBe(false);
    expect(isRanges([0, 2, 3, 4])).toBe(true);
  });
});
