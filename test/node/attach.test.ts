// A UI attached to a running client (src/node/attach.ts) over its private local socket: a snapshot
// then every event as it is appended, the status again when it changes, pages of a chat, bad
// requests answered with an error line, a reader that does not keep up dropped. The first tests
// run the socket in this process on a real profile; the others attach to real `parley up`
// processes, as the UI will.
import path from 'node:path';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLine, MAX_BUFFERED, pageArgs, PAGE_LIMIT } from '../../src/node/attach.js';
import type { ClientState } from '../../src/node/client.js';
import { connectClient, listenControl } from '../../src/node/control.js';
import { openProfile, type Profile } from '../../src/node/profile.js';
import { readLines } from '../../src/net/local.js';
import { freePort } from '../cert/helpers.js';
import { runParley, tempHome } from '../helpers/cli.js';
import { clientInitArgs, serverAt, startUp, until, type Up } from '../helpers/client.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';

type Line = Record<string, unknown>;

// One request on the client's socket, and every answer line as it comes.
type Attached = {
  socket: net.Socket;
  lines: Line[];
  waitFor: (match: (line: Line) => boolean, what: string, ms?: number) => Promise<Line>;
  closed: Promise<void>;
};

async function attach(home: string, request: unknown): Promise<Attached> {
  const socket = await connectClient(home);
  const lines: Line[] = [];
  const waiters = new Set<() => void>();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  readLines(socket, 16 * 1024 * 1024, (line) => {
    lines.push(JSON.parse(line) as Line);
    for (const w of [...waiters]) w();
  });
  socket.write((typeof request === 'string' ? request : JSON.stringify(request)) + '\n');
  const waitFor = (match: (line: Line) => boolean, what: string, ms = 15_000): Promise<Line> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = lines.find(match);
        if (!found) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`${what}: not within ${ms} ms; lines: ${JSON.stringify(lines).slice(-2000)}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { socket, lines, waitFor, closed };
}

// A request that is answered and closed: every line it got.
async function ask(home: string, request: unknown): Promise<Line[]> {
  const a = await attach(home, request);
  await a.closed;
  return a.lines;
}

const eventOf = (line: Line): Record<string, unknown> | undefined => line.event as Record<string, unknown> | undefined;

describe('attach - in this process', () => {
  function idleState(): ClientState {
    return { server: 'none', address: null, signedInTo: null, lastError: null, id: null, presence: new Map(), refusedBy: new Set(), clockOffsetMs: 0, routes: new Map() };
  }

  // A profile with the socket served on it, as startClient serves it, and a state the test sets.
  async function serving(work: (p: { home: string; profile: Profile; setState: (s: ClientState) => void }) => Promise<void>): Promise<void> {
    const home = tempHome('attach-local');
    const profile = await openProfile(home);
    let state = idleState();
    const listeners = new Set<() => void>();
    const control = await listenControl(home, {
      run: async () => 0,
      attach: {
        home,
        profile,
        state: () => state,
        onStateChange: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
    });
    try {
      await work({
        home,
        profile,
        setState: (s) => {
          state = s;
          for (const l of listeners) l();
        },
      });
    } finally {
      await control.close();
      await profile.close();
    }
  }

  it('attach - jsonLine writes Buffers as base64 and bigints as numbers, or strings past 2^53', () => {
    const line = jsonLine({ b: Buffer.from([1, 2, 255]), u: new Uint8Array([0, 1]), small: 5n, big: 2n ** 60n, nested: [{ x: 1n }] });
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ b: 'AQL/', u: 'AAE=', small: 5, big: '1152921504606846976', nested: [{ x: 1 }] });
  });

  it.each([
    ['no peer', {}, /"peer"/],
    ['a peer as text', { peer: '7' }, /"peer"/],
    ['peer 0', { peer: 0 }, /"peer"/],
    ['a peer past 2^40 - 1', { peer: 2 ** 40 }, /"peer"/],
    ['a fractional before', { peer: 7, before: 1.5 }, /"before"/],
    ['before 0', { peer: 7, before: 0 }, /"before"/],
    ['limit 0', { peer: 7, limit: 0 }, /"limit"/],
    ['a limit over the most', { peer: 7, limit: PAGE_LIMIT.MAX + 1 }, /"limit"/],
  ])('attach - page arguments: %s is refused with a reason', (_what, request, reason) => {
    const answer = pageArgs(request as Record<string, unknown>);
    expect(typeof answer).toBe('string');
    expect(answer).toMatch(reason);
  });

  it('attach - page arguments: the limit defaults to 50; before is kept when given', () => {
    expect(pageArgs({ peer: 7 })).toEqual({ peer: 7, limit: 50 });
    expect(pageArgs({ peer: 7, before: 12, limit: 500 })).toEqual({ peer: 7, before: 12, limit: 500 });
  });

  it('attach - a change of state without an event (presence) sends the status again, once; no change, no line', async () => {
    await serving(async ({ home, profile, setState }) => {
      await profile.append({ type: 'contact.added', peer: 7, name: 'Bob', whitelisted: true });
      const a = await attach(home, { op: 'subscribe' });
      const snapshot = (await a.waitFor((l) => 'snapshot' in l, 'the snapshot')).snapshot as { status: { contacts: Array<{ presence: string }> } };
      expect(snapshot.status.contacts).toEqual([{ id: 7, name: 'Bob', presence: 'offline', route: null, unread: 0, folder: 'main', keep_history: true }]);
      // Told of a change that changes nothing: no line (a page asked after it is answered after
      // the tick that would have sent it).
      setState(idleState());
      await ask(home, { op: 'page', peer: 7 });
      expect(a.lines.filter((l) => 'status' in l)).toHaveLength(0);
      // Told twice in one tick of a change: one line.
      const online: ClientState = { ...idleState(), server: 'online', presence: new Map([[7, { online: true, at: 1 }]]), routes: new Map([[7, 'direct']]) };
      setState(online);
      setState(online);
      const status = (await a.waitFor((l) => 'status' in l, 'the new status')).status as { server: string; contacts: unknown[] };
      expect(status.server).toBe('online');
      expect(status.contacts).toEqual([{ id: 7, name: 'Bob', presence: 'online', route: 'direct', unread: 0, folder: 'main', keep_history: true }]);
      await ask(home, { op: 'page', peer: 7 });
      expect(a.lines.filter((l) => 'status' in l)).toHaveLength(1);
      a.socket.destroy();
    });
  });

  it('attach - pending: my messages no ack answered and the transfers not finished, then the end', async () => {
    await serving(async ({ home, profile }) => {
      expect(await ask(home, { op: 'pending' })).toEqual([{ pending: { messages: 0, transfers: 0 } }]);
      await profile.append({ type: 'contact.added', peer: 7, name: 'Bob', whitelisted: true });
      await profile.appendMany([
        { type: 'message.sent', id: 'm1', peer: 7, text: 'one', packets: 1 },
        { type: 'message.sent', id: 'm2', peer: 7, text: 'two', packets: 1 },
        { type: 'message.received', id: 'r1', peer: 7, text: 'hi', sentAt: 1, at: 2 },
        { type: 'transfer.offered', id: 't1', peer: 7, direction: 'out', name: 'a.txt', size: 10, chunkSize: 65_535 },
        { type: 'transfer.offered', id: 't2', peer: 7, direction: 'in', name: 'b.txt', size: 10, chunkSize: 65_535 },
      ]);
      await profile.append({ type: 'transfer.declined', id: 't2', peer: 7, direction: 'in' });
      expect(await ask(home, { op: 'pending' })).toEqual([{ pending: { messages: 2, transfers: 1 } }]);
      // Acknowledged in order: a delivered message answers those before it.
      await profile.append({ type: 'message.delivered', id: 'm2', peer: 7, receivedAt: 3 });
      expect(await ask(home, { op: 'pending' })).toEqual([{ pending: { messages: 0, transfers: 1 } }]);
    });
  });

  it('attach - a subscriber that does not read is dropped past the bound: what was queued, then "too slow", then the end; the client goes on', async () => {
    await serving(async ({ home, profile }) => {
      const a = await attach(home, { op: 'subscribe' });
      await a.waitFor((l) => 'snapshot' in l, 'the snapshot');
      a.socket.pause();
      // 40 events of 60 KB: more than the bound and the kernel's socket buffer together.
      const text = 'x'.repeat(60_000);
      const events = Array.from({ length: 40 }, (_, i) => ({ type: 'message.received' as const, id: `m${i}`, peer: 7, text, sentAt: 1, at: 2 }));
      expect(events.length * text.length).toBeGreaterThan(2 * MAX_BUFFERED);
      await profile.appendMany(events);
      a.socket.resume();
      await a.closed;
      const got = a.lines.filter((l) => eventOf(l)?.type === 'message.received');
      expect(got.length).toBeGreaterThan(0);
      expect(got.length).toBeLessThan(events.length);
      expect(a.lines[a.lines.length - 1]).toEqual({ error: 'too slow' });
      // The events it got are whole and in order.
      expect(got.map((l) => eventOf(l)?.id)).toEqual(events.slice(0, got.length).map((e) => e.id));
      // Others still attach and read.
      const page = await ask(home, { op: 'page', peer: 7, limit: 2 });
      expect((page[0].messages as Array<{ id: string }>).map((m) => m.id)).toEqual(['m38', 'm39']);
    });
  });
});

describe('attach - to a running client', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeServerPki(['alice', 'bob']);
  });
  afterAll(() => cleanup(pki?.dir));

  it('attach - subscribe: the snapshot is `parley status --json` and the settings; a command run through the CLI arrives as its event, then the status', async () => {
    const home = tempHome('attach-up');
    // A server nobody listens on: the client runs offline.
    expect((await runParley(clientInitArgs(pki, 'alice', '127.0.0.1:1', ['--name', 'Alice']), { home })).code).toBe(0);
    const u = startUp(pki, home);
    try {
      await u.waitFor('Ctrl+C stops it');
      const a = await attach(home, { op: 'subscribe' });
      const { snapshot } = (await a.waitFor((l) => 'snapshot' in l, 'the snapshot')) as { snapshot: { seq: number; status: unknown; settings: unknown } };
      const status = await runParley(['status', '--json'], { home });
      expect(snapshot.status).toEqual(JSON.parse(status.stdout));
      expect(snapshot.status).toMatchObject({ name: 'Alice', server: 'offline', contacts: [] });
      expect(snapshot.settings).toEqual({ language: 'en', 'lan-discovery': true, 'default-quota-messages': 1000, 'default-quota-files': 1000, notify: true, 'auto-accept-files': false, downloads: path.join(home, 'downloads'), 'listen-port': expect.any(Number), mouse: false, 'show-bits': false });
      expect(Number.isSafeInteger(snapshot.seq)).toBe(true);

      expect((await runParley(['contacts', 'add', '77', '--name', 'Боб'], { home })).code).toBe(0);
      const added = eventOf(await a.waitFor((l) => eventOf(l)?.type === 'contact.added', 'contact.added'));
      expect(added).toMatchObject({ type: 'contact.added', peer: 77, name: 'Боб', whitelisted: true });
      expect(added?.seq as number).toBeGreaterThan(snapshot.seq);
      const next = (await a.waitFor((l) => 'status' in l, 'the status with the contact')).status;
      expect(next).toMatchObject({ contacts: [{ id: 77, name: 'Боб', presence: 'offline', route: null, unread: 0 }] });

      // A setting changed: its event, then the settings as the client reads them.
      expect((await runParley(['settings', 'set', 'notify', 'off'], { home })).code).toBe(0);
      const settings = (await a.waitFor((l) => 'settings' in l, 'the new settings')).settings;
      expect(settings).toMatchObject({ notify: false });

      // An intent is a "run" request on the same socket: its event reaches the subscriber too.
      const sent = await ask(home, { op: 'run', argv: ['send', '--to', '77', '--json', '--', 'hello'], cwd: home });
      expect(sent[sent.length - 1]).toEqual({ exit: 0 });
      const id = (JSON.parse(sent.find((l) => typeof l.out === 'string')?.out as string) as { id: string }).id;
      expect(eventOf(await a.waitFor((l) => eventOf(l)?.type === 'message.sent', 'message.sent'))).toMatchObject({ id, peer: 77, text: 'hello', packets: 1 });

      // Seqs follow one another: nothing appended while attached was left out.
      const seqs = a.lines.map(eventOf).filter((e) => e !== undefined).map((e) => e.seq as number);
      expect(seqs).toEqual(seqs.map((_, i) => snapshot.seq + 1 + i));
      a.socket.destroy();
    } finally {
      u.child.kill('SIGTERM');
      await u.exited;
    }
  });

  it('attach - page: a chat of 55 messages read back by pages, oldest first, as `parley history --json` prints them; bad requests get an error line and the client goes on', async () => {
    const home = tempHome('attach-page');
    expect((await runParley(clientInitArgs(pki, 'alice', '127.0.0.1:1'), { home })).code).toBe(0);
    const u = startUp(pki, home);
    try {
      await u.waitFor('Ctrl+C stops it');
      expect((await runParley(['contacts', 'add', '77', '--name', 'Bob'], { home })).code).toBe(0);
      for (let i = 1; i <= 55; i++) {
        const r = await ask(home, { op: 'run', argv: ['send', '--to', '77', '--', `m ${i}`], cwd: home });
        expect(r[r.length - 1]).toEqual({ exit: 0 });
      }
      const [first, ...more] = await ask(home, { op: 'page', peer: 77 });
      expect(more).toEqual([]);
      const last50 = first.messages as Array<Record<string, unknown>>;
      expect(last50.map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `m ${i + 6}`));
      const history = await runParley(['history', '--peer', '77', '--limit', '50', '--json'], { home });
      expect(last50).toEqual(history.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown));

      const [older] = await ask(home, { op: 'page', peer: 77, before: last50[0].seq });
      expect((older.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['m 1', 'm 2', 'm 3', 'm 4', 'm 5']);
      const [small] = await ask(home, { op: 'page', peer: 77, limit: 2, before: last50[0].seq });
      expect((small.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['m 4', 'm 5']);
      const [none] = await ask(home, { op: 'page', peer: 78 });
      expect(none).toEqual({ messages: [] });

      for (const request of [{ op: 'page' }, { op: 'page', peer: 77, limit: 501 }, { op: 'page', peer: 77, before: 'x' }]) {
        const answer = await ask(home, request);
        expect(answer, JSON.stringify(request)).toHaveLength(1);
        expect(answer[0].error, JSON.stringify(request)).toMatch(/must be/);
      }
      // Not JSON, or an op the client does not know: the forwarded command's refusal, exit 2.
      for (const request of ['not json', { op: 'unsubscribe' }, { op: 'run', argv: 'status' }]) {
        expect(await ask(home, request)).toEqual([{ err: 'parley: not a request this client knows\n' }, { exit: 2 }]);
      }
      // A request line past the bound (7 MiB) with no end: the connection is cut, nothing else.
      const long = await connectClient(home);
      long.on('error', () => undefined);
      const cut = new Promise<void>((resolve) => long.once('close', () => resolve()));
      long.write('{"op":"page","peer":77,"x":"' + 'y'.repeat(8 * 1024 * 1024));
      await cut;

      const status = await runParley(['status', '--json'], { home });
      expect(status.code, status.stderr).toBe(0);
      expect(u.child.exitCode).toBeNull();
    } finally {
      u.child.kill('SIGTERM');
      await u.exited;
    }
  });

  it('attach - two clients at a server: the receiver\'s subscriber sees the message arrive and the contact online with its route; the sender\'s sees it delivered', async () => {
    const port = await freePort();
    await serverAt(pki, port, async () => {
      const people: Array<{ home: string; up: Up; id: number }> = [];
      try {
        for (const name of ['alice', 'bob']) {
          const home = tempHome(`attach-${name}`);
          expect((await runParley(clientInitArgs(pki, name, `127.0.0.1:${port}`), { home })).code).toBe(0);
          const up = startUp(pki, home);
          people.push({ home, up, id: 0 });
          await up.waitFor('online at');
          people[people.length - 1].id = (JSON.parse((await runParley(['status', '--json'], { home })).stdout) as { id: number }).id;
        }
        const [a, b] = people;
        const atA = await attach(a.home, { op: 'subscribe' });
        const atB = await attach(b.home, { op: 'subscribe' });
        await atA.waitFor((l) => 'snapshot' in l, 'alice\'s snapshot');
        await atB.waitFor((l) => 'snapshot' in l, 'bob\'s snapshot');
        expect((await runParley(['contacts', 'add', String(b.id), '--name', 'Bob'], { home: a.home })).code).toBe(0);
        expect((await runParley(['contacts', 'add', String(a.id), '--name', 'Alice'], { home: b.home })).code).toBe(0);
        const sent = await runParley(['send', '--to', String(b.id), '--json', 'Привет 👋'], { home: a.home });
        expect(sent.code, sent.stderr).toBe(0);
        const id = (JSON.parse(sent.stdout) as { id: string }).id;

        const received = eventOf(await atB.waitFor((l) => eventOf(l)?.type === 'message.received', 'bob hears the message', 30_000));
        expect(received).toMatchObject({ id, peer: a.id, text: 'Привет 👋' });
        const online = (l: Line, peer: number): boolean =>
          ((l.status as { contacts?: Array<{ id: number; presence: string; route: string | null }> } | undefined)?.contacts ?? []).some((c) => c.id === peer && c.presence === 'online' && c.route !== null);
        await atB.waitFor((l) => online(l, a.id), 'alice online with a route at bob', 30_000);
        await atA.waitFor((l) => online(l, b.id), 'bob online with a route at alice', 30_000);
        await atA.waitFor((l) => eventOf(l)?.type === 'message.delivered' && eventOf(l)?.id === id, 'alice hears it delivered', 30_000);
        // The unread count at bob's side comes with a status line too.
        await atB.waitFor((l) => ((l.status as { contacts?: Array<{ id: number; unread: number }> } | undefined)?.contacts ?? []).some((c) => c.id === a.id && c.unread === 1), 'one unread at bob');
        atA.socket.destroy();
        atB.socket.destroy();
        await until(async () => (await runParley(['status', '--json'], { home: a.home })).code === 0, 'alice still answers');
      } finally {
        for (const p of people) {
          p.up.child.kill('SIGTERM');
          await p.up.exited;
        }
      }
    });
  });
});
