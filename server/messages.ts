// What a client's control messages do on the server (PROTOCOL.md sections 6-8): the first frame of
// a connection says what it is, and a session's messages after login-ok are answered here or
// handed to the part whose job they are (presence.ts, introductions.ts, closing.ts). Frames reach
// this module already checked (session.ts); what a login does is server.ts's and login.ts's.
import { WIRE_CODE } from '../src/net/constants.js';
import { encodeControl, type ControlMessage, type ControlOf } from '../src/net/control.js';
import type { Frame } from '../src/net/frame.js';
import type { Conn, Connections, Phase } from './connections.js';
import { decideListChange } from './presence.js';
import { frameOf } from './session.js';

type SessionPhase = Extract<Phase, { state: 'SESSION' }>;

export type MessagesDeps = {
  now: () => number;
  listChangesPerMinute: number;
  connections: Connections;
  // The frame's control message, or null when the connection was refused for it (session.ts).
  readControl: (conn: Conn, frame: Frame) => ControlMessage | null;
  write: (conn: Conn, buf: Buffer) => void;
  send: (conn: Conn, msg: ControlMessage) => void;
  refuse: (conn: Conn, last: ControlMessage | null, reason?: string) => void;
  finish: (conn: Conn, reason: string) => void;
  // Steps 4-5 for a connection that sent login, and the relay end's request (pairing.ts).
  login: (conn: Conn, msg: ControlOf<'login'>, rest: Buffer) => Promise<void>;
  relayRequest: (conn: Conn, msg: ControlOf<'relay-request'>, early: Buffer | null) => void;
  watch: (conn: Conn, ids: number[]) => void;
  introduce: (conn: Conn, p: SessionPhase, target: number) => void;
};

// The payloads that never change, encoded once: a server holding 20,000 sessions answers
// 2,000 heartbeats a second.
const HEARTBEAT_ACK = encodeControl({ type: 'heartbeat-ack' });

export function createMessages(deps: MessagesDeps) {
  const { now, connections, readControl, write, send, refuse, finish } = deps;

  // The first frame says what the connection is: a session (login) or a relay end (relay-request).
  // The socket is paused while that is settled; `rest` holds the bytes that followed the frame.
  function onFirstFrame(conn: Conn, frame: Frame, rest: Buffer): void {
    const msg = readControl(conn, frame);
    if (!msg) return;
    if (msg.type === 'login') {
      connections.enter(conn, { state: 'LOGGING_IN' });
      conn.socket.pause();
      void deps.login(conn, msg, Buffer.from(rest));
    } else if (msg.type === 'relay-request') {
      conn.socket.pause();
      deps.relayRequest(conn, msg, rest.length > 0 ? Buffer.from(rest) : null);
    } else {
      refuse(conn, { type: 'error', code: WIRE_CODE.NOT_LOGGED_IN, reason: `${msg.type} before login: the first message is login (or relay-request)` });
    }
  }

  // ---- a session's messages ----

  function onFrame(conn: Conn, frame: Frame): void {
    const msg = readControl(conn, frame);
    if (!msg || conn.phase.state !== 'SESSION') return;
    const p = conn.phase;
    switch (msg.type) {
      case 'heartbeat':
        return write(conn, frameOf(conn.id, HEARTBEAT_ACK));
      case 'heartbeat-ack':
        return;
      case 'time-request':
        return send(conn, { type: 'time', serverTime: now() });
      case 'presence-watch':
      case 'allow-list':
      case 'block-list': {
        const change = decideListChange(p.listChanges, now(), deps.listChangesPerMinute, msg.type);
        p.listChanges = change.window;
        if (change.refused) return send(conn, change.refused);
        if (msg.type === 'presence-watch') return deps.watch(conn, msg.ids);
        if (msg.type === 'allow-list') p.allowed = new Set(msg.ids);
        else p.blocked = msg.ids.length > 0 ? new Set(msg.ids) : null;
        return;
      }
      case 'introduce-request':
        return deps.introduce(conn, p, msg.target);
      case 'bye':
      case 'error':
        return finish(conn, msg.code);
      case 'version-refused':
        return finish(conn, 'VERSION_REFUSED');
      default:
        return refuse(conn, { type: 'error', code: WIRE_CODE.UNEXPECTED, reason: `a ${msg.type} message is not one a client sends on a session` });
    }
  }

  return { onFirstFrame, onFrame };
}
