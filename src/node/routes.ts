// Where a client listens for peer links, and what a link's route is called by the address it
// came from or went to (the messenger's, messenger.ts).
import type tls from 'node:tls';
import type { Route } from '../events/types.js';

// IPv6 and IPv4 where the machine has it; IPv4 alone where it has no IPv6.
export function listen(server: tls.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL') {
        server.listen(0, '0.0.0.0', () => resolve((server.address() as { port: number }).port));
      } else reject(err);
    };
    server.once('error', onError);
    server.listen(0, '::', () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

// `lan` for an address on a private or link-local range, `direct` for any other.
export function routeOf(address: string): Route {
  const a = address.replace(/^::ffff:/, '');
  if (/^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|169\.254\.|127\.)/.test(a) || /^(fe80:|fc|fd|::1$)/i.test(a)) return 'lan';
  return 'direct';
}
