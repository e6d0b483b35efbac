// The race of TCP connections to one listener at several addresses (src/net/race.ts).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { firstConnected } from '../../src/net/race.js';

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listener(host: string): Promise<{ port: number; accepted: () => number }> {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  return { port: (server.address() as net.AddressInfo).port, accepted: () => accepted };
}

describe('race', () => {
  it('race - the address that connects wins; one where nothing listens loses', async () => {
    const { port } = await listener('127.0.0.1');
    const won = await firstConnected(['127.0.0.2', '127.0.0.1'], port, 5_000);
    expect(won?.host).toBe('127.0.0.1');
    expect(won?.socket.remotePort).toBe(port);
    won?.socket.destroy();
  });

  it('race - nothing listens anywhere: null once every attempt failed, long before the bound', async () => {
    const { port } = await listener('127.0.0.1');
    const started = Date.now();
    expect(await firstConnected(['127.0.0.2', '127.0.0.3'], port, 30_000)).toBeNull();
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('race - no address, or a signal already aborted: null at once', async () => {
    expect(await firstConnected([], 9, 5_000)).toBeNull();
    const stop = new AbortController();
    stop.abort();
    expect(await firstConnected(['127.0.0.1'], 9, 5_000, stop.signal)).toBeNull();
  });
});
