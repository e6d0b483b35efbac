// Frames in and out on a server connection (PROTOCOL.md sections 2, 5 and 6): the decoder loop,
// the checks every control frame passes, and writing with a bound on what a peer leaves unread.
// What the frames mean is decided elsewhere (onFirstFrame, onFrame, given by the wiring).
import { CONTENT, FLAGS, SUPPORTED_VERSIONS, WIRE_CODE } from '../src/net/constants.js';
import { decodeControl, encodeControl, isControlError, type ControlMessage } from '../src/net/control.js';
import { encodeFrame, versionRefusedFrame, type Frame } from '../src/net/frame.js';
import type { NetError } from '../src/net/errors.js';
import { reasonText } from '../src/net/text.js';
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

export function frameOf(destination: number, payload: Buffer): Buffer {
  return encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: 0, destination, contentId: 0, payload });
}

export function createSession(deps: SessionDeps) {
  function write(conn: Conn, buf: Buffer): void {
    const socket = conn.socket;
    if (socket.destroyed || !socket.writable) return;
    socket.write(buf);
    conn.lastTx = deps.now();
    // A peer that does not read would make this queue grow without end: drop it.
    if (socket.writableLength > deps.maxWriteQueueBytes && conn.phase.state !== 'CLOSING') {
      socket.destroy();
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
    let frames: Frame[];
    try {
      frames = p.decoder.push(chunk);
    } catch (err) {
      const e = err as NetError;
      // The frames before the bad bytes are valid: act on them, then refuse.
      for (const f of e.frames ?? []) {
        if (conn.phase.state !== 'SESSION') break;
        deps.onFrame(conn, f);
      }
      badFrame(conn, e);
      return;
    }
    if (p.state === 'NEW') {
      if (frames.length > 0) deps.onFirstFrame(conn, frames[0], p.decoder.rest());
      return;
    }
    for (const f of frames) {
      if (conn.phase.state !== 'SESSION') return;
      deps.onFrame(conn, f);
    }
  }

  // A relay end waiting for its pair (section 8, step 4): bytes it sends are kept for the splice.
  // Beyond MAX_EARLY the socket is paused, so a client that floods before relay-ready holds no
  // more than that; its close is then seen at the pairing timeout, as it broke step 2.
  function keepEarly(conn: Conn, p: Extract<Conn['phase'], { state: 'RELAY_WAIT' }>, chunk: Buffer): void {
    p.early = p.early ? Buffer.concat([p.early, chunk]) : chunk;
    if (p.early.length >= MAX_EARLY) conn.socket.pause();
  }

  function badFrame(conn: Conn, err: NetError): void {
    if (err.code === 'FRAME_BAD_VERSION') return deps.refuse(conn, versionRefusedFrame(SUPPORTED_VERSIONS), 'VERSION_REFUSED');
    deps.refuse(conn, { type: 'error', code: isControlError(err) ? WIRE_CODE.BAD_CONTROL : WIRE_CODE.BAD_FRAME, reason: reasonText(err.message) });
  }

  // Frames on a server session are CONTROL, from the client (its id, or 0 before it knew it),
  // to the server (0). Returns the message, or refuses the connection and returns null.
  function readControl(conn: Conn, frame: Frame): ControlMessage | null {
    if (frame.contentType !== CONTENT.CONTROL) {
      deps.refuse(conn, { type: 'error', code: WIRE_CODE.BAD_FRAME, reason: `a server link carries control frames only, not content type ${frame.contentType}` });
      return null;
    }
    if (frame.destination !== 0 || (frame.source !== 0 && frame.source !== conn.id)) {
      deps.refuse(conn, { type: 'error', code: WIRE_CODE.BAD_FRAME, reason: `a frame from ${frame.source} to ${frame.destination}: a client writes its own id (or 0) and the server's (0)` });
      return null;
    }
    try {
      return decodeControl(frame.payload);
    } catch (err) {
      badFrame(conn, err as NetError);
      return null;
    }
  }

  return { write, send, onData, readControl };
}
