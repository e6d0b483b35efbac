// The invite string (issue 10): what `parley invite` prints and `parley connect` reads, so that
// two people connect with no server, the peer pinned to the key in the invite. One token a person
// can copy, paste, read aloud or retype: a prefix, then base32 of a fixed binary layout ending in
// a CRC-32. docs/PROTOCOL.md section 12 "Invites" is the byte-by-byte specification.
//
//   parley1:<base32, lowercase, no padding>
//
//   offset size  field
//   0      5     id, uint40 big-endian, 1..2^40-1
//   5      32    key fingerprint: SHA-256 of the SubjectPublicKeyInfo (DER)
//   37     2     port, uint16 big-endian, 1..65535
//   39     1     address count N, 1..16
//   40     ...   N addresses, each a kind byte then the address: 4 + 4 bytes (IPv4) or 6 + 16 (IPv6)
//   ...    17    optional: 0x74 ('t') then a one-time token of 16 bytes (PROTOCOL.md section 14)
//   end-4  4     CRC-32 (IEEE 802.3, as zlib and PNG) of every byte before it, big-endian
//
// Why this and not MessagePack: one invite has exactly one text (no choice of integer width, no
// 40-bit-id trap of msgpackr, DESIGN.md), so "decodes to the same invite" means "is the same
// text" up to letter case. Why CRC-32: a one-character change alters at most 5 consecutive bits,
// and a CRC-32 catches every burst of up to 32 bits, so every typo of one character is refused,
// not merely most. Why base32: case-insensitive, no characters a terminal or a chat program splits
// a word at, and the letters survive being read out.
//
// Addresses are IP literals only, never host names: a peer is dialled by address and accepted
// for its key (PROTOCOL.md section 1), and a name would add a resolver an attacker may answer.
import net from 'node:net';
import zlib from 'node:zlib';
import { normalKeySha256 } from '../../cert/keys.js';
import { badInput, type ParleyError } from '../errors.js';
import { LIMITS } from './constants.js';

export const INVITE = Object.freeze({
  PREFIX: 'parley1:',
  MAX_ADDRESSES: 16,
  // The longest valid invite, 16 IPv6 addresses, is 40 + 16 * 17 + 4 = 316 bytes, 8 + 506
  // characters. Longer text is refused before any decoding.
  MAX_TEXT_LENGTH: 600,
  KIND_IPV4: 4,
  KIND_IPV6: 6,
  // The one-time token that lets the inviter pin the key of whoever connects (section 14).
  KIND_TOKEN: 0x74,
  TOKEN_SIZE: 16,
  OFFSET_KEY: 5,
  OFFSET_PORT: 37,
  OFFSET_COUNT: 39,
  OFFSET_ADDRESSES: 40,
  CHECKSUM_SIZE: 4,
});

// Codes of the errors decodeInvite and encodeInvite throw (exit 2: the person gave a bad invite).
export const INVITE_ERR = Object.freeze({
  BAD_PREFIX: 'INVITE_BAD_PREFIX',
  TOO_LONG: 'INVITE_TOO_LONG',
  BAD_TEXT: 'INVITE_BAD_TEXT',
  BAD_CHECKSUM: 'INVITE_BAD_CHECKSUM',
  BAD_LENGTH: 'INVITE_BAD_LENGTH',
  BAD_ID: 'INVITE_BAD_ID',
  BAD_KEY: 'INVITE_BAD_KEY',
  BAD_PORT: 'INVITE_BAD_PORT',
  BAD_ADDRESS: 'INVITE_BAD_ADDRESS',
  BAD_TOKEN: 'INVITE_BAD_TOKEN',
});

export type Invite = {
  id: number;
  // 64 lowercase hex characters.
  keySha256: string;
  port: number;
  // IPv4 dotted quads and IPv6 in the RFC 5952 form (lowercase, longest zero run as ::).
  addresses: string[];
  // 32 lowercase hex characters: presented once in the hello to the inviter, who pins the key of
  // the side that presents it. Absent: the inviter must already know this side's key.
  token?: string;
};

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

function inviteError(code: string, message: string): ParleyError {
  return badInput(code, `${message}: ask for the invite again, copied whole`);
}

// ---- encode ----

export function encodeInvite(invite: Invite): string {
  const { id, port, addresses } = invite;
  if (!Number.isSafeInteger(id) || id < 1 || id > LIMITS.MAX_ID) throw inviteError(INVITE_ERR.BAD_ID, `an invite's id is a whole number from 1 to ${LIMITS.MAX_ID}, got ${String(id)}`);
  const key = normalKeySha256(String(invite.keySha256));
  if (key === null) throw inviteError(INVITE_ERR.BAD_KEY, `an invite's key fingerprint is 64 hex characters (32 bytes), got "${String(invite.keySha256).slice(0, 80)}"`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw inviteError(INVITE_ERR.BAD_PORT, `an invite's port is from 1 to 65535, got ${String(port)}`);
  if (!Array.isArray(addresses) || addresses.length < 1 || addresses.length > INVITE.MAX_ADDRESSES) {
    throw inviteError(INVITE_ERR.BAD_ADDRESS, `an invite holds 1 to ${INVITE.MAX_ADDRESSES} addresses, got ${Array.isArray(addresses) ? addresses.length : 'none'}`);
  }
  const parts: Buffer[] = [];
  const head = Buffer.alloc(INVITE.OFFSET_ADDRESSES);
  head.writeUIntBE(id, 0, 5);
  Buffer.from(key, 'hex').copy(head, INVITE.OFFSET_KEY);
  head.writeUInt16BE(port, INVITE.OFFSET_PORT);
  head[INVITE.OFFSET_COUNT] = addresses.length;
  parts.push(head);
  const seen = new Set<string>();
  for (const text of addresses) {
    const bytes = addressBytes(String(text));
    const canonical = addressText(bytes);
    if (seen.has(canonical)) throw inviteError(INVITE_ERR.BAD_ADDRESS, `the address ${canonical} is given twice`);
    seen.add(canonical);
    parts.push(Buffer.from([bytes.length === 4 ? INVITE.KIND_IPV4 : INVITE.KIND_IPV6]), bytes);
  }
  if (invite.token !== undefined) {
    if (!/^[0-9a-f]{32}$/.test(String(invite.token))) throw inviteError(INVITE_ERR.BAD_TOKEN, `an invite's token is 32 lowercase hex characters (16 bytes), got "${String(invite.token).slice(0, 80)}"`);
    parts.push(Buffer.from([INVITE.KIND_TOKEN]), Buffer.from(invite.token, 'hex'));
  }
  const body = Buffer.concat(parts);
  const sum = Buffer.alloc(INVITE.CHECKSUM_SIZE);
  sum.writeUInt32BE(zlib.crc32(body), 0);
  return INVITE.PREFIX + base32Encode(Buffer.concat([body, sum]));
}

// ---- decode ----

// The invite in `text` (spaces around it ignored, letter case too), or an error whose code says
// what is wrong with it. Never returns a partly valid invite.
export function decodeInvite(text: string): Invite {
  const trimmed = String(text).trim();
  if (trimmed.length > INVITE.MAX_TEXT_LENGTH) throw inviteError(INVITE_ERR.TOO_LONG, `an invite is at most ${INVITE.MAX_TEXT_LENGTH} characters, this text has ${trimmed.length}`);
  if (trimmed.slice(0, INVITE.PREFIX.length).toLowerCase() !== INVITE.PREFIX) {
    const other = /^parley(\d+):/i.exec(trimmed);
    if (other) throw badInput(INVITE_ERR.BAD_PREFIX, `this is an invite of version ${other[1]}; this Parley reads version 1 (${INVITE.PREFIX}): update the older side`);
    throw inviteError(INVITE_ERR.BAD_PREFIX, `an invite starts with "${INVITE.PREFIX}"`);
  }
  const bytes = base32Decode(trimmed.slice(INVITE.PREFIX.length).toLowerCase());
  if (bytes.length < INVITE.OFFSET_ADDRESSES + INVITE.CHECKSUM_SIZE) throw inviteError(INVITE_ERR.BAD_LENGTH, `the invite is cut short (${bytes.length} bytes)`);
  const body = bytes.subarray(0, bytes.length - INVITE.CHECKSUM_SIZE);
  if (zlib.crc32(body) !== bytes.readUInt32BE(body.length)) throw inviteError(INVITE_ERR.BAD_CHECKSUM, 'the invite\'s checksum does not match: a character was changed, lost or added');
  // From here on the bytes are what the inviter's Parley wrote, unless it is another program's:
  // every field is still checked.
  const id = body.readUIntBE(0, 5);
  if (id === 0) throw inviteError(INVITE_ERR.BAD_ID, 'the invite\'s id is 0, which is no one\'s');
  const keySha256 = body.subarray(INVITE.OFFSET_KEY, INVITE.OFFSET_PORT).toString('hex');
  const port = body.readUInt16BE(INVITE.OFFSET_PORT);
  if (port === 0) throw inviteError(INVITE_ERR.BAD_PORT, 'the invite\'s port is 0');
  const count = body[INVITE.OFFSET_COUNT];
  if (count < 1 || count > INVITE.MAX_ADDRESSES) throw inviteError(INVITE_ERR.BAD_ADDRESS, `an invite holds 1 to ${INVITE.MAX_ADDRESSES} addresses, this one says ${count}`);
  const addresses: string[] = [];
  let at: number = INVITE.OFFSET_ADDRESSES;
  for (let i = 0; i < count; i++) {
    if (at >= body.length) throw inviteError(INVITE_ERR.BAD_LENGTH, `the invite says it holds ${count} addresses and ends after ${i}`);
    const kind = body[at];
    const size = kind === INVITE.KIND_IPV4 ? 4 : kind === INVITE.KIND_IPV6 ? 16 : 0;
    if (size === 0) throw inviteError(INVITE_ERR.BAD_ADDRESS, `address ${i + 1} of the invite is of unknown kind ${kind} (4 or 6 expected)`);
    if (at + 1 + size > body.length) throw inviteError(INVITE_ERR.BAD_LENGTH, `address ${i + 1} of the invite is cut short`);
    const address = Buffer.from(body.subarray(at + 1, at + 1 + size));
    const why = unusable(address);
    const shown = addressText(address);
    if (why) throw inviteError(INVITE_ERR.BAD_ADDRESS, `address ${shown} of the invite ${why}`);
    if (addresses.includes(shown)) throw inviteError(INVITE_ERR.BAD_ADDRESS, `the invite gives the address ${shown} twice`);
    addresses.push(shown);
    at += 1 + size;
  }
  let token: string | undefined;
  if (at < body.length && body[at] === INVITE.KIND_TOKEN && body.length - at === 1 + INVITE.TOKEN_SIZE) {
    token = body.subarray(at + 1).toString('hex');
    at = body.length;
  }
  if (at !== body.length) throw inviteError(INVITE_ERR.BAD_LENGTH, `the invite has ${body.length - at} byte(s) after its last address`);
  return token === undefined ? { id, keySha256, port, addresses } : { id, keySha256, port, addresses, token };
}

// ---- addresses ----

// An IP literal as 4 or 16 bytes; anything else (a host name, a zone, a range) is refused.
// => <Buffer c0 a8 00 17> from '192.168.0.23'
export function addressBytes(text: string): Buffer {
  const family = net.isIP(text);
  if (family === 0 || text.includes('%')) {
    throw inviteError(INVITE_ERR.BAD_ADDRESS, `"${text.slice(0, 80)}" is not an IPv4 or IPv6 address without a zone (host names are never taken)`);
  }
  const bytes = family === 4 ? ipv4Bytes(text) : ipv6Bytes(text);
  const why = unusable(bytes);
  if (why) throw inviteError(INVITE_ERR.BAD_ADDRESS, `the address ${text} ${why}`);
  return bytes;
}

// The addresses of a list that an invite may carry, in their canonical form, each once, at most
// MAX_ADDRESSES: what `parley invite` keeps of this machine's interface addresses (a link-local
// IPv6 address with its zone, for one, is dropped).
// => ['192.168.1.23', '2001:db8::17'] from ['192.168.1.23', 'fe80::1%eth0', '2001:DB8::17']
export function invitableAddresses(addresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of addresses) {
    let canonical: string;
    try {
      canonical = addressText(addressBytes(text));
    } catch {
      continue;
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out.slice(0, INVITE.MAX_ADDRESSES);
}

// Why an address cannot be dialled from another machine, or null. Loopback stays (two profiles
// on one computer, and the tests).
function unusable(bytes: Buffer): string | null {
  if (bytes.every((b) => b === 0)) return 'is the unspecified address';
  if (bytes.length === 4) {
    if (bytes[0] >= 224 && bytes[0] <= 239) return 'is a multicast address';
    if (bytes.every((b) => b === 255)) return 'is the broadcast address';
    return null;
  }
  if (bytes[0] === 0xff) return 'is a multicast address';
  if (bytes[0] === 0xfe && (bytes[1] & 0xc0) === 0x80) return 'is link-local: it needs its interface, which means nothing on another machine';
  return null;
}

function ipv4Bytes(text: string): Buffer {
  return Buffer.from(text.split('.').map(Number));
}

// Only called on text net.isIPv6 accepted.
function ipv6Bytes(text: string): Buffer {
  let rest = text;
  const tail: number[] = [];
  const lastColon = rest.lastIndexOf(':');
  if (rest.slice(lastColon + 1).includes('.')) {
    // ::ffff:192.0.2.1: the last 32 bits written as a dotted quad.
    tail.push(...ipv4Bytes(rest.slice(lastColon + 1)));
    rest = rest.slice(0, lastColon + 1) + '0:0';
  }
  const halves = rest.split('::');
  const groups = (part: string | undefined): string[] => (part ? part.split(':') : []);
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const all = halves.length === 2 ? [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  if (tail.length === 4) Buffer.from(tail).copy(out, 12);
  return out;
}

// 4 or 16 bytes as text: a dotted quad, or RFC 5952 (lowercase, no leading zeros, the first
// longest run of two or more zero groups as ::).
// => '2001:db8::1' from 20 01 0d b8 00 … 00 01
export function addressText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

// ---- base32 (RFC 4648 alphabet, lowercase, no padding) ----

export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

// Strict: only the 32 letters and digits, a length some byte count gives, and the unused bits of
// the last character zero, so that no two texts (up to case) decode to the same bytes.
export function base32Decode(text: string): Buffer {
  // 1, 3 and 6 leftover characters are lengths no whole number of bytes gives.
  if ([1, 3, 6].includes(text.length % 8)) throw inviteError(INVITE_ERR.BAD_TEXT, `the invite's ${text.length} characters after the prefix cannot be whole bytes: a character was lost or added`);
  const out = Buffer.alloc(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = ALPHABET.indexOf(text[i]);
    if (digit < 0) throw inviteError(INVITE_ERR.BAD_TEXT, `character ${INVITE.PREFIX.length + i + 1} of the invite, ${JSON.stringify(text[i])}, is not one of a-z and 2-7`);
    value = ((value << 5) | digit) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out[n++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) throw inviteError(INVITE_ERR.BAD_TEXT, 'the invite\'s last character is not one an invite ends with: it was changed');
  return out;
}
