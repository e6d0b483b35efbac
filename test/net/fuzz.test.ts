// Hostile input for the frame decoder and the control codec: random and mutated bytes, split at
// random places. Whatever comes in, the only way out is a frame within its limits, a valid control
// message, or a coded NetError; never another exception, never unbounded work.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CONTENT, ERR, FRAME, LIMITS, PAYLOAD_LIMIT, type ContentType } from '../../src/net/constants.js';
import { CONTROL_TYPES, decodeControl, encodeControl, validateControl, type ControlMessage } from '../../src/net/control.js';
import { createFrameDecoder, encodeFrame, versionRefusedFrame, type Frame } from '../../src/net/frame.js';
import type { NetError } from '../../src/net/errors.js';
import { hasControlChars } from '../../src/net/text.js';

const CODES = new Set<string>(Object.values(ERR));
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

function expectCoded(err: unknown, prefix: string): void {
  expect(err).toBeInstanceOf(Error);
  const code = (err as NetError).code;
  expect(CODES.has(code), `unexpected error ${String(err)}`).toBe(true);
  expect(code.startsWith(prefix)).toBe(true);
}

// Cuts `wire` at the given positions (any order, duplicates allowed) into pieces.
function pieces(wire: Uint8Array, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of at) {
    out.push(Buffer.from(wire.subarray(from, c)));
    from = c;
  }
  out.push(Buffer.from(wire.subarray(from)));
  return out;
}

// cpuMs: the CPU time this process spent in the decoder, not the time on the wall: a machine
// busy with other work stretches the wall time of a run, never its CPU time.
type Outcome = { frames: Frame[]; error: NetError | null; cpuMs: number };

// Feeds the pieces; checks every frame against the limits; returns what came out.
function feed(parts: Buffer[], maxPayload: number = LIMITS.MAX_FRAME_PAYLOAD): Outcome {
  const d = createFrameDecoder({ maxPayload });
  const frames: Frame[] = [];
  const start = process.cpuUsage();
  let error: NetError | null = null;
  for (const p of parts) {
    try {
      frames.push(...d.push(p));
    } catch (err) {
      expectCoded(err, 'FRAME_');
      error = err as NetError;
      frames.push(...(error.frames ?? []));
      // Stays failed.
      try {
        d.push(Buffer.from([FRAME.MAGIC_0]));
        expect.fail('a failed decoder accepted more bytes');
      } catch (again) {
        expectCoded(again, 'FRAME_');
      }
      break;
    }
  }
  const used = process.cpuUsage(start);
  const cpuMs = (used.user + used.system) / 1000;
  const total = parts.reduce((n, p) => n + p.length, 0);
  // Bounded work: a frame costs at least a header, so there can be no more frames than that.
  expect(frames.length).toBeLessThanOrEqual(Math.floor(total / FRAME.HEADER_SIZE));
  for (const f of frames) {
    expect(Object.values(CONTENT)).toContain(f.contentType);
    expect(f.payload.length).toBeLessThanOrEqual(Math.min(PAYLOAD_LIMIT[f.contentType], maxPayload));
    expect(f.source).toBeLessThanOrEqual(LIMITS.MAX_ID);
    expect(f.destination).toBeLessThanOrEqual(LIMITS.MAX_ID);
    expect(Number.isSafeInteger(f.contentId)).toBe(true);
  }
  return { frames, error, cpuMs };
}

const contentType = fc.constantFrom(...(Object.values(CONTENT) as ContentType[]));
const frameArb: fc.Arbitrary<Frame> = fc.record({
  contentType,
  flags: fc.constant(0),
  source: fc.integer({ min: 0, max: LIMITS.MAX_ID }),
  destination: fc.integer({ min: 0, max: LIMITS.MAX_ID }),
  contentId: fc.maxSafeNat(),
  payload: fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
});
const streamArb = fc.array(frameArb, { minLength: 1, maxLength: 6 }).map((fs) => ({ frames: fs, wire: Buffer.concat(fs.map(encodeFrame)) }));
const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

// A mutation of a valid stream: overwrite bytes, cut the end, or splice in garbage.
const mutationArb = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('length' as const), at: fc.nat(), value: fc.oneof(fc.nat(), fc.constant(0xffffffff), fc.integer({ min: 0, max: 2 * LIMITS.MAX_FRAME_PAYLOAD })) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 40 }) }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

function mutate(wire: Buffer, mutations: Mutation[]): Buffer {
  let b = Buffer.from(wire);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'set') b[at] = m.byte;
    else if (m.kind === 'length') {
      // Aim at a length field of some frame boundary guess, or anywhere: both are interesting.
      if (at + 4 <= b.length) b.writeUInt32BE(m.value >>> 0, at);
    } else if (m.kind === 'cut') b = b.subarray(0, at);
    else b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
  }
  return b;
}

describe('fuzz', () => {
  it('fuzz - frame decoder meets random bytes in random splits with coded errors only', () => {
    fc.assert(
      // size 'max': fast-check's default size keeps arrays to 10 bytes whatever maxLength says.
      fc.property(fc.uint8Array({ maxLength: 2000, size: 'max' }), cutsArb, (bytes, cuts) => {
        // Bounded work, in CPU time so that a loaded machine cannot break it (see Outcome): a
        // linear decoder takes well under a millisecond for 2,000 bytes, so a second of CPU is
        // spent only by runaway work (a loop that does not consume its input, a cost that grows
        // with the square of the splits or worse). Not a speed test.
        const { cpuMs } = feed(pieces(bytes, cuts));
        expect(cpuMs).toBeLessThan(1000);
      }),
      { numRuns: RUNS },
    );
  });

  it('fuzz - frame decoder meets random bytes behind a valid magic and version', () => {
    const prefixed = fc.uint8Array({ maxLength: 400 }).map((u) => Buffer.concat([Buffer.from([FRAME.MAGIC_0, FRAME.MAGIC_1, 1]), Buffer.from(u)]));
    fc.assert(
      fc.property(prefixed, cutsArb, fc.integer({ min: 0, max: 1000 }), (bytes, cuts, maxPayload) => {
        feed(pieces(bytes, cuts), maxPayload);
      }),
      { numRuns: RUNS },
    );
  });

  it('fuzz - frame decoder reads valid streams the same whatever the splits', () => {
    fc.assert(
      fc.property(streamArb, cutsArb, ({ frames, wire }, cuts) => {
        const { frames: got, error } = feed(pieces(wire, cuts));
        expect(error).toBe(null);
        expect(got.map((f) => ({ ...f, payload: f.payload.toString('hex') }))).toEqual(
          frames.map((f) => ({ ...f, payload: f.payload.toString('hex') })),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('fuzz - frame decoder meets mutated valid frames with coded errors only', () => {
    fc.assert(
      fc.property(streamArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), cutsArb, fc.integer({ min: 0, max: 500 }), ({ wire }, muts, cuts, maxPayload) => {
        feed(pieces(mutate(wire, muts), cuts), maxPayload);
        feed(pieces(mutate(wire, muts), cuts));
      }),
      { numRuns: RUNS },
    );
  });

  it('fuzz - frame decoder reads a version-refused reply wherever it is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 20 }), streamArb, cutsArb, (versions, { frames, wire }, cuts) => {
        const { frames: got, error } = feed(pieces(Buffer.concat([wire, versionRefusedFrame(versions)]), cuts));
        expect(error?.code).toBe(ERR.FRAME_VERSION_REFUSED);
        expect(error?.peerVersions).toEqual(versions);
        expect(got).toHaveLength(frames.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('fuzz - frame decoder never gathers a payload over the limit, however long the stream', () => {
    // Headers announcing lengths just over the limit, followed by plenty of bytes: refused at the header.
    fc.assert(
      fc.property(contentType, fc.integer({ min: 1, max: 1000 }), (type, over) => {
        const f = encodeFrame({ contentType: type, flags: 0, source: 0, destination: 0, contentId: 0, payload: Buffer.alloc(0) });
        f.writeUInt32BE(PAYLOAD_LIMIT[type] + over, FRAME.OFFSET_LENGTH);
        const { error, frames } = feed([f, Buffer.alloc(4096)]);
        expect(error?.code).toBe(ERR.FRAME_TOO_LARGE);
        expect(frames).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});

// Arbitraries for valid field values, by field name (the names mean the same in every message).
const idArb = fc.integer({ min: 1, max: LIMITS.MAX_ID });
const timeArb = fc.integer({ min: 0, max: LIMITS.MAX_TIME });
const addressArb = fc.oneof(fc.ipV4(), fc.ipV6());
const hexArb = (n: number) => fc.uint8Array({ minLength: n / 2, maxLength: n / 2 }).map((u) => Buffer.from(u).toString('hex'));
const codeArb = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,20}$/);
const reasonArb = fc.string({ maxLength: 60 }).filter((s) => !hasControlChars(s));
const FIELD_ARBS: Record<string, fc.Arbitrary<unknown>> = {
  version: fc.integer({ min: 1, max: 255 }),
  lan: fc.array(addressArb, { maxLength: LIMITS.MAX_LAN_ADDRESSES }),
  listenPort: fc.integer({ min: 0, max: 65535 }),
  agent: fc.option(reasonArb, { nil: undefined }),
  allow: fc.option(fc.array(idArb, { maxLength: 20 }), { nil: undefined }),
  from: idArb,
  id: idArb,
  peer: idArb,
  target: idArb,
  serverTime: timeArb,
  at: timeArb,
  punchAt: timeArb,
  host: addressArb,
  port: fc.integer({ min: 1, max: 65535 }),
  heartbeatMs: fc.integer({ min: LIMITS.MIN_HEARTBEAT_MS, max: LIMITS.MAX_HEARTBEAT_MS }),
  code: codeArb,
  reason: reasonArb,
  ids: fc.array(idArb, { maxLength: 50 }),
  online: fc.boolean(),
  peerKey: hexArb(64),
  key: hexArb(64),
  nonce: hexArb(32),
  role: fc.constantFrom('tls-server', 'tls-client'),
  versions: fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: LIMITS.MAX_VERSIONS }),
};

// The field names of each type, read from a validated skeleton so the test follows the schema.
function fieldsOf(type: string): string[] {
  const names = Object.keys(FIELD_ARBS);
  // Probe: a message with every known field set to a valid value for its name; validation keeps
  // exactly the fields of this type.
  const probe: Record<string, unknown> = { type };
  for (const n of names) probe[n] = fc.sample(FIELD_ARBS[n], { numRuns: 1, seed: 1 })[0];
  probe.agent = 'a';
  probe.allow = [1];
  return Object.keys(validateControl(probe)).filter((k) => k !== 'type');
}

const validMessageArb: fc.Arbitrary<ControlMessage> = fc.constantFrom(...CONTROL_TYPES).chain((type) => {
  const shape: Record<string, fc.Arbitrary<unknown>> = { type: fc.constant(type) };
  for (const f of fieldsOf(type)) shape[f] = FIELD_ARBS[f];
  return fc.record(shape).map((m) => {
    const out = { ...m };
    if (out.agent === undefined) delete out.agent;
    if (out.allow === undefined) delete out.allow;
    return out as ControlMessage;
  });
});

// Plausible-but-maybe-wrong values: bounds, off-by-one, wrong types, hostile shapes.
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1, 255, 256, 65535, 65536, 2 ** 32, 2 ** 40 - 1, 2 ** 40, 2 ** 53, 1.5, Number.NaN, Infinity, null, true, '', '1', '::1', '10.0.0.1', 'A', 'ab'.repeat(32), 'tls-server'),
  fc.integer(),
  fc.string({ maxLength: 80 }),
  fc.array(fc.oneof(fc.integer(), fc.string({ maxLength: 10 }), addressArb), { maxLength: 20 }),
  fc.anything({ maxDepth: 2 }),
);
const hostileObjectArb = fc.record({
  type: fc.oneof(fc.constantFrom(...CONTROL_TYPES), fc.string({ maxLength: 12 }), fc.anything({ maxDepth: 1 })),
  fields: fc.dictionary(fc.constantFrom(...Object.keys(FIELD_ARBS), '__proto__', 'constructor', 'extra'), hostileValue, { maxKeys: 8 }),
  base: fc.option(validMessageArb, { nil: undefined }),
}).map(({ type, fields, base }) => ({ ...(base ?? {}), ...fields, ...(base ? {} : { type }) }));

// Whatever decodeControl or validateControl returns must be valid in full: encodable and stable.
function expectFullyValid(msg: ControlMessage): void {
  const again = decodeControl(encodeControl(msg));
  expect(again).toEqual(msg);
}

function tryControl(fn: () => ControlMessage): void {
  let msg: ControlMessage;
  try {
    msg = fn();
  } catch (err) {
    expectCoded(err, 'CONTROL_');
    return;
  }
  expectFullyValid(msg);
}

const anyPackr = new Packr({ useRecords: false, moreTypes: true } as ConstructorParameters<typeof Packr>[0]);
const recordPackr = new Packr({ useRecords: true });

describe('fuzz control', () => {
  it('fuzz - control messages round-trip for any valid values', () => {
    fc.assert(
      fc.property(validMessageArb, (msg) => {
        const wire = encodeControl(msg);
        expect(wire.length).toBeLessThanOrEqual(LIMITS.MAX_CONTROL_PAYLOAD);
        expect(decodeControl(wire)).toEqual(msg);
      }),
      { numRuns: RUNS },
    );
  });

  it('fuzz - decodeControl meets random bytes with coded errors only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (bytes) => tryControl(() => decodeControl(Buffer.from(bytes)))),
      { numRuns: RUNS * 3 },
    );
  });

  it('fuzz - decodeControl meets mutated valid messages with coded errors only', () => {
    fc.assert(
      fc.property(validMessageArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (msg, muts) => {
        tryControl(() => decodeControl(mutate(encodeControl(msg), muts)));
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('fuzz - decodeControl meets hostile objects from other MessagePack writers', () => {
    fc.assert(
      fc.property(hostileObjectArb, fc.boolean(), (obj, records) => {
        let wire: Buffer;
        try {
          wire = (records ? recordPackr : anyPackr).pack(obj);
        } catch {
          return; // some generated values have no MessagePack form
        }
        tryControl(() => decodeControl(wire));
      }),
      { numRuns: RUNS * 3 },
    );
  });

  it('fuzz - validateControl meets any value with coded errors only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), hostileObjectArb), (value) => tryControl(() => validateControl(value))),
      { numRuns: RUNS * 3 },
    );
  });

  it('fuzz - a control frame through the decoder and the codec ends in a message or a coded error', () => {
    fc.assert(
      fc.property(validMessageArb, fc.array(mutationArb, { maxLength: 3 }), cutsArb, (msg, muts, cuts) => {
        const wire = encodeFrame({ contentType: CONTENT.CONTROL, flags: 0, source: 0, destination: 0, contentId: 0, payload: encodeControl(msg) });
        const { frames } = feed(pieces(mutate(wire, muts), cuts), LIMITS.MAX_CONTROL_PAYLOAD);
        for (const f of frames) if (f.contentType === CONTENT.CONTROL) tryControl(() => decodeControl(f.payload));
      }),
      { numRuns: RUNS },
    );
  });
});
