// The TLS 1.3 connection of the client's server session (docs/PROTOCOL.md section 6 step 1): the
// client's certificate, and the server's checked (chain to the CA, server role, dates: tls.ts)
// before a byte of the session is sent. The session on the socket is session.ts; a peer link's
// TLS and hello are hello.ts.
//
//   const socket = connectServer({ host, port, identity });
//   socket.on('error', (err) => (linkError ??= err));
//   await handshake(socket, { host, port }, 5_000, () => linkError);   // or CERT_FOREIGN_CA, ...
import tls from 'node:tls';
import type { Identity } from './tls.js';
import { clientTlsOptions, tlsPeerError } from './tls.js';
import { keylogSocket } from './keylog.js';
import { sessionNoHandshake, sessionTimeout } from './errors.js';

export type ConnectOptions = {
  host: string;
  port: number;
  // The client's certificate, key and CA. A test of the server's own checks may give the CA with
  // no key and certificate, or another client's; the server's certificate is checked either way
  // (chain to `ca`, server role, dates) before a byte of the session is sent.
  identity: Pick<Identity, 'ca'> & Partial<Pick<Identity, 'key' | 'cert'>>;
  // PROTOCOL.md section 6 step 1: the local port the whole session keeps (hole punching reuses
  // its NAT mapping). Omitted: any.
  localPort?: number;
  // The local address to bind ('0.0.0.0' or '::', of the server address's family). Naming one
  // makes Node bind the socket before connecting, with SO_REUSEADDR, so that a punch can connect
  // from the same port while the session lives (punch.ts).
  localAddress?: string;
};

// Starts the connection; the handshake runs on (handshake() waits for it).
export function connectServer(options: ConnectOptions): tls.TLSSocket {
  const { host, port } = options;
  // localPort and localAddress go on to net.connect (Node's types for tls.connect leave them out).
  const connectOptions: tls.ConnectionOptions & { localPort?: number; localAddress?: string } = {
    host,
    port,
    localPort: options.localPort,
    localAddress: options.localAddress,
    ...clientTlsOptions(options.identity, { expectRole: 'server' }),
  };
  const socket = tls.connect(connectOptions);
  // Small frames go at once (peer.ts, startLink, says why); the server does the same its side.
  socket.setNoDelay(true);
  keylogSocket(socket);
  return socket;
}

// Resolves once TLS is up; rejects with the peer check's code (CERT_FOREIGN_CA, CERT_WRONG_ROLE,
// ...) when the server's certificate is refused, SESSION_CLOSED when the connection closed first,
// SESSION_TIMEOUT (the socket destroyed) after `ms`. `linkError`: the socket's first error, which
// the caller records (its own 'error' listener keeps the socket from throwing).
export function handshake(socket: tls.TLSSocket, server: { host: string; port: number }, ms: number, linkError: () => Error | null): Promise<void> {
  const { host, port } = server;
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      socket.destroy();
      reject(sessionTimeout('TLS handshake', ms, host, port));
    }, ms);
    socket.once('secureConnect', () => {
      clearTimeout(t);
      resolve();
    });
    // Before secureConnect: a refused server certificate (its code from tls.ts), a refused
    // connection, a reset.
    socket.once('close', () => {
      clearTimeout(t);
      const err = linkError();
      const refused = err && tlsPeerError(err);
      reject(refused ?? sessionNoHandshake(host, port, err));
    });
  });
}
