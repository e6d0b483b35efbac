import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { idCandidate } from '../../src/net/control.js';
import { selfSignedId } from '../../src/node/identity.js';

describe('identity', () => {
  it.each([
    ['the first 40 bits of the fingerprint', '50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c', 0x50d858e098],
    ['the largest id', 'ffffffffff' + '0'.repeat(54), 2 ** 40 - 1],
    ['1', '0000000001' + 'f'.repeat(54), 1],
  ])('identity - selfSignedId is %s', (_what, sha, id) => {
    expect(selfSignedId(sha)).toBe(id);
  });

  it('identity - selfSignedId of a fingerprint whose first 40 bits are 0 is candidate 1 (PROTOCOL.md section 4)', () => {
    const sha = '0000000000' + 'ab'.repeat(27);
    const expected = idCandidate(Buffer.from(sha, 'hex'), 1);
    expect(expected).toBe(Buffer.from(createHash('sha256').update(Buffer.from(sha, 'hex')).update(Buffer.from([0, 0, 0, 1])).digest()).readUIntBE(0, 5));
    expect(selfSignedId(sha)).toBe(expected);
    expect(expected).toBeGreaterThan(0);
  });
});
