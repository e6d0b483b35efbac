// Errors of the wire layer. Each has a fixed code (constants.ts ERR) that tests and callers check.
// A decode error means the peer sent something this side will not read: the caller closes that
// link only, with the error's message as the reason. An encode error (FRAME_INVALID,
// CONTROL_TOO_LARGE) is a bug of this side.
import { causeText, EXIT, parleyError, type ParleyError } from '../errors.js';
import { ERR } from './constants.js';
import type { Frame } from './frame.js';

export type NetError = ParleyError & {
  // FRAME_BAD_VERSION: the version byte the peer sent. Answer with versionRefusedFrame(), then close.
  peerVersion?: number;
  // FRAME_VERSION_REFUSED: the versions the peer says it speaks.
  peerVersions?: number[];
  // CONTROL_*: the message type (when known) and the field at fault.
  messageType?: string;
  field?: string;
  // Decoder errors: frames that were complete in the same push, before the bad bytes. They are
  // valid; a caller may still act on them before it closes the link.
  frames?: Frame[];
  // SESSION_CLOSED: how the session ended.
  end?: SessionEndInfo;
};

function netError(code: string, message: string, exitCode: number, extra?: Partial<NetError>, cause?: unknown): NetError {
  const err = parleyError(code, message, exitCode, cause) as NetError;
  if (extra) Object.assign(err, extra);
  return err;
}

function hex(byte: number): string {
  return '0x' + byte.toString(16).padStart(2, '0');
}

export function isNetError(err: unknown): err is NetError {
  return err instanceof Error && typeof (err as NetError).code === 'string' && Object.values(ERR).includes((err as NetError).code as never);
}

export function frameBadMagic(offset: number, byte: number, expected: number): NetError {
  return netError(
    ERR.FRAME_BAD_MAGIC,
    `the peer sent bytes that are not a Parley frame (byte ${offset} of a header is ${hex(byte)}, expected ${hex(expected)}): ` +
      'it is not a Parley server or client, or the link is corrupted; the link was closed',
    EXIT.PEER,
  );
}

export function frameBadVersion(version: number, own: number): NetError {
  return netError(
    ERR.FRAME_BAD_VERSION,
    `the peer speaks Parley protocol version ${version} and this Parley speaks ${own}: update the older side`,
    EXIT.PEER,
    { peerVersion: version },
  );
}

export function frameVersionRefused(versions: number[], own: number): NetError {
  return netError(
    ERR.FRAME_VERSION_REFUSED,
    `the peer does not speak Parley protocol version ${own}; it speaks ${versions.join(', ')}: update the older side`,
    EXIT.PEER,
    { peerVersions: versions },
  );
}

export function frameBadRefusal(): NetError {
  return netError(
    ERR.FRAME_VERSION_REFUSED,
    'the peer refused this protocol version without naming one it speaks: update Parley on both sides',
    EXIT.PEER,
    { peerVersions: [] },
  );
}

export function frameBadType(type: number): NetError {
  return netError(
    ERR.FRAME_BAD_TYPE,
    `the peer sent a frame of unknown content type ${type}; the link was closed (is the peer a newer Parley?)`,
    EXIT.PEER,
  );
}

export function frameBadFlags(flags: number): NetError {
  return netError(
    ERR.FRAME_BAD_FLAGS,
    `the peer sent a frame with flags ${hex(flags)}, none of which this protocol version defines; the link was closed`,
    EXIT.PEER,
  );
}

export function frameBadContentId(): NetError {
  return netError(
    ERR.FRAME_BAD_CONTENT_ID,
    'the peer sent a frame whose content id is over 2^53 - 1, which protocol version 1 does not allow; the link was closed',
    EXIT.PEER,
  );
}

export function frameTooLarge(length: number, limit: number, type: number): NetError {
  return netError(
    ERR.FRAME_TOO_LARGE,
    `the peer announced a payload of ${length} bytes in a frame of content type ${type}, over the limit of ${limit} bytes; the link was closed`,
    EXIT.PEER,
  );
}

// On a server session, where only CONTROL frames travel.
export function frameNotControl(type: number): NetError {
  return netError(ERR.FRAME_BAD_TYPE, `the peer sent a frame of content type ${type} on a server session, which carries control messages only; the link was closed`, EXIT.PEER);
}

// A frame whose source or destination is neither the id expected there nor 0 (no id yet).
export function frameBadAddress(source: number, destination: number, from: number, to: number): NetError {
  return netError(
    ERR.FRAME_BAD_ADDRESS,
    `the peer sent a frame from ${source} to ${destination} where ${from} (or 0) writes to ${to} (or 0); the link was closed`,
    EXIT.PEER,
  );
}

// After a decode error the decoder stays failed: the bytes that follow cannot be framed again.
export function decoderFailed(first: NetError): NetError {
  return netError(
    first.code,
    `${first.message} (the frame decoder already failed; close the link)`,
    EXIT.BUG,
    { frames: [] },
    first,
  );
}

export function decoderStopped(): NetError {
  return netError(
    ERR.FRAME_DECODER_STOPPED,
    'the frame decoder has stopped (stopWhen): take the remaining bytes with rest() and read them as the new stream',
    EXIT.BUG,
  );
}

// Encode side: a frame this program built is wrong. A bug, never a peer's doing.
export function frameInvalid(message: string): NetError {
  return netError(ERR.FRAME_INVALID, `cannot encode frame: ${message}`, EXIT.BUG);
}

export function controlMalformed(cause: unknown): NetError {
  return netError(
    ERR.CONTROL_MALFORMED,
    `the peer sent a control message that is not valid MessagePack (${causeText(cause, { max: 200 })}); the link was closed`,
    EXIT.PEER,
    undefined,
    cause,
  );
}

// The control errors below serve both directions: `local` true when this side's own message
// failed validation in encodeControl (a bug here), false when a peer's message did (close the link).
function subject(local: boolean): string {
  return local ? 'cannot encode' : 'the peer sent';
}

function tail(local: boolean): string {
  return local ? '' : '; the link was closed';
}

export function controlNotObject(what: string, local = false): NetError {
  return netError(
    ERR.CONTROL_NOT_OBJECT,
    `${subject(local)} a control message that is ${what}, not a map with a type${tail(local)}`,
    local ? EXIT.BUG : EXIT.PEER,
  );
}

export function controlUnknownType(type: unknown, local = false): NetError {
  const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : typeof type;
  return netError(
    ERR.CONTROL_UNKNOWN_TYPE,
    `${subject(local)} a control message of unknown type ${shown}${tail(local)}${local ? '' : ' (is the peer a newer Parley?)'}`,
    local ? EXIT.BUG : EXIT.PEER,
    { messageType: typeof type === 'string' ? type.slice(0, 40) : undefined },
  );
}

export function controlMissingField(type: string, field: string, local = false): NetError {
  return netError(
    ERR.CONTROL_MISSING_FIELD,
    `${subject(local)} a ${type} message without its ${field} field${tail(local)}`,
    local ? EXIT.BUG : EXIT.PEER,
    { messageType: type, field },
  );
}

export function controlBadField(type: string, field: string, expected: string, local = false): NetError {
  return netError(
    ERR.CONTROL_BAD_FIELD,
    `${subject(local)} a ${type} message whose ${field} is not ${expected}${tail(local)}`,
    local ? EXIT.BUG : EXIT.PEER,
    { messageType: type, field },
  );
}

export function controlTooLarge(type: string, length: number, limit: number): NetError {
  return netError(
    ERR.CONTROL_TOO_LARGE,
    `cannot encode a ${type} message of ${length} bytes: control messages are at most ${limit} bytes`,
    EXIT.BUG,
    { messageType: type },
  );
}

// The client's server session (session.ts). `end` says how the session ended: the server's code
// (bye, error, login-refused), this side's, or the connection's.
export type SessionEndInfo = { by: 'server' | 'client' | 'link'; code: string; reason: string };

export function sessionTimeout(what: string, ms: number, host: string, port: number): NetError {
  return netError(ERR.SESSION_TIMEOUT, `the server at ${host}:${port} sent no ${what} within ${ms} ms; check that it runs and is reachable`, EXIT.PEER);
}

export function sessionClosed(what: string, end: SessionEndInfo, host: string, port: number): NetError {
  const by = end.by === 'server' ? 'the server ended it' : end.by === 'client' ? 'this side ended it' : 'the connection was lost';
  return netError(
    ERR.SESSION_CLOSED,
    `the session with ${host}:${port} closed before ${what} (${by}: ${end.code}, ${end.reason})`,
    EXIT.PEER,
    { end },
  );
}

// Before TLS was up: refused, reset, or closed by a server that does not take this client.
export function sessionNoHandshake(host: string, port: number, cause: Error | null): NetError {
  const code = (cause as NodeJS.ErrnoException | null)?.code ?? 'CONNECTION_CLOSED';
  const why = cause ? `: ${causeText(cause, { max: 200 })}` : '';
  return netError(
    ERR.SESSION_CLOSED,
    `the connection to ${host}:${port} closed before the TLS handshake finished${why}; check the address and that the server runs`,
    EXIT.PEER,
    { end: { by: 'link', code, reason: cause ? causeText(cause, { max: 200 }) : 'closed without a word' } },
    cause ?? undefined,
  );
}
