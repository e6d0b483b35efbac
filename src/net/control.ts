// Control messages: the payload of CONTROL frames on the server link, the relay handshake and peer
// links. MessagePack maps with a `type` field; every message, field and bound is listed in
// docs/PROTOCOL.md "Control messages".
//
// Encoding: plain MessagePack (no msgpackr records, undefined fields left out), integers of 2^32
// and more as uint64 (msgpackr would write float64), so that any MessagePack library reads them.
// Decoding trusts nothing: validateControl checks every field of the one schema below and builds a
// fresh object with only the known fields, so a hostile payload yields a coded error or a fully
// valid message, never something in between.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Unpackr } from 'msgpackr';
import { encodeMsgpack } from '../events/msgpack.js';
import { parseHostPort } from './address.js';
import { LIMITS, TLS_ROLES, type TlsRole } from './constants.js';
import {
  controlBadField,
  controlMalformed,
  controlMissingField,
  controlNotObject,
  controlTooLarge,
  controlUnknownType,
  type NetError,
} from './errors.js';
import { hasControlChars } from './text.js';

// Ids are 1..2^40-1 in control messages (0, "nobody", only appears in frame headers).
export type Id = number;
// Milliseconds since 1970-01-01 UTC.
export type Time = number;
// IPv4 or IPv6 address text. => '192.168.0.23', 'fe80::1%eth0'
export type Address = string;

export type ControlMessage =
  // client -> server, first frame after TLS. lan: the client's own interface addresses, for peers
  // on the same LAN; listenPort: where it accepts peer links (0: it does not listen).
  // allow: the ids that may be introduced to it at once (its whitelisted contacts); anyone else's
  // introduce-request reaches it as a contact-request. Left out: anyone may be (older clients).
  | { type: 'login'; version: number; lan: Address[]; listenPort: number; agent?: string; allow?: Id[] }
  // server -> client. host/port: the client's address as the server sees it (after any NAT).
  | { type: 'login-ok'; id: Id; serverTime: Time; host: Address; port: number; heartbeatMs: number }
  | { type: 'login-refused'; code: string; reason: string }
  // Either side of any link, when it has sent nothing for a while; answered by heartbeat-ack.
  | { type: 'heartbeat' }
  | { type: 'heartbeat-ack' }
  | { type: 'time-request' }
  | { type: 'time'; serverTime: Time }
  // client -> server: the whole set of ids whose presence it wants (replaces the previous set).
  | { type: 'presence-watch'; ids: Id[] }
  | { type: 'presence'; id: Id; online: boolean; at: Time }
  // client -> server: the whole set of ids this client refuses introductions from (replaces the
  // previous set; kept for the session only, so a client sends it again after each login-ok).
  | { type: 'block-list'; ids: Id[] }
  // client -> server: the whole set of ids that may be introduced to it at once (replaces the
  // set given at login or before).
  | { type: 'allow-list'; ids: Id[] }
  | { type: 'introduce-request'; target: Id }
  // server -> the target of an introduce-request from an id it does not allow: who asks, no address.
  | { type: 'contact-request'; from: Id; at: Time }
  // server -> both sides of a pair, the same punchAt and nonce to each. relay: the server process
  // (HOST:PORT) both sides dial for this introduction's relay, when the server is several
  // processes (issue 13); absent: the one the client is signed in to.
  | {
      type: 'introduce';
      peer: Id;
      peerKey: string;
      host: Address;
      port: number;
      lan: Address[];
      listenPort: number;
      role: TlsRole;
      punchAt: Time;
      nonce: string;
      relay?: string;
    }
  | { type: 'introduce-refused'; target: Id; code: string; reason: string }
  // client -> server, first frame on a second connection made for the relay.
  | { type: 'relay-request'; peer: Id; nonce: string }
  | { type: 'relay-ready'; peer: Id; nonce: string }
  | { type: 'relay-refused'; peer: Id; code: string; reason: string }
  // server -> watchers of `id`: that key was revoked by the operator; never trust it again.
  | { type: 'revoked'; id: Id; key: string; at: Time }
  | { type: 'bye'; code: string; reason: string }
  | { type: 'error'; code: string; reason: string }
  // Answer to a login whose version this side does not speak (frames still readable).
  | { type: 'version-refused'; versions: number[] }
  // peer -> peer, the first frame each way on a peer link (section 9): who I am, whom I meant.
  // invite: the token of the invite the dialler connects with (PROTOCOL.md sections 12 and 14),
  // until the inviter has pinned its key; never sent otherwise.
  // listenPort: where the dialler listens for peer links, so that a listener that has no other way
  // to find it (an inviter, section 12) can dial it back later; absent when it listens nowhere.
  | { type: 'hello'; version: number; id: Id; peer: Id; invite?: string; listenPort?: number };

export type ControlType = ControlMessage['type'];
export type ControlOf<T extends ControlType> = Extract<ControlMessage, { type: T }>;

// One field's rule: a check and the words for the error ("a whole number from 1 to 2^40-1").
type Field = { check: (value: unknown) => boolean; expected: string; optional?: boolean };

const CODE_FORM = /^[A-Z][A-Z0-9_]*$/;

function wholeIn(min: number, max: number): (v: unknown) => boolean {
  return (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}

function text(max: number): Field {
  return {
    // Control characters are refused in every string: reasons and agents end up on a terminal.
    check: (v) => typeof v === 'string' && v.length <= max && !hasControlChars(v),
    expected: `text of at most ${max} characters without control characters`,
  };
}

function isAddress(v: unknown): boolean {
  return typeof v === 'string' && v.length <= LIMITS.MAX_ADDRESS_LENGTH && !hasControlChars(v) && isIP(v) !== 0;
}

function isHex(length: number): (v: unknown) => boolean {
  const form = new RegExp(`^[0-9a-f]{${length}}$`);
  return (v) => typeof v === 'string' && form.test(v);
}

function listOf(item: (v: unknown) => boolean, min: number, max: number): (v: unknown) => boolean {
  return (v) => Array.isArray(v) && v.length >= min && v.length <= max && v.every(item);
}

const F = {
  id: { check: wholeIn(1, LIMITS.MAX_ID), expected: 'an id, a whole number from 1 to 2^40-1' },
  time: { check: wholeIn(0, LIMITS.MAX_TIME), expected: 'a time in milliseconds since 1970, a whole number from 0 to 8.64e15' },
  port: { check: wholeIn(1, 65535), expected: 'a port, a whole number from 1 to 65535' },
  listenPort: { check: wholeIn(0, 65535), expected: 'a port, a whole number from 0 (none) to 65535' },
  version: { check: wholeIn(1, 255), expected: 'a protocol version, a whole number from 1 to 255' },
  versions: {
    check: listOf(wholeIn(1, 255), 1, LIMITS.MAX_VERSIONS),
    expected: `a list of 1 to ${LIMITS.MAX_VERSIONS} protocol versions (1 to 255)`,
  },
  heartbeatMs: {
    check: wholeIn(LIMITS.MIN_HEARTBEAT_MS, LIMITS.MAX_HEARTBEAT_MS),
    expected: `a whole number of milliseconds from ${LIMITS.MIN_HEARTBEAT_MS} to ${LIMITS.MAX_HEARTBEAT_MS}`,
  },
  bool: { check: (v: unknown) => typeof v === 'boolean', expected: 'true or false' },
  code: {
    check: (v: unknown) => typeof v === 'string' && v.length >= 1 && v.length <= LIMITS.MAX_CODE_LENGTH && CODE_FORM.test(v),
    expected: `an UPPER_SNAKE code of at most ${LIMITS.MAX_CODE_LENGTH} characters`,
  },
  reason: text(LIMITS.MAX_REASON_LENGTH),
  agent: { ...text(LIMITS.MAX_AGENT_LENGTH), optional: true },
  address: { check: isAddress, expected: 'an IPv4 or IPv6 address' },
  lan: {
    check: listOf(isAddress, 0, LIMITS.MAX_LAN_ADDRESSES),
    expected: `a list of at most ${LIMITS.MAX_LAN_ADDRESSES} IPv4 or IPv6 addresses`,
  },
  ids: {
    check: listOf(wholeIn(1, LIMITS.MAX_ID), 0, LIMITS.MAX_WATCH_IDS),
    expected: `a list of at most ${LIMITS.MAX_WATCH_IDS} ids (1 to 2^40-1)`,
  },
  optionalIds: {
    check: listOf(wholeIn(1, LIMITS.MAX_ID), 0, LIMITS.MAX_WATCH_IDS),
    expected: `a list of at most ${LIMITS.MAX_WATCH_IDS} ids (1 to 2^40-1)`,
    optional: true,
  },
  keySha256: {
    check: isHex(LIMITS.KEY_SHA256_HEX_LENGTH),
    expected: 'a SHA-256 in 64 lowercase hex characters',
  },
  nonce: { check: isHex(LIMITS.NONCE_HEX_LENGTH), expected: 'a nonce of 32 lowercase hex characters' },
  invite: { check: isHex(LIMITS.NONCE_HEX_LENGTH), expected: 'an invite token of 32 lowercase hex characters', optional: true },
  relay: {
    check: (v: unknown) => typeof v === 'string' && parseHostPort(v) !== null,
    expected: `a server address HOST:PORT (IPv4, [IPv6] or a host name; port 1 to 65535) of at most ${LIMITS.MAX_SERVER_ADDRESS_LENGTH} characters`,
    optional: true,
  },
  role: { check: (v: unknown) => TLS_ROLES.includes(v as TlsRole), expected: `one of ${TLS_ROLES.join(', ')}` },
} satisfies Record<string, Field>;

// The schema: for each type, every field of its TypeScript type and no other (the mapped type
// makes the compiler hold the two together).
type Schema = { readonly [T in ControlType]: { readonly [K in Exclude<keyof ControlOf<T>, 'type'>]-?: Field } };

const SCHEMA: Schema = {
  login: { version: F.version, lan: F.lan, listenPort: F.listenPort, agent: F.agent, allow: F.optionalIds },
  'login-ok': { id: F.id, serverTime: F.time, host: F.address, port: F.port, heartbeatMs: F.heartbeatMs },
  'login-refused': { code: F.code, reason: F.reason },
  heartbeat: {},
  'heartbeat-ack': {},
  'time-request': {},
  time: { serverTime: F.time },
  'presence-watch': { ids: F.ids },
  presence: { id: F.id, online: F.bool, at: F.time },
  'block-list': { ids: F.ids },
  'allow-list': { ids: F.ids },
  'introduce-request': { target: F.id },
  'contact-request': { from: F.id, at: F.time },
  introduce: {
    peer: F.id,
    peerKey: F.keySha256,
    host: F.address,
    port: F.port,
    lan: F.lan,
    listenPort: F.listenPort,
    role: F.role,
    punchAt: F.time,
    nonce: F.nonce,
    relay: F.relay,
  },
  'introduce-refused': { target: F.id, code: F.code, reason: F.reason },
  'relay-request': { peer: F.id, nonce: F.nonce },
  'relay-ready': { peer: F.id, nonce: F.nonce },
  'relay-refused': { peer: F.id, code: F.code, reason: F.reason },
  revoked: { id: F.id, key: F.keySha256, at: F.time },
  bye: { code: F.code, reason: F.reason },
  error: { code: F.code, reason: F.reason },
  'version-refused': { versions: F.versions },
  hello: { version: F.version, id: F.id, peer: F.id, invite: F.invite, listenPort: { ...F.listenPort, optional: true } },
};

export const CONTROL_TYPES: readonly ControlType[] = Object.freeze(Object.keys(SCHEMA) as ControlType[]);

const has = (obj: object, key: string): boolean => Object.prototype.hasOwnProperty.call(obj, key);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'nil';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object of kind ${Object.prototype.toString.call(v).slice(8, -1)}`;
  return `a ${typeof v}`;
}

// `local` only changes the wording of the errors: true when checking a message this side built.
function check(obj: unknown, local: boolean): ControlMessage {
  if (!isPlainObject(obj)) throw controlNotObject(describe(obj), local);
  const type = has(obj, 'type') ? obj.type : undefined;
  if (typeof type !== 'string' || !has(SCHEMA, type)) throw controlUnknownType(type, local);
  const fields = SCHEMA[type as ControlType] as Record<string, Field>;
  const out: Record<string, unknown> = { type };
  for (const key of Object.keys(fields)) {
    const rule = fields[key];
    const value = has(obj, key) ? obj[key] : undefined;
    // An absent optional field may also come as nil from other MessagePack writers.
    if (value === undefined || (value === null && rule.optional)) {
      if (rule.optional) continue;
      throw controlMissingField(type, key, local);
    }
    if (!rule.check(value)) throw controlBadField(type, key, rule.expected, local);
    // Arrays are copied so the message shares nothing with the decoded input.
    out[key] = Array.isArray(value) ? value.slice() : value;
  }
  // Fields the schema does not know are left out: a newer peer may add optional ones.
  return out as ControlMessage;
}

// Checks a decoded object against the schema; returns a fresh, fully valid message or throws a
// NetError (CONTROL_NOT_OBJECT, CONTROL_UNKNOWN_TYPE, CONTROL_MISSING_FIELD, CONTROL_BAD_FIELD).
export function validateControl(obj: unknown): ControlMessage {
  return check(obj, false);
}

const UINT32_MAX = 0xffffffff;

// structuredClone off: no reference/cycle extensions from a peer.
const unpackr = new Unpackr({ useRecords: false, int64AsType: 'number', mapsAsObjects: true, structuredClone: false });

export function encodeControl(msg: ControlMessage): Buffer {
  const clean = check(msg, true);
  // The journal's encoder writes whole numbers of 2^32 and more as uint64 directly; msgpackr
  // needed each turned into a BigInt first. Measured with validation: a presence message 2.0 ->
  // 1.5 us, a watch list of 1,024 40-bit ids 230 -> 80 us. It hands out a view of its shared slab:
  // the copy (~0.1 us) keeps a payload that a caller holds from holding the whole slab.
  const buf = Buffer.from(encodeMsgpack(clean));
  if (buf.length > LIMITS.MAX_CONTROL_PAYLOAD) throw controlTooLarge(clean.type, buf.length, LIMITS.MAX_CONTROL_PAYLOAD);
  return buf;
}

// Reads a CONTROL frame's payload. Throws only NetErrors: CONTROL_MALFORMED when the bytes are not
// one MessagePack value, or a validateControl code.
export function decodeControl(buf: Uint8Array): ControlMessage {
  if (!(buf instanceof Uint8Array) || buf.length === 0) throw controlMalformed(new Error('empty payload'));
  let obj: unknown;
  try {
    obj = unpackr.unpack(buf);
  } catch (err) {
    // Whatever msgpackr throws (a RangeError from deep nesting, a TypeError from a bad
    // extension) is the peer's bad bytes: one code for all of it.
    throw controlMalformed(err);
  }
  return check(obj, false);
}

export function isControlError(err: unknown): err is NetError {
  return err instanceof Error && typeof (err as NetError).code === 'string' && (err as NetError).code.startsWith('CONTROL_');
}

// Id assignment (docs/PROTOCOL.md "Ids"): candidate 0 is the first 40 bits of the key's SHA-256
// (of its SubjectPublicKeyInfo, DER); candidate n > 0 the first 40 bits of
// SHA-256(keySha256 || n as 4 bytes big-endian). Returned as is, 0 included: the caller skips 0.
// => idCandidate(sha, 0) for sha = 0a1b2c3d4e5f... is 0x0a1b2c3d4e = 43405557070
export function idCandidate(keySha256: Uint8Array, counter: number): number {
  if (keySha256.length !== 32) throw new RangeError('keySha256 must be 32 bytes');
  if (!Number.isInteger(counter) || counter < 0 || counter > UINT32_MAX) throw new RangeError('counter must be 0..2^32-1');
  let digest: Uint8Array = keySha256;
  if (counter > 0) {
    const n = Buffer.allocUnsafe(4);
    n.writeUInt32BE(counter, 0);
    digest = createHash('sha256').update(keySha256).update(n).digest();
  }
  return Buffer.from(digest.buffer, digest.byteOffset, 5).readUIntBE(0, 5);
}

// The first candidate that is not 0 and not held by another key (`isTaken`), or null after
// maxTries candidates (the server then refuses the login with ID_EXHAUSTED). A key that already
// has an id keeps it: look that up before calling this.
export function assignId(keySha256: Uint8Array, isTaken: (id: Id) => boolean, maxTries = 1024): Id | null {
  for (let counter = 0; counter < maxTries; counter++) {
    const id = idCandidate(keySha256, counter);
    if (id !== 0 && !isTaken(id)) return id;
  }
  return null;
}
