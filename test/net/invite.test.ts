import zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addressText, base32Decode, base32Encode, decodeInvite, encodeInvite, INVITE, INVITE_ERR, invitableAddresses, type Invite } from '../../src/net/invite.js';

const KEY = '50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c';
const SAMPLE: Invite = { id: 0x50d858e098, keySha256: KEY, port: 7402, addresses: ['192.168.1.23', '10.0.0.5', '2001:db8::17'] };
const CODES = new Set<string>(Object.values(INVITE_ERR));

// The example of docs/PROTOCOL.md section 12: keep them the same.
const DOC_EXAMPLE = {
  invite: { id: 347227087000, keySha256: KEY, port: 7402, addresses: ['192.168.1.23'] },
  text: 'parley1:kdmfryeykdmfryeyl3gh6ycbrkxqzrnllb7ufqsxbkeebfnj5dgkzuhwkrobz2qbatakqaix7ljvjui',
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
}

// An invite text of any body, with a correct checksum: to reach the checks behind it.
function craft(body: Buffer): string {
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(zlib.crc32(body), 0);
  return INVITE.PREFIX + base32Encode(Buffer.concat([body, sum]));
}

function head(id: number, port: number, count: number): Buffer {
  const b = Buffer.alloc(INVITE.OFFSET_ADDRESSES);
  b.writeUIntBE(id, 0, 5);
  Buffer.from(KEY, 'hex').copy(b, 5);
  b.writeUInt16BE(port, 37);
  b[39] = count;
  return b;
}

const v4 = (...bytes: number[]) => Buffer.from([4, ...bytes]);

describe('invite', () => {
  it.each<[string, Invite, string[]]>([
    ['IPv4 and IPv6', SAMPLE, SAMPLE.addresses],
    ['the largest id and port, loopback', { id: 2 ** 40 - 1, keySha256: KEY, port: 65535, addresses: ['127.0.0.1', '::1'] }, ['127.0.0.1', '::1']],
    ['IPv6 written long and in capitals, back in RFC 5952 form', { id: 1, keySha256: KEY.toUpperCase(), port: 1, addresses: ['2001:0DB8:0000:0000:0000:0000:0000:0001', '::ffff:192.0.2.1'] }, ['2001:db8::1', '::ffff:c000:201']],
    ['a fingerprint with colons', { id: 9, keySha256: KEY.match(/../g)!.join(':'), port: 80, addresses: ['203.0.113.9'] }, ['203.0.113.9']],
  ])('invite - %s: decode(encode(x)) gives x back, addresses normalised', (_what, invite, addresses) => {
    const text = encodeInvite(invite);
    expect(text.startsWith('parley1:')).toBe(true);
    expect(text).toMatch(/^parley1:[a-z2-7]+$/);
    expect(decodeInvite(text)).toEqual({ id: invite.id, keySha256: KEY, port: invite.port, addresses });
    expect(encodeInvite(decodeInvite(text))).toBe(text);
  });

  it('invite - the example of docs/PROTOCOL.md', () => {
    expect(encodeInvite(DOC_EXAMPLE.invite)).toBe(DOC_EXAMPLE.text);
    expect(decodeInvite(DOC_EXAMPLE.text)).toEqual(DOC_EXAMPLE.invite);
  });

  it('invite - a one-time token after the addresses: read back; a malformed one refused with INVITE_BAD_TOKEN; any other trailing bytes still INVITE_BAD_LENGTH', () => {
    const withToken = { ...SAMPLE, token: '0123456789abcdef0123456789abcdef' };
    const text = encodeInvite(withToken);
    expect(decodeInvite(text)).toEqual(withToken);
    expect(encodeInvite(decodeInvite(text))).toBe(text);
    expect(codeOf(() => encodeInvite({ ...SAMPLE, token: 'ABC' }))).toBe(INVITE_ERR.BAD_TOKEN);
    const one = Buffer.concat([head(5, 80, 1), v4(10, 0, 0, 1)]);
    expect(codeOf(() => decodeInvite(craft(Buffer.concat([one, Buffer.from([INVITE.KIND_TOKEN]), Buffer.alloc(15)]))))).toBe(INVITE_ERR.BAD_LENGTH);
    expect(codeOf(() => decodeInvite(craft(Buffer.concat([one, Buffer.from([0x75]), Buffer.alloc(16)]))))).toBe(INVITE_ERR.BAD_LENGTH);
  });

  it('invite - capitals and spaces around it read the same', () => {
    const text = encodeInvite(SAMPLE);
    expect(decodeInvite(`  ${text.toUpperCase()}\n`)).toEqual(SAMPLE);
  });

  it.each<[string, Partial<Invite>, string]>([
    ['id 0', { id: 0 }, INVITE_ERR.BAD_ID],
    ['id 2^40', { id: 2 ** 40 }, INVITE_ERR.BAD_ID],
    ['id 1.5', { id: 1.5 }, INVITE_ERR.BAD_ID],
    ['a fingerprint of 31 bytes', { keySha256: KEY.slice(2) }, INVITE_ERR.BAD_KEY],
    ['a fingerprint that is not hex', { keySha256: 'z' + KEY.slice(1) }, INVITE_ERR.BAD_KEY],
    ['port 0', { port: 0 }, INVITE_ERR.BAD_PORT],
    ['port 65536', { port: 65536 }, INVITE_ERR.BAD_PORT],
    ['no address', { addresses: [] }, INVITE_ERR.BAD_ADDRESS],
    ['17 addresses', { addresses: Array.from({ length: 17 }, (_, i) => `10.0.0.${i + 1}`) }, INVITE_ERR.BAD_ADDRESS],
    ['a host name', { addresses: ['example.org'] }, INVITE_ERR.BAD_ADDRESS],
    ['localhost', { addresses: ['localhost'] }, INVITE_ERR.BAD_ADDRESS],
    ['an address with a zone', { addresses: ['fe80::1%eth0'] }, INVITE_ERR.BAD_ADDRESS],
    ['a link-local IPv6 address', { addresses: ['fe80::1'] }, INVITE_ERR.BAD_ADDRESS],
    ['0.0.0.0', { addresses: ['0.0.0.0'] }, INVITE_ERR.BAD_ADDRESS],
    ['::', { addresses: ['::'] }, INVITE_ERR.BAD_ADDRESS],
    ['multicast', { addresses: ['224.0.0.1'] }, INVITE_ERR.BAD_ADDRESS],
    ['IPv6 multicast', { addresses: ['ff02::1'] }, INVITE_ERR.BAD_ADDRESS],
    ['the broadcast address', { addresses: ['255.255.255.255'] }, INVITE_ERR.BAD_ADDRESS],
    ['a leading zero', { addresses: ['01.2.3.4'] }, INVITE_ERR.BAD_ADDRESS],
    ['an address and a port', { addresses: ['10.0.0.1:7400'] }, INVITE_ERR.BAD_ADDRESS],
    ['the same address twice', { addresses: ['2001:db8::1', '2001:DB8:0::1'] }, INVITE_ERR.BAD_ADDRESS],
  ])('invite - encode refuses %s', (_what, change, code) => {
    expect(codeOf(() => encodeInvite({ ...SAMPLE, ...change }))).toBe(code);
  });

  const valid = encodeInvite(SAMPLE);
  it.each<[string, string, string]>([
    ['another prefix', 'parley:' + valid.slice(8), INVITE_ERR.BAD_PREFIX],
    ['a URL', 'https://example.org/' + valid, INVITE_ERR.BAD_PREFIX],
    ['a later version', 'parley2:' + valid.slice(8), INVITE_ERR.BAD_PREFIX],
    ['nothing', '', INVITE_ERR.BAD_PREFIX],
    ['a very long text', valid + 'a'.repeat(600), INVITE_ERR.TOO_LONG],
    ['a character outside base32', valid.slice(0, 20) + '1' + valid.slice(21), INVITE_ERR.BAD_TEXT],
    ['base64 padding', valid + '=', INVITE_ERR.BAD_TEXT],
    ['a space inside', valid.slice(0, 20) + ' ' + valid.slice(20), INVITE_ERR.BAD_TEXT],
    ['the prefix alone', 'parley1:', INVITE_ERR.BAD_LENGTH],
    ['a checksum that does not match', INVITE.PREFIX + base32Encode(Buffer.concat([head(5, 7, 1), v4(10, 0, 0, 1), Buffer.alloc(4)])), INVITE_ERR.BAD_CHECKSUM],
    ['id 0', craft(Buffer.concat([head(0, 7, 1), v4(10, 0, 0, 1)])), INVITE_ERR.BAD_ID],
    ['port 0', craft(Buffer.concat([head(5, 0, 1), v4(10, 0, 0, 1)])), INVITE_ERR.BAD_PORT],
    ['no address', craft(head(5, 7, 0)), INVITE_ERR.BAD_ADDRESS],
    ['17 addresses', craft(Buffer.concat([head(5, 7, 17), ...Array.from({ length: 17 }, (_, i) => v4(10, 0, 0, i + 1))])), INVITE_ERR.BAD_ADDRESS],
    ['an address of kind 5', craft(Buffer.concat([head(5, 7, 1), Buffer.from([5, 10, 0, 0, 1])])), INVITE_ERR.BAD_ADDRESS],
    ['fewer addresses than its count', craft(Buffer.concat([head(5, 7, 2), v4(10, 0, 0, 1)])), INVITE_ERR.BAD_LENGTH],
    ['an address cut short', craft(Buffer.concat([head(5, 7, 1), Buffer.from([6, 1, 2, 3])])), INVITE_ERR.BAD_LENGTH],
    ['bytes after the last address', craft(Buffer.concat([head(5, 7, 1), v4(10, 0, 0, 1), Buffer.from([0])])), INVITE_ERR.BAD_LENGTH],
    ['a multicast address', craft(Buffer.concat([head(5, 7, 1), v4(239, 1, 2, 3)])), INVITE_ERR.BAD_ADDRESS],
    ['the unspecified address', craft(Buffer.concat([head(5, 7, 1), v4(0, 0, 0, 0)])), INVITE_ERR.BAD_ADDRESS],
    ['the same address twice', craft(Buffer.concat([head(5, 7, 2), v4(10, 0, 0, 1), v4(10, 0, 0, 1)])), INVITE_ERR.BAD_ADDRESS],
  ])('invite - decode refuses %s, with its code', (_what, text, code) => {
    expect(codeOf(() => decodeInvite(text))).toBe(code);
  });

  it('invite - every error tells the person what to do, in one line', () => {
    try {
      decodeInvite(valid.slice(0, -1) + (valid.endsWith('a') ? 'b' : 'a'));
      expect.unreachable();
    } catch (err) {
      expect((err as { exitCode: number }).exitCode).toBe(2);
      expect((err as Error).message).toMatch(/ask for the invite again/);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('invite - every one-character change (substitution, deletion, insertion) is refused with a code or reads as the same invite', () => {
    const chars = [...'abcdefghijklmnopqrstuvwxyz234567ABCDEFGHIJKLMNOPQRSTUVWXYZ018=:-_ '];
    let refused = 0;
    let same = 0;
    const check = (text: string): void => {
      let got: Invite;
      try {
        got = decodeInvite(text);
      } catch (err) {
        expect(CODES.has((err as { code: string }).code), `${text}: ${String(err)}`).toBe(true);
        refused++;
        return;
      }
      expect(got, text).toEqual(SAMPLE);
      same++;
    };
    for (let i = 0; i <= valid.length; i++) {
      if (i < valid.length) {
        check(valid.slice(0, i) + valid.slice(i + 1));
        for (const c of chars) if (c !== valid[i]) check(valid.slice(0, i) + c + valid.slice(i + 1));
      }
      for (const c of chars) check(valid.slice(0, i) + c + valid.slice(i));
    }
    expect(refused).toBeGreaterThan(10_000);
    // Capitals, and spaces added at either end.
    expect(same).toBeGreaterThan(0);
  });

  it('invite - random text after the prefix is refused with a code, never another exception', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 700 }), (tail) => {
        const code = codeOf(() => decodeInvite(INVITE.PREFIX + tail));
        expect(CODES.has(code) || code === 'no error', code).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('invite - random bytes with a valid checksum: a coded refusal or an invite that encodes back to the same text', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 320 }), (bytes) => {
        const text = craft(Buffer.from(bytes));
        let invite: Invite;
        try {
          invite = decodeInvite(text);
        } catch (err) {
          expect(CODES.has((err as { code: string }).code), String(err)).toBe(true);
          return;
        }
        expect(encodeInvite(invite)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it.each<[string, number[], string]>([
    ['2001:db8::1', [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1], 'the longest zero run as ::'],
    ['1:0:0:2::3', [0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3], 'the first of equal runs stays, the longer one is cut'],
    ['2001:db8:0:1:1:1:1:1', [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1], 'a single zero group is not cut'],
  ])('invite - addressText gives %s (%s)', (text, bytes) => {
    expect(addressText(Uint8Array.from(bytes))).toBe(text);
  });

  it('invite - base32 refuses a last character with bits set beyond the bytes', () => {
    const text = base32Encode(Buffer.from([0xff]));
    expect(text).toBe('74');
    expect(base32Decode('74')).toEqual(Buffer.from([0xff]));
    expect(codeOf(() => base32Decode('75'))).toBe(INVITE_ERR.BAD_TEXT);
  });
});

describe('invitableAddresses', () => {
  it('invitableAddresses - keeps IP literals an invite may carry, canonical and once; drops zones, link-local, names', () => {
    expect(invitableAddresses(['192.168.1.23', 'fe80::1%eth0', 'fe80::2', '2001:DB8::17', '2001:db8:0::17', 'host.lan', '0.0.0.0'])).toEqual(['192.168.1.23', '2001:db8::17']);
    expect(invitableAddresses(Array.from({ length: 20 }, (_, i) => `10.0.0.${i + 1}`))).toHaveLength(16);
  });
});
