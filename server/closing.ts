// Closing a connection: the last message (when there is one), the end of the socket, and what
// its leaving means to others (watchers told, the session or relay journaled as closed, the
// other end of a relay closed too). The counters move in connections.enter.
import type { ServerEvent } from './events.js';
import { encodeControl, type ControlMessage } from '../src/net/control.js';
import type { Conn, Connections } from './connections.js';
import type { Presence } from './presence.js';
import { frameOf } from './session.js';

export type ClosingDeps = {
  connections: Connections;
  now: () => number;
  write: (conn: Conn, buf: Buffer) => void;
  presence: () => Presence;
  record: (event: ServerEvent) => void;
  // A session ended (in a cluster: its id is freed for every process).
  ended?: (id: number) => void;
};

export function createClosing(deps: ClosingDeps) {
  // Sends a last message (when given), ends the socket, and forgets the connection everywhere.
  // The reason the connection closed (journaled for a session or a relay) is the message's code,
  // unless given: a message says its code once.
  function refuse(conn: Conn, last: ControlMessage | Buffer | null, reason?: string): void {
    const state = conn.phase.state;
    if (state === 'CLOSING' || state === 'CLOSED') return;
    if (last) deps.write(conn, Buffer.isBuffer(last) ? last : frameOf(conn.id, encodeControl(last)));
    finish(conn, reason ?? reasonOf(last));
  }

  function finish(conn: Conn, reason: string): void {
    const state = conn.phase.state;
    if (state === 'CLOSING' || state === 'CLOSED') return;
    const was = deps.connections.enter(conn, { state: 'CLOSING' });
    // Keep reading, and dropping (session.ts), what the peer still sends: closing with unread
    // bytes makes the kernel send a reset, which can overtake the refusal just written.
    conn.socket.resume();
    conn.socket.end();
    if (was.state === 'SESSION') {
      const presence = deps.presence();
      presence.unwatch(conn, was.watching);
      const at = deps.now();
      deps.record({ type: 'session.closed', id: conn.id, reason, at });
      presence.announce(conn.id, false, at);
      deps.ended?.(conn.id);
    }
    if (was.state === 'RELAY') {
      const relay = was.relay;
      const other = relay.a === conn ? relay.b : relay.a;
      relay.splice?.stop();
      if (other.phase.state === 'RELAY') {
        deps.record({ type: 'relay.closed', a: relay.a.id, b: relay.b.id, bytes: relay.splice?.bytes() ?? 0, reason, at: deps.now() });
        finish(other, reason);
      }
    }
  }

  return { refuse, finish };
}

// => 'LOGIN_TIMEOUT' for { type: 'error', code: 'LOGIN_TIMEOUT', ... }
function reasonOf(last: ControlMessage | Buffer | null): string {
  if (!last || Buffer.isBuffer(last)) return 'CLOSED';
  if ('code' in last) return last.code;
  return last.type === 'version-refused' ? 'VERSION_REFUSED' : 'CLOSED';
}
