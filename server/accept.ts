// Accepting connections (PROTOCOL.md section 6, steps 1-3): TCP accept with the pending caps,
// the TLS handshake, and the client's certificate, checked before a single byte from the client
// is read.
//
// The TLS socket is made here over each accepted TCP socket, so both are in hand: the TCP one
// closes in every case (handshake failed, timed out, or the TLS socket closed later), which frees
// the handshake's pending place. Node is told to ask for the client's certificate but not to
// refuse it: a TLSSocket made this way does not enforce the CA anyway (DESIGN.md, TLS traps), and
// with TLS 1.3 a refusal inside the handshake reaches the client as a silent close. The
// application checks the certificate (makePeerChecker) and says why it refuses.
import net from 'node:net';
import tls from 'node:tls';
import { makePeerChecker, refusalCode, serverTlsOptions } from '../src/net/tls.js';
import { WIRE_CODE } from '../src/net/constants.js';
import type { ControlMessage } from '../src/net/control.js';
import { reasonText } from '../src/net/text.js';
import { isFull, mayAccept, type Conn, type Connections } from './connections.js';
import { handshakeDue } from './deadlines.js';
import { revokedRefusal } from './login.js';
import type { Resolved } from './options.js';

export type AcceptDeps = {
  options: Resolved;
  connections: Connections;
  isClosed: () => boolean;
  isRevoked: (keySha256: string) => boolean;
  refuse: (conn: Conn, last: ControlMessage | null, reason?: string) => void;
  // A NEW connection whose certificate was accepted: it may send its first frame.
  onReady: (conn: Conn) => void;
  // A new connection's socket, to listen on before anything else happens.
  onConn: (conn: Conn) => void;
};

type Handshake = { raw: net.Socket; socket: tls.TLSSocket; from: string; acceptedAt: number };

const noop = (): void => undefined;

// => '203.0.113.7' from '::ffff:203.0.113.7' (an IPv4 client of a dual-stack listener)
export function plainAddress(address: string | undefined): string {
  if (!address) return '0.0.0.0';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function createAcceptor(deps: AcceptDeps) {
  const o = deps.options;
  const { connections } = deps;
  // The CA and the server's key parsed once, not per connection.
  const checkPeer = makePeerChecker({ caPem: o.identity.ca, expectRole: 'client' });
  const secureContext = tls.createSecureContext(serverTlsOptions(o.identity));
  const listener = net.createServer({ noDelay: true }, onConnection);
  // Node's own hard cap on open sockets: beyond it, an accepted socket is closed at once.
  listener.maxConnections = o.maxSessions + 2 * o.maxRelays + o.maxPending;
  // Accepted sockets whose TLS handshake has not finished.
  const handshaking = new Set<Handshake>();

  function onConnection(raw: net.Socket): void {
    const from = plainAddress(raw.remoteAddress);
    if (deps.isClosed() || !mayAccept(connections.counts(), connections.pendingFrom(from), o)) {
      raw.destroy();
      return;
    }
    connections.handshakeStarted(from);
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext, requestCert: true, rejectUnauthorized: false });
    const hs: Handshake = { raw, socket, from, acceptedAt: o.now() };
    handshaking.add(hs);
    const over = (): void => {
      if (handshaking.delete(hs)) connections.handshakeOver(from);
    };
    // A handshake that fails is destroyed by Node with its error; one that never ends is
    // destroyed by the sweep (sweepHandshakes).
    socket.on('error', noop);
    raw.once('close', over);
    socket.once('close', over);
    socket.once('secure', () => {
      over();
      onSecure(socket, hs.acceptedAt);
    });
  }

  function onSecure(socket: tls.TLSSocket, acceptedAt: number): void {
    const conn = connections.add(socket, plainAddress(socket.remoteAddress), socket.remotePort ?? 0, acceptedAt);
    deps.onConn(conn);
    if (deps.isClosed()) return deps.refuse(conn, { type: 'login-refused', code: WIRE_CODE.SHUTTING_DOWN, reason: 'the server is stopping' });

    // Step 3: the certificate, before a single byte from the client is read.
    const check = checkPeer(socket.getPeerX509Certificate(), { now: o.now() });
    if (!check.ok) return deps.refuse(conn, { type: 'login-refused', code: refusalCode(check.code), reason: reasonText(check.reason) }, check.code);
    conn.keySha256 = check.keySha256;
    if (deps.isRevoked(check.keySha256)) return deps.refuse(conn, revokedRefusal());
    const counts = connections.counts();
    if (isFull(counts, o)) {
      return deps.refuse(conn, { type: 'login-refused', code: WIRE_CODE.SERVER_FULL, reason: `the server holds ${counts.sessions} sessions, as many as it may; try later` });
    }
    deps.onReady(conn);
  }

  // Steps 1-3 within loginTimeoutMs of the accept, whatever arrives meanwhile (section 6): the
  // bound the protocol states, counted from the accept, not a socket timer of Node's.
  function sweepHandshakes(now: number): void {
    for (const hs of handshaking) {
      if (handshakeDue(hs.acceptedAt, now, o).action === 'destroy') destroy(hs);
    }
  }

  function destroy(hs: Handshake): void {
    hs.socket.destroy();
    hs.raw.destroy();
  }

  let acceptErrors = 0;
  function listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(o.port, o.host, () => {
        listener.off('error', reject);
        // Only now: a listen error (EADDRINUSE) is the start's failure, said once by
        // listenFailed, not an accept error as well.
        listener.on('error', (err: NodeJS.ErrnoException) => {
          // EMFILE and friends on accept: the server goes on with the sockets it has.
          if (acceptErrors++ % 1000 === 0) o.log(`parley server: accept failed: ${err.code ?? err.message}`);
        });
        resolve();
      });
    });
  }

  return {
    listen,
    // Stops accepting; resolves once every accepted socket is closed.
    close: (): Promise<void> => new Promise<void>((resolve) => listener.close(() => resolve())),
    abortHandshakes: (): void => {
      for (const hs of handshaking) destroy(hs);
    },
    sweepHandshakes,
    address: (): { host: string; port: number } => {
      const a = listener.address() as net.AddressInfo;
      return { host: a.address, port: a.port };
    },
  };
}
