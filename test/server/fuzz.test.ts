// Hostile bytes at a live server: random bytes, mutated valid frames and valid frames around
// hostile MessagePack, sent before or after login, split at random places. Whatever comes, the
// server does not crash, closes that session within its deadlines and tells it why, and a
// parallel healthy session keeps being answered.
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT, ERR, FLAGS } from '../../src/net/constants.js';
import { decodeControl, encodeControl, type ControlMessage } from '../../src/net/control.js';
import { createFrameDecoder, encodeFrame, type Frame } from '../../src/net/frame.js';
import type { RendezvousServer } from '../../server/server.js';
import { SAMPLES } from '../net/helpers.js';
import { cleanup, connect, makeServerPki, serverOn, signIn, tempDir, within, type Client, type TestPki } from './helpers.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
// A session that says nothing is closed after this; a run never waits much longer.
const DEADLINE_MS = 400;

let pki: TestPki;
let srv: RendezvousServer;
let port: number;
let healthy: Client;
let dataDir: string;

beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob', 'carol']);
  dataDir = tempDir('fuzz-data');
  srv = await serverOn(pki, dataDir, { loginTimeoutMs: DEADLINE_MS, deadAfterMs: DEADLINE_MS, closeGraceMs: 200, introductionsPerMinute: 100_000 });
  port = srv.address().port;
  healthy = await signIn({ port, creds: pki.creds.bob, caPem: pki.caPem, heartbeatEveryMs: 100 });
});
afterAll(async () => {
  healthy?.close();
  await srv?.close();
  cleanup(dataDir);
  cleanup(pki?.dir);
});

function frame(payload: Buffer, contentType: number = CONTENT.CONTROL): Buffer {
  return encodeFrame({ contentType: contentType as 1, flags: FLAGS.NONE, source: 0, destination: 0, contentId: 0, payload });
}

const packr = new Packr({ useRecords: false });

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bits: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.integer({ min: 0, max: 26 }), value: fc.integer({ min: 0, max: 255 }) }),
);

type Mutation = { kind: string; at: number; bits?: number; bytes?: Uint8Array; value?: number };

function mutate(wire: Buffer, ms: Mutation[]): Buffer {
  let out = Buffer.from(wire);
  for (const m of ms) {
    if (out.length === 0) break;
    const at = m.at % out.length;
    if (m.kind === 'flip') out[at] ^= m.bits as number;
    else if (m.kind === 'cut') out = out.subarray(0, at);
    else if (m.kind === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from(m.bytes as Uint8Array), out.subarray(at)]);
    else if (m.kind === 'set' && at < out.length) out[m.at] = m.value as number;
  }
  return out;
}

const input = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
  fc.record({ sample: fc.constantFrom(...SAMPLES), ms: fc.array(mutation, { minLength: 1, maxLength: 4 }), tail: fc.boolean() }).map(({ sample, ms, tail }) => {
    const bad = mutate(frame(encodeControl(sample)), ms);
    return tail ? Buffer.concat([frame(encodeControl({ type: 'heartbeat' })), bad]) : bad;
  }),
  fc.anything({ maxDepth: 3 }).map((v) => frame(packr.pack(v))),
  fc.record({ type: fc.constantFrom(...SAMPLES.map((s) => s.type)), fields: fc.dictionary(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 1 }), { maxKeys: 5 }) }).map(({ type, fields }) => frame(packr.pack({ ...fields, type }))),
  fc.constantFrom(CONTENT.TEXT, CONTENT.FILE_CONTROL, CONTENT.FILE_CHUNK).map((t) => frame(Buffer.from('x'), t)),
);

// Where the client's own bytes say goodbye (a valid bye, error or version-refused before any bad
// byte), the server owes it no reason. A version-refused reply at the frame level (a 0 version
// byte, PROTOCOL.md section 3) ends the decoder: it counts as a goodbye when the frames before it
// did not already say something bad.
function saysGoodbye(bytes: Buffer): boolean {
  const d = createFrameDecoder();
  let frames: Frame[] = [];
  let refused = false;
  try {
    frames = d.push(bytes);
  } catch (err) {
    frames = (err as { frames?: Frame[] }).frames ?? [];
    refused = (err as { code?: string }).code === ERR.FRAME_VERSION_REFUSED;
  }
  for (const f of frames) {
    try {
      const m = decodeControl(f.payload);
      if (m.type === 'bye' || m.type === 'error' || m.type === 'version-refused') return true;
      if (m.type === 'login' && m.version !== 1) return false;
    } catch {
      return false;
    }
  }
  return refused;
}

const REASONS = new Set(['error', 'bye', 'login-refused', 'version-refused', 'relay-refused']);

async function healthyAnswers(): Promise<void> {
  healthy.send({ type: 'time-request' });
  await healthy.next('time', 2_000);
}

describe('server fuzz', () => {
  it('server fuzz - random and mutated frames before and after login: no crash, the session closed with a reason, the healthy session unaffected', async () => {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), input, fc.array(fc.nat(), { maxLength: 4 }), async (afterLogin, bytes, cuts) => {
        const c = await connect({ port, creds: afterLogin ? pki.creds.alice : pki.creds.carol, caPem: pki.caPem });
        try {
          if (afterLogin) {
            const answer = await c.login();
            expect(answer.type).toBe('login-ok');
          }
          const at = [...new Set(cuts.map((n) => n % (bytes.length + 1)))].sort((x, y) => x - y);
          let from = 0;
          for (const cut of [...at, bytes.length]) {
            if (cut > from) c.sendRaw(bytes.subarray(from, cut));
            from = cut;
          }
          // Closed within the deadlines (silence after the bytes meets the login or heartbeat bound).
          await within<void>(3 * DEADLINE_MS + 2_000, 'the server to close the fuzzed session', (resolve) => {
            void c.closed.then(resolve);
          });
          expect(c.decodeError).toBeNull();
          const last = c.received[c.received.length - 1];
          const gaveReason = c.versionRefused !== null || (last !== undefined && REASONS.has(last.type));
          if (!gaveReason) expect(saysGoodbye(bytes), `closed without a reason after ${bytes.toString('hex')} (got ${JSON.stringify(c.received)})`).toBe(true);
          await healthyAnswers();
        } finally {
          c.close();
        }
      }),
      { numRuns: RUNS },
    );
    await healthyAnswers();
    // Nothing of the fuzzed sessions is left behind.
    await within<void>(3_000, 'the fuzzed connections to be gone', (resolve) => {
      const t = setInterval(() => {
        const s = srv.stats();
        if (s.sessions === 1 && s.pending === 0) {
          clearInterval(t);
          resolve();
        }
      }, 20);
      return () => clearInterval(t);
    });
  });
});
