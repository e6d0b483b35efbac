// The cluster's mirror (server/cluster/mirror.ts): given these KV entries (and clock readings),
// this state and these effects. No NATS here.
import { describe, expect, test } from 'vitest';
import { applyEntry, checkLiveness, createMirror, decideClaim, liveHolder, staleSessions, type Bucket, type Effect, type Entry, type Mirror } from '../../../server/cluster/mirror.js';
import type { Holder } from '../../../server/cluster/contract.js';

const SELF = { node: 'a', boot: 'boot-a' };
const DEAD_AFTER = 1_000;
const HEARTBEAT = 250;
const TIMES = { deadAfterMs: DEAD_AFTER, heartbeatMs: HEARTBEAT };
const KEY = 'ab'.repeat(32);
const OTHER_KEY = 'cd'.repeat(32);

let revision = 0;
function put(key: string, value: unknown, at = 100): Entry {
  return { key, revision: ++revision, op: 'PUT', value: typeof value === 'string' ? value : JSON.stringify(value), at };
}
function del(key: string, at = 200): Entry {
  return { key, revision: ++revision, op: 'DEL', value: '', at };
}
function holder(node: string, boot: string, at = 50): Holder {
  return { node, boot, address: `10.0.0.1:${node.length}`, at };
}
function beat(node: string, boot: string): Entry {
  return put(`n.${node}`, { boot, public: `${node}:7300`, at: 0 });
}

// Applies entries in order at the given local time; returns every effect.
function given(m: Mirror, steps: Array<[Bucket, Entry, number?]>): Effect[] {
  return steps.flatMap(([bucket, e, localNow]) => applyEntry(m, bucket, e, localNow ?? 0));
}

const presence = (effects: Effect[]) => effects.filter((e) => e.kind === 'presence');

describe('mirror - ids', () => {
  test('mirror - a k entry is a binding, told once as client.registered', () => {
    const m = createMirror(SELF, TIMES);
    const effects = given(m, [['ids', put(`i.5`, KEY)], ['ids', put(`k.${KEY}`, '5', 123)]]);
    expect(effects).toEqual([{ kind: 'apply', event: { type: 'client.registered', id: 5, keySha256: KEY, at: 123 } }]);
    expect(m.keys.get(KEY)).toBe(5);
    expect(m.ids.get(5)).toBe(KEY);
  });

  test('mirror - the same entry again, or an older one, changes nothing', () => {
    const m = createMirror(SELF, TIMES);
    const e = put(`k.${KEY}`, '5');
    given(m, [['ids', e]]);
    expect(given(m, [['ids', e], ['ids', { ...e, revision: e.revision - 1, value: '6' }]])).toEqual([]);
    expect(m.keys.get(KEY)).toBe(5);
  });

  test('mirror - an orphan i entry takes the id without binding its key', () => {
    const m = createMirror(SELF, TIMES);
    expect(given(m, [['ids', put('i.6', KEY)]])).toEqual([]);
    expect(m.ids.get(6)).toBe(KEY);
    expect(m.keys.has(KEY)).toBe(false);
  });

  test('mirror - a revocation is applied and told to the revoked hook, once; a delete in the ids bucket is ignored', () => {
    const m = createMirror(SELF, TIMES);
    const effects = given(m, [['ids', put(`r.${KEY}`, '777')], ['ids', put(`r.${KEY}`, '888')], ['ids', del(`k.${OTHER_KEY}`)]]);
    expect(effects).toEqual([
      { kind: 'apply', event: { type: 'client.revoked', keySha256: KEY, at: 777 } },
      { kind: 'revoked', keySha256: KEY, at: 777 },
    ]);
  });
});

describe('mirror - sessions and presence', () => {
  test('mirror - a session on another live process is online; its delete is offline at the marker time', () => {
    const m = createMirror(SELF, TIMES);
    const opened = given(m, [['nodes', beat('b', 'boot-b')], ['sessions', put('s.9', holder('b', 'boot-b', 50))]]);
    expect(opened).toEqual([
      { kind: 'apply', event: { type: 'session.opened', id: 9, address: '10.0.0.1:1', at: 50 } },
      { kind: 'presence', id: 9, online: true, at: 50 },
    ]);
    expect(liveHolder(m, 9)).toEqual(holder('b', 'boot-b', 50));
    const closed = given(m, [['sessions', del('s.9', 300)]]);
    expect(closed).toEqual([
      { kind: 'apply', event: { type: 'session.closed', id: 9, reason: 'closed', at: 300 } },
      { kind: 'presence', id: 9, online: false, at: 300 },
    ]);
    expect(liveHolder(m, 9)).toBeUndefined();
  });

  test('mirror - our own sessions are applied but never told to the presence hook, nor returned as a holder', () => {
    const m = createMirror(SELF, TIMES);
    const effects = given(m, [['sessions', put('s.1', holder('a', 'boot-a'))], ['sessions', del('s.1')]]);
    expect(presence(effects)).toEqual([]);
    expect(effects.map((e) => e.kind === 'apply' && e.event.type)).toEqual(['session.opened', 'session.closed']);
  });

  test('mirror - a session moving from one live process to another stays online, told once', () => {
    const m = createMirror(SELF, TIMES);
    const effects = given(m, [
      ['nodes', beat('b', 'boot-b')],
      ['nodes', beat('c', 'boot-c')],
      ['sessions', put('s.9', holder('b', 'boot-b'))],
      ['sessions', put('s.9', holder('c', 'boot-c'))],
    ]);
    expect(presence(effects)).toEqual([{ kind: 'presence', id: 9, online: true, at: 50 }]);
    expect(liveHolder(m, 9)?.node).toBe('c');
  });

  test('mirror - a restarted node (new boot) does not hold its old boot\'s sessions', () => {
    const m = createMirror(SELF, TIMES);
    given(m, [['nodes', beat('b', 'boot-b1')], ['sessions', put('s.9', holder('b', 'boot-b1'))]]);
    const effects = given(m, [['nodes', beat('b', 'boot-b2'), 10]]);
    // At the new boot's first heartbeat, as the stream timed it.
    expect(effects).toEqual([{ kind: 'presence', id: 9, online: false, at: 100 }]);
    expect(liveHolder(m, 9)).toBeUndefined();
    expect(staleSessions(m)).toEqual([{ id: 9, revision: m.sessions.get(9)?.revision }]);
    expect(decideClaim(m, holder('b', 'boot-b1'))).toBe('take');
  });

  test('mirror - a session whose node the nodes watch has not delivered yet counts as live', () => {
    const m = createMirror(SELF, TIMES);
    given(m, [['sessions', put('s.9', holder('b', 'boot-b')), 0]]);
    expect(liveHolder(m, 9)?.node).toBe('b');
    expect(decideClaim(m, holder('b', 'boot-b'))).toBe('refuse');
    expect(staleSessions(m)).toEqual([]);
  });
});

describe('mirror - liveness', () => {
  // b beat once at time 0; then our own heartbeat comes back at each local time in `times`.
  function withEchoes(times: number[]): { m: Mirror; effects: Effect[]; died: Array<[string, number]> } {
    const m = createMirror(SELF, TIMES);
    given(m, [['nodes', beat('b', 'boot-b'), 0], ['sessions', put('s.9', holder('b', 'boot-b')), 0]]);
    const effects: Effect[] = [];
    const died: Array<[string, number]> = [];
    for (const t of times) {
      given(m, [['nodes', beat('a', 'boot-a'), t]]);
      const r = checkLiveness(m, t);
      effects.push(...r.effects);
      died.push(...r.died.map((n): [string, number] => [n, t]));
    }
    return { m, effects, died };
  }
  const every = (from: number, to: number, step = HEARTBEAT): number[] => Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);

  test('mirror - a node not heard while our echoes ran deadAfterMs is dead: its sessions go offline', () => {
    // The first echo starts the clock; from then on it runs 250 ms an echo: past 1,000 at 1,500.
    const { m, effects, died } = withEchoes(every(250, 2_000));
    expect(died).toEqual([['b', 1_500]]);
    expect(effects).toEqual([
      { kind: 'presence', id: 9, online: false, at: 1_500 },
      { kind: 'apply', event: { type: 'session.closed', id: 9, reason: 'node b is gone', at: 1_500 } },
    ]);
    expect(liveHolder(m, 9)).toBeUndefined();
    expect(staleSessions(m).map((s) => s.id)).toEqual([9]);
    expect(decideClaim(m, holder('b', 'boot-b'))).toBe('take');
  });

  test('mirror - while our own echo does not come (the bucket stalls), no one is taken for dead, however long', () => {
    const m = createMirror(SELF, TIMES);
    given(m, [['nodes', beat('a', 'boot-a'), 0], ['nodes', beat('b', 'boot-b'), 0]]);
    // No echo since time 0: the local clock is not what judges.
    expect(checkLiveness(m, 60_000)).toEqual({ effects: [], died: [] });
  });

  test('mirror - after a stall, our first echo back does not make the others dead before they could beat again', () => {
    // Echoes until 500, a 9 s stall, our echo back at 9,500: the stall counts as one period.
    const { m, died } = withEchoes([250, 500, 9_500]);
    expect(died).toEqual([]);
    expect(m.echoClock).toBe(500);
    // b beats again just after: alive; had it not, it would die a few periods later.
    expect(given(m, [['nodes', beat('b', 'boot-b'), 9_600]])).toEqual([]);
    expect(withEchoes([250, 500, 9_500, ...every(9_750, 12_000)]).died).toEqual([['b', 10_250]]);
  });

  test('mirror - a dead node heard again is live again, with its sessions still there', () => {
    const { m } = withEchoes(every(250, 1_500));
    expect(liveHolder(m, 9)).toBeUndefined();
    const effects = given(m, [['nodes', beat('b', 'boot-b'), 1_600]]);
    expect(effects).toEqual([{ kind: 'presence', id: 9, online: true, at: 50 }]);
  });

  test('mirror - a node that closed (its n key deleted) holds nothing', () => {
    const m = createMirror(SELF, TIMES);
    given(m, [['nodes', beat('b', 'boot-b')], ['sessions', put('s.9', holder('b', 'boot-b'))]]);
    expect(given(m, [['nodes', del('n.b', 400)]])).toEqual([{ kind: 'presence', id: 9, online: false, at: 400 }]);
  });
});

describe('mirror - claims', () => {
  test.each([
    ['ours', holder('a', 'boot-a'), 'ours'],
    ['our node in an earlier boot', holder('a', 'boot-old'), 'take'],
    ['a live node', holder('b', 'boot-b'), 'refuse'],
    ['a live node\'s earlier boot', holder('b', 'boot-old'), 'take'],
  ] as const)('mirror - a claim over a session held by %s: %s', (_, existing, decision) => {
    const m = createMirror(SELF, TIMES);
    given(m, [['nodes', beat('b', 'boot-b')]]);
    expect(decideClaim(m, existing)).toBe(decision);
  });
});
