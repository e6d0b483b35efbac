// When a process lets its sessions go (server/cluster/fence.ts): tables of inputs -> decision.
import { describe, expect, test } from 'vitest';
import { mayUnfence, shouldFence } from '../../../server/cluster/fence.js';

const FENCE_AFTER = 5_000;

describe('fence', () => {
  test.each([
    ['connected, heartbeats acknowledged', false, { connected: true, downSince: 0, lastAckAt: 9_000, now: 10_000 }, false],
    // A stream leader being elected: writes stall for seconds while connected.
    ['connected, heartbeats stalled 7 s', false, { connected: true, downSince: 0, lastAckAt: 3_000, now: 10_000 }, false],
    ['down for less than fenceAfterMs', false, { connected: false, downSince: 6_000, lastAckAt: 6_000, now: 10_000 }, false],
    ['down for more than fenceAfterMs', false, { connected: false, downSince: 4_000, lastAckAt: 4_000, now: 10_000 }, true],
    ['already fenced', true, { connected: false, downSince: 0, lastAckAt: 0, now: 10_000 }, false],
  ])('fence - %s', (_, fenced, input, expected) => {
    expect(shouldFence({ fenced, fencedAt: 0 }, input, FENCE_AFTER)).toBe(expected);
  });

  test.each([
    ['not fenced', { fenced: false, fencedAt: 0 }, { connected: true, downSince: 0, lastAckAt: 9_000, now: 10_000 }, false],
    ['fenced, still down', { fenced: true, fencedAt: 5_000 }, { connected: false, downSince: 0, lastAckAt: 9_000, now: 10_000 }, false],
    ['fenced, back but no heartbeat acknowledged since', { fenced: true, fencedAt: 5_000 }, { connected: true, downSince: 0, lastAckAt: 4_000, now: 10_000 }, false],
    ['fenced, back and a heartbeat acknowledged', { fenced: true, fencedAt: 5_000 }, { connected: true, downSince: 0, lastAckAt: 9_000, now: 10_000 }, true],
  ])('fence - may unfence: %s', (_, state, input, expected) => {
    expect(mayUnfence(state, input)).toBe(expected);
  });
});
