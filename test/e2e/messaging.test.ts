// Two people chat through an operator's server (issue 9): two `parley up` processes on loopback,
// a real server, messages sent with `parley send` as a user sends them. Each waits for the state
// it needs (a status, a history row), bounded; none sleeps.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RendezvousServer } from '../../server/server.js';
import { freePort } from '../cert/helpers.js';
import { jsonLines, runParley } from '../helpers/cli.js';
import { personAt, restartPerson, serverAt, stopPerson, until, type Person } from '../helpers/client.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob', 'carol']);
});
afterAll(() => cleanup(pki?.dir));

const person = (name: string, port: number, env: Record<string, string> = {}): Promise<Person> => personAt(pki, name, port, env);
const restart = (p: Person): Promise<void> => restartPerson(pki, p);
const stop = stopPerson;

// Alice and Bob online at a server of their own, stopped whatever happens.
async function withPair(work: (p: { a: Person; b: Person; srv: RendezvousServer }) => Promise<void>, env: Record<string, string> = {}, envB = env): Promise<void> {
  const port = await freePort();
  await serverAt(pki, port, async (srv) => {
    const a = await person('alice', port, env);
    const b = await person('bob', port, envB);
    try {
      await work({ a, b, srv });
    } finally {
      await stop(a);
      await stop(b);
    }
  });
}

async function history(p: Person, peer: number): Promise<Array<Record<string, unknown>>> {
  const r = await runParley(['history', '--peer', String(peer), '--json'], { home: p.home });
  return r.code === 0 ? jsonLines(r.stdout) : [];
}

async function send(p: Person, peer: number, text: string, extra: string[] = [], input?: string): Promise<string> {
  const r = await runParley(['send', '--to', String(peer), '--json', ...extra, text], { home: p.home, input });
  expect(r.code, r.stderr).toBe(0);
  const row = JSON.parse(r.stdout) as { id: string; status: string };
  expect(row.status).toBe('pending');
  return row.id;
}

async function befriend(a: Person, b: Person): Promise<void> {
  expect((await runParley(['contacts', 'add', String(b.id), '--name', 'B'], { home: a.home })).code).toBe(0);
  expect((await runParley(['contacts', 'add', String(a.id), '--name', 'A'], { home: b.home })).code).toBe(0);
}

async function statusOf(p: Person, id: string, peer: number): Promise<string | undefined> {
  return (await history(p, peer)).find((m) => m.id === id)?.status as string | undefined;
}

async function routeOf(p: Person): Promise<string | null> {
  const status = JSON.parse((await runParley(['status', '--json'], { home: p.home })).stdout) as { contacts: Array<{ route: string | null }> };
  return status.contacts[0]?.route ?? null;
}

describe('messaging', () => {
  it('messaging - both ways over a direct link: received once, delivered, the route shown, the limits adding up on both sides', async () => {
    await withPair(async ({ a, b }) => {
      await befriend(a, b);
      const m1 = await send(a, b.id, 'Привет, Боб! 👋');
      await until(async () => (await statusOf(a, m1, b.id)) === 'delivered', 'alice sees her message delivered');
      const m2 = await send(b, a.id, 'Hi Alice', ['--reply-to', m1]);
      await until(async () => (await statusOf(b, m2, a.id)) === 'delivered', 'bob sees his answer delivered');
      const status = JSON.parse((await runParley(['status', '--json'], { home: a.home })).stdout) as { contacts: Array<{ presence: string; route: string }> };
      expect(status.contacts[0]).toMatchObject({ presence: 'online', route: expect.stringMatching(/^(direct|lan)$/) });

      // Bob opens the chat: Alice's message shows read on her side.
      const read = await runParley(['read', '--peer', String(a.id), '--json'], { home: b.home });
      expect(JSON.parse(read.stdout)).toEqual({ peer: a.id, read: 1, unread: 0 });
      await until(async () => (await statusOf(a, m1, b.id)) === 'read', 'alice sees her message read');

      // Alice corrects her message: Bob sees the new text, marked edited; then once more while
      // Bob is away, and he gets it when he is back.
      expect((await runParley(['edit', m1, 'Привет, Боб!'], { home: a.home })).code).toBe(0);
      await until(async () => (await history(b, a.id)).find((m) => m.id === m1)?.text === 'Привет, Боб!', 'bob sees the edit');
      await stop(b);
      expect((await runParley(['edit', m1, 'Привет, Боб! 👋'], { home: a.home })).code).toBe(0);
      await restart(b);
      await until(async () => (await history(b, a.id)).find((m) => m.id === m1)?.text === 'Привет, Боб! 👋', 'bob gets the edit made while he was away');
      expect((await history(b, a.id)).find((m) => m.id === m1)?.edited_at).not.toBeNull();
      const notMine = await runParley(['edit', 'nope', 'x'], { home: a.home });
      expect(notMine.code).toBe(4);

      const atBob = await history(b, a.id);
      expect(atBob.map((m) => [m.id, m.direction, m.text, m.status])).toEqual([
        [m1, 'in', 'Привет, Боб! 👋', 'read'],
        [m2, 'out', 'Hi Alice', 'delivered'],
      ]);
      expect((await history(a, b.id)).find((m) => m.id === m2)).toMatchObject({ reply_to: m1, status: 'received' });
      for (const p of [a, b]) {
        const audit = await runParley(['limits', 'audit', '--json'], { home: p.home });
        expect(audit.code, audit.stdout + audit.stderr).toBe(0);
      }
      const limits = jsonLines((await runParley(['limits', '--json'], { home: a.home })).stdout)[0] as { inbound: { messages: { spent: number } }; outbound: { messages: { spent: number; granted: number } } };
      expect(limits.outbound.messages).toMatchObject({ spent: 1, granted: 1000 });
      expect(limits.inbound.messages).toMatchObject({ spent: 1 });
    });
  });

  it('messaging - a server restart: the link between the clients stays and carries a message meanwhile; both come back online', async () => {
    const port = await freePort();
    let a: Person | null = null;
    let b: Person | null = null;
    try {
      await serverAt(pki, port, async () => {
        a = await person('alice', port);
        b = await person('bob', port);
        await befriend(a, b);
        const m1 = await send(a, b.id, 'before');
        await until(async () => (await statusOf(a as Person, m1, (b as Person).id)) === 'delivered', 'delivered before the restart');
      });
      const [pa, pb] = [a as unknown as Person, b as unknown as Person];
      await pa.up?.waitFor('parley: offline');
      expect(JSON.parse((await runParley(['status', '--json'], { home: pa.home })).stdout)).toMatchObject({ server: 'offline' });
      const m2 = await send(pa, pb.id, 'while the server is away');
      await until(async () => (await statusOf(pa, m2, pb.id)) === 'delivered', 'delivered over the link that stayed up');
      await serverAt(pki, port, async () => {
        await until(async () => (JSON.parse((await runParley(['status', '--json'], { home: pa.home })).stdout) as { server: string }).server === 'online', 'alice online again', 20_000);
        await until(async () => (JSON.parse((await runParley(['status', '--json'], { home: pb.home })).stdout) as { server: string }).server === 'online', 'bob online again', 20_000);
      });
    } finally {
      if (a) await stop(a);
      if (b) await stop(b);
    }
  });

  it('messaging - a stranger\'s message waits until the target accepts its request; a refused one shows the target as refused', async () => {
    const port = await freePort();
    await serverAt(pki, port, async () => {
      const a = await person('alice', port);
      const b = await person('bob', port);
      const c = await person('carol', port);
      try {
        // Alice and Carol add Bob; Bob has added nobody.
        expect((await runParley(['contacts', 'add', String(b.id), '--name', 'Bob'], { home: a.home })).code).toBe(0);
        expect((await runParley(['contacts', 'add', String(b.id), '--name', 'Bob'], { home: c.home })).code).toBe(0);
        const m1 = await send(a, b.id, 'hello, may I?');
        const requests = async (): Promise<number[]> => jsonLines((await runParley(['requests', '--json'], { home: b.home })).stdout).map((r) => r.id as number);
        await until(async () => (await requests()).includes(a.id), 'bob has alice\'s request');
        await send(c, b.id, 'me too');
        await until(async () => (await requests()).includes(c.id), 'bob has carol\'s request');
        // Nothing reached Bob, and nobody was introduced: no link anywhere.
        expect(await statusOf(a, m1, b.id)).toBe('pending');
        expect(await history(b, a.id)).toEqual([]);
        for (const p of [a, b, c]) {
          const events = jsonLines((await runParley(['journal', 'inspect', '--json'], { home: p.home })).stdout);
          expect(events.filter((e) => e.type === 'link.opened')).toEqual([]);
        }

        const accepted = await runParley(['requests', 'accept', String(a.id), '--name', 'Alice'], { home: b.home });
        expect(accepted.code, accepted.stderr).toBe(0);
        await until(async () => (await statusOf(a, m1, b.id)) === 'delivered', 'alice\'s message delivered once accepted');
        expect((await history(b, a.id)).map((m) => m.text)).toEqual(['hello, may I?']);

        expect((await runParley(['requests', 'refuse', String(c.id)], { home: b.home })).code).toBe(0);
        expect(await requests()).toEqual([]);
        // Carol asks again (each new message does, at most every 5 s): the server refuses her now.
        await until(
          async () => {
            await send(c, b.id, 'still there?');
            const st = JSON.parse((await runParley(['status', '--json'], { home: c.home })).stdout) as { contacts: Array<{ presence: string }> };
            return st.contacts[0].presence === 'refused';
          },
          'carol sees bob as refused',
          20_000,
        );
        expect(await history(b, c.id)).toEqual([]);
        expect((await runParley(['requests', 'accept', String(c.id)], { home: b.home })).code).toBe(4);
      } finally {
        await stop(a);
        await stop(b);
        await stop(c);
      }
    });
  });

  it('messaging - with no direct route (neither side listens) the message goes through the relay, both ways', async () => {
    await withPair(async ({ a, b, srv }) => {
      await befriend(a, b);
      const m1 = await send(a, b.id, 'through the relay');
      await until(async () => (await statusOf(a, m1, b.id)) === 'delivered', 'delivered through the relay', 20_000);
      expect(srv.stats()).toMatchObject({ relays: 1 });
      const m2 = await send(b, a.id, 'and back');
      await until(async () => (await statusOf(b, m2, a.id)) === 'delivered', 'the answer delivered', 20_000);
      const status = JSON.parse((await runParley(['status', '--json'], { home: a.home })).stdout) as { contacts: Array<{ route: string }> };
      expect(status.contacts[0].route).toBe('relay');
      const atA = (await history(a, b.id)).find((m) => m.id === m1);
      expect(atA).toMatchObject({ status: 'delivered' });
    }, { PARLEY_NO_LISTEN: '1' });
  });

  it('messaging - a move from relay to direct mid-chat: the direct link takes over while both write, and every message arrives once, in order', async () => {
    await withPair(
      async ({ a, b, srv }) => {
        // Bob first, so that Alice's first introduction is not a request (whose acceptance would
        // have Bob ask for one himself and dial her).
        await befriend(b, a);
        // Alice asks and dials, but Bob does not listen: the relay.
        const first = await send(a, b.id, 'a0');
        await until(async () => (await statusOf(a, first, b.id)) === 'delivered', 'delivered through the relay', 20_000);
        expect(srv.stats()).toMatchObject({ relays: 1 });
        expect(await routeOf(a)).toBe('relay');
        // Bob writes: on the relay he asks for an introduction again and dials Alice's listener;
        // the direct link takes over while both go on writing.
        const fromA = [first];
        const fromB: string[] = [];
        await Promise.all([
          (async () => {
            for (let i = 1; i <= 6; i++) fromB.push(await send(b, a.id, `b${i}`));
          })(),
          (async () => {
            for (let i = 1; i <= 6; i++) fromA.push(await send(a, b.id, `a${i}`));
          })(),
        ]);
        await until(async () => (await routeOf(a)) !== 'relay' && (await routeOf(b)) !== 'relay', 'the direct link took over on both sides', 20_000);
        fromA.push(await send(a, b.id, 'a7'));
        fromB.push(await send(b, a.id, 'b7'));
        await until(async () => (await statusOf(a, fromA[fromA.length - 1], b.id)) === 'delivered', 'alice\'s last delivered', 20_000);
        await until(async () => (await statusOf(b, fromB[fromB.length - 1], a.id)) === 'delivered', 'bob\'s last delivered', 20_000);
        const atB = (await history(b, a.id)).filter((m) => m.direction === 'in');
        const atA = (await history(a, b.id)).filter((m) => m.direction === 'in');
        expect(atB.map((m) => m.id)).toEqual(fromA);
        expect(atB.map((m) => m.text)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']);
        expect(atA.map((m) => m.id)).toEqual(fromB);
        // The journal tells the move: the relay link opened, closed for the better route, the
        // direct one opened; messages written on each.
        const events = async (type: string): Promise<Array<Record<string, unknown>>> => jsonLines((await runParley(['journal', 'inspect', '--type', type, '--json'], { home: a.home })).stdout);
        expect((await events('link.opened')).map((e) => e.route)).toEqual(['relay', expect.stringMatching(/^(lan|direct)$/)]);
        expect((await events('link.closed')).map((e) => e.reason)).toEqual([expect.stringMatching(/route changed/)]);
        const routes = new Set((await events('message.transmitted')).map((e) => e.route));
        expect(routes.has('relay') && routes.size === 2).toBe(true);
        for (const id of [...fromA]) await until(async () => (await statusOf(a, id, b.id)) === 'delivered', `${id} delivered`);
        for (const id of [...fromB]) await until(async () => (await statusOf(b, id, a.id)) === 'delivered', `${id} delivered`);
      },
      {},
      { PARLEY_NO_LISTEN: '1' },
    );
  });

  it('messaging - the outbox: written while the receiver is down (stopped, then killed), delivered when it is back, in order and once', async () => {
    await withPair(async ({ a, b }) => {
      await befriend(a, b);
      await stop(b);
      const sent = [await send(a, b.id, 'one'), await send(a, b.id, 'two')];
      expect(await statusOf(a, sent[0], b.id)).toBe('pending');
      await restart(b);
      await until(async () => (await statusOf(a, sent[1], b.id)) === 'delivered', 'both delivered after bob came back');
      await stop(b, 'SIGKILL');
      sent.push(await send(a, b.id, 'three'));
      // The sender stopped too: both ends restart.
      await stop(a, 'SIGKILL');
      await restart(b);
      await restart(a);
      await until(async () => (await statusOf(a, sent[2], b.id)) === 'delivered', 'the third delivered after both restarts');
      // Written to a link whose other end never reads it (frozen, then killed): the message
      // is sent but not delivered, and goes again on the next link.
      b.up?.child.kill('SIGSTOP');
      sent.push(await send(a, b.id, 'four'));
      await until(async () => (await statusOf(a, sent[3], b.id)) === 'sent', 'the fourth written to the link');
      await stop(b, 'SIGKILL');
      await restart(b);
      await until(async () => (await statusOf(a, sent[3], b.id)) === 'delivered', 'the fourth delivered after all');
      const got = (await history(b, a.id)).filter((m) => m.direction === 'in');
      expect(got.map((m) => m.text)).toEqual(['one', 'two', 'three', 'four']);
      expect(got.map((m) => m.id)).toEqual(sent);
    });
  });

  it('messaging - the receiver\'s grant bounds the sender: a message beyond it waits, and goes once the receiver grants more; grants resent on every link count once', async () => {
    await withPair(async ({ a, b }) => {
      // Bob lets a new contact send him one packet.
      expect((await runParley(['settings', 'set', 'default-quota-messages', '1'], { home: b.home })).code).toBe(0);
      await befriend(a, b);
      const m1 = await send(a, b.id, 'one');
      await until(async () => (await statusOf(a, m1, b.id)) === 'delivered', 'the first delivered');
      const two = await runParley(['send', '--to', String(b.id), '--json', 'two'], { home: a.home });
      expect(two.code).toBe(0);
      expect(two.stderr).toMatch(/granted you 0 more packet\(s\) and this message takes 1: it waits for their grant/);
      const m2 = (JSON.parse(two.stdout) as { id: string; status: string }).id;
      expect(JSON.parse(two.stdout)).toMatchObject({ status: 'pending' });
      const outbound = async (): Promise<{ granted: number; spent: number }> =>
        (jsonLines((await runParley(['limits', '--json'], { home: a.home })).stdout)[0] as { outbound: { messages: { granted: number; spent: number } } }).outbound.messages;
      expect(await outbound()).toEqual({ granted: 1, spent: 1, left: 0 });
      expect(await statusOf(a, m2, b.id)).toBe('pending');
      expect((await runParley(['limits', 'grant', '--peer', String(a.id), '--messages', '5'], { home: b.home })).code).toBe(0);
      await until(async () => (await statusOf(a, m2, b.id)) === 'delivered', 'the second delivered after the grant');
      // A new link resends the running total: it counts once.
      await stop(b);
      await restart(b);
      const m3 = await send(a, b.id, 'three');
      await until(async () => (await statusOf(a, m3, b.id)) === 'delivered', 'the third delivered on the new link');
      expect(await outbound()).toEqual({ granted: 6, spent: 3, left: 3 });
      for (const p of [a, b]) expect((await runParley(['limits', 'audit', '--json'], { home: p.home })).code).toBe(0);
    });
  });

  it('messaging - a message sent and one received with the same id are both kept', async () => {
    await withPair(async ({ a, b }) => {
      await befriend(a, b);
      const m1 = await send(a, b.id, 'from alice');
      await until(async () => (await statusOf(a, m1, b.id)) === 'delivered', 'delivered');
      // Bob's next message gets the same id as Alice's: written as his client would.
      const { openProfile } = await import('../../src/node/profile.js');
      await stop(b);
      const profile = await openProfile(b.home);
      await profile.append({ type: 'message.sent', id: m1, peer: a.id, text: 'from bob, same id', packets: 1 });
      await profile.close();
      await restart(b);
      await until(async () => (await history(a, b.id)).some((m) => m.direction === 'in' && m.id === m1), 'alice received bob\'s message of the same id');
      const atAlice = await history(a, b.id);
      expect(atAlice.map((m) => [m.direction, m.id, m.text])).toEqual([
        ['out', m1, 'from alice'],
        ['in', m1, 'from bob, same id'],
      ]);
    });
  });

  it('messaging - a 200 KB text from standard input needs --yes (exit 5 without), then arrives whole, and so does one of 1 MiB (17 packets); a non-contact gets exit 4 and nothing journaled', async () => {
    await withPair(async ({ a, b }) => {
      await befriend(a, b);
      // Multi-byte characters split across packets and reads: é is two bytes.
      const big = 'é'.repeat(100_000) + ' end';
      const without = await runParley(['send', '--to', String(b.id), '-'], { home: a.home, input: big });
      expect(without.code).toBe(5);
      expect(without.stderr).toMatch(/--yes/);
      const id = await send(a, b.id, '-', ['--yes'], big);
      await until(async () => (await statusOf(a, id, b.id)) === 'delivered', 'the long message delivered', 20_000);
      expect((await history(b, a.id)).find((m) => m.id === id)?.text).toBe(big);
      // The largest, 1 MiB of UTF-8 with a four-byte character across every packet's border (17
      // packets), and one byte more refused with a word about files.
      const largest = 'z' + '😀'.repeat(262_143) + 'abc';
      expect(Buffer.byteLength(largest)).toBe(1024 * 1024);
      const max = await send(a, b.id, '-', ['--yes'], largest);
      await until(async () => (await statusOf(a, max, b.id)) === 'delivered', 'the largest message delivered', 20_000);
      expect((await history(b, a.id)).find((m) => m.id === max)?.text).toBe(largest);
      const over = await runParley(['send', '--to', String(b.id), '--yes', '-'], { home: a.home, input: largest + 'x' });
      expect(over.code).toBe(2);
      expect(over.stderr).toMatch(/as a file/);

      const before = (await runParley(['journal', 'inspect', '--json'], { home: a.home })).stdout;
      const stranger = await runParley(['send', '--to', '424242', 'hi'], { home: a.home });
      expect(stranger.code).toBe(4);
      expect(stranger.stderr).toMatch(/not one of your contacts/);
      expect((await runParley(['journal', 'inspect', '--json'], { home: a.home })).stdout).toBe(before);
      expect(fs.existsSync(a.home)).toBe(true);
    });
  });
});
