import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/errors.js';
import { CONTENT, ERR, FLAGS, LIMITS } from '../../src/net/constants.js';
import {
  assignId,
  CONTROL_TYPES,
  decodeControl,
  encodeControl,
  idCandidate,
  validateControl,
  type ControlMessage,
} from '../../src/net/control.js';
import { encodeFrame } from '../../src/net/frame.js';
import { catchErr, SAMPLE_KEY as KEY, SAMPLE_NONCE as NONCE, SAMPLE_TIME, SAMPLES } from './helpers.js';

const T = SAMPLE_TIME;
const MAX_ID = LIMITS.MAX_ID;


// Any MessagePack writer, to craft payloads encodeControl would never make.
const raw = new Packr({ useRecords: false });
const packRaw = (v: unknown): Buffer => raw.pack(v);

function sample<T extends ControlMessage['type']>(type: T): Extract<ControlMessage, { type: T }> {
  return SAMPLES.find((s) => s.type === type) as Extract<ControlMessage, { type: T }>;
}

// [type, field, bad value]: each must be refused with CONTROL_BAD_FIELD naming that field.
const BAD_FIELDS: Array<[ControlMessage['type'], string, unknown]> = [
  ['login', 'version', 0],
  ['login', 'version', 256],
  ['login', 'version', '1'],
  ['login', 'lan', '10.0.0.1'],
  ['login', 'lan', ['10.0.0.256']],
  ['login', 'lan', ['example.com']],
  ['login', 'lan', ['::1\u0000']],
  ['login', 'lan', Array.from({ length: LIMITS.MAX_LAN_ADDRESSES + 1 }, (_, i) => `10.0.0.${i}`)],
  ['login', 'listenPort', 65536],
  ['login', 'listenPort', -1],
  ['login', 'agent', 'a'.repeat(LIMITS.MAX_AGENT_LENGTH + 1)],
  ['login', 'agent', 7],
  ['login-ok', 'id', 0],
  ['login-ok', 'id', 2 ** 40],
  ['login-ok', 'id', 1.5],
  ['login-ok', 'id', -1],
  ['login-ok', 'id', Number.NaN],
  ['login-ok', 'serverTime', -1],
  ['login-ok', 'serverTime', 9e15],
  ['login-ok', 'host', '203.0.113'],
  ['login-ok', 'port', 0],
  ['login-ok', 'heartbeatMs', 999],
  ['login-ok', 'heartbeatMs', LIMITS.MAX_HEARTBEAT_MS + 1],
  ['login-refused', 'code', 'lower_case'],
  ['login-refused', 'code', ''],
  ['login-refused', 'code', 'A'.repeat(LIMITS.MAX_CODE_LENGTH + 1)],
  ['login-refused', 'reason', 'x'.repeat(LIMITS.MAX_REASON_LENGTH + 1)],
  ['login-refused', 'reason', 'red \u001b[31m text'],
  ['login-refused', 'reason', 'c1 \u009b text'],
  ['login-refused', 'reason', null],
  ['time', 'serverTime', '1760000000000'],
  ['presence-watch', 'ids', [1, 0]],
  ['presence-watch', 'ids', Array.from({ length: LIMITS.MAX_WATCH_IDS + 1 }, (_, i) => i + 1)],
  ['presence-watch', 'ids', { 0: 1 }],
  ['presence', 'online', 1],
  ['presence', 'at', true],
  ['introduce-request', 'target', 2 ** 40],
  ['introduce', 'peerKey', 'AB'.repeat(32)],
  ['introduce', 'peerKey', 'ab'.repeat(31)],
  ['introduce', 'role', 'server'],
  ['introduce', 'nonce', 'zz'.repeat(16)],
  ['introduce', 'nonce', '0f'.repeat(17)],
  ['introduce', 'punchAt', 1e300],
  ['introduce', 'lan', [1234]],
  ['introduce', 'relay', '10.0.0.1'],
  ['introduce', 'relay', '10.0.0.1:0'],
  ['introduce', 'relay', '10.0.0.1:65536'],
  ['introduce', 'relay', '::1:7400'],
  ['introduce', 'relay', 'a b:7400'],
  ['introduce', 'relay', 'evil\u001b[31m:7400'],
  ['introduce', 'relay', `${'a'.repeat(254)}:7400`],
  ['introduce', 'relay', ''],
  ['introduce', 'relay', 7400],
  ['introduce-refused', 'target', null],
  ['relay-request', 'nonce', Buffer.from(NONCE, 'hex')],
  ['relay-ready', 'peer', '5'],
  ['relay-refused', 'code', 'NO SPACE'],
  ['revoked', 'key', ''],
  ['bye', 'reason', ['quit']],
  ['error', 'code', 5],
  ['version-refused', 'versions', []],
  ['version-refused', 'versions', [0]],
  ['version-refused', 'versions', Array.from({ length: LIMITS.MAX_VERSIONS + 1 }, (_, i) => i + 1)],
];

describe('control', () => {
  it('control - has a sample of every message type', () => {
    expect(new Set(SAMPLES.map((s) => s.type))).toEqual(new Set(CONTROL_TYPES));
    expect(CONTROL_TYPES).toHaveLength(23);
  });

  for (const msg of SAMPLES) {
    it(`control - round-trips ${msg.type} ${JSON.stringify(msg).slice(0, 60)}`, () => {
      const wire = encodeControl(msg);
      expect(wire.length).toBeLessThanOrEqual(LIMITS.MAX_CONTROL_PAYLOAD);
      expect(decodeControl(wire)).toEqual(msg);
      expect(validateControl(msg)).toEqual(msg);
    });
  }

  it('control - writes integers of 2^32 and more as uint64, never as float64', () => {
    const wire = encodeControl({ type: 'login-ok', id: MAX_ID, serverTime: T, host: '::1', port: 1, heartbeatMs: 10_000 });
    expect(wire.includes(0xcb)).toBe(false);
    expect(wire.includes(Buffer.from('cf000000ffffffffff', 'hex'))).toBe(true);
    const ids = encodeControl({ type: 'presence-watch', ids: [2 ** 32 - 1, 2 ** 32] });
    expect(ids.subarray(-15).toString('hex')).toBe('92' + 'ceffffffff' + 'cf0000000100000000');
  });

  it('control - writes the examples of PROTOCOL.md byte for byte', () => {
    // Every frame example of a control message in the document, in its order.
    const doc = fs.readFileSync(new URL('../../docs/PROTOCOL.md', import.meta.url), 'utf8');
    const examples = [...doc.matchAll(/```\n(50 4c 01 [0-9a-f \n]+)```/g)].map((m) => m[1].replace(/\s+/g, ''));
    const frames: Array<[number, ControlMessage]> = [
      [0, { type: 'login', version: 1, lan: ['192.168.0.23'], listenPort: 40123 }],
      [347_227_087_000, { type: 'login-ok', id: 347_227_087_000, serverTime: 1_764_230_400_000, host: '203.0.113.7', port: 51000, heartbeatMs: 10_000 }],
      [0, { type: 'login-refused', code: 'CERT_REVOKED', reason: 'revoked' }],
      [347_227_087_000, {
        type: 'introduce',
        peer: 42,
        peerKey: createHash('sha256').update('example').digest('hex'),
        host: '203.0.113.9',
        port: 51000,
        lan: [],
        listenPort: 0,
        role: 'tls-client',
        punchAt: 1_764_230_400_100,
        nonce: NONCE,
        relay: '10.0.0.2:7400',
      }],
      [0, { type: 'relay-request', peer: 42, nonce: NONCE }],
    ];
    const written = frames.map(([destination, msg]) =>
      encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: 0, destination, contentId: 0, payload: encodeControl(msg) }).toString('hex'),
    );
    expect(examples).toEqual(written);
  });

  it('control - leaves undefined optional fields out of the bytes', () => {
    const wire = encodeControl({ type: 'login', version: 1, lan: [], listenPort: 0, agent: undefined });
    expect(wire.includes(Buffer.from('agent'))).toBe(false);
    expect(decodeControl(wire)).toEqual({ type: 'login', version: 1, lan: [], listenPort: 0 });
  });

  it('control - reads an absent optional field sent as nil', () => {
    const msg = decodeControl(packRaw({ type: 'login', version: 1, lan: [], listenPort: 0, agent: null }));
    expect(msg).toEqual({ type: 'login', version: 1, lan: [], listenPort: 0 });
    expect('agent' in msg).toBe(false);
  });

  it('control - reads integers that another writer sent as float64 or int64', () => {
    const withFloat = Buffer.concat([Buffer.from([0x82, 0xa4]), Buffer.from('type'), Buffer.from([0xa4]), Buffer.from('time'),
      Buffer.from([0xaa]), Buffer.from('serverTime'), Buffer.from([0xcb]), (() => { const b = Buffer.alloc(8); b.writeDoubleBE(T); return b; })()]);
    expect(decodeControl(withFloat)).toEqual({ type: 'time', serverTime: T });
    // int64, as Parley wrote them before it used the journal's encoder.
    const withInt64 = Buffer.concat([withFloat.subarray(0, -9), Buffer.from([0xd3]), (() => { const b = Buffer.alloc(8); b.writeBigInt64BE(BigInt(T)); return b; })()]);
    expect(decodeControl(withInt64)).toEqual({ type: 'time', serverTime: T });
  });

  it('control - reads introduce with and without relay, a nil relay as absent', () => {
    const plain = sample('introduce');
    expect('relay' in plain).toBe(false);
    expect(decodeControl(encodeControl(plain))).toEqual(plain);
    for (const relay of ['10.0.0.7:7400', '[2001:db8::7]:7401', 'relay-2.chat.example:7400', `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}:65535`]) {
      expect(decodeControl(encodeControl({ ...plain, relay }))).toEqual({ ...plain, relay });
    }
    const nil = decodeControl(packRaw({ ...plain, relay: null }));
    expect(nil).toEqual(plain);
    expect('relay' in nil).toBe(false);
  });

  it('control - refuses to write introduce with a bad relay', () => {
    expect(catchErr(() => encodeControl({ ...sample('introduce'), relay: 'nowhere' })).code).toBe(ERR.CONTROL_BAD_FIELD);
  });

  it('control - drops fields it does not know', () => {
    const msg = decodeControl(packRaw({ type: 'presence', id: 1, online: true, at: 5, mood: 'happy', __proto__x: 1 }));
    expect(msg).toEqual({ type: 'presence', id: 1, online: true, at: 5 });
  });

  it('control - shares no array with the object it validated', () => {
    const input = { type: 'presence-watch', ids: [1, 2] };
    const out = validateControl(input) as { ids: number[] };
    input.ids.push(0);
    expect(out.ids).toEqual([1, 2]);
  });

  for (const [type, field, value] of BAD_FIELDS) {
    it(`control - refuses ${type} with a bad ${field} (${JSON.stringify(value)?.slice(0, 30)})`, () => {
      const bad = { ...sample(type), [field]: value };
      const err = catchErr(() => decodeControl(packRaw(bad)));
      expect(err.code).toBe(ERR.CONTROL_BAD_FIELD);
      expect(err.field).toBe(field);
      expect(err.messageType).toBe(type);
      expect(err.exitCode).toBe(EXIT.PEER);
      expect(catchErr(() => validateControl(bad)).code).toBe(ERR.CONTROL_BAD_FIELD);
    });
  }

  it('control - refuses every message missing any required field', () => {
    for (const msg of SAMPLES) {
      for (const field of Object.keys(msg)) {
        if (field === 'type' || field === 'agent' || field === 'allow' || field === 'relay') continue;
        const { [field]: _gone, ...rest } = msg as Record<string, unknown>;
        const err = catchErr(() => decodeControl(packRaw(rest)));
        expect(err.code, `${msg.type}.${field}`).toBe(ERR.CONTROL_MISSING_FIELD);
        expect(err.field).toBe(field);
      }
    }
  });

  it('control - refuses an unknown or missing type', () => {
    for (const v of [{ type: 'logout' }, { type: 'LOGIN' }, { type: 7 }, {}, { type: 'toString' }, { type: '__proto__' }, { type: 'constructor' }]) {
      expect(catchErr(() => decodeControl(packRaw(v))).code).toBe(ERR.CONTROL_UNKNOWN_TYPE);
    }
  });

  it('control - refuses a payload that is not a map', () => {
    for (const v of [null, 1, 'login', ['login'], true, Buffer.from('x')]) {
      expect(catchErr(() => decodeControl(packRaw(v))).code).toBe(ERR.CONTROL_NOT_OBJECT);
    }
    for (const v of [new Date(), new Map([['type', 'heartbeat']]), Object.assign(Object.create({ x: 1 }), { type: 'heartbeat' })]) {
      expect(catchErr(() => validateControl(v)).code).toBe(ERR.CONTROL_NOT_OBJECT);
    }
    // 0xc1 is "never used" in MessagePack; msgpackr reads it as a marker object, not a map.
    expect(catchErr(() => decodeControl(Buffer.from([0xc1]))).code).toBe(ERR.CONTROL_NOT_OBJECT);
  });

  it('control - refuses bytes that are not one MessagePack value', () => {
    const good = encodeControl({ type: 'heartbeat' });
    for (const b of [Buffer.alloc(0), good.subarray(0, good.length - 1), Buffer.concat([good, good]), Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])]) {
      expect(catchErr(() => decodeControl(b)).code).toBe(ERR.CONTROL_MALFORMED);
    }
  });

  it('control - refuses deep nesting without breaking the next decode', () => {
    const deep = Buffer.concat([Buffer.from([0x81, 0xa4]), Buffer.from('type'), Buffer.alloc(60_000, 0x91), Buffer.from([0xc0])]);
    const err = catchErr(() => decodeControl(deep));
    expect([ERR.CONTROL_MALFORMED, ERR.CONTROL_UNKNOWN_TYPE]).toContain(err.code);
    expect(decodeControl(encodeControl({ type: 'heartbeat' }))).toEqual({ type: 'heartbeat' });
  });

  it('control - refuses extension values in place of fields', () => {
    // msgpackr extensions a peer might send: a Date, a Set, an Error, a BigInt.
    const packr = new Packr({ useRecords: false, moreTypes: true } as ConstructorParameters<typeof Packr>[0]);
    for (const value of [new Date(0), new Set([1]), new Error('x'), 2n ** 70n]) {
      const err = catchErr(() => decodeControl(packr.pack({ type: 'time', serverTime: value })));
      expect([ERR.CONTROL_BAD_FIELD, ERR.CONTROL_MALFORMED]).toContain(err.code);
    }
  });

  it('control - refuses to encode an invalid message as a bug of this side', () => {
    const err = catchErr(() => encodeControl({ type: 'presence', id: 0, online: true, at: 1 }));
    expect(err.code).toBe(ERR.CONTROL_BAD_FIELD);
    expect(err.exitCode).toBe(EXIT.BUG);
    expect(err.message).toMatch(/^cannot encode/);
    expect(catchErr(() => encodeControl({ type: 'nope' } as never)).code).toBe(ERR.CONTROL_UNKNOWN_TYPE);
  });

  it('control - takes candidate ids from the key hash as PROTOCOL.md says', () => {
    const key = createHash('sha256').update('a public key').digest();
    expect(idCandidate(key, 0)).toBe(key.readUIntBE(0, 5));
    const n = Buffer.from([0, 0, 0, 1]);
    expect(idCandidate(key, 1)).toBe(createHash('sha256').update(key).update(n).digest().readUIntBE(0, 5));
    const fixed = Buffer.from('0a1b2c3d4e5f' + '00'.repeat(26), 'hex');
    expect(idCandidate(fixed, 0)).toBe(0x0a1b2c3d4e);
  });

  it('control - assigns the first candidate that is not 0 and not taken', () => {
    const key = createHash('sha256').update('k').digest();
    const first = idCandidate(key, 0);
    expect(assignId(key, () => false)).toBe(first);
    expect(assignId(key, (id) => id === first)).toBe(idCandidate(key, 1));
    const zero = Buffer.alloc(32);
    expect(assignId(zero, () => false)).toBe(idCandidate(zero, 1));
    expect(assignId(key, () => true, 5)).toBe(null);
  });
});
