// When this process must stop serving (fence) because the cluster may already take it for dead,
// and when it may serve again. Pure: nats.ts feeds it the connection state and the time of the
// last heartbeat NATS acknowledged.
//
// The others free our sessions once they have heard their own heartbeats deadAfterMs past our
// last one (mirror.ts), so we must let go before that, counting from our last acknowledged
// heartbeat, not from when the connection noticed it was down (a cut cable is noticed only when
// pings go unanswered, seconds later):
//   - connection down: fence fenceAfterMs after the last acknowledged heartbeat;
//   - connected but heartbeats not acknowledged (our NATS node lost its JetStream quorum): fence
//     one heartbeat before deadAfterMs. Not sooner: when a stream leader dies, every process's
//     writes stall 6-7 s at once (measured), no one is declared dead then (mirror.ts), and
//     fencing would drop every session of the cluster for nothing.
export type FenceState = { fenced: boolean; fencedAt: number };
export type FenceInput = { connected: boolean; lastAckAt: number; now: number };
export type FenceTimes = { fenceAfterMs: number; deadAfterMs: number; heartbeatMs: number };

export function shouldFence(state: FenceState, input: FenceInput, times: FenceTimes): boolean {
  if (state.fenced) return false;
  const silent = input.now - input.lastAckAt;
  const limit = input.connected ? times.deadAfterMs - times.heartbeatMs : times.fenceAfterMs;
  return silent > limit;
}

// Unfencing also waits for a re-sync of the mirror begun after this (nats.ts): the watches may
// have missed what happened while we were away.
export function mayUnfence(state: FenceState, input: FenceInput): boolean {
  return state.fenced && input.connected && input.lastAckAt > state.fencedAt;
}
