// Every deadline of a connection, as a pure function of the connection, the time and the limits
// (PROTOCOL.md sections 6 and 8). One sweep timer asks it of every connection in turn, instead of
// one timer per connection: a server holds tens of thousands.
import { WIRE_CODE } from '../src/net/constants.js';
import type { ControlMessage } from '../src/net/control.js';
import type { Conn } from './connections.js';
import type { Limits } from './options.js';

export type Due =
  | { action: 'none' }
  | { action: 'heartbeat' }
  // Close with this last message (null: none) and this reason.
  | { action: 'refuse'; message: ControlMessage | null; code: string }
  | { action: 'destroy' };

const NONE: Due = { action: 'none' };

type Deadlined = Pick<Conn, 'since' | 'lastRx' | 'lastTx' | 'phase'>;

export function dueOf(conn: Deadlined, now: number, limits: Limits): Due {
  const p = conn.phase;
  switch (p.state) {
    case 'NEW':
      if (now - conn.since <= limits.loginTimeoutMs) return NONE;
      return refuse({ type: 'error', code: WIRE_CODE.LOGIN_TIMEOUT, reason: `no login within ${limits.loginTimeoutMs} ms` });
    case 'SESSION':
      if (now - conn.lastRx > limits.deadAfterMs) {
        return refuse({ type: 'bye', code: WIRE_CODE.HEARTBEAT_TIMEOUT, reason: `nothing received for ${limits.deadAfterMs} ms` });
      }
      return now - conn.lastTx >= limits.heartbeatMs ? { action: 'heartbeat' } : NONE;
    case 'RELAY_WAIT':
      if (now - conn.since <= limits.relayPairTimeoutMs) return NONE;
      return refuse({ type: 'relay-refused', peer: p.peer, code: WIRE_CODE.RELAY_TIMEOUT, reason: `${p.peer} did not ask for the relay within ${limits.relayPairTimeoutMs} ms` });
    case 'RELAY': {
      // Asked of one end only (a), which closes both.
      const { relay } = p;
      if (relay.a !== conn || !relay.splice || now - relay.splice.lastActivity() <= limits.relayIdleMs) return NONE;
      return { action: 'refuse', message: null, code: 'IDLE' };
    }
    case 'CLOSING':
      return now - conn.since > limits.closeGraceMs ? { action: 'destroy' } : NONE;
    default:
      return NONE;
  }
}

// Steps 1-3 within loginTimeoutMs of the accept, whatever arrives meanwhile (section 6).
export function handshakeDue(acceptedAt: number, now: number, limits: Pick<Limits, 'loginTimeoutMs'>): Due {
  return now - acceptedAt > limits.loginTimeoutMs ? { action: 'destroy' } : NONE;
}

// How often the sweep runs: a quarter of the shortest bound, within 20 ms .. 1 s.
export function sweepInterval(limits: Limits): number {
  const shortest = Math.min(limits.deadAfterMs, limits.loginTimeoutMs, limits.relayIdleMs, limits.relayPairTimeoutMs, limits.closeGraceMs);
  return Math.max(20, Math.min(1000, Math.floor(shortest / 4)));
}

function refuse(message: ControlMessage & { code: string }): Due {
  return { action: 'refuse', message, code: message.code };
}
