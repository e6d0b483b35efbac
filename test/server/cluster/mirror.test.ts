// The cluster's mirror (server/cluster/mirror.ts): given these KV entries (and clock readings),
// this state and these effects. No NATS here.
import { describe, expect, test } from 'vitest';
import { applyEntry, checkLiveness, createMirror, decideClaim, liveHolder, staleSessions, type Bucket, type Effect, type Entry, type Mirror } from '../../../server/cluster/mirror.js';
import type { Holder } from '../../../server/cluster/contract.js';

const SELF = { node: 'a', boot: 'boot-a' };
const DEAD_AFTER = 1_000;
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
    const m = createMirror(SELF, DEAD_AFTER);
    const effects = given(m, [['ids', put(`i.5`, KEY)], ['ids', put(`k.${KEY}`, '5', 123)]]);
    expect(effects).toEqual([{ kind: 'apply', event: { type: 'client.registered', id: 5, keySha256: KEY, at: 123 } }]);
    expect(m.keys.get(KEY)).toBe(5);
    expect(m.ids.get(5)).toBe(KEY);
  });

  test('mirror - the same entry again, or an older one, changes nothing', () => {
    const m = createMirror(SELF, DEAD_AFTER);
    const e = put(`k.${KEY}`, '5');
    given(m, [['ids', e]]);
    expect(given(m, [['ids', e], ['ids', { ...e, revision: e.revision - 1, value: '6' }]])).toEqual([]);
    expect(m.keys.get(KEY)).toBe(5);
  });

  test('mirror - an orphan i entry takes the id without binding its key', () => {
    const m = createMirror(SELF, DEAD_AFTER);
    expect(given(m, [['ids', put('i.6', KEY)]])).toEqual([]);
    expect(m.ids.get(6)).toBe(KEY);
    expect(m.keys.has(KEY)).toBe(false);
  });

  test('mirror - a revocation is applied and told to the revoked hook, once; a delete in the ids bucket is ignored', () => {
    const m = createMirror(SELF, DEAD_AFTER);
    const effects = given(m, [['ids', put(`r.${KEY}`, '777')], ['ids', put(`r.${KEY}`, '888')], ['ids', del(`k.${OTHER_KEY}`)]]);
    expect(effects).toEqual([
      { kind: 'apply', event: { type: 'client.revoked', keySha256: KEY, at: 777 } },
      { kind: 'revoked', keySha256: KEY, at: 777 },
    ]);
  });
});

describe('mirror - sessions and presence', () => {
  test('mirror - a session on another live process is online; its delete is offline at the marker time', () => {
    const m = createMirror(SELF, DEAD_AFTER);
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
    const m = createMirror(SELF, DEAD_AFTER);
    const effects = given(m, [['sessions', put('s.1', holder('a', 'boot-a'))], ['sessions', del('s.1')]]);
    expect(presence(effects)).toEqual([]);
    expect(effects.map((e) => e.kind === 'apply' && e.event.type)).toEqual(['session.opened', 'session.closed']);
  });

  test('mirror - a session moving from one live process to another stays online, told once', () => {
    const m = createMirror(SELF, DEAD_AFTER);
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
    const m = createMirror(SELF, DEAD_AFTER);
    given(m, [['nodes', beat('b', 'boot-b1')], ['sessions', put('s.9', holder('b', 'boot-b1'))]]);
    const effects = given(m, [['nodes', beat('b', 'boot-b2'), 10]]);
    expect(effects).toEqual([{ kind: 'presence', id: 9, online: false, at: 10 }]);
    expect(liveHolder(m, 9)).toBeUndefined();
    expect(staleSessions(m)).toEqual([{ id: 9, revision: m.sessions.get(9)?.revision }]);
    expect(decideClaim(m, holder('b', 'boot-b1'))).toBe('take');
  });

  test('mirror - a session whose node the nodes watch has not delivered yet counts as live', () => {
    const m = createMirror(SELF, DEAD_AFTER);
    given(m, [['sessions', put('s.9', holder('b', 'boot-b')), 0]]);
    expect(liveHolder(m, 9)?.node).toBe('b');
    expect(decideClaim(m, holder('b', 'boot-b'))).toBe('refuse');
    expect(staleSessions(m)).toEqual([]);
  });
});

describe('mirror - liveness', () => {
  // Our heartbeat echoed at each local time in `times`; b beat once at time 0.
  function withEchoes(times: number[]): { m: Mirror; effects: Effect[]; died: string[] } {
    const m = createMirror(SELF, DEAD_AFTER);
    given(m, [['nodes', beat('b', 'boot-b'), 0], ['sessions', put('s.9', holder('b', 'boot-b')), 0]]);
    const effects: Effect[] = [];
    const died: string[] = [];
    for (const t of times) {
      given(m, [['nodes', beat('a', 'boot-a'), t]]);
      const r = checkLiveness(m, t);
      effects.push(...r.effects);
      died.push(...r.died);
    }
    return { m, effects, died };
  }

  test('mirror - a node silent deadAfterMs past our own echo is dead: its sessions go offline', () => {
    const { m, effects, died } = withEchoes([500, 1_000, 1_001]);
    expect(died).toEqual(['b']);
    expect(effects).toEqual([
      { kind: 'presence', id: 9, online: false, at: 1_001 },
      { kind: 'apply', event: { type: 'session.closed', id: 9, reason: 'node b is gone', at: 1_001 } },
    ]);
    expect(liveHolder(m, 9)).toBeUndefined();
    expect(staleSessions(m).map((s) => s.id)).toEqual([9]);
    expect(decideClaim(m, holder('b', 'boot-b'))).toBe('take');
  });

  test('mirror - while our own echo does not come (the bucket stalls), no one is taken for dead, however long', () => {
    const m = createMirror(SELF, DEAD_AFTER);
    given(m, [['nodes', beat('a', 'boot-a'), 0], ['nodes', beat('b', 'boot-b'), 0]]);
    // No echo since time 0: the local clock is not what judges.
    expect(checkLiveness(m, 60_000)).toEqual({ effects: [], died: [] });
  });

  test('mirror - a dead node heard again is live again, with its sessions still there', () => {
    const { m } = withEchoes([1_500]);
    expect(liveHolder(m, 9)).toBeUndefined();
    const effects = given(m, [['nodes', beat('b', 'boot-b'), 1_600]]);
    expect(effects).toEqual([{ kind: 'presence', id: 9, online: true, at: 50 }]);
  });

  test('mirror - a node that closed (its n key deleted) holds nothing', () => {
    const m = createMirror(SELF, DEAD_AFTER);
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
    const m = createMirror(SELF, DEAD_AFTER);
    given(m, [['nodes', beat('b', 'boot-b')]]);
    expect(decideClaim(m, existing)).toBe(decision);
  });
});
