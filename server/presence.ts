// Presence (PROTOCOL.md section 6): who watches whom, and telling the watchers when an id comes,
// goes or is revoked. The rate of list changes per session is bounded here too, since each watch
// is answered with up to 1,024 presence frames.
import { FRAME, WIRE_CODE } from '../src/net/constants.js';
import { encodeControl, type ControlMessage } from '../src/net/control.js';
import type { Conn } from './connections.js';
import { spend, type Window } from './rates.js';
import type { Registry } from './registry.js';

// Without a bound, one session could make the server write megabytes a second. Beyond
// listChangesPerMinute the change is refused with `error` RATE_LIMITED, the lists stay as they
// were, and the session goes on (section 6, Bounds): the client sends its latest list again when
// the minute is over.
export function decideListChange(window: Window, now: number, perMinute: number, type: string): { window: Window; refused: ControlMessage | null } {
  const spent = spend(window, now, perMinute);
  if (spent.ok) return { window: spent.window, refused: null };
  const wait = Math.ceil(spent.waitMs / 1000);
  const reason = `at most ${perMinute} presence-watch and block-list changes a minute: this ${type} was not applied; send it again in ${wait} s`;
  return { window: spent.window, refused: { type: 'error', code: WIRE_CODE.RATE_LIMITED, reason } };
}

export type PresenceDeps = {
  registry: () => Registry;
  isOnline: (id: number) => boolean;
  // The control frame to an id, built once for a fan-out (the destination is patched per watcher).
  frameOf: (destination: number, payload: Buffer) => Buffer;
  write: (conn: Conn, buf: Buffer) => void;
  send: (conn: Conn, msg: ControlMessage) => void;
};

export type Presence = ReturnType<typeof createPresence>;

export function createPresence(deps: PresenceDeps) {
  const watchers = new Map<number, Set<Conn>>();

  // The frame is built once; only the destination id differs from one watcher to the next.
  function fanOut(set: ReadonlySet<Conn>, msg: ControlMessage): void {
    const template = deps.frameOf(0, encodeControl(msg));
    for (const w of set) {
      if (w.phase.state !== 'SESSION') continue;
      const buf = Buffer.allocUnsafe(template.length);
      template.copy(buf);
      buf.writeUIntBE(w.id, FRAME.OFFSET_DESTINATION, 5);
      deps.write(w, buf);
    }
  }

  // Tells the watchers of `id` that it came or went.
  function announce(id: number, online: boolean, at: number): void {
    const set = watchers.get(id);
    if (set && set.size > 0) fanOut(set, { type: 'presence', id, online, at });
  }

  function announceRevoked(id: number, key: string, at: number): void {
    const set = watchers.get(id);
    if (set) fanOut(set, { type: 'revoked', id, key, at });
  }

  function unwatch(conn: Conn, watching: readonly number[] | null): void {
    for (const id of watching ?? []) {
      const set = watchers.get(id);
      if (!set) continue;
      set.delete(conn);
      if (set.size === 0) watchers.delete(id);
    }
  }

  // Replaces the session's watch list and answers with the state of each id (and its revocation).
  function watch(conn: Conn, ids: number[]): void {
    if (conn.phase.state !== 'SESSION') return;
    const session = conn.phase;
    unwatch(conn, session.watching);
    const unique = [...new Set(ids)];
    for (const id of unique) {
      let set = watchers.get(id);
      if (!set) watchers.set(id, (set = new Set()));
      set.add(conn);
    }
    session.watching = unique.length > 0 ? unique : null;
    const registry = deps.registry();
    for (const id of unique) {
      deps.send(conn, { type: 'presence', id, online: deps.isOnline(id), at: registry.lastSeen.get(id) ?? 0 });
      const key = registry.byId.get(id);
      const revokedAt = key === undefined ? undefined : registry.revoked.get(key);
      if (key !== undefined && revokedAt !== undefined) deps.send(conn, { type: 'revoked', id, key, at: revokedAt });
      // A slow reader is dropped by a send: stop there.
      if (conn.phase.state !== 'SESSION') return;
    }
  }

  return { watch, unwatch, announce, announceRevoked };
}
