// The frame: one format on every link (server session, peer link, relayed link). A fixed 27-byte
// header, then the payload. Byte by byte in docs/PROTOCOL.md "Frames"; in short:
//
//   0  'P' 'L'  magic              same in every version
//   2  version  1                  same place in every version; 0 = version-refused reply
//   3  content type                CONTENT (constants.ts)
//   4  flags                       0 in version 1
//   5  source id        5 bytes    uint40 big-endian, 0 = server / no id yet
//  10  destination id   5 bytes    uint40 big-endian, 0 = server
//  15  content id       8 bytes    uint64 big-endian, at most 2^53 - 1 in version 1
//  23  payload length   4 bytes    uint32 big-endian, bounded per content type
//  27  payload
//
// The decoder takes bytes as they arrive (split anywhere, one byte at a time if need be), checks
// each header field as soon as it has it, and never allocates more than the announced, already
// bounded, payload length: a peer cannot make it buffer more than one frame.
import {
  CONTENT,
  FLAGS,
  FRAME,
  LIMITS,
  PAYLOAD_LIMIT,
  PROTOCOL_VERSION,
  SUPPORTED_VERSIONS,
  type ContentType,
} from './constants.js';
import {
  decoderFailed,
  decoderStopped,
  frameBadContentId,
  frameBadFlags,
  frameBadMagic,
  frameBadRefusal,
  frameBadType,
  frameBadVersion,
  frameInvalid,
  frameTooLarge,
  frameVersionRefused,
  type NetError,
} from './errors.js';

export type Frame = {
  contentType: ContentType;
  flags: number;
  // 0..2^40-1; 0 is the server (as destination) or a client before login-ok (as source).
  source: number;
  destination: number;
  // 0..2^53-1: a message id, a chunk id (chunkContentId), or 0 when the payload needs none.
  contentId: number;
  // From the decoder this may be a view into the chunk that was pushed (no copy when the whole
  // payload arrived in one chunk). Copy it if you keep it and mind keeping that chunk alive.
  payload: Buffer;
};

export type FrameHead = Omit<Frame, 'payload'>;

export type FrameDecoderOptions = {
  // Largest payload accepted, whatever the content type allows; default LIMITS.MAX_FRAME_PAYLOAD.
  // A server session passes LIMITS.MAX_CONTROL_PAYLOAD: its links carry control messages only.
  maxPayload?: number;
  // Called on each decoded frame; when it returns true, the decoder stops right after that frame
  // and rest() hands back the bytes that followed it. For the relay handshake: after relay-ready,
  // the same socket carries the peers' own TLS bytes, not frames. Must not throw.
  stopWhen?: (frame: Frame) => boolean;
  // The buffer a payload that spans several reads is gathered into (default: a new one). A peer
  // link takes its chunks' from chunk-buffers.ts, to use them again.
  payloadBuffer?: (length: number, contentType: number) => Buffer;
};

export type FrameDecoder = {
  // Decodes the frames completed by this chunk. Throws a NetError (code FRAME_*) on bad input;
  // the error's `frames` holds the valid frames that came before the bad bytes in this chunk.
  // After an error every push throws again: the link is to be closed.
  push(chunk: Buffer): Frame[];
  // After stopWhen returned true: the bytes after the last frame (possibly empty). Empty otherwise.
  rest(): Buffer;
};

const EMPTY = Buffer.alloc(0);
const TWO_32 = 2 ** 32;
// The highest 32-bit word a content id may have so that it stays within 2^53 - 1.
const MAX_CONTENT_ID_HIGH = 2 ** 21 - 1;
const MAGIC = [FRAME.MAGIC_0, FRAME.MAGIC_1];
const CONTENT_TYPES: ReadonlySet<number> = new Set(Object.values(CONTENT));

function isContentType(type: number): type is ContentType {
  return CONTENT_TYPES.has(type);
}

function isId(id: unknown): id is number {
  return Number.isSafeInteger(id) && (id as number) >= 0 && (id as number) <= LIMITS.MAX_ID;
}

// The header of a frame whose payload the caller writes itself: a transfer engine can
// `socket.write(header); socket.write(chunk)` and never copy file bytes into a frame buffer.
export function encodeFrameHeader(head: FrameHead, payloadLength: number): Buffer {
  const { contentType, flags, source, destination, contentId } = head;
  if (!isContentType(contentType)) throw frameInvalid(`content type ${String(contentType)} is not one of CONTENT`);
  if (flags !== FLAGS.NONE) throw frameInvalid(`flags must be 0 in protocol version ${PROTOCOL_VERSION}`);
  if (!isId(source)) throw frameInvalid(`source id ${String(source)} is not a whole number from 0 to 2^40-1`);
  if (!isId(destination)) throw frameInvalid(`destination id ${String(destination)} is not a whole number from 0 to 2^40-1`);
  if (!Number.isSafeInteger(contentId) || contentId < 0) {
    throw frameInvalid(`content id ${String(contentId)} is not a whole number from 0 to 2^53-1`);
  }
  const limit = PAYLOAD_LIMIT[contentType];
  if (!Number.isSafeInteger(payloadLength) || payloadLength < 0 || payloadLength > limit) {
    throw frameInvalid(`a payload of ${payloadLength} bytes is over the limit of ${limit} bytes for content type ${contentType}`);
  }
  const buf = Buffer.allocUnsafe(FRAME.HEADER_SIZE);
  buf[0] = FRAME.MAGIC_0;
  buf[1] = FRAME.MAGIC_1;
  buf[FRAME.OFFSET_VERSION] = PROTOCOL_VERSION;
  buf[FRAME.OFFSET_TYPE] = contentType;
  buf[FRAME.OFFSET_FLAGS] = flags;
  buf.writeUIntBE(source, FRAME.OFFSET_SOURCE, 5);
  buf.writeUIntBE(destination, FRAME.OFFSET_DESTINATION, 5);
  buf.writeUInt32BE(Math.floor(contentId / TWO_32), FRAME.OFFSET_CONTENT_ID);
  buf.writeUInt32BE(contentId >>> 0, FRAME.OFFSET_CONTENT_ID + 4);
  buf.writeUInt32BE(payloadLength, FRAME.OFFSET_LENGTH);
  return buf;
}

// Header and payload in one buffer (one copy of the payload): for control and text frames.
export function encodeFrame(frame: Frame): Buffer {
  if (!Buffer.isBuffer(frame.payload)) throw frameInvalid('payload is not a Buffer');
  const header = encodeFrameHeader(frame, frame.payload.length);
  return Buffer.concat([header, frame.payload], FRAME.HEADER_SIZE + frame.payload.length);
}

// The version-independent reply to a frame of a version this side does not speak: magic, a 0
// version byte, the count of versions, the versions. Its layout never changes, so any version
// can read it (docs/PROTOCOL.md "Versions"). Send it, then close the link.
// => 50 4c 00 01 01 for a build that speaks version 1 only
export function versionRefusedFrame(versions: readonly number[] = SUPPORTED_VERSIONS): Buffer {
  if (versions.length < 1 || versions.length > FRAME.MAX_REFUSED_VERSIONS) {
    throw frameInvalid(`a version-refused reply names 1 to ${FRAME.MAX_REFUSED_VERSIONS} versions, not ${versions.length}`);
  }
  const buf = Buffer.allocUnsafe(FRAME.REFUSED_PREFIX_SIZE + versions.length);
  buf[0] = FRAME.MAGIC_0;
  buf[1] = FRAME.MAGIC_1;
  buf[2] = FRAME.VERSION_REFUSED;
  buf[3] = versions.length;
  versions.forEach((v, i) => {
    if (!Number.isInteger(v) || v < 1 || v > 255) throw frameInvalid(`version ${v} is not a whole number from 1 to 255`);
    buf[FRAME.REFUSED_PREFIX_SIZE + i] = v;
  });
  return buf;
}

// File chunks carry raw bytes, so the content id says which chunk: the transfer's tag (1..2^21-1,
// chosen by the sender, unique among its open transfers to that peer) in the high bits, the chunk
// index (0..2^32-1) in the low 32 bits. => chunkContentId(3, 10) = 12884901898
export function chunkContentId(transfer: number, index: number): number {
  if (!Number.isInteger(transfer) || transfer < 1 || transfer > MAX_CONTENT_ID_HIGH) {
    throw frameInvalid(`transfer tag ${transfer} is not a whole number from 1 to 2^21-1`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= TWO_32) {
    throw frameInvalid(`chunk index ${index} is not a whole number from 0 to 2^32-1`);
  }
  return transfer * TWO_32 + index;
}

export function splitChunkContentId(contentId: number): { transfer: number; index: number } {
  return { transfer: Math.floor(contentId / TWO_32), index: contentId % TWO_32 };
}

function checkMagic(buf: Buffer, offset: number, from: number, to: number): void {
  // `from`/`to` are positions inside the header: only the bytes not yet checked are looked at.
  for (let i = from; i < to && i < 2; i++) {
    const byte = buf[offset + i];
    if (byte !== MAGIC[i]) throw frameBadMagic(i, byte, MAGIC[i]);
  }
}

function checkVersion(version: number): void {
  if (version !== PROTOCOL_VERSION) throw frameBadVersion(version, PROTOCOL_VERSION);
}

// Reads a complete header at buf[offset..offset+27); magic and version are already checked.
// Checks in wire order so the first bad field is the one reported.
function readHeader(buf: Buffer, offset: number, maxPayload: number): FrameHead & { length: number } {
  const contentType = buf[offset + FRAME.OFFSET_TYPE];
  if (!isContentType(contentType)) throw frameBadType(contentType);
  const flags = buf[offset + FRAME.OFFSET_FLAGS];
  if (flags !== FLAGS.NONE) throw frameBadFlags(flags);
  const source = buf.readUIntBE(offset + FRAME.OFFSET_SOURCE, 5);
  const destination = buf.readUIntBE(offset + FRAME.OFFSET_DESTINATION, 5);
  const high = buf.readUInt32BE(offset + FRAME.OFFSET_CONTENT_ID);
  if (high > MAX_CONTENT_ID_HIGH) throw frameBadContentId();
  const contentId = high * TWO_32 + buf.readUInt32BE(offset + FRAME.OFFSET_CONTENT_ID + 4);
  const length = buf.readUInt32BE(offset + FRAME.OFFSET_LENGTH);
  const limit = Math.min(PAYLOAD_LIMIT[contentType], maxPayload);
  if (length > limit) throw frameTooLarge(length, limit, contentType);
  return { contentType, flags, source, destination, contentId, length };
}

export function createFrameDecoder(options: FrameDecoderOptions = {}): FrameDecoder {
  const maxPayload = options.maxPayload ?? LIMITS.MAX_FRAME_PAYLOAD;
  if (!Number.isSafeInteger(maxPayload) || maxPayload < 0 || maxPayload > LIMITS.MAX_FRAME_PAYLOAD) {
    throw frameInvalid(`maxPayload ${String(maxPayload)} is not a whole number from 0 to ${LIMITS.MAX_FRAME_PAYLOAD}`);
  }
  const stopWhen = options.stopWhen;
  const payloadBuffer = options.payloadBuffer;

  // A header that arrives in pieces is gathered here (27 bytes, or up to 259 for a
  // version-refused reply). A header that arrives whole is read in place. Allocated on first use:
  // a server holds thousands of decoders, and most links never split a header.
  let head: Buffer = EMPTY;
  let headFill = 0;
  // The frame whose payload is being gathered, once its header is read.
  let pending: (FrameHead & { length: number }) | null = null;
  let payload: Buffer = EMPTY;
  let payloadFill = 0;
  let failed: NetError | null = null;
  let stopped = false;
  let rest: Buffer = EMPTY;

  // How many header bytes are wanted before the next decision: 3 (magic and version), then
  // either the 27-byte header or, after a 0 version byte, 4 then 4 + N for the refusal.
  function headTarget(): number {
    if (headFill < 3) return 3;
    if (head[FRAME.OFFSET_VERSION] !== FRAME.VERSION_REFUSED) return FRAME.HEADER_SIZE;
    if (headFill < FRAME.REFUSED_PREFIX_SIZE) return FRAME.REFUSED_PREFIX_SIZE;
    return FRAME.REFUSED_PREFIX_SIZE + head[3];
  }

  function refusal(): NetError {
    const count = head[3];
    if (count === 0) return frameBadRefusal();
    return frameVersionRefused([...head.subarray(FRAME.REFUSED_PREFIX_SIZE, FRAME.REFUSED_PREFIX_SIZE + count)], PROTOCOL_VERSION);
  }

  // Field by field: a rest pattern and a spread cost every frame several microseconds.
  function withPayload(h: FrameHead, payload: Buffer): Frame {
    return { contentType: h.contentType, flags: h.flags, source: h.source, destination: h.destination, contentId: h.contentId, payload };
  }

  function decode(chunk: Buffer, frames: Frame[]): void {
    const end = chunk.length;
    let off = 0;
    // Ends a frame; returns true when the caller asked to stop after it.
    const emit = (frame: Frame): boolean => {
      frames.push(frame);
      if (stopWhen && stopWhen(frame)) {
        stopped = true;
        rest = chunk.subarray(off);
        return true;
      }
      return false;
    };
    // The header is read: take the payload in place if it is all here, else start gathering it.
    const begin = (h: FrameHead & { length: number }): boolean => {
      const length = h.length;
      if (length <= end - off) {
        const body = length === 0 ? EMPTY : chunk.subarray(off, off + length);
        off += length;
        return emit(withPayload(h, body));
      }
      pending = h;
      payload = payloadBuffer ? payloadBuffer(length, h.contentType) : Buffer.allocUnsafe(length);
      payloadFill = 0;
      return false;
    };

    while (off < end) {
      if (pending !== null) {
        const n = Math.min(pending.length - payloadFill, end - off);
        chunk.copy(payload, payloadFill, off, off + n);
        payloadFill += n;
        off += n;
        if (payloadFill < pending.length) continue;
        const frame = withPayload(pending, payload);
        pending = null;
        payload = EMPTY;
        if (emit(frame)) return;
        continue;
      }

      // Fast path: a whole header at a frame boundary is read where it lies.
      if (headFill === 0 && end - off >= FRAME.HEADER_SIZE && chunk[off + FRAME.OFFSET_VERSION] !== FRAME.VERSION_REFUSED) {
        checkMagic(chunk, off, 0, 2);
        checkVersion(chunk[off + FRAME.OFFSET_VERSION]);
        const h = readHeader(chunk, off, maxPayload);
        off += FRAME.HEADER_SIZE;
        if (begin(h)) return;
        continue;
      }

      // Slow path: gather the header piece by piece, checking magic and version the moment they
      // arrive, so a stranger (or another version) is refused after at most 3 bytes.
      if (head === EMPTY) head = Buffer.alloc(FRAME.REFUSED_PREFIX_SIZE + FRAME.MAX_REFUSED_VERSIONS);
      const before = headFill;
      const n = Math.min(headTarget() - headFill, end - off);
      chunk.copy(head, headFill, off, off + n);
      headFill += n;
      off += n;
      checkMagic(head, 0, before, headFill);
      if (headFill < 3) continue;
      const version = head[FRAME.OFFSET_VERSION];
      if (version === FRAME.VERSION_REFUSED) {
        if (headFill >= FRAME.REFUSED_PREFIX_SIZE && (head[3] === 0 || headFill === headTarget())) throw refusal();
        continue;
      }
      checkVersion(version);
      if (headFill < FRAME.HEADER_SIZE) continue;
      const h = readHeader(head, 0, maxPayload);
      headFill = 0;
      if (begin(h)) return;
    }
  }

  function push(chunk: Buffer): Frame[] {
    if (failed) throw decoderFailed(failed);
    if (stopped) throw decoderStopped();
    const frames: Frame[] = [];
    try {
      decode(chunk, frames);
    } catch (err) {
      // Only coded errors come out of decode (readHeader and friends); anything else is a bug
      // and is thrown as it is.
      const e = err as NetError;
      failed = e;
      e.frames = frames;
      throw e;
    }
    return frames;
  }

  return {
    push,
    rest: () => rest,
  };
}
