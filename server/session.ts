// Frames in and out on a server connection (PROTOCOL.md sections 2, 5 and 6): the decoder loop,
// the checks every control frame passes, and writing with a bound on what a peer leaves unread.
// What the frames mean is decided elsewhere (onFirstFrame, onFrame, given by the wiring).
import type { ControlMessage } from '../src/net/control.js';
import { encodeControl } from '../src/net/control.js';
import type { NetError } from '../src/net/errors.js';
import type { Frame } from '../src/net/frame.js';
import { controlFrame, controlOf, feed, refusalFor, writeBounded } from '../src/net/link.js';
import type { Conn } from './connections.js';

// What a waiting relay end may send before its pair is complete (one TLS flight is a few KiB).
const MAX_EARLY = 64 * 1024;

export type SessionDeps = {
  maxWriteQueueBytes: number;
  now: () => number;
  // Closes with a last message (or none); the reason is the message's code unless given.
  refuse: (conn: Conn, last: ControlMessage | Buffer | null, reason?: string) => void;
  // Closes without a message (the peer left, or cannot be written to).
  finish: (conn: Conn, reason: string) => void;
  // The first frame of a NEW connection, and the bytes that followed it in the same read.
  onFirstFrame: (conn: Conn, frame: Frame, rest: Buffer) => void;
  onFrame: (conn: Conn, frame: Frame) => void;
};

export type Session = ReturnType<typeof createSession>;

// A frame from the server (source 0) to a client (its id, 0 before login-ok).
export function frameOf(destination: number, payload: Buffer): Buffer {
  return controlFrame(0, destination, payload);
}

export function createSession(deps: SessionDeps) {
  function write(conn: Conn, buf: Buffer): void {
    const written = writeBounded(conn.socket, buf, deps.maxWriteQueueBytes);
    if (written === 'closed') return;
    conn.lastTx = deps.now();
    // A peer that does not read would make this queue grow without end: drop it.
    if (written === 'over' && conn.phase.state !== 'CLOSING') {
      conn.socket.destroy();
      deps.finish(conn, 'SLOW_READER');
    }
  }

  function send(conn: Conn, msg: ControlMessage): void {
    write(conn, frameOf(conn.id, encodeControl(msg)));
  }

  // The one 'data' listener of a connection, whatever its state: frames while NEW or SESSION,
  // bytes kept for the splice while RELAY_WAIT, nothing after (the splice reads a RELAY socket
  // itself; a CLOSING one is drained so that its close is not a reset, see finish).
  function onData(conn: Conn, chunk: Buffer): void {
    const p = conn.phase;
    if (p.state === 'RELAY_WAIT') return keepEarly(conn, p, chunk);
    if ((p.state !== 'NEW' && p.state !== 'SESSION') || !p.decoder) return;
    conn.lastRx = deps.now();
    const decoder = p.decoder;
    // A NEW connection's first frame decides what it is (a session or a relay end); the bytes
    // after it are handed over with it, for a relay end's splice.
    const failure = feed(decoder, chunk, (f) => {
      if (conn.phase.state === 'NEW') {
        deps.onFirstFrame(conn, f, decoder.rest());
        return false;
      }
      if (conn.phase.state !== 'SESSION') return false;
      deps.onFrame(conn, f);
      return true;
    });
    if (failure && (conn.phase.state === 'NEW' || conn.phase.state === 'SESSION')) badFrame(conn, failure);
  }

  // A relay end waiting for its pair (section 8, step 4): bytes it sends are kept for the splice.
  // Beyond MAX_EARLY the socket is paused, so a client that floods before relay-ready holds no
  // more than that; its close is then seen at the pairing timeout, as it broke step 2.
  function keepEarly(conn: Conn, p: Extract<Conn['phase'], { state: 'RELAY_WAIT' }>, chunk: Buffer): void {
    p.early = p.early ? Buffer.concat([p.early, chunk]) : chunk;
    if (p.early.length >= MAX_EARLY) conn.socket.pause();
  }

  function badFrame(conn: Conn, err: NetError): void {
    const { code, reply } = refusalFor(err);
    deps.refuse(conn, reply, code);
  }

  // Frames on a server session are CONTROL, from the client (its id, or 0 before it knew it),
  // to the server (0). Returns the message, or refuses the connection and returns null.
  function readControl(conn: Conn, frame: Frame): ControlMessage | null {
    try {
      return controlOf(frame, conn.id, 0);
    } catch (err) {
      badFrame(conn, err as NetError);
      return null;
    }
  }

  return { write, send, onData, readControl };
}
