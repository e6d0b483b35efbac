import { describe, expect, it } from 'vitest';
import { PEER_CODES, type PeerCode } from '../../cert/errors.js';
import { refusalCode } from '../../src/net/tls.js';
import { WIRE_CODE } from '../../src/net/constants.js';

// Every certificate problem and the code a refusal carries on the wire (docs/PROTOCOL.md "Codes
// carried in messages").
const MAP: Array<[PeerCode, string]> = [
  [PEER_CODES.MISSING, 'CERT_MISSING'],
  [PEER_CODES.UNREADABLE, 'CERT_UNREADABLE'],
  [PEER_CODES.FOREIGN_CA, 'CERT_UNKNOWN_CA'],
  [PEER_CODES.WRONG_ROLE, 'CERT_WRONG_ROLE'],
  [PEER_CODES.EXPIRED, 'CERT_EXPIRED'],
  [PEER_CODES.NOT_YET_VALID, 'CERT_NOT_YET_VALID'],
  [PEER_CODES.KEY_MISMATCH, 'CERT_KEY_MISMATCH'],
];

describe('cert errors', () => {
  for (const [problem, wire] of MAP) {
    it(`cert errors - ${problem} is refused on the wire with ${wire}`, () => {
      expect(refusalCode(problem)).toBe(wire);
      expect(Object.values(WIRE_CODE)).toContain(wire);
    });
  }

  it('cert errors - every problem has a wire code of its own', () => {
    expect(MAP.map(([problem]) => problem).sort()).toEqual(Object.values(PEER_CODES).sort());
    expect(new Set(Object.values(PEER_CODES).map(refusalCode)).size).toBe(Object.values(PEER_CODES).length);
  });
});
