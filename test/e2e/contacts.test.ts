// Removing a contact while both clients run (issue: contacts remove): the command reaches the
// running client, the server hears the client's new lists at once, the chat stays. Two `parley
// up` processes on loopback and a real server; every wait is bounded, none sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../cert/helpers.js';
import { jsonLines, ok, runParley } from '../helpers/cli.js';
import { personAt, restartPerson, serverAt, stopPerson, until, type Person } from '../helpers/client.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob']);
});
afterAll(() => cleanup(pki?.dir));

async function history(p: Person, peer: number): Promise<Array<Record<string, unknown>>> {
  return jsonLines((await ok(['history', '--peer', String(peer), '--json'], { home: p.home })).stdout);
}

async function send(p: Person, peer: number, text: string): Promise<string> {
  return (JSON.parse((await ok(['send', '--to', String(peer), '--json', text], { home: p.home })).stdout) as { id: string }).id;
}

async function statusOf(p: Person, id: string, peer: number): Promise<unknown> {
  return (await history(p, peer)).find((m) => m.id === id)?.status;
}

describe('contacts', () => {
  it('contacts - removed while online: the outbox fails, the server stops introducing the removed one (its next message is a request), and accepted again it finds the old chat', async () => {
    const port = await freePort();
    await serverAt(pki, port, async () => {
      const a = await personAt(pki, 'alice', port);
      const b = await personAt(pki, 'bob', port);
      try {
        await ok(['contacts', 'add', String(b.id), '--name', 'Bob'], { home: a.home });
        await ok(['contacts', 'add', String(a.id), '--name', 'Alice'], { home: b.home });
        const m1 = await send(a, b.id, 'before');
        await until(async () => (await statusOf(a, m1, b.id)) === 'delivered', 'the first delivered');

        // Alice removes Bob while a message to him waits (he is away): it fails at once.
        await stopPerson(b);
        const m2 = await send(a, b.id, 'while bob is away');
        const removed = await ok(['contacts', 'remove', String(b.id), '--json'], { home: a.home });
        expect(jsonLines(removed.stdout)).toEqual([{ id: b.id, removed: true, failed: 1, blocked: false }]);
        expect((await history(a, b.id)).map((m) => [m.id, m.status, m.reason])).toEqual([
          [m1, 'delivered', null],
          [m2, 'failed', 'contact removed'],
        ]);
        expect((await runParley(['send', '--to', String(b.id), 'x'], { home: a.home })).code).toBe(4);
        await ok(['contacts', 'add', String(b.id), '--name', 'Bob'], { home: a.home });

        // Bob is back (no link: nothing waits on either side) and removes Alice while online:
        // his client gives the server its lists again, so Alice's next message is a request.
        await restartPerson(pki, b);
        const grantsAtBob = async (): Promise<number> => jsonLines((await ok(['journal', 'inspect', '--type', 'quota.granted', '--json'], { home: b.home })).stdout).filter((e) => e.peer === a.id).length;
        const grants = await grantsAtBob();
        await ok(['contacts', 'remove', String(a.id)], { home: b.home });
        expect(jsonLines((await ok(['contacts', '--json'], { home: b.home })).stdout)).toEqual([]);
        const m3 = await send(a, b.id, 'after');
        const requests = async (): Promise<number[]> => jsonLines((await ok(['requests', '--json'], { home: b.home })).stdout).map((r) => r.id as number);
        await until(async () => (await requests()).includes(a.id), 'bob has alice\'s request', 20_000);
        expect(await statusOf(a, m3, b.id)).toBe('pending');
        expect((await history(b, a.id)).map((m) => m.text)).toEqual(['before']);

        await ok(['requests', 'accept', String(a.id), '--name', 'Alice'], { home: b.home });
        await until(async () => (await statusOf(a, m3, b.id)) === 'delivered', 'the message delivered once accepted', 20_000);
        // The old chat is there, the failed message never came, and no second grant was given.
        expect((await history(b, a.id)).map((m) => [m.id, m.text])).toEqual([
          [m1, 'before'],
          [m3, 'after'],
        ]);
        expect(await grantsAtBob()).toBe(grants);
        for (const p of [a, b]) expect(jsonLines((await ok(['limits', 'audit', '--json'], { home: p.home })).stdout).at(-1)).toEqual({ consistent: true });
      } finally {
        await stopPerson(a);
        await stopPerson(b);
      }
    });
  });

  it('contacts - blocked or removed while a link is up: the link goes at once and nothing more from that contact is journaled', async () => {
    const port = await freePort();
    await serverAt(pki, port, async () => {
      const a = await personAt(pki, 'alice', port);
      const b = await personAt(pki, 'bob', port);
      try {
        await ok(['contacts', 'add', String(b.id), '--name', 'Bob'], { home: a.home });
        await ok(['contacts', 'add', String(a.id), '--name', 'Alice'], { home: b.home });
        const m1 = await send(a, b.id, 'hello');
        await until(async () => (await statusOf(a, m1, b.id)) === 'delivered', 'the first delivered');
        const routeAt = async (p: Person): Promise<unknown> => (JSON.parse((await ok(['status', '--json'], { home: p.home })).stdout) as { contacts: Array<{ route: unknown }> }).contacts[0]?.route ?? null;
        expect(await routeAt(a)).not.toBeNull();

        // Bob blocks Alice: the link closes on both sides, and what she writes next stays with her.
        await ok(['contacts', 'block', String(a.id)], { home: b.home });
        await until(async () => (await routeAt(a)) === null, 'the link gone at alice', 20_000);
        const m2 = await send(a, b.id, 'are you there?');
        // Not delivered: pending, or `sent` when it went on a link in the moment that link was refused.
        expect(['pending', 'sent']).toContain(await statusOf(a, m2, b.id));
        expect((await history(b, a.id)).map((m) => m.id)).toEqual([m1]);
        const closed = jsonLines((await ok(['journal', 'inspect', '--type', 'link.closed', '--json'], { home: a.home })).stdout);
        expect(closed.at(-1)?.reason).toMatch(/PEER_REFUSED/);

        // The server refuses to introduce her: she asks no more, so it is Bob's unblock that brings
        // the link back (his client asks for her at once).
        const presenceAt = async (p: Person): Promise<unknown> => (JSON.parse((await ok(['status', '--json'], { home: p.home })).stdout) as { contacts: Array<{ presence: unknown }> }).contacts[0]?.presence;
        await until(async () => (await presenceAt(a)) === 'refused', 'bob shown as refusing at alice', 15_000);

        // Unblocked, the message goes; then Alice removes Bob while the link is up: it goes too.
        await ok(['contacts', 'block', String(a.id), '--undo'], { home: b.home });
        await until(async () => (await statusOf(a, m2, b.id)) === 'delivered', 'delivered once unblocked', 20_000);
        await ok(['contacts', 'remove', String(b.id)], { home: a.home });
        await until(async () => jsonLines((await ok(['journal', 'inspect', '--type', 'link.closed', '--json'], { home: b.home })).stdout).length >= 2, 'the link gone at bob');
      } finally {
        await stopPerson(a);
        await stopPerson(b);
      }
    });
  });
});
