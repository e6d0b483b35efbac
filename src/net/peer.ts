// A peer link (docs/PROTOCOL.md section 9): TLS 1.3 between two clients, each checking the
// other's certificate, then one `hello` each way saying who each is (both in hello.ts), then frames:
// TEXT payloads of the messaging layer, heartbeats, bye, and the transfer layer's FILE_CONTROL
// and FILE_CHUNK. The dialler is the TLS client. Frames go out through two queues
// (writer.ts, scheduler.ts): everything but FILE_CHUNK at once, chunks only while the socket holds less than
// a window, so a message never waits behind a transfer.
//
//   const link = await dialPeer({ host, port, identity, id: 5, peer: 9, peerKey });
//   link.onText((payload) => ...);
//   link.sendText(encodeTextPayload({ k: 'msg', ... }));
//   const handed = await link.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(3, 0), bytes); // => true
//   await link.close();
import type tls from 'node:tls';
import { CONTENT, FLAGS, TIMING, WIRE_CODE } from './constants.js';
import { decodeControl, encodeControl, type ControlMessage } from './control.js';
import { frameBadAddress, frameInvalid, type NetError } from './errors.js';
import { takeChunkBuffer } from './chunk-buffers.js';
import { createFrameDecoder, encodeFrame, encodeFrameHeader, type Frame } from './frame.js';
import { controlFrame, feed, refusalFor } from './link.js';
import { answerHello, dialHello, dialTls, readHello, readPeerCert, type Admission, type Admit, type TlsDial } from './hello.js';
import type { Identity, PeerCheck } from './tls.js';
import { reasonText } from './text.js';
import { createWriter } from './writer.js';

export type PeerEnd = { by: 'peer' | 'self' | 'link'; code: string; reason: string };

export type PeerLink = {
  peer: number;
  keySha256: string;
  remote: { address: string; port: number };
  // Writes one TEXT payload at once (the urgent queue); false when the link ended or the urgent
  // frames not yet written fill the socket's buffer (wait for drained()). Bulk bytes in the
  // socket do not make it false: a message is never told to wait for a transfer.
  sendText: (payload: Buffer) => boolean;
  // The same for a FILE_CONTROL payload (content id 0 or the transfer's tag, section 2).
  sendFileControl: (contentId: number, payload: Buffer) => boolean;
  // Queues one FILE_CHUNK frame in the bulk queue; resolves true once it is handed to the
  // socket, false when the link ended first (it was not written, and never will be on this
  // link; pending ones settle false at the end, none hang). Never rejects. Awaiting it is the
  // backpressure: the queue holds what callers queued without waiting. Handed is not received:
  // the transfer layer's acks say what arrived. `payload` is kept, not copied: leave it as it is
  // (the socket reads it when its turn comes, which may be after the promise settled).
  // Throws (FRAME_INVALID) on a content id or a payload size the frame cannot carry.
  // `written`: called once the chunk's bytes have left the socket's buffer (scheduler.ts), when
  // its buffer may be used again.
  sendBulk: (contentType: typeof CONTENT.FILE_CHUNK, contentId: number, payload: Buffer, written?: () => void) => Promise<boolean>;
  // Resolves once the urgent frames written so far have left the socket's buffer (or the link
  // ended); bulk bytes are not waited for.
  drained: () => Promise<void>;
  onText: (listener: (payload: Buffer) => void) => void;
  onFileControl: (listener: (contentId: number, payload: Buffer) => void) => void;
  // Each FILE_CHUNK as it arrives, in the order written. The payload is the listener's to keep:
  // a chunk of more than one read has a buffer of its own (from chunk-buffers.ts: the listener may
  // give it back once done with it), a small one may be a view into the read that brought it
  // (which it then keeps alive, a few KiB).
  onBulk: (listener: (contentId: number, payload: Buffer) => void) => void;
  close: (code?: string, reason?: string) => Promise<PeerEnd>;
  closed: Promise<PeerEnd>;
};

export type PeerTiming = { helloMs?: number; heartbeatMs?: number; deadAfterMs?: number };

// Dials a peer's listener (or runs TLS over a relayed stream: `socket`) and says hello;
// resolves once the peer's hello came back. `pinned`: the peer is judged by its key alone, not by
// this side's CA (a contact pinned from an invite or by hand, section 14); a certificate with
// another key rejects with CERT_KEY_MISMATCH and `keySha256`, the key it had. `invite`: the
// token to present in the hello.
export function dialPeer(
  options: TlsDial & {
    id: number;
    invite?: string;
    // Where this side listens for peer links, said in the hello (0 or absent: nowhere).
    listenPort?: number;
    timing?: PeerTiming;
  },
): Promise<PeerLink> {
  return dialTls(options, (socket) => startLink(socket, { ...options, keySha256: options.peerKey, dialled: true }));
}

// Takes a socket a peer opened to this side's listener, after its TLS handshake: reads the key of
// its certificate and this side's CA's word on it, then lets `admit` judge the hello (the
// introduced key in organisation mode: admitIntroduced; pins and invites too: src/node/trust.ts).
// A peer with no readable certificate is refused at once.
export function acceptPeer(
  socket: tls.TLSSocket,
  options: { identity: Identity; id: number; admit: Admit; timing?: PeerTiming },
): Promise<PeerLink> {
  const cert = readPeerCert(socket, options.identity);
  if (cert instanceof Error) {
    socket.destroy();
    return Promise.reject(cert);
  }
  const { keySha256, selfIssued, check } = cert;
  return startLink(socket, { identity: options.identity, id: options.id, peer: 0, keySha256, selfIssued, check, admit: options.admit, dialled: false, timing: options.timing });
}

type Start = {
  identity: Identity;
  id: number;
  // 0 on the accepting side until the hello names it.
  peer: number;
  keySha256: string;
  // The listener's: the CA's word on the certificate, and the judge of the hello.
  check?: PeerCheck;
  selfIssued?: boolean;
  admit?: Admit;
  // The dialler's: the invite token its hello presents, and where it listens.
  invite?: string;
  listenPort?: number;
  dialled: boolean;
  timing?: PeerTiming;
};

function startLink(socket: tls.TLSSocket, start: Start): Promise<PeerLink> {
  // Nagle's algorithm off, on both sides of every route: with it, a small frame written while an
  // earlier one is not yet acknowledged by TCP waits for that acknowledgement, which the other
  // side's kernel may delay by up to 40 ms. During a transfer a message's ack came back 36-44 ms
  // late in one round trip of ten that way (docs/BENCHMARKS.md, transfer). Over a relay the
  // socket under this TLS is the relay's session socket, set the same way (handshake.ts).
  socket.setNoDelay(true);
  const helloMs = start.timing?.helloMs ?? TIMING.LOGIN_TIMEOUT_MS;
  const heartbeatMs = start.timing?.heartbeatMs ?? TIMING.HEARTBEAT_MS;
  const deadAfterMs = start.timing?.deadAfterMs ?? TIMING.DEAD_AFTER_MS;
  // Chunks are gathered into buffers the receiver gives back once written (chunk-buffers.ts).
  const decoder = createFrameDecoder({ payloadBuffer: (length, type) => (type === CONTENT.FILE_CHUNK ? takeChunkBuffer(length) : Buffer.allocUnsafe(length)) });
  const textListeners: Array<(payload: Buffer) => void> = [];
  const fileControlListeners: Array<(contentId: number, payload: Buffer) => void> = [];
  const bulkListeners: Array<(contentId: number, payload: Buffer) => void> = [];
  let peer = start.peer;
  let ready = false;
  let end: PeerEnd | null = null;
  let lastRx = Date.now();
  let lastTx = Date.now();
  let resolveClosed: (e: PeerEnd) => void = () => undefined;
  const closed = new Promise<PeerEnd>((r) => (resolveClosed = r));
  let resolveReady: (link: PeerLink) => void = () => undefined;
  let rejectReady: (err: Error) => void = () => undefined;
  const readyPromise = new Promise<PeerLink>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });

  function finish(e: PeerEnd): void {
    if (!end) end = e;
    // Nothing more goes out but the last word (bye, error): the bulk queue settles now.
    writer.end();
  }

  // The two queues out, and the bound on both (writer.ts). Past the bound the link ends itself.
  const writer = createWriter(socket, {
    wrote: () => (lastTx = Date.now()),
    over: (unread) => finish({ by: 'self', code: 'WRITE_QUEUE_FULL', reason: `the peer left ${unread} bytes unread` }),
  });

  function sendControl(msg: ControlMessage): boolean {
    return writer.urgent(controlFrame(start.id, peer, encodeControl(msg)));
  }

  function refuse(code: string, reason: string, reply: ControlMessage | Buffer | null = { type: 'error', code, reason: reasonText(reason) }): void {
    finish({ by: 'self', code, reason });
    if (Buffer.isBuffer(reply)) writer.urgent(reply);
    else if (reply) sendControl(reply);
    socket.end();
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  // The first control message (hello.ts reads it); the listener's judge may answer later.
  function onHello(msg: ControlMessage): void {
    const reading = readHello(msg, start, peer, socket);
    peer = reading.peer;
    if (!reading.ok) return refuse(reading.code, reading.reason);
    if (!reading.knock) return up();
    const answer = start.admit ? start.admit(reading.knock) : ({ ok: false, code: WIRE_CODE.PEER_UNKNOWN, reason: 'no judge' } as const);
    if (answer instanceof Promise) {
      // Nothing more comes before this side's hello: reading waits with the answer.
      socket.pause();
      void answer.then(
        (a) => {
          if (end) return;
          socket.resume();
          welcome(a);
        },
        (err: Error) => refuse(WIRE_CODE.UNEXPECTED, `this side could not judge the hello: ${err.message}`),
      );
      return;
    }
    welcome(answer);
  }

  // The listener's answer to a hello, as its judge gave it.
  function welcome(answer: Admission): void {
    if (!answer.ok) return refuse(answer.code, answer.reason);
    sendControl(answerHello(start.id, peer));
    up();
  }

  // Hello both ways: the link is up, and the heartbeats take over from the hello bound.
  function up(): void {
    ready = true;
    arm();
    resolveReady(link);
  }

  function onFrame(f: Frame): boolean {
    if (end) return false;
    // After hello: from the peer to this side. Before it the hello says who speaks (and a
    // refusal may come from an id the dialler did not expect): to this side, from anyone.
    const misaddressed = ready ? f.source !== peer || f.destination !== start.id : start.dialled && f.destination !== start.id;
    if (misaddressed) {
      refuse(WIRE_CODE.BAD_FRAME, frameBadAddress(f.source, f.destination, peer, start.id).message);
      return false;
    }
    if (f.contentType === CONTENT.CONTROL) {
      let msg: ControlMessage;
      try {
        msg = decodeControl(f.payload);
      } catch (err) {
        const r = refusalFor(err as NetError);
        refuse(r.code, (err as Error).message, r.reply);
        return false;
      }
      // The other side's word on why it ends, before or after hello.
      if (msg.type === 'bye' || msg.type === 'error') {
        finish({ by: 'peer', code: msg.code, reason: msg.reason });
        socket.end();
        return false;
      }
      if (!ready) {
        onHello(msg);
        return !end;
      }
      if (msg.type === 'heartbeat') sendControl({ type: 'heartbeat-ack' });
      return true;
    }
    if (!ready) {
      refuse(WIRE_CODE.UNEXPECTED, `content type ${f.contentType} before hello`);
      return false;
    }
    if (f.contentType === CONTENT.TEXT) for (const l of textListeners) l(Buffer.from(f.payload));
    else if (f.contentType === CONTENT.FILE_CONTROL) for (const l of fileControlListeners) l(f.contentId, Buffer.from(f.payload));
    else if (f.contentType === CONTENT.FILE_CHUNK) for (const l of bulkListeners) l(f.contentId, f.payload);
    return true;
  }

  socket.on('data', (chunk: Buffer) => {
    lastRx = Date.now();
    const failure = feed(decoder, chunk, onFrame);
    if (failure) {
      const r = refusalFor(failure);
      refuse(r.code, failure.message, r.reply);
    }
  });
  socket.on('error', (err: NodeJS.ErrnoException) => finish({ by: 'link', code: err.code ?? 'LINK_ERROR', reason: err.message }));
  socket.on('close', () => {
    if (timer) clearTimeout(timer);
    finish({ by: 'link', code: 'CONNECTION_CLOSED', reason: 'the link closed' });
    writer.settleDrained();
    if (!ready) rejectReady(Object.assign(new Error(`the peer link closed before hello: ${end?.code} ${end?.reason}`), { code: end?.code }));
    resolveClosed(end as PeerEnd);
  });

  // Heartbeats after silence, the end after deadAfterMs of nothing; before hello, the hello bound.
  let timer: NodeJS.Timeout | null = setTimeout(() => {
    if (!ready) refuse(WIRE_CODE.HELLO_TIMEOUT, `no hello within ${helloMs} ms`);
  }, helloMs);
  function arm(): void {
    if (timer) clearTimeout(timer);
    if (end) return;
    const due = Math.min(lastTx + heartbeatMs, lastRx + deadAfterMs);
    timer = setTimeout(tick, Math.max(1, due - Date.now()));
  }
  function tick(): void {
    const t = Date.now();
    if (t - lastRx >= deadAfterMs) return refuse(WIRE_CODE.HEARTBEAT_TIMEOUT, `nothing received for ${deadAfterMs} ms`, { type: 'bye', code: WIRE_CODE.HEARTBEAT_TIMEOUT, reason: 'silent' });
    if (t - lastTx >= heartbeatMs) sendControl({ type: 'heartbeat' });
    arm();
  }

  const link: PeerLink = {
    get peer() {
      return peer;
    },
    keySha256: start.keySha256,
    remote: { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
    sendText: (payload) => writer.urgent(encodeFrame({ contentType: CONTENT.TEXT, flags: FLAGS.NONE, source: start.id, destination: peer, contentId: 0, payload })),
    sendFileControl: (contentId, payload) => writer.urgent(encodeFrame({ contentType: CONTENT.FILE_CONTROL, flags: FLAGS.NONE, source: start.id, destination: peer, contentId, payload })),
    sendBulk(contentType, contentId, payload, written) {
      // Checked now, so a caller's mistake throws here and not inside a later pump. Only chunks are
      // bulk: anything else in this queue would wait behind a transfer.
      if (contentType !== CONTENT.FILE_CHUNK) throw frameInvalid(`sendBulk takes FILE_CHUNK frames (${CONTENT.FILE_CHUNK}), not content type ${String(contentType)}`);
      const header = encodeFrameHeader({ contentType, flags: FLAGS.NONE, source: start.id, destination: peer, contentId }, payload.length);
      return writer.bulk([header, payload], written);
    },
    drained: writer.drained,
    onText: (l) => void textListeners.push(l),
    onFileControl: (l) => void fileControlListeners.push(l),
    onBulk: (l) => void bulkListeners.push(l),
    async close(code = WIRE_CODE.QUIT, reason = 'the user quit') {
      if (!end && !socket.destroyed) refuse(code, reason, { type: 'bye', code, reason });
      return closed;
    },
    closed,
  };
  if (start.dialled) sendControl(dialHello(start, peer));
  return readyPromise;
}
