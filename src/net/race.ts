// A race of TCP connections to one peer at several addresses (its LAN addresses and the one the
// server saw): the first to connect wins, and the others are dropped at once, before TLS. Racing
// whole links instead let two reach the peer, and each side could keep a different one (each
// keeps the first whose hello it saw), which closed both.
import net from 'node:net';

export type Won = { socket: net.Socket; host: string };

// The first connection to `port` at any of `hosts` within `ms`, or null (none connected, or
// `signal` aborted). Never rejects.
export function firstConnected(hosts: readonly string[], port: number, ms: number, signal?: AbortSignal): Promise<Won | null> {
  return new Promise((resolve) => {
    const attempts: net.Socket[] = [];
    let left = hosts.length;
    let done = false;
    const finish = (won: Won | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      for (const s of attempts) if (s !== won?.socket) s.destroy();
      resolve(won);
    };
    const onAbort = (): void => finish(null);
    const timer = setTimeout(onAbort, ms);
    if (hosts.length === 0 || signal?.aborted) return finish(null);
    signal?.addEventListener('abort', onAbort);
    for (const host of hosts) {
      const socket = net.connect({ host, port });
      attempts.push(socket);
      const onError = (): void => {
        left--;
        if (left === 0) finish(null);
      };
      socket.once('error', onError);
      // The caller attaches its own error handler before the next turn of the event loop.
      socket.once('connect', () => {
        socket.off('error', onError);
        finish({ socket, host });
      });
    }
  });
}
