// The peer link's first exchange (src/net/peer.ts, PROTOCOL.md section 9) on loopback: TLS both
// ways with the introduced key checked, hello each way, TEXT after; and each refusal with its code.
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeControl } from '../../src/net/control.js';
import { controlFrame } from '../../src/net/link.js';
import { acceptPeer, dialPeer, type PeerLink } from '../../src/net/peer.js';
import { serverTlsOptions, clientTlsOptions, type Identity } from '../../src/net/tls.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';

let pki: TestPki;
let alice: Identity;
let bob: Identity;
beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob', 'carol']);
  alice = pki.identity('alice');
  bob = pki.identity('bob');
});
afterAll(() => cleanup(pki?.dir));

// Bob (id 9) listens; his keyOf says which key each id was introduced with.
async function bobListens(keyOf: (peer: number) => string | undefined | Promise<string | undefined>, timing = {}): Promise<{ port: number; links: Promise<PeerLink>; close: () => void }> {
  let resolveLink: (l: PeerLink) => void = () => undefined;
  let rejectLink: (e: Error) => void = () => undefined;
  const links = new Promise<PeerLink>((res, rej) => {
    resolveLink = res;
    rejectLink = rej;
  });
  links.catch(() => undefined);
  const server = tls.createServer(serverTlsOptions(bob), (socket) => acceptPeer(socket, { identity: bob, id: 9, keyOf, timing }).then(resolveLink, rejectLink));
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, links, close: () => server.close() };
}

describe('peer link', () => {
  it('peer - hello each way, then TEXT both ways; close says bye QUIT', async () => {
    const bobSide = await bobListens((peer) => (peer === 5 ? alice.keySha256 : undefined));
    try {
      const a = await dialPeer({ host: '127.0.0.1', port: bobSide.port, identity: alice, id: 5, peer: 9, peerKey: bob.keySha256 });
      const b = await bobSide.links;
      expect([a.peer, b.peer, b.keySha256]).toEqual([9, 5, alice.keySha256]);
      const gotAtBob = new Promise<Buffer>((r) => b.onText(r));
      const gotAtAlice = new Promise<Buffer>((r) => a.onText(r));
      a.sendText(Buffer.from('to bob'));
      b.sendText(Buffer.from('to alice'));
      expect((await gotAtBob).toString()).toBe('to bob');
      expect((await gotAtAlice).toString()).toBe('to alice');
      await a.close();
      await expect(b.closed).resolves.toMatchObject({ by: 'peer', code: 'QUIT' });
    } finally {
      bobSide.close();
    }
  });

  it('peer - a hello that comes before the listener has its introduction waits for it', async () => {
    let introduce: (key: string | undefined) => void = () => undefined;
    const later = new Promise<string | undefined>((r) => (introduce = r));
    const bobSide = await bobListens(() => later);
    try {
      const dialled = dialPeer({ host: '127.0.0.1', port: bobSide.port, identity: alice, id: 5, peer: 9, peerKey: bob.keySha256 });
      introduce(alice.keySha256);
      const [a, b] = await Promise.all([dialled, bobSide.links]);
      expect([a.peer, b.peer]).toEqual([9, 5]);
      await a.close();
    } finally {
      bobSide.close();
    }
  });

  it('peer - the dialler refuses a listener whose key is not the introduced one', async () => {
    const bobSide = await bobListens(() => alice.keySha256);
    try {
      const carolKey = pki.identity('carol').keySha256;
      await expect(dialPeer({ host: '127.0.0.1', port: bobSide.port, identity: alice, id: 5, peer: 9, peerKey: carolKey })).rejects.toMatchObject({ code: 'CERT_KEY_MISMATCH' });
    } finally {
      bobSide.close();
    }
  });

  it('peer - the listener refuses a hello whose id was not introduced with that key (PEER_UNKNOWN)', async () => {
    const bobSide = await bobListens((peer) => (peer === 5 ? pki.identity('carol').keySha256 : undefined));
    try {
      await expect(dialPeer({ host: '127.0.0.1', port: bobSide.port, identity: alice, id: 5, peer: 9, peerKey: bob.keySha256 })).rejects.toMatchObject({ message: expect.stringContaining('PEER_UNKNOWN') });
      await expect(bobSide.links).rejects.toBeTruthy();
    } finally {
      bobSide.close();
    }
  });

  it('peer - a hello meant for another id is refused (PEER_MISMATCH)', async () => {
    const bobSide = await bobListens(() => alice.keySha256);
    try {
      await expect(dialPeer({ host: '127.0.0.1', port: bobSide.port, identity: alice, id: 5, peer: 10, peerKey: bob.keySha256 })).rejects.toMatchObject({ message: expect.stringContaining('PEER_MISMATCH') });
    } finally {
      bobSide.close();
    }
  });

  it('peer - a dialler that says nothing is closed at the hello bound; one that sends something else first gets UNEXPECTED', async () => {
    const silent = await bobListens(() => alice.keySha256, { helloMs: 200 });
    const chatty = await bobListens(() => alice.keySha256);
    try {
      const s = tls.connect({ host: '127.0.0.1', port: silent.port, ...clientTlsOptions(alice, { expectRole: 'client' }) });
      await new Promise((r) => s.once('secureConnect', r));
      await expect(silent.links).rejects.toMatchObject({ code: 'HELLO_TIMEOUT' });
      s.destroy();

      const c = tls.connect({ host: '127.0.0.1', port: chatty.port, ...clientTlsOptions(alice, { expectRole: 'client' }) });
      await new Promise((r) => c.once('secureConnect', r));
      c.write(controlFrame(5, 9, encodeControl({ type: 'heartbeat' })));
      await expect(chatty.links).rejects.toMatchObject({ code: 'UNEXPECTED' });
      c.destroy();
    } finally {
      silent.close();
      chatty.close();
    }
  });
});
