// Frames on a socket: the loop every link runs, the server's sessions, the client's session and
// the peer links alike (docs/PROTOCOL.md sections 2, 3 and 5). Bytes go in through the decoder and
// each whole frame is handed on, in order; bytes this side refuses get one answer, the same on
// every link; frames go out with a bound on what the other side may leave unread. What a frame
// means, and who may send which, is the caller's.
import type { Socket } from 'node:net';
import { CONTENT, ERR, FLAGS, SUPPORTED_VERSIONS, WIRE_CODE } from './constants.js';
import { decodeControl, isControlError, type ControlMessage } from './control.js';
import { frameBadAddress, frameNotControl, type NetError } from './errors.js';
import { encodeFrame, versionRefusedFrame, type Frame, type FrameDecoder } from './frame.js';
import { reasonText } from './text.js';

// Pushes one chunk through the decoder and hands each whole frame to onFrame, in order, until
// onFrame returns false (the link changed state and reads no more frames). When the chunk holds
// bad bytes, the frames before them are valid and are handed on first; the error is returned for
// refusalFor, and the link must then close: the decoder cannot frame what follows.
export function feed(decoder: FrameDecoder, chunk: Buffer, onFrame: (frame: Frame) => boolean): NetError | null {
  let frames: Frame[];
  let failure: NetError | null = null;
  try {
    frames = decoder.push(chunk);
  } catch (err) {
    failure = err as NetError;
    frames = failure.frames ?? [];
  }
  for (const f of frames) {
    if (!onFrame(f)) return null;
  }
  return failure;
}

// What this side answers before it closes a link over bytes it refuses (sections 3 and 5): a
// frame of a version it does not speak gets the version-refused reply with its own versions, a
// version-refused reply gets nothing (the other side is closing), a control payload that does not
// decode gets BAD_CONTROL, anything else BAD_FRAME. `code` is the reason the link closed.
export type Refusal = { code: string; reply: Buffer | ControlMessage | null };

export function refusalFor(err: NetError): Refusal {
  if (err.code === ERR.FRAME_BAD_VERSION) return { code: 'VERSION_REFUSED', reply: versionRefusedFrame(SUPPORTED_VERSIONS) };
  if (err.code === ERR.FRAME_VERSION_REFUSED) return { code: 'VERSION_REFUSED', reply: null };
  const code = isControlError(err) ? WIRE_CODE.BAD_CONTROL : WIRE_CODE.BAD_FRAME;
  return { code, reply: { type: 'error', code, reason: reasonText(err.message) } };
}

// A CONTROL frame around an encoded control message. Sources and destinations are ids, 0 the
// server or a client that does not know its id yet.
export function controlFrame(source: number, destination: number, payload: Buffer): Buffer {
  return encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source, destination, contentId: 0, payload });
}

// The control message of a frame on a link that carries nothing else (a server session), sent by
// `from` to `to`. Either address may also be 0, which a side writes before it knows the id
// (section 2); `to` null: this side does not know its own id yet (a client before login-ok,
// which is the frame that brings it). Throws the NetError to refuse the link with.
export function controlOf(frame: Frame, from: number, to: number | null): ControlMessage {
  if (frame.contentType !== CONTENT.CONTROL) throw frameNotControl(frame.contentType);
  const toOk = to === null || frame.destination === to || frame.destination === 0;
  if ((frame.source !== from && frame.source !== 0) || !toOk) {
    throw frameBadAddress(frame.source, frame.destination, from, to ?? 0);
  }
  return decodeControl(frame.payload);
}

// Writes, unless the socket is gone. 'over': the other side left more than maxQueue bytes unread,
// so it does not read, and the caller closes the link rather than let the queue grow without end.
// 'wait': written, past the socket's high-water mark (wait for 'drain' before more bulk).
// `done`, when given, is called once the bytes have left the socket's buffer (or failed to); not
// at all when the socket is gone ('closed').
export type WriteResult = 'ok' | 'wait' | 'over' | 'closed';

export function writeBounded(socket: Socket, buf: Buffer, maxQueue: number, done?: () => void): WriteResult {
  if (socket.destroyed || !socket.writable) return 'closed';
  const ok = done ? socket.write(buf, () => done()) : socket.write(buf);
  if (socket.writableLength > maxQueue) return 'over';
  return ok ? 'ok' : 'wait';
}

// Resolves once the socket's write queue is empty (at once when it is), or the socket closed.
export function drained(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.writableLength === 0 || socket.destroyed) return resolve();
    const done = (): void => {
      socket.off('drain', done).off('close', done);
      resolve();
    };
    socket.on('drain', done).on('close', done);
  });
}
