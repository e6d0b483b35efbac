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

export type RaceOutcome<T> = { link: T; host: string } | { link: null; errors: Array<{ host: string; err: Error }> };

// The race run until a link comes: the first connection gets `open` (TLS and the hello); when
// that fails (a LAN address that is another machine on this LAN, a key refused), the race runs
// again without that address. The link and its address, or null with the error of each address
// that connected and failed. Never rejects.
export async function raceLinks<T>(hosts: readonly string[], port: number, ms: number, signal: AbortSignal | undefined, open: (won: Won) => Promise<T>): Promise<RaceOutcome<T>> {
  let left = [...hosts];
  const errors: Array<{ host: string; err: Error }> = [];
  while (left.length > 0 && !signal?.aborted) {
    const won = await firstConnected(left, port, ms, signal);
    if (!won) break;
    won.socket.on('error', () => undefined);
    try {
      return { link: await open(won), host: won.host };
    } catch (err) {
      errors.push({ host: won.host, err: err as Error });
      left = left.filter((host) => host !== won.host);
    }
  }
  return { link: null, errors };
}
