// When this process must stop serving (fence) because the cluster may take it for dead, and when
// it may serve again. Pure: nats.ts feeds it the connection's state and the time of the last
// heartbeat NATS acknowledged.
//
// Fenced when:
//   - the connection has been down for fenceAfterMs. The others free our sessions once their
//     echo clock has run deadAfterMs past our last heartbeat (mirror.ts); fenceAfterMs is
//     under deadAfterMs (nats.ts checks it), and pings notice a silent cut within about 3 s
//     (connect.ts), so we normally let go first.
//   - the others freed a session we still hold (nats.ts sees it in the sessions watch): they took
//     us for dead, whatever our connection says.
// Not fenced for heartbeats that merely go unacknowledged while connected: when a stream's leader
// dies every process's writes stall 6-7 s at once (measured), no one is declared dead then
// (mirror.ts), and fencing would drop every session of the cluster for nothing. The price: a
// process that stays connected to a NATS node cut off from the JetStream majority keeps serving
// until the cut heals and it sees its sessions freed.
export type FenceState = { fenced: boolean; fencedAt: number };
export type FenceInput = { connected: boolean; downSince: number; lastAckAt: number; now: number };

export function shouldFence(state: FenceState, input: FenceInput, fenceAfterMs: number): boolean {
  return !state.fenced && !input.connected && input.now - input.downSince > fenceAfterMs;
}

// A heartbeat acknowledged since the fence shows NATS takes our writes again; nats.ts then
// re-syncs the mirror (the watches may have missed what happened meanwhile) before it unfences.
export function mayUnfence(state: FenceState, input: FenceInput): boolean {
  return state.fenced && input.connected && input.lastAckAt > state.fencedAt;
}
