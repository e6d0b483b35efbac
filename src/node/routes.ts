// Where a client listens for peer links, and what a link's route is called by the address it
// came from or went to (the messenger's, messenger.ts).
import type tls from 'node:tls';
import type { Route } from '../events/types.js';

// IPv6 and IPv4 where the machine has it; IPv4 alone where it has no IPv6. `port` 0: any free
// one. Rejects with the error of the bind (EADDRINUSE: the port is taken).
export function listen(server: tls.Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL') {
        server.once('error', reject);
        server.listen(port, '0.0.0.0', () => {
          server.off('error', reject);
          resolve((server.address() as { port: number }).port);
        });
      } else reject(err);
    };
    server.once('error', onError);
    server.listen(port, '::', () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

// The port the profile keeps (the `listen-port` setting), so that an invite and the addresses
// peers learnt stay good across restarts: the first start takes any free port and journals it as
// the setting; a kept port that is taken now (another program) gives way to any free one for this
// run, said in `note`, and the setting stays as it was.
export async function listenKept(server: tls.Server, kept: number): Promise<{ port: number; keep: boolean; note: string | null }> {
  if (kept === 0) return { port: await listen(server, 0), keep: true, note: null };
  try {
    return { port: await listen(server, kept), keep: false, note: null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
    const port = await listen(server, 0);
    return { port, keep: false, note: `parley: port ${kept} (the listen-port setting) is taken (${code}): peers dial this client at port ${port} until the next start` };
  }
}

// `lan` for an address on a private or link-local range, `direct` for any other.
export function routeOf(address: string): Route {
  const a = address.replace(/^::ffff:/, '');
  if (/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|127\.)/.test(a) || /^(fe80:|fc|fd|::1$)/i.test(a)) return 'lan';
  return 'direct';
}
