// The fixed numbers of Parley's wire protocol, in one place so that docs/PROTOCOL.md, the server,
// the clients and the relay all read the same values. Change one here and in PROTOCOL.md together.

// One number versions both the frame layout and the control messages. A peer that speaks another
// version is answered with the version-independent "version refused" reply (frame.ts,
// docs/PROTOCOL.md "Versions").
export const PROTOCOL_VERSION = 1;

// Every version this build can speak, ascending; sent in the version-refused reply.
export const SUPPORTED_VERSIONS: readonly number[] = Object.freeze([PROTOCOL_VERSION]);

// The frame header, byte by byte, is in docs/PROTOCOL.md. The first three bytes (magic and version)
// are the same in every version, past and future: that is what makes a refusal readable by anyone.
export const FRAME = Object.freeze({
  MAGIC_0: 0x50, // 'P'
  MAGIC_1: 0x4c, // 'L'
  // Version byte 0 is never a protocol version: it marks the version-refused reply.
  VERSION_REFUSED: 0,
  HEADER_SIZE: 27,
  // Offsets inside the header.
  OFFSET_VERSION: 2,
  OFFSET_TYPE: 3,
  OFFSET_FLAGS: 4,
  OFFSET_SOURCE: 5,
  OFFSET_DESTINATION: 10,
  OFFSET_CONTENT_ID: 15,
  OFFSET_LENGTH: 23,
  // The version-refused reply: magic, 0, a count N (1..MAX_REFUSED_VERSIONS), N version bytes.
  REFUSED_PREFIX_SIZE: 4,
  MAX_REFUSED_VERSIONS: 255,
});

// What a frame's payload holds. 0 is never valid, so a run of zero bytes is refused at once.
export const CONTENT = Object.freeze({
  // A control message (control.ts): server link, relay handshake and peer-link housekeeping.
  CONTROL: 1,
  // A chat item between peers (message, edit, receipt), MessagePack; shape owned by the messaging layer.
  TEXT: 2,
  // Transfer negotiation between peers (offer, accept, chunk acks, cancel), MessagePack.
  FILE_CONTROL: 3,
  // Raw file bytes; the content id names the chunk (docs/PROTOCOL.md "Content ids").
  FILE_CHUNK: 4,
});
export type ContentType = (typeof CONTENT)[keyof typeof CONTENT];

// Flags byte: no flag is defined in version 1. Senders write 0 and receivers refuse anything else,
// so a flag added later comes with a new version instead of being silently misread.
export const FLAGS = Object.freeze({
  NONE: 0,
});

const KIB = 1024;
const MIB = 1024 * KIB;

export const LIMITS = Object.freeze({
  // No frame payload is ever larger than this, whatever its type: 1 MiB. It bounds what one link
  // can make its reader buffer; a decoder may be given a lower bound (the server uses
  // MAX_CONTROL_PAYLOAD on its session links, which carry nothing else).
  MAX_FRAME_PAYLOAD: MIB,
  // Control messages are small (the largest valid one, a full presence-watch, is under 10 KiB), so
  // 64 KiB is generous and keeps a server session's worst case small.
  MAX_CONTROL_PAYLOAD: 64 * KIB,
  // A chat item: a long pasted text in UTF-8 plus its fields.
  MAX_TEXT_PAYLOAD: MIB,
  // Offers carry names and per-chunk hashes in batches; 1 MiB holds 30,000 SHA-256 hashes.
  MAX_FILE_CONTROL_PAYLOAD: MIB,
  // File bytes of one chunk: up to 1 MiB. The transfer engine picks the chunk size (64 KiB to 1 MiB
  // are sensible); the quota counts ceil(bytes / 65,535) packets whatever the chunk size.
  MAX_CHUNK_PAYLOAD: MIB,
  // Ids are five bytes, as in the original's header. 0 means "nobody": the server as a destination,
  // or a client that has no id yet as a source. Assigned ids are 1..MAX_ID.
  MAX_ID: 2 ** 40 - 1,
  // Content ids are eight bytes on the wire, but version 1 keeps them within 2^53 - 1 so that they
  // stay exact JavaScript numbers; the top 11 bits must be zero.
  MAX_CONTENT_ID: Number.MAX_SAFE_INTEGER,
  // Times are milliseconds since 1970-01-01 UTC, up to the largest valid JavaScript Date.
  MAX_TIME: 8.64e15,
  MAX_REASON_LENGTH: 512,
  MAX_CODE_LENGTH: 64,
  MAX_AGENT_LENGTH: 64,
  // Address text: 45 characters is the longest IPv6 text form; room is left for a zone (%eth0).
  MAX_ADDRESS_LENGTH: 64,
  MAX_LAN_ADDRESSES: 16,
  // A server process as HOST:PORT (introduce's relay, a profile's server list): a host name of at
  // most 253 characters, its colon and a five-digit port => 259.
  MAX_SERVER_ADDRESS_LENGTH: 259,
  // Entries of a profile's server list (parley init --server A,B,...).
  MAX_SERVERS: 16,
  MAX_WATCH_IDS: 1024,
  MAX_VERSIONS: 16,
  // Nonces are 16 random bytes, sent as 32 lowercase hex characters.
  NONCE_HEX_LENGTH: 32,
  KEY_SHA256_HEX_LENGTH: 64,
  MIN_HEARTBEAT_MS: 1_000,
  MAX_HEARTBEAT_MS: 600_000,
});

// The payload limit of each content type (before a decoder's own maxPayload is applied).
export const PAYLOAD_LIMIT: Readonly<Record<ContentType, number>> = Object.freeze({
  [CONTENT.CONTROL]: LIMITS.MAX_CONTROL_PAYLOAD,
  [CONTENT.TEXT]: LIMITS.MAX_TEXT_PAYLOAD,
  [CONTENT.FILE_CONTROL]: LIMITS.MAX_FILE_CONTROL_PAYLOAD,
  [CONTENT.FILE_CHUNK]: LIMITS.MAX_CHUNK_PAYLOAD,
});

// Suggested timing (docs/PROTOCOL.md "Timing"). The server announces its heartbeat interval in
// login-ok; these are the defaults it announces and the bounds both sides apply.
export const TIMING = Object.freeze({
  // A side that has sent nothing for this long sends a heartbeat.
  HEARTBEAT_MS: 10_000,
  // A side that has received nothing (no frame at all) for this long drops the link: three
  // missed heartbeats.
  DEAD_AFTER_MS: 30_000,
  // From TCP accept to login-ok, TLS handshake included.
  LOGIN_TIMEOUT_MS: 10_000,
  // How far ahead of "now" the server sets punch-at: enough for both introductions to arrive on
  // most paths, no more. Being late costs little: a side whose introduction comes after punch-at
  // punches at once, and the early side's attempt is still waiting then (an attempt lives until it
  // fails or the window ends, punch.ts), so the late side's SYN crosses the mapping the early
  // side's SYN opened and the simultaneous open completes; only one SYN has to cross. Each 100 ms
  // of lead is 100 ms more before the first message of a punched link: 1 s made it 1.6 s from both
  // starts, 0.4 s made it 1.06 s (bench/routes.mjs).
  PUNCH_LEAD_MS: 100,
  // How long after punch-at the sides keep trying to punch before asking for the relay.
  PUNCH_WINDOW_MS: 5_000,
  // How long an introduction's nonce stays good for relay-request.
  INTRODUCTION_TTL_MS: 60_000,
  // How long the server waits for the second side of a relay pair.
  RELAY_PAIR_TIMEOUT_MS: 30_000,
});

// Codes of the errors this module throws (errors.ts makes them). Tests check these.
export const ERR = Object.freeze({
  FRAME_BAD_MAGIC: 'FRAME_BAD_MAGIC',
  FRAME_BAD_VERSION: 'FRAME_BAD_VERSION',
  FRAME_VERSION_REFUSED: 'FRAME_VERSION_REFUSED',
  FRAME_BAD_TYPE: 'FRAME_BAD_TYPE',
  FRAME_BAD_ADDRESS: 'FRAME_BAD_ADDRESS',
  FRAME_BAD_FLAGS: 'FRAME_BAD_FLAGS',
  FRAME_BAD_CONTENT_ID: 'FRAME_BAD_CONTENT_ID',
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  FRAME_DECODER_STOPPED: 'FRAME_DECODER_STOPPED',
  FRAME_INVALID: 'FRAME_INVALID',
  CONTROL_MALFORMED: 'CONTROL_MALFORMED',
  CONTROL_NOT_OBJECT: 'CONTROL_NOT_OBJECT',
  CONTROL_UNKNOWN_TYPE: 'CONTROL_UNKNOWN_TYPE',
  CONTROL_MISSING_FIELD: 'CONTROL_MISSING_FIELD',
  CONTROL_BAD_FIELD: 'CONTROL_BAD_FIELD',
  CONTROL_TOO_LARGE: 'CONTROL_TOO_LARGE',
  // The client's server session (session.ts): a wait that ran out, a wait or login on a session
  // that ended (the error carries how it ended).
  SESSION_TIMEOUT: 'SESSION_TIMEOUT',
  SESSION_CLOSED: 'SESSION_CLOSED',
});
export type NetErrorCode = (typeof ERR)[keyof typeof ERR];

// Codes carried inside control messages (login-refused, introduce-refused, relay-refused, bye,
// error). UPPER_SNAKE, at most LIMITS.MAX_CODE_LENGTH characters. A receiver accepts any code of
// that form, known or not, and shows the reason text beside it: a newer server may send codes
// this build has never heard of.
export const WIRE_CODE = Object.freeze({
  // login-refused (and, for a peer's certificate, a peer link's error): one code for each problem
  // of cert/errors.ts PEER_CODES, mapped by src/net/tls.ts refusalCode
  CERT_UNKNOWN_CA: 'CERT_UNKNOWN_CA',
  CERT_WRONG_ROLE: 'CERT_WRONG_ROLE',
  CERT_EXPIRED: 'CERT_EXPIRED',
  CERT_NOT_YET_VALID: 'CERT_NOT_YET_VALID',
  CERT_KEY_MISMATCH: 'CERT_KEY_MISMATCH',
  CERT_REVOKED: 'CERT_REVOKED',
  CERT_MISSING: 'CERT_MISSING',
  CERT_UNREADABLE: 'CERT_UNREADABLE',
  ALREADY_SIGNED_IN: 'ALREADY_SIGNED_IN',
  ID_EXHAUSTED: 'ID_EXHAUSTED',
  SERVER_FULL: 'SERVER_FULL',
  VERSION_UNSUPPORTED: 'VERSION_UNSUPPORTED',
  // introduce-refused
  PEER_OFFLINE: 'PEER_OFFLINE',
  PEER_UNKNOWN: 'PEER_UNKNOWN',
  PEER_REFUSED: 'PEER_REFUSED',
  PEER_SELF: 'PEER_SELF',
  PEER_ASKED: 'PEER_ASKED',
  RATE_LIMITED: 'RATE_LIMITED',
  // relay-refused
  RELAY_NO_INTRODUCTION: 'RELAY_NO_INTRODUCTION',
  RELAY_LIMIT: 'RELAY_LIMIT',
  RELAY_TIMEOUT: 'RELAY_TIMEOUT',
  // bye and error
  QUIT: 'QUIT',
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  SIGNED_IN_ELSEWHERE: 'SIGNED_IN_ELSEWHERE',
  REVOKED: 'REVOKED',
  HEARTBEAT_TIMEOUT: 'HEARTBEAT_TIMEOUT',
  LOGIN_TIMEOUT: 'LOGIN_TIMEOUT',
  NOT_LOGGED_IN: 'NOT_LOGGED_IN',
  BAD_FRAME: 'BAD_FRAME',
  BAD_CONTROL: 'BAD_CONTROL',
  UNEXPECTED: 'UNEXPECTED',
  // a peer link's first exchange (section 9)
  PEER_MISMATCH: 'PEER_MISMATCH',
  HELLO_TIMEOUT: 'HELLO_TIMEOUT',
  DUPLICATE: 'DUPLICATE',
});

// The two parts of a simultaneous open (docs/PROTOCOL.md "Introduction and hole punch").
export const TLS_ROLES = Object.freeze(['tls-server', 'tls-client'] as const);
export type TlsRole = (typeof TLS_ROLES)[number];
