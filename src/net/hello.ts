// Who is at the other end of a peer link (docs/PROTOCOL.md section 9), before any other frame on
// it: each side checks the other's certificate (the operator's CA, the client role, the dates, the
// key fingerprint the server gave in the introduction, or a pinned key alone), then one `hello`
// each way says who each is. The dialler speaks first; the listener reads its hello, lets its
// judge (Admit) weigh the knock, and answers with a hello of its own or a refusal. The link that
// carries these frames, and everything after them, is peer.ts.
//
//   dialler (dialTls)                        listener (readPeerCert)
//     checks the listener's certificate      checks the dialler's certificate
//     hello { id: 5, peer: 9 }  ------->     readHello => a knock for its judge (Admit)
//                               <-------     hello { id: 9, peer: 5 }, or error { code } and close
//     readHello => the link is up
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { PROTOCOL_VERSION, TIMING, WIRE_CODE } from './constants.js';
import type { ControlMessage } from './control.js';
import { keylogSocket } from './keylog.js';
import { normalKeySha256 } from '../../cert/keys.js';
import { clientTlsOptions, pinnedClientTlsOptions, presentedCertOf, presentedKeyOf, refusalCode, verifyTlsPeer, type Identity, type PeerCheck } from './tls.js';

// The key the server gave for an id in an introduction; a promise when this side may still be
// reading that introduction (the peer's hello can come first: both were sent at once).
export type KeyOf = (peer: number) => string | undefined | Promise<string | undefined>;

// What the listener knows when a hello comes: the id it claims, the key of the certificate, this
// side's CA's word on that certificate, and the invite token the hello brings.
// selfIssued: the certificate is its own issuer (a self-signed profile's).
// listenAt: where the dialler says it listens (its hello's listenPort at the address it came from).
export type Knock = { id: number; keySha256: string; selfIssued: boolean; check: PeerCheck; invite?: string; address: string; listenAt?: { address: string; port: number } };
export type Admission = { ok: true } | { ok: false; code: string; reason: string };
// The listener's judge of a hello (src/node/trust.ts in the client); a promise when it must wait
// (for an introduction, or to journal a pin before the link is up).
export type Admit = (knock: Knock) => Admission | Promise<Admission>;

// The rule of organisation mode alone: a certificate of this side's CA whose key the server
// introduced for that id (the client's own judge adds pins and invites to it).
export function admitIntroduced(keyOf: KeyOf): Admit {
  return (knock) => {
    if (!knock.check.ok) return { ok: false, code: refusalCode(knock.check.code), reason: `a peer's certificate was refused: ${knock.check.reason}` };
    const judge = (key: string | undefined): Admission =>
      key !== undefined && key === knock.keySha256 ? { ok: true } : { ok: false, code: WIRE_CODE.PEER_UNKNOWN, reason: `no introduction names ${knock.id} with this key` };
    const expected = keyOf(knock.id);
    return expected instanceof Promise ? expected.then(judge) : judge(expected);
  };
}

export type TlsDial = {
  host?: string;
  port?: number;
  socket?: Duplex;
  identity: Identity;
  peer: number;
  peerKey: string;
  pinned?: boolean;
  localPort?: number;
  // Gives up on the connection and the handshake after this long (an address behind a NAT that
  // drops the SYN would otherwise keep the attempt, and the process, alive for minutes), or when
  // `signal` aborts (the client is stopping).
  connectMs?: number;
  signal?: AbortSignal;
};

// The dialler's half of the certificate checks: TLS to a peer's listener (or over a relayed
// stream: `socket`) that checks the listener's certificate against this side's CA and the
// introduced key, or, when `pinned`, against the pinned key alone (CERT_KEY_MISMATCH and
// `keySha256` when it has another). `then` gets the socket in the same tick as the handshake
// ends, so the link's listeners are on it before it can emit anything else; the promise settles
// as `then`'s does.
export function dialTls<T>(options: TlsDial, then: (socket: tls.TLSSocket) => Promise<T>): Promise<T> {
  const connectOptions: tls.ConnectionOptions & { localPort?: number } = {
    ...(options.socket ? { socket: options.socket } : { host: options.host, port: options.port, localPort: options.localPort }),
    ...(options.pinned ? pinnedClientTlsOptions(options.identity) : clientTlsOptions(options.identity, { expectRole: 'client', expectKeySha256: options.peerKey })),
  };
  const socket = tls.connect(connectOptions);
  keylogSocket(socket);
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    };
    const onAbort = (): void => fail(Object.assign(new Error('the dial was stopped'), { code: 'DIAL_STOPPED' }));
    const connectMs = options.connectMs ?? TIMING.LOGIN_TIMEOUT_MS;
    const timer = setTimeout(() => fail(Object.assign(new Error(`no TLS link within ${connectMs} ms`), { code: 'DIAL_TIMEOUT' })), connectMs);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort);
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      if (options.pinned) {
        const key = presentedKeyOf(socket);
        if (key === null || key !== normalKeySha256(options.peerKey)) {
          return fail(Object.assign(new Error(`the peer ${options.peer} presented key ${key ?? 'none'}, pinned is ${options.peerKey}`), { code: WIRE_CODE.CERT_KEY_MISMATCH, keySha256: key }));
        }
      }
      then(socket).then(resolve, reject);
    });
  });
}

export type PeerCert = { keySha256: string; selfIssued: boolean; check: PeerCheck };

// The listener's half, after the TLS handshake of a socket a peer opened to it: the key of its
// certificate, whether it is its own issuer, and this side's CA's word on it (the judge of the
// hello weighs that word). A peer with no readable certificate gets the error to refuse it with.
export function readPeerCert(socket: tls.TLSSocket, identity: Identity): PeerCert | Error {
  const check = verifyTlsPeer(socket, { identity, expectRole: 'client' });
  const presented = presentedCertOf(socket);
  if (presented === null) {
    const reason = check.ok ? 'no certificate' : check.reason;
    return Object.assign(new Error(`a peer's certificate was refused: ${reason}`), { code: check.ok ? 'CERT_MISSING' : check.code });
  }
  return { keySha256: presented.keySha256, selfIssued: presented.selfIssued, check };
}

// The dialler's hello, the first frame on the link: who it is, whom it means, the invite token
// it presents and where it listens (listenPort 0 or absent: nowhere, and not said).
export function dialHello(side: { id: number; invite?: string; listenPort?: number }, peer: number): ControlMessage {
  return {
    type: 'hello',
    version: PROTOCOL_VERSION,
    id: side.id,
    peer,
    ...(side.invite !== undefined ? { invite: side.invite } : {}),
    ...(side.listenPort !== undefined && side.listenPort > 0 ? { listenPort: side.listenPort } : {}),
  };
}

// The listener's hello, once its judge let the dialler in.
export function answerHello(id: number, peer: number): ControlMessage {
  return { type: 'hello', version: PROTOCOL_VERSION, id, peer };
}

// What the first control message from the other side says, read against what this side knows.
// `peer` is the id this side has for the other (0 on the listener until a hello names it); the
// reading's `peer` is the id to answer to from now on, refusal or not. A listener's reading that
// passes brings the knock its judge must weigh; a dialler's that passes means the link is up.
export type HelloReading = { ok: false; peer: number; code: string; reason: string } | { ok: true; peer: number; knock?: Knock };

export function readHello(
  msg: ControlMessage,
  side: { id: number; dialled: boolean; keySha256: string; selfIssued?: boolean; check?: PeerCheck },
  peer: number,
  from: Pick<Socket, 'remoteAddress' | 'remotePort'>,
): HelloReading {
  if (msg.type !== 'hello') return { ok: false, peer, code: WIRE_CODE.UNEXPECTED, reason: `${msg.type} before hello: a peer link begins with hello` };
  // The listener answers (hello or refusal) to the id the hello gives.
  const answerTo = side.dialled ? peer : msg.id;
  if (msg.peer !== side.id) return { ok: false, peer: answerTo, code: WIRE_CODE.PEER_MISMATCH, reason: `the peer meant ${msg.peer}, and this is ${side.id}` };
  if (side.dialled) {
    if (msg.id !== peer) return { ok: false, peer, code: WIRE_CODE.PEER_MISMATCH, reason: `the peer says it is ${msg.id}, and ${peer} was dialled` };
    return { ok: true, peer };
  }
  const remote = (from.remoteAddress ?? '').replace(/^::ffff:/, '');
  const knock: Knock = {
    id: msg.id,
    keySha256: side.keySha256,
    selfIssued: side.selfIssued === true,
    check: side.check as PeerCheck,
    address: `${remote}:${from.remotePort ?? 0}`,
    ...(msg.invite !== undefined ? { invite: msg.invite } : {}),
    ...(msg.listenPort !== undefined && remote !== '' ? { listenAt: { address: remote, port: msg.listenPort } } : {}),
  };
  return { ok: true, peer: answerTo, knock };
}
