// Shared by the server tests: a small PKI made once per test file, a server on 127.0.0.1 port 0,
// and a client that connects with a certificate, logs in and reads control frames. Every wait has
// a bound; nothing sleeps for luck.
import { afterAll, afterEach, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { signCsr } from '../../cert/sign.js';
import { openJournal } from '../../src/events/journal.js';
import type { Stored } from '../../src/events/types.js';
import { keySha256OfCert, loadIdentity, type Identity } from '../../cert/tls.js';
import { CONTENT, FLAGS, PROTOCOL_VERSION } from '../../src/net/constants.js';
import { decodeControl, encodeControl, type ControlMessage, type ControlType, type ControlOf } from '../../src/net/control.js';
import { createFrameDecoder, encodeFrame, type Frame, type FrameDecoder } from '../../src/net/frame.js';
import type { NetError } from '../../src/net/errors.js';
import { startServer, type RendezvousServer, type ServerOptions } from '../../server/server.js';
import { decryptPrivateKey } from '../../cert/keys.js';
import { forgeCertificate, KEY_PASSWORD, makePki, removeDir, tempDir, type Pki } from '../cert/helpers.js';

export { removeDir, tempDir, KEY_PASSWORD };

export const WAIT_MS = 5_000;

// key and cert empty: a client that presents no certificate at all.
export type Credentials = { key: string; cert: string; keySha256: string };

export type TestPki = {
  dir: string;
  ours: Pki;
  foreign: Pki;
  caPem: string;
  server: Identity;
  // Client credentials by name; see makeServerPki for what each one is.
  creds: Record<string, Credentials>;
  identity: (name: string) => Identity;
};

// One CA with a server and the given clients, and another CA with "mallory". Also:
//   expired   alice's key with a certificate that expired in 2020
//   renewed   alice's key with a second, fresh certificate (a renewal)
//   asServer  the server's own certificate and key, presented by a client (wrong role)
//   forged    mallory's key in a certificate that names our CA but is signed by mallory's key
export async function makeServerPki(clients: string[]): Promise<TestPki> {
  const dir = tempDir('server');
  const holders: Record<string, { role: 'client' } | { role: 'server'; hosts: string[] }> = { server: { role: 'server', hosts: ['127.0.0.1'] } };
  for (const name of clients) holders[name] = { role: 'client' };
  const [ours, foreign] = await Promise.all([makePki(path.join(dir, 'ours'), holders), makePki(path.join(dir, 'theirs'), { mallory: { role: 'client' } }, 'Another CA')]);
  const identity = (name: string): Identity => {
    const h = ours.holders[name];
    return loadIdentity({ caFile: ours.caCertFile, certFile: h.certFile, keyFile: h.keyFile, password: KEY_PASSWORD });
  };
  const server = identity('server');
  const creds: Record<string, Credentials> = {};
  for (const name of clients) {
    const id = identity(name);
    creds[name] = { key: id.key, cert: id.cert, keySha256: id.keySha256 };
  }
  const m = foreign.holders.mallory;
  const mallory = loadIdentity({ caFile: foreign.caCertFile, certFile: m.certFile, keyFile: m.keyFile, password: KEY_PASSWORD });
  creds.mallory = { key: mallory.key, cert: mallory.cert, keySha256: mallory.keySha256 };
  // Mallory's key under our CA's name and key identifier: only the signature gives it away.
  const forged = forgeCertificate(ours.ca.certPem, decryptPrivateKey(fs.readFileSync(m.keyFile, 'utf8'), KEY_PASSWORD), m.csrPem);
  creds.forged = { key: mallory.key, cert: forged, keySha256: mallory.keySha256 };
  creds.asServer = { key: server.key, cert: server.cert, keySha256: server.keySha256 };
  if (clients.includes('alice')) {
    const expired = signCsr(ours.ca, ours.holders.alice.csrPem, { role: 'client', notBefore: Date.UTC(2020, 0, 1), notAfter: Date.UTC(2020, 6, 1) });
    creds.expired = { key: creds.alice.key, cert: expired.certPem, keySha256: keySha256OfCert(expired.certPem) };
    const renewed = signCsr(ours.ca, ours.holders.alice.csrPem, { role: 'client', days: 30 });
    creds.renewed = { key: creds.alice.key, cert: renewed.certPem, keySha256: keySha256OfCert(renewed.certPem) };
  }
  return { dir, ours, foreign, caPem: fs.readFileSync(ours.caCertFile, 'utf8'), server, creds, identity };
}

export function serverOn(pki: TestPki, dataDir: string, options: Partial<ServerOptions> = {}): Promise<RendezvousServer> {
  return startServer({ identity: pki.server, dataDir, host: '127.0.0.1', port: 0, admin: false, ...options });
}

// Resolves with the first value `test` accepts, or rejects after `ms` with `what` in the message.
export function within<T>(ms: number, what: string, start: (resolve: (v: T) => void, reject: (e: Error) => void) => void | (() => void)): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cleanup: void | (() => void);
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      if (cleanup) cleanup();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    cleanup = start(
      (v) => {
        settled = true;
        clearTimeout(timer);
        if (cleanup) cleanup();
        resolve(v);
      },
      (e) => {
        settled = true;
        clearTimeout(timer);
        if (cleanup) cleanup();
        reject(e);
      },
    );
    // Settled inside start (what it waits for was already there): its listeners go now, or a
    // stale one would go on taking messages from the waits that follow.
    if (settled && cleanup) cleanup();
  });
}

export type Client = {
  socket: tls.TLSSocket;
  // Every control message received, in order.
  received: ControlMessage[];
  // The versions named in a raw version-refused reply, when one came.
  versionRefused: number[] | null;
  // A decode error of what the server sent (there should be none).
  decodeError: NetError | null;
  id: number;
  // Waits for the next message (after those already taken by earlier waits) of this type.
  next: <T extends ControlType>(type: T, ms?: number) => Promise<ControlOf<T>>;
  // Waits for any message of this type ever received that `match` accepts.
  waitFor: <T extends ControlType>(type: T, match?: (m: ControlOf<T>) => boolean, ms?: number) => Promise<ControlOf<T>>;
  send: (msg: ControlMessage) => void;
  sendRaw: (bytes: Buffer) => void;
  login: (fields?: Partial<ControlOf<'login'>>) => Promise<ControlOf<'login-ok'> | ControlOf<'login-refused'>>;
  // Resolves when the server has closed the link (or it broke).
  closed: Promise<void>;
  isClosed: () => boolean;
  close: () => void;
  // Stops the frame reading: for a relay connection, the bytes after relay-ready.
  detach: () => Buffer;
};

export type ConnectOptions = {
  port: number;
  creds: Credentials;
  caPem: string;
  // Frame reading stops after this message (relay-ready), leaving the stream to the caller.
  stopAt?: ControlType;
  heartbeatEveryMs?: number;
};

// A client with `creds` that trusts `caPem` for the server. The server's certificate is checked
// for the chain only: this is a test of the server's checks, not the client's.
export function connect(options: ConnectOptions): Promise<Client> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port: options.port,
    key: options.creds.key || undefined,
    cert: options.creds.cert || undefined,
    ca: [options.caPem],
    minVersion: 'TLSv1.3',
    checkServerIdentity: () => undefined,
  });
  const received: ControlMessage[] = [];
  let cursor = 0;
  const listeners = new Set<() => void>();
  let closedFlag = false;
  let stopped = false;
  let rest: Buffer = Buffer.alloc(0);
  const stopAt = options.stopAt;
  const decoder: FrameDecoder = createFrameDecoder({
    stopWhen: stopAt ? (f: Frame) => safeType(f) === stopAt : undefined,
  });
  let heartbeat: NodeJS.Timeout | null = null;

  const client: Client = {
    socket,
    received,
    versionRefused: null,
    decodeError: null,
    id: 0,
    next: (type, ms = WAIT_MS) =>
      within(ms, `${type} (received so far: ${received.map((m) => m.type).join(', ') || 'nothing'}${closedFlag ? ', then closed' : ''})`, (resolve) => {
        const look = (): void => {
          while (cursor < received.length) {
            const m = received[cursor++];
            if (m.type === type) {
              resolve(m as never);
              return;
            }
          }
        };
        look();
        listeners.add(look);
        return () => listeners.delete(look);
      }),
    waitFor: (type, match = () => true, ms = WAIT_MS) =>
      within(ms, `${type} matching (received: ${received.map((m) => JSON.stringify(m)).join(' ')})`, (resolve) => {
        const look = (): void => {
          const m = received.find((x) => x.type === type && match(x as never));
          if (m) resolve(m as never);
        };
        look();
        listeners.add(look);
        return () => listeners.delete(look);
      }),
    send: (msg) => {
      socket.write(encodeFrame({ contentType: CONTENT.CONTROL, flags: FLAGS.NONE, source: client.id, destination: 0, contentId: 0, payload: encodeControl(msg) }));
    },
    sendRaw: (bytes) => {
      socket.write(bytes);
    },
    login: async (fields = {}) => {
      client.send({ type: 'login', version: PROTOCOL_VERSION, lan: ['192.168.1.10'], listenPort: 40000, ...fields });
      const answer = await within<ControlOf<'login-ok'> | ControlOf<'login-refused'>>(WAIT_MS, 'login-ok or login-refused', (resolve) => {
        const look = (): void => {
          const m = received.find((x) => x.type === 'login-ok' || x.type === 'login-refused' || x.type === 'version-refused');
          if (m) resolve(m as never);
        };
        look();
        listeners.add(look);
        return () => listeners.delete(look);
      });
      if (answer.type === 'login-ok') {
        client.id = answer.id;
        if (options.heartbeatEveryMs) {
          heartbeat = setInterval(() => {
            if (!closedFlag) client.send({ type: 'heartbeat' });
          }, options.heartbeatEveryMs);
        }
      }
      return answer;
    },
    closed: new Promise<void>((resolve) => {
      socket.on('close', () => {
        closedFlag = true;
        if (heartbeat) clearInterval(heartbeat);
        for (const l of [...listeners]) l();
        resolve();
      });
    }),
    isClosed: () => closedFlag,
    close: () => {
      if (heartbeat) clearInterval(heartbeat);
      socket.destroy();
    },
    detach: () => {
      stopped = true;
      socket.removeListener('data', onData);
      socket.pause();
      return rest;
    },
  };

  function onData(chunk: Buffer): void {
    if (stopped) return;
    let frames: Frame[] = [];
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      const e = err as NetError;
      if (e.code === 'FRAME_VERSION_REFUSED') client.versionRefused = e.peerVersions ?? [];
      else client.decodeError = e;
      frames = e.frames ?? [];
    }
    for (const f of frames) {
      try {
        received.push(decodeControl(f.payload));
      } catch (err) {
        client.decodeError = err as NetError;
      }
    }
    if (stopAt && received.some((m) => m.type === stopAt)) {
      rest = Buffer.from(decoder.rest());
      stopped = true;
      socket.removeListener('data', onData);
      socket.pause();
    }
    for (const l of [...listeners]) l();
  }

  socket.on('data', onData);
  socket.on('error', () => undefined);
  return new Promise<Client>((resolve, reject) => {
    socket.once('secureConnect', () => resolve(client));
    socket.once('close', () => reject(new Error('closed before the TLS handshake finished')));
  });
}

function safeType(f: Frame): string | null {
  try {
    return decodeControl(f.payload).type;
  } catch {
    return null;
  }
}

// Connects and logs in; fails the test unless login-ok comes back.
export async function signIn(options: ConnectOptions, fields: Partial<ControlOf<'login'>> = {}): Promise<Client> {
  const c = await connect(options);
  const answer = await c.login(fields);
  if (answer.type !== 'login-ok') throw new Error(`login refused: ${JSON.stringify(answer)}`);
  return c;
}

// The events of a server's journal, read while no server holds it.
export async function journalOf(dataDir: string): Promise<Stored[]> {
  const j = await openJournal(path.join(dataDir, 'journal'));
  const events: Stored[] = [];
  await j.scan((e) => events.push(e));
  await j.close();
  return events;
}

export function cleanup(dir: string | undefined): void {
  removeDir(dir);
}

// The fixture most server test files share: a CA with the named clients (made once for the
// file), servers started on it in data folders of their own, and, after each test, every client,
// socket, server and folder it opened closed and removed. `suite.pki` is set once beforeAll ran.
export type ServerSuite = {
  pki: TestPki;
  server: (options?: Partial<ServerOptions>, dataDir?: string) => Promise<{ port: number; srv: RendezvousServer; dataDir: string }>;
  online: (port: number, name: string) => Promise<Client>;
  // Anything else the test opened (a raw socket, a client that never signed in): closed after it.
  keep: (closeable: { close: () => void }) => void;
};

export function serverSuite(names: string[], prefix: string): ServerSuite {
  const open: Array<{ close: () => void }> = [];
  const servers: RendezvousServer[] = [];
  const dirs: string[] = [];
  const suite: ServerSuite = {
    pki: undefined as unknown as TestPki,
    async server(options = {}, dataDir) {
      const dir = dataDir ?? tempDir(`${prefix}-data`);
      if (dataDir === undefined) dirs.push(dir);
      const srv = await serverOn(suite.pki, dir, options);
      servers.push(srv);
      return { port: srv.address().port, srv, dataDir: dir };
    },
    async online(port, name) {
      const c = await signIn({ port, creds: suite.pki.creds[name], caPem: suite.pki.caPem });
      open.push(c);
      return c;
    },
    keep: (closeable) => void open.push(closeable),
  };
  beforeAll(async () => {
    suite.pki = await makeServerPki(names);
  });
  afterAll(() => cleanup(suite.pki?.dir));
  afterEach(async () => {
    for (const c of open.splice(0)) c.close();
    for (const s of servers.splice(0)) await s.close();
    for (const d of dirs.splice(0)) cleanup(d);
  });
  return suite;
}
