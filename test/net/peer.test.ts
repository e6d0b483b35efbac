// The peer link (src/net/peer.ts, PROTOCOL.md section 9) on loopback: TLS both ways with the
// introduced key checked, hello each way, TEXT after; each refusal with its code; and the
// scheduler: chunks in the bulk queue, a message or a heartbeat never behind the whole of it.
import { createHash } from 'node:crypto';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTENT, FRAME, LIMITS } from '../../src/net/constants.js';
import { decodeControl, encodeControl } from '../../src/net/control.js';
import { chunkContentId, createFrameDecoder, type Frame } from '../../src/net/frame.js';
import { controlFrame } from '../../src/net/link.js';
import { admitIntroduced, type Knock } from '../../src/net/hello.js';
import { acceptPeer, dialPeer, type PeerLink } from '../../src/net/peer.js';
import { MAX_WRITE_QUEUE } from '../../src/net/writer.js';
import { BULK_WINDOW } from '../../src/net/scheduler.js';
import { serverTlsOptions, clientTlsOptions, peerServerTlsOptions, type Identity } from '../../src/net/tls.js';
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
async function bobListens(
  keyOf: (peer: number) => string | undefined | Promise<string | undefined>,
  timing = {},
): Promise<{ port: number; links: Promise<PeerLink>; socket: () => tls.TLSSocket; close: () => void }> {
  let accepted: tls.TLSSocket | null = null;
  let resolveLink: (l: PeerLink) => void = () => undefined;
  let rejectLink: (e: Error) => void = () => undefined;
  const links = new Promise<PeerLink>((res, rej) => {
    resolveLink = res;
    rejectLink = rej;
  });
  links.catch(() => undefined);
  const server = tls.createServer(serverTlsOptions(bob), (socket) => {
    accepted = socket;
    acceptPeer(socket, { identity: bob, id: 9, admit: admitIntroduced(keyOf), timing }).then(resolveLink, rejectLink);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const socket = (): tls.TLSSocket => {
    if (!accepted) throw new Error('no link was accepted');
    return accepted;
  };
  return {
    port: (server.address() as AddressInfo).port,
    links,
    socket,
    close: () => {
      accepted?.destroy();
      server.close();
    },
  };
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

  it('peer - both ends of a link turn Nagle\'s algorithm off, so a small frame is never held for an earlier one\'s TCP ack', async () => {
    // The kernel's side of it (a message's ack 36-44 ms late in one round trip of ten during a
    // transfer) is measured in bench/transfer.mjs; here, that each end asks for it.
    const noDelay = vi.spyOn(tls.TLSSocket.prototype, 'setNoDelay');
    const bobSide = await bobListens((peer) => (peer === 5 ? alice.keySha256 : undefined));
    try {
      const a = await dialPeer({ host: '127.0.0.1', port: bobSide.port, identity: alice, id: 5, peer: 9, peerKey: bob.keySha256 });
      await bobSide.links;
      const asked = noDelay.mock.contexts.filter((socket, i) => noDelay.mock.calls[i][0] === true);
      expect(asked).toContain(bobSide.socket());
      expect(asked.filter((socket) => socket !== bobSide.socket())).toHaveLength(1);
      await a.close();
    } finally {
      noDelay.mockRestore();
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

const MIB = 1024 * 1024;
const CHUNK = LIMITS.MAX_CHUNK_PAYLOAD;
// What an urgent frame may wait behind in this process: the window, then one chunk and its header.
const IN_PROCESS = BULK_WINDOW + FRAME.HEADER_SIZE + CHUNK;
// What the two kernels' socket buffers may hold on top (the sender's send buffer, the reader's
// receive buffer), which no link controls. On loopback here 1 to 6 MiB were seen in all; the
// bound is generous, and still far below the 64 MiB a message would wait behind unscheduled.
const OS_BUFFERS = 16 * MIB;

// Alice (5) dials Bob (9); both are PeerLinks, and the test holds Bob's socket.
async function linked(): Promise<{ a: PeerLink; b: PeerLink; bobSocket: tls.TLSSocket; close: () => void }> {
  const bobSide = await bobListens((peer) => (peer === 5 ? alice.keySha256 : undefined));
  const a = await dialPeer({ host: '127.0.0.1', port: bobSide.port, identity: alice, id: 5, peer: 9, peerKey: bob.keySha256 });
  const b = await bobSide.links;
  return { a, b, bobSocket: bobSide.socket(), close: bobSide.close };
}

// Chunk i of a test file: bytes that differ from chunk to chunk and from place to place.
function chunkBytes(i: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let x = (i + 1) * 2654435761;
  for (let k = 0; k < size; k += 4) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    if (k + 4 <= size) buf.writeUInt32LE(x, k);
    else for (let j = k; j < size; j++) buf[j] = (x >>> (8 * (j - k))) & 0xff;
  }
  return buf;
}

// A transfer of 64 MiB takes well under a second on loopback; this bound is for a loaded machine.
const TRANSFER_MS = 30_000;

// Waits for `p`; fails at once when one of `links` ends first, and after TRANSFER_MS in any case.
function until<T>(p: Promise<T>, what: string, ...links: PeerLink[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${TRANSFER_MS} ms`)), TRANSFER_MS);
  });
  const ends = links.map((l) => l.closed.then((e): never => {
    throw new Error(`the link ended before ${what}: ${e.by} ${e.code} ${e.reason}`);
  }));
  return Promise.race([p, bound, ...ends]).finally(() => clearTimeout(timer));
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
// Settles with 'pending' when the promise has not settled by the next turn of the event loop.
const settledYet = <T>(p: Promise<T>): Promise<T | 'pending'> => Promise.race([p, turn().then(() => 'pending' as const)]);

describe('peer link - the scheduler', () => {
  it('peer - the bulk window and one chunk take less than half of MAX_WRITE_QUEUE', () => {
    // Else a transfer alone could leave the peer-does-not-read bound little room for urgent frames.
    expect(IN_PROCESS).toBeLessThan(MAX_WRITE_QUEUE / 2);
  });

  it('peer - a TEXT sent after 64 MiB of queued chunks arrives behind at most the window and one chunk', async () => {
    const { a, b, close } = await linked();
    try {
      let bulkBefore = -1;
      let bulkBytes = 0;
      const text = new Promise<Buffer>((r) =>
        a.onText((p) => {
          bulkBefore = bulkBytes;
          r(p);
        }),
      );
      const all = new Promise<void>((r) =>
        a.onBulk((_id, p) => {
          bulkBytes += p.length;
          if (bulkBytes === 64 * CHUNK) r();
        }),
      );
      const chunk = chunkBytes(0, CHUNK);
      const handed = Array.from({ length: 64 }, (_, i) => b.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(1, i), chunk));
      expect(b.sendText(Buffer.from('during the transfer'))).toBe(true);
      expect((await until(text, 'TEXT', a, b)).toString()).toBe('during the transfer');
      expect(bulkBefore).toBeLessThanOrEqual(BULK_WINDOW + CHUNK);
      await until(all, 'last chunk', a, b);
      await expect(Promise.all(handed)).resolves.toEqual(Array(64).fill(true));
    } finally {
      close();
    }
  });

  it('peer - mid-transfer a TEXT overtakes the queue, and the sender never holds more than the window and one chunk', async () => {
    const { a, b, bobSocket, close } = await linked();
    try {
      const marks = [8 * MIB, 24 * MIB, 40 * MIB];
      const waits: Array<{ at: number; behind: number }> = [];
      let sentAt = -1;
      let bulkBytes = 0;
      let mostUnwritten = 0;
      a.onText(() => waits.push({ at: sentAt, behind: bulkBytes - sentAt }));
      const all = new Promise<void>((r) =>
        a.onBulk((_id, p) => {
          bulkBytes += p.length;
          // Bob's socket, seen each time a chunk lands: only bulk is in it (the texts are small).
          mostUnwritten = Math.max(mostUnwritten, bobSocket.writableLength);
          if (marks.includes(bulkBytes)) {
            sentAt = bulkBytes;
            b.sendText(Buffer.from(`at ${bulkBytes}`));
          }
          if (bulkBytes === 64 * CHUNK) r();
        }),
      );
      const chunk = chunkBytes(1, CHUNK);
      for (let i = 0; i < 64; i++) void b.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(2, i), chunk);
      await until(all, 'last chunk', a, b);
      expect(waits.map((w) => w.at)).toEqual(marks);
      for (const w of waits) expect(w.behind, `a text sent at ${w.at} waited behind ${w.behind} bytes`).toBeLessThanOrEqual(IN_PROCESS + OS_BUFFERS);
      expect(mostUnwritten).toBeLessThanOrEqual(IN_PROCESS + 64);
    } finally {
      close();
    }
  });

  it('peer - 64 chunks of many sizes arrive in order and intact', async () => {
    const { a, b, close } = await linked();
    try {
      const sizes = Array.from({ length: 64 }, (_, i) => [0, 1, 27, 4095, 16 * 1024, 65_535, 65_536, CHUNK - 1, CHUNK][i % 9] + (i % 9 === 8 ? 0 : i));
      const sent = sizes.map((size, i) => chunkBytes(i, Math.min(size, CHUNK)));
      const got: Array<{ id: number; sha: string; length: number }> = [];
      const all = new Promise<void>((r) =>
        a.onBulk((id, p) => {
          got.push({ id, sha: sha(p), length: p.length });
          if (got.length === sent.length) r();
        }),
      );
      const handed = sent.map((c, i) => b.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(7, i), c));
      await until(all, 'last chunk', a, b);
      expect(got).toEqual(sent.map((c, i) => ({ id: chunkContentId(7, i), sha: sha(c), length: c.length })));
      expect((await Promise.all(handed)).every(Boolean)).toBe(true);
    } finally {
      close();
    }
  });

  it('peer - FILE_CONTROL goes both ways with its content id; sendBulk takes FILE_CHUNK only', async () => {
    const { a, b, close } = await linked();
    try {
      const atBob = new Promise<[number, string]>((r) => b.onFileControl((id, p) => r([id, p.toString()])));
      const atAlice = new Promise<[number, string]>((r) => a.onFileControl((id, p) => r([id, p.toString()])));
      expect(a.sendFileControl(3, Buffer.from('offer'))).toBe(true);
      expect(b.sendFileControl(0, Buffer.from('hello'))).toBe(true);
      await expect(atBob).resolves.toEqual([3, 'offer']);
      await expect(atAlice).resolves.toEqual([0, 'hello']);
      expect(() => a.sendBulk(CONTENT.TEXT as typeof CONTENT.FILE_CHUNK, 0, Buffer.from('x'))).toThrow(expect.objectContaining({ code: 'FRAME_INVALID' }));
      expect(() => a.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(1, 0), Buffer.alloc(CHUNK + 1))).toThrow(expect.objectContaining({ code: 'FRAME_INVALID' }));
    } finally {
      close();
    }
  });

  it('peer - a heartbeat sent during a transfer is answered ahead of the queued chunks', async () => {
    // Alice by hand, to see every frame Bob writes: a heartbeat, then its heartbeat-ack.
    const bobSide = await bobListens(() => alice.keySha256);
    const raw = tls.connect({ host: '127.0.0.1', port: bobSide.port, ...clientTlsOptions(alice, { expectRole: 'client', expectKeySha256: bob.keySha256 }) });
    try {
      await new Promise((r) => raw.once('secureConnect', r));
      const decoder = createFrameDecoder();
      let bulkBytes = 0;
      let heartbeatAt = -1;
      let ackedAt = -1;
      const chunkIds: number[] = [];
      let hello: (f: Frame) => void = () => undefined;
      const helloBack = new Promise<Frame>((r) => (hello = r));
      const all = new Promise<void>((resolve) =>
        raw.on('data', (data: Buffer) => {
          for (const f of decoder.push(data)) {
            if (f.contentType === CONTENT.FILE_CHUNK) {
              expect([f.source, f.destination]).toEqual([9, 5]);
              chunkIds.push(f.contentId);
              bulkBytes += f.payload.length;
              if (bulkBytes === 8 * MIB) {
                heartbeatAt = bulkBytes;
                raw.write(controlFrame(5, 9, encodeControl({ type: 'heartbeat' })));
              }
              if (bulkBytes === 64 * CHUNK) resolve();
              continue;
            }
            const msg = decodeControl(f.payload);
            if (msg.type === 'hello') hello(f);
            if (msg.type === 'heartbeat-ack') ackedAt = bulkBytes;
          }
        }),
      );
      raw.write(controlFrame(5, 9, encodeControl({ type: 'hello', version: 1, id: 5, peer: 9 })));
      await until(helloBack, 'hello');
      const b = await bobSide.links;
      const chunk = chunkBytes(2, CHUNK);
      for (let i = 0; i < 64; i++) void b.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(3, i), chunk);
      await until(all, 'last chunk', b);
      expect(heartbeatAt).toBe(8 * MIB);
      expect(ackedAt).toBeGreaterThanOrEqual(heartbeatAt);
      expect(ackedAt - heartbeatAt).toBeLessThanOrEqual(IN_PROCESS + OS_BUFFERS);
      expect(chunkIds).toEqual(Array.from({ length: 64 }, (_, i) => chunkContentId(3, i)));
      await expect(settledYet(b.closed)).resolves.toBe('pending');
    } finally {
      raw.destroy();
      bobSide.close();
    }
  });

  it('peer - the end of the link settles every pending sendBulk: those handed true, the rest false', async () => {
    const { a, b, close } = await linked();
    try {
      const chunk = chunkBytes(3, CHUNK);
      const handed = Array.from({ length: 64 }, (_, i) => a.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(4, i), chunk));
      await expect(handed[0]).resolves.toBe(true);
      await b.close();
      const results = await until(Promise.all(handed), 'every sendBulk settled');
      // Handed in order: some trues, then only falses.
      const firstFalse = results.indexOf(false);
      expect(firstFalse).toBeGreaterThan(0);
      expect(results.slice(firstFalse).every((r) => r === false)).toBe(true);
      await expect(a.closed).resolves.toMatchObject({ by: 'peer', code: 'QUIT' });
      await expect(a.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(4, 64), chunk)).resolves.toBe(false);
    } finally {
      close();
    }
  });

  it('peer - a receiver that stops reading: queued chunks alone never end the link, texts that pile up end it (WRITE_QUEUE_FULL)', async () => {
    const { a, bobSocket, close } = await linked();
    try {
      bobSocket.pause();
      let ended = false;
      void a.closed.then(() => (ended = true));
      const chunk = chunkBytes(4, CHUNK);
      const handed = Array.from({ length: 64 }, (_, i) => a.sendBulk(CONTENT.FILE_CHUNK, chunkContentId(5, i), chunk));
      await expect(handed[0]).resolves.toBe(true);
      await turn();
      expect(ended).toBe(false);
      // Now urgent frames: they pile up behind what Bob does not read until the bound trips.
      const text = Buffer.alloc(256 * 1024, 0x61);
      let textBytes = 0;
      for (let i = 0; i < 256 && !ended; i++) {
        a.sendText(text);
        textBytes += FRAME.HEADER_SIZE + text.length;
        await turn();
      }
      await expect(until(a.closed, 'the end')).resolves.toMatchObject({ by: 'self', code: 'WRITE_QUEUE_FULL' });
      // The bulk share in the socket is at most IN_PROCESS: the rest of the bound was texts.
      expect(textBytes).toBeGreaterThanOrEqual(MAX_WRITE_QUEUE - IN_PROCESS);
      const results = await until(Promise.all(handed), 'every sendBulk settled');
      expect(results.filter((r) => !r).length).toBeGreaterThan(0);
    } finally {
      close();
    }
  });
});

// Two self-signed identities (parley init without a server): each its own root.
async function selfSigned(name: string): Promise<Identity> {
  const { createSelfSigned } = await import('../../cert/self.js');
  const { keySha256 } = await import('../../cert/keys.js');
  const made = await createSelfSigned(name, 'pw');
  return { ca: made.certPem, cert: made.certPem, key: made.key.export({ type: 'pkcs8', format: 'pem' }) as string, keySha256: keySha256(made.key), role: 'client', notAfter: Date.now() + 1e10 };
}

describe('peer link between self-signed identities (pinned keys, section 14)', () => {
  let ann: Identity;
  let ben: Identity;
  beforeAll(async () => {
    [ann, ben] = await Promise.all([selfSigned('Ann'), selfSigned('Ben')]);
  });

  // Ben listens as a client's listener does (peerServerTlsOptions) and admits by a pin for id 5.
  async function benListens(pinFor5: string): Promise<{ port: number; knocks: Knock[]; links: Promise<PeerLink>; close: () => void }> {
    const knocks: Knock[] = [];
    let resolveLink: (l: PeerLink) => void = () => undefined;
    const links = new Promise<PeerLink>((r) => (resolveLink = r));
    const sockets: tls.TLSSocket[] = [];
    const server = tls.createServer(peerServerTlsOptions(ben), (socket) => {
      sockets.push(socket);
      const admit = (k: Knock) => {
        knocks.push(k);
        return k.id === 5 && k.keySha256 === pinFor5 ? { ok: true as const } : { ok: false as const, code: 'CERT_KEY_MISMATCH', reason: 'pinned to another key' };
      };
      acceptPeer(socket, { identity: ben, id: 9, admit }).then(resolveLink, () => undefined);
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, knocks, links, close: () => { for (const s of sockets) s.destroy(); server.close(); } };
  }

  it('peer - each presents its self-signed certificate; both judge by the pinned key; the hello carries the invite token', async () => {
    const side = await benListens(ann.keySha256);
    try {
      const a = await dialPeer({ host: '127.0.0.1', port: side.port, identity: ann, id: 5, peer: 9, peerKey: ben.keySha256, pinned: true, invite: 'ab'.repeat(16) });
      const b = await side.links;
      expect([a.peer, b.peer, b.keySha256]).toEqual([9, 5, ann.keySha256]);
      expect(side.knocks[0]).toMatchObject({ id: 5, keySha256: ann.keySha256, invite: 'ab'.repeat(16), selfIssued: true, check: { ok: false, code: 'CERT_FOREIGN_CA' } });
      await a.close();
    } finally {
      side.close();
    }
  });

  it('peer - the dialler refuses a listener whose key is not the pinned one (CERT_KEY_MISMATCH, with the key it had)', async () => {
    const side = await benListens(ann.keySha256);
    try {
      const err = await dialPeer({ host: '127.0.0.1', port: side.port, identity: ann, id: 5, peer: 9, peerKey: 'c'.repeat(64), pinned: true }).catch((e: Error & { code?: string; keySha256?: string }) => e);
      expect(err).toMatchObject({ code: 'CERT_KEY_MISMATCH', keySha256: ben.keySha256 });
    } finally {
      side.close();
    }
  });

  it('peer - the listener refuses a hello whose key is not the one pinned for its id; the dialler hears why', async () => {
    const side = await benListens('d'.repeat(64));
    try {
      const err = await dialPeer({ host: '127.0.0.1', port: side.port, identity: ann, id: 5, peer: 9, peerKey: ben.keySha256, pinned: true }).catch((e: Error & { code?: string }) => e);
      expect(String((err as Error).message)).toMatch(/CERT_KEY_MISMATCH/);
    } finally {
      side.close();
    }
  });

  it('peer - without a pin (the CA path), a self-signed listener is refused by the dialler', async () => {
    const side = await benListens(ann.keySha256);
    try {
      await expect(dialPeer({ host: '127.0.0.1', port: side.port, identity: ann, id: 5, peer: 9, peerKey: ben.keySha256 })).rejects.toThrow();
    } finally {
      side.close();
    }
  });
});
