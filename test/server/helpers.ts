// Shared by the server tests: a small PKI made once per test file, a server on 127.0.0.1 port 0,
// and a client that connects with a certificate, logs in and reads control frames. Every wait has
// a bound; nothing sleeps for luck.
import { afterAll, afterEach, beforeAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { signCsr } from '../../cert/sign.js';
import { openJournal } from '../../src/events/journal.js';
import { SERVER_EVENTS, type ServerEvent, type StoredServerEvent } from '../../server/events.js';
import { keySha256OfCert, loadIdentity, type Identity } from '../../src/net/tls.js';
import type { ControlMessage, ControlType, ControlOf } from '../../src/net/control.js';
import { openSession, type ServerSession, type SessionEnd } from '../../src/net/session.js';
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
  // Heartbeats after this much silence, and answers to the server's. Omitted: a silent client
  // that neither sends nor answers one (for the server's deadlines).
  heartbeatEveryMs?: number;
};

// The product's session client (src/net/session.ts) with `creds`, trusting `caPem` for the
// server: it checks the server's chain and role, while the server tests check what the server
// does with these credentials (missing, foreign, expired, of the wrong role). On top of it, the
// log every server test reads: every message received, in order, with waits over that log
// (a message that came before the wait still counts).
export async function connect(options: ConnectOptions): Promise<Client> {
  const received: ControlMessage[] = [];
  let cursor = 0;
  const listeners = new Set<() => void>();
  let closedFlag = false;
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };
  const session: ServerSession = await openSession({
    host: '127.0.0.1',
    port: options.port,
    identity: { ca: options.caPem, key: options.creds.key, cert: options.creds.cert },
    heartbeat: options.heartbeatEveryMs ? { everyMs: options.heartbeatEveryMs } : false,
    waitMs: WAIT_MS,
    stopAfter: options.stopAt,
    onMessage: (m) => {
      received.push(m);
      notify();
    },
  });

  const client: Client = {
    socket: session.socket,
    received,
    versionRefused: null,
    decodeError: null,
    get id() {
      return session.id();
    },
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
    send: (msg) => void session.send(msg),
    sendRaw: (bytes) => void session.socket.write(bytes),
    login: (fields = {}) => session.login({ lan: ['192.168.1.10'], listenPort: 40000, ...fields }) as Promise<ControlOf<'login-ok'> | ControlOf<'login-refused'>>,
    closed: session.closed.then((end: SessionEnd) => {
      // What the session refused of the server's bytes (there should be nothing), and a raw
      // version-refused reply at the frame level.
      if (end.cause?.code === 'FRAME_VERSION_REFUSED') client.versionRefused = end.versions ?? [];
      else if (end.cause) client.decodeError = end.cause;
      closedFlag = true;
      notify();
    }),
    isClosed: () => closedFlag,
    close: () => void session.close(),
    detach: () => session.detach(),
  };
  return client;
}

// Connects and logs in; fails the test unless login-ok comes back.
export async function signIn(options: ConnectOptions, fields: Partial<ControlOf<'login'>> = {}): Promise<Client> {
  const c = await connect(options);
  const answer = await c.login(fields);
  if (answer.type !== 'login-ok') throw new Error(`login refused: ${JSON.stringify(answer)}`);
  return c;
}

// The events of a server's journal, read while no server holds it.
export async function journalOf(dataDir: string): Promise<StoredServerEvent[]> {
  const j = await openJournal<ServerEvent>(path.join(dataDir, 'journal'), dataDir, { schema: SERVER_EVENTS });
  const events: StoredServerEvent[] = [];
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
