// TCP hole punching by simultaneous open (docs/PROTOCOL.md section 7, step 6). Both sides of an
// introduction connect, at the same moment (the server's punchAt), from the local port of their
// own server session to the other's address and port as the server saw them. Each side's SYN
// opens a mapping in its own NAT for exactly that peer; once one SYN crosses the other NAT
// through the mapping the other's SYN opened, the two kernels complete the connection as a
// simultaneous open, and both see a connected socket. Which side then runs the TLS server is the
// introduction's `role`, not who connected first.
//
// Only NATs that keep the mapping of a local port whatever the destination (endpoint-independent
// mapping: most home routers, Linux's MASQUERADE by default) can be punched this way; a NAT that
// draws a new port for each destination (symmetric: MASQUERADE --random-fully, many carrier NATs)
// gives the peer a port it never sees, and the window ends without a link: the relay follows.
//
// The session's socket must have been bound with SO_REUSEADDR for a second socket to bind the same
// port: Node binds it so when the connect names a local address (the session connects with
// localAddress '0.0.0.0' for that reason; see handshake.ts). On Windows, libuv does not set
// SO_REUSEADDR and the bind fails (EADDRINUSE): the window ends the same way, and the relay follows.
import net from 'node:net';
import { TIMING } from './constants.js';

export type PunchOptions = {
  // The peer's address and port as the server saw them (its session connection).
  host: string;
  port: number;
  // The local port of this side's own server session.
  localPort: number;
  // When to start, on this side's clock (the server's punchAt minus the clock offset).
  at: number;
  // How long to keep trying after `at` (PROTOCOL.md: 5 s), and the least time between two
  // attempts (200 ms).
  windowMs?: number;
  retryMs?: number;
  // Stops the attempts early (the link came another way, the client is closing).
  signal?: AbortSignal;
};

export type PunchOutcome = { socket: net.Socket; attempts: number } | { socket: null; attempts: number; reason: string };

export const PUNCH_RETRY_MS = 200;

// Connects again and again until one attempt connects, the window ends or `signal` aborts. Never
// rejects: the outcome says why no socket came (the last attempt's error code, or the window).
// An attempt lives until it fails (a RST from the peer or its NAT: ECONNREFUSED, ECONNRESET) or
// the window ends, not for a fixed 200 ms: a SYN dropped by the peer's NAT before the peer's own
// SYN left is retransmitted by the kernel, and a SYN-ACK on a slow path still finds its socket.
export async function punch(options: PunchOptions): Promise<PunchOutcome> {
  const windowMs = options.windowMs ?? TIMING.PUNCH_WINDOW_MS;
  const retryMs = options.retryMs ?? PUNCH_RETRY_MS;
  const deadline = options.at + windowMs;
  let attempts = 0;
  let reason = 'no attempt was made';
  await waitUntil(options.at, options.signal);
  while (!options.signal?.aborted && Date.now() < deadline) {
    const started = Date.now();
    attempts++;
    const result = await attempt(options, deadline);
    if (result.socket) return { socket: result.socket, attempts };
    reason = result.reason;
    await waitUntil(Math.min(deadline, started + retryMs), options.signal);
  }
  if (options.signal?.aborted) reason = 'stopped';
  else if (attempts > 0) reason = `no connection within ${windowMs} ms (last attempt: ${reason})`;
  return { socket: null, attempts, reason };
}

// One connect from the session's port: the socket once connected, else why not.
function attempt(options: PunchOptions, deadline: number): Promise<{ socket: net.Socket; reason?: undefined } | { socket: null; reason: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: options.host, port: options.port, localPort: options.localPort });
    const end = (reason: string): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({ socket: null, reason });
    };
    const onAbort = (): void => end('stopped');
    const timer = setTimeout(() => end('the window ended'), Math.max(0, deadline - Date.now()));
    options.signal?.addEventListener('abort', onAbort);
    const onError = (err: NodeJS.ErrnoException): void => end(err.code ?? err.message);
    socket.once('error', onError);
    // The caller attaches its own error handler before the next turn of the event loop.
    socket.once('connect', () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      resolve({ socket });
    });
  });
}

function waitUntil(at: number, signal?: AbortSignal): Promise<void> {
  const wait = at - Date.now();
  if (wait <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, wait);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}
