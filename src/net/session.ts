// The client's side of a server session (docs/PROTOCOL.md section 6): TLS 1.3 to the rendezvous
// server with the server's certificate checked, the frame loop on the socket, login, heartbeats,
// the server's clock, bounded waits for a message, and how the session ended. What the messages
// mean (presence, introductions, the relay) is the caller's: the messaging issue builds on this.
//
//   const s = await openSession({ host, port, identity });
//   const ok = await s.login({ lan, listenPort });      // => { type: 'login-ok', id, ... } or a refusal
//   const { offsetMs } = await s.time();
//   s.subscribe((msg) => ...);                          // every control message, in order
//   await s.close();                                    // bye QUIT; s.closed says why it ended
//
// The parts: handshake.ts (TLS and the server's certificate), heartbeat.ts (heartbeats and the
// silence deadline), inbox.ts (the waits for a message, the subscribers).
import type tls from 'node:tls';
import { causeText } from '../errors.js';
import { ERR, LIMITS, PROTOCOL_VERSION, WIRE_CODE } from './constants.js';
import { decodeControl, encodeControl, type ControlMessage, type ControlOf, type ControlType } from './control.js';
import { sessionClosed, type NetError, type SessionEndInfo } from './errors.js';
import { createFrameDecoder, type Frame } from './frame.js';
import { connectServer, handshake, type ConnectOptions } from './handshake.js';
import { createHeartbeat } from './heartbeat.js';
import { createInbox } from './inbox.js';
import { controlFrame, drained, controlOf, feed, refusalFor, writeBounded } from './link.js';

// host, port, identity, localPort, localAddress: handshake.ts.
export type SessionOptions = ConnectOptions & {
  // The clock for heartbeat bookkeeping and time(). Timers still run on the event loop.
  now?: () => number;
  // false: never send a heartbeat nor answer one (a test of the server's silence deadline).
  // everyMs: send one after this much silence instead of login-ok's heartbeatMs; deadAfterMs:
  // end the session when nothing came for this long (default three of the intervals).
  heartbeat?: false | { everyMs?: number; deadAfterMs?: number };
  // Bound of a wait (login, time, next) unless the call names its own; and of the TLS handshake.
  waitMs?: number;
  // What this side leaves unwritten before it gives up on a server that does not read.
  maxWriteQueueBytes?: number;
  // Called with every control message, in order, from the first one (also those that come
  // before openSession resolves: a SERVER_FULL refusal follows the handshake at once). Runs
  // inside the read loop: it must not throw, and slow work belongs elsewhere.
  onMessage?: (msg: ControlMessage) => void;
  // A relay connection (section 8): stop reading frames after this message (relay-ready), so that
  // detach() hands the stream to the peers' own TLS.
  stopAfter?: ControlType;
};

// How a session ended: `by` the server (bye, error, login-refused, version-refused, relay-refused:
// its code), by this side (close(): QUIT; a heartbeat timeout; a frame this side refused: BAD_FRAME,
// BAD_CONTROL; a server that does not read: WRITE_QUEUE_FULL), or by the link (its error's code,
// ECONNRESET, or CONNECTION_CLOSED when it closed without a word).
export type SessionEnd = SessionEndInfo & {
  // version-refused: the versions the server speaks.
  versions?: number[];
  // The decode error behind BAD_FRAME, BAD_CONTROL or a frame-level VERSION_REFUSED.
  cause?: NetError;
};

export type LoginAnswer = ControlOf<'login-ok'> | ControlOf<'login-refused'> | ControlOf<'version-refused'>;

export type TimeSample = {
  serverTime: number;
  rttMs: number;
  // PROTOCOL.md "Timing": serverTime + rtt / 2 - localNow. Add it to local time for server time.
  offsetMs: number;
};

export type ServerSession = {
  // For its addresses (localPort) and, in tests, raw writes. Reading it is the session's job.
  socket: tls.TLSSocket;
  // 0 until login-ok.
  id: () => number;
  login: (fields?: Partial<ControlOf<'login'>>) => Promise<LoginAnswer>;
  time: (ms?: number) => Promise<TimeSample>;
  // Writes one control message. False when the socket's buffer is full: wait for drained().
  send: (msg: ControlMessage) => boolean;
  drained: () => Promise<void>;
  // The next message of this type (that `match` accepts) arriving from now on. A message goes to
  // the first wait that takes it. Rejects with SESSION_TIMEOUT after `ms`, SESSION_CLOSED if the
  // session ends first.
  next: <T extends ControlType>(type: T, options?: { match?: (m: ControlOf<T>) => boolean; ms?: number }) => Promise<ControlOf<T>>;
  // Every control message from now on; returns the unsubscribe.
  subscribe: (listener: (msg: ControlMessage) => void) => () => void;
  // Says bye (QUIT unless told), ends the link, and destroys it if the server has not closed it
  // within the wait bound. Resolves with how the session ended.
  close: (code?: string, reason?: string) => Promise<SessionEnd>;
  // Resolves (never rejects) once the socket has closed.
  closed: Promise<SessionEnd>;
  ended: () => SessionEnd | null;
  // After stopAfter's message: stop the session and take the bytes that came after it.
  detach: () => Buffer;
};

const WAIT_MS = 5_000;
const noop = (): void => undefined;
// Messages after which the server closes the link (PROTOCOL.md section 5); `error` RATE_LIMITED
// refuses one message only.
const CLOSING: ReadonlySet<ControlType> = new Set(['bye', 'error', 'login-refused', 'version-refused', 'relay-refused']);

// Connects and completes TLS; rejects with the peer check's code (CERT_FOREIGN_CA,
// CERT_WRONG_ROLE, ...) when the server's certificate is refused, before anything is sent.
export function openSession(options: SessionOptions): Promise<ServerSession> {
  const { host, port } = options;
  const now = options.now ?? Date.now;
  const waitMs = options.waitMs ?? WAIT_MS;
  const maxWriteQueueBytes = options.maxWriteQueueBytes ?? LIMITS.MAX_CONTROL_PAYLOAD * 4;
  const beat = options.heartbeat === false ? null : (options.heartbeat ?? {});
  const socket = connectServer(options);

  const inbox = createInbox({ host, port });
  if (options.onMessage) inbox.subscribe(options.onMessage);
  let id = 0;
  let end: SessionEnd | null = null;
  // A login-refused or version-refused that came before login() was called (SERVER_FULL, a
  // certificate the server refuses): login() answers with it.
  let refusal: ControlOf<'login-refused'> | ControlOf<'version-refused'> | null = null;
  let linkError: Error | null = null;
  let detached = false;
  // PROTOCOL.md "Timing": a heartbeat after everyMs of sending nothing; the end after
  // deadAfterMs of receiving nothing.
  const heartbeat = createHeartbeat(
    { now, everyMs: beat?.everyMs, deadAfterMs: beat?.deadAfterMs },
    {
      live: () => !end && !detached,
      beat: () => send({ type: 'heartbeat' }),
      dead(reason) {
        finish({ by: 'client', code: WIRE_CODE.HEARTBEAT_TIMEOUT, reason });
        send({ type: 'bye', code: WIRE_CODE.HEARTBEAT_TIMEOUT, reason });
        socket.end();
        graceThenDestroy();
      },
    },
  );
  let resolveClosed: (end: SessionEnd) => void = noop;
  const closed = new Promise<SessionEnd>((resolve) => (resolveClosed = resolve));
  const decoder = createFrameDecoder({
    maxPayload: LIMITS.MAX_CONTROL_PAYLOAD,
    stopWhen: options.stopAfter ? (f) => typeOf(f) === options.stopAfter : undefined,
  });

  // The first reason wins: a bye is followed by the socket's close, which must not replace it.
  function finish(reason: SessionEnd): void {
    if (!end) end = reason;
  }

  function write(buf: Buffer): boolean {
    const written = writeBounded(socket, buf, maxWriteQueueBytes);
    if (written === 'closed') return false;
    heartbeat.sent();
    // Control messages are small: a queue this long means the server stopped reading.
    if (written === 'over') {
      finish({ by: 'client', code: 'WRITE_QUEUE_FULL', reason: `the server left ${socket.writableLength} bytes unread` });
      socket.destroy();
    }
    return written === 'ok';
  }

  function send(msg: ControlMessage): boolean {
    return write(controlFrame(id, 0, encodeControl(msg)));
  }

  // This side refuses what the server sent: say why (the version-refused reply to a frame of
  // another version, an error otherwise), then close (PROTOCOL.md sections 3 and 6). A
  // version-refused reply from the server ends the session by the server.
  function refuse(cause: NetError): void {
    const { code, reply } = refusalFor(cause);
    if (cause.code === ERR.FRAME_VERSION_REFUSED) {
      finish({ by: 'server', code, reason: cause.message, versions: cause.peerVersions ?? [], cause });
    } else {
      finish({ by: 'client', code, reason: cause.message, cause });
    }
    if (Buffer.isBuffer(reply)) write(reply);
    else if (reply) send(reply);
    socket.end();
    graceThenDestroy();
  }

  function deliver(msg: ControlMessage): void {
    if (msg.type === 'heartbeat' && beat) send({ type: 'heartbeat-ack' });
    if (msg.type === 'login-ok' && beat) heartbeat.start(msg.heartbeatMs);
    if ((msg.type === 'login-refused' || msg.type === 'version-refused') && !refusal) refusal = msg;
    if (CLOSING.has(msg.type) && !(msg.type === 'error' && msg.code === WIRE_CODE.RATE_LIMITED)) {
      const m = msg as { code?: string; reason?: string; versions?: number[] };
      finish(m.versions ? { by: 'server', code: 'VERSION_REFUSED', reason: `the server speaks versions ${m.versions.join(', ')}`, versions: m.versions } : { by: 'server', code: m.code ?? msg.type, reason: m.reason ?? '' });
      // The server closes after these; one that does not is cut after the wait bound.
      graceThenDestroy();
    }
    inbox.deliver(msg);
  }

  // A session carries control frames only, from the server (0) to this client (its id, or 0
  // before login-ok): PROTOCOL.md sections 2 and 6.
  function onFrame(f: Frame): boolean {
    let msg: ControlMessage;
    try {
      msg = controlOf(f, 0, id === 0 ? null : id);
    } catch (err) {
      refuse(err as NetError);
      return false;
    }
    deliver(msg);
    if (options.stopAfter && msg.type === options.stopAfter) {
      // The bytes after relay-ready are the peer's: stop reading until detach() takes them.
      socket.pause();
      socket.removeListener('data', onData);
      return false;
    }
    return true;
  }

  function onData(chunk: Buffer): void {
    if (detached || end?.by === 'client') return;
    // Any bytes are a sign of life, a frame still arriving too (PROTOCOL.md "Timing").
    heartbeat.received();
    const failure = feed(decoder, chunk, onFrame);
    if (failure) refuse(failure);
  }

  // An end this side started or was told of: the other side has the wait bound to close.
  let cutting = false;
  function graceThenDestroy(): void {
    if (cutting) return;
    cutting = true;
    const t = setTimeout(() => socket.destroy(), waitMs);
    t.unref();
    socket.once('close', () => clearTimeout(t));
  }

  function wait<T>(what: string, take: (m: ControlMessage) => T | undefined, ms: number): Promise<T> {
    if (end && socket.destroyed) return Promise.reject(sessionClosed(what, end, host, port));
    return inbox.wait(what, take, ms);
  }

  const session: ServerSession = {
    socket,
    id: () => id,
    async login(fields = {}) {
      if (refusal) return refusal;
      const answer = wait<LoginAnswer>(
        'answer to login',
        (m) => (m.type === 'login-ok' || m.type === 'login-refused' || m.type === 'version-refused' ? m : undefined),
        waitMs,
      );
      send({ type: 'login', version: PROTOCOL_VERSION, lan: [], listenPort: 0, ...fields });
      const m = await answer;
      if (m.type === 'login-ok') id = m.id;
      return m;
    },
    async time(ms = waitMs) {
      const sent = now();
      const answer = session.next('time', { ms });
      send({ type: 'time-request' });
      const { serverTime } = await answer;
      const at = now();
      const rttMs = at - sent;
      return { serverTime, rttMs, offsetMs: serverTime + rttMs / 2 - at };
    },
    send,
    drained: () => drained(socket),
    next: (type, { match, ms } = {}) =>
      wait<ControlOf<typeof type>>(type, (m) => (m.type === type && (!match || match(m as never)) ? (m as never) : undefined), ms ?? waitMs),
    subscribe: inbox.subscribe,
    close(code = WIRE_CODE.QUIT, reason = 'the user quit') {
      // After detach the stream is the peers': a bye frame would corrupt it.
      if (detached) socket.destroy();
      else if (!end && !socket.destroyed) {
        finish({ by: 'client', code, reason });
        send({ type: 'bye', code, reason });
        socket.end();
        graceThenDestroy();
      }
      return closed;
    },
    closed,
    ended: () => end,
    detach() {
      detached = true;
      heartbeat.stop();
      socket.removeListener('data', onData);
      socket.pause();
      return Buffer.from(decoder.rest());
    },
  };

  socket.on('data', onData);
  socket.on('error', (err) => {
    linkError ??= err;
  });
  socket.on('close', () => {
    heartbeat.stop();
    const code = (linkError as NodeJS.ErrnoException | null)?.code;
    finish({ by: 'link', code: code ?? 'CONNECTION_CLOSED', reason: linkError ? causeText(linkError) : 'the server closed the connection without a word' });
    const e = end as SessionEnd;
    inbox.fail(e);
    resolveClosed(e);
  });

  return handshake(socket, { host, port }, waitMs, () => linkError).then(() => session);
}

function typeOf(f: Frame): ControlType | null {
  try {
    return decodeControl(f.payload).type;
  } catch {
    return null;
  }
}
