// Quota refusal at the receiver, with a sender modified to ignore its outbound quota (issue: the
// quotas are enforced where they are granted, so a modified client gains nothing;
// src/projections/quotas.ts, docs/PROTOCOL.md section 9).
//
// The cheat is a real client whose product code is untouched: Alice runs in this test's own
// process (startClient, as `parley up` runs it), with the quotas module mocked so that left()
// reports plenty for every outbound balance: her delivery then writes whatever waits, as a
// modified client would. Bob, the honest receiver, runs in a `parley up` process of his own
// (dist/, never mocked), with a real server on loopback between them. Commands on Alice's profile
// reach her in-process client over its local socket, as they reach `parley up`.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runInClient } from '../../src/cli.js';
import { startClient, type RunningClient } from '../../src/node/client.js';
import { loadHomeIdentity } from '../../src/node/identity.js';
import { freePort } from '../cert/helpers.js';
import { jsonLines, ok, tempHome } from '../helpers/cli.js';
import { clientInitArgs, personAt, serverAt, stopPerson, until, type Person } from '../helpers/client.js';
import { cleanup, KEY_PASSWORD, makeServerPki, type TestPki } from '../server/helpers.js';

// Outbound balances are tagged as quotaOf hands them out (the view's own records, kept from
// event to event), so the inbound ones, Alice's own grants to Bob, keep their honest left().
vi.mock('../../src/projections/quotas.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/projections/quotas.js')>();
  const outbound = new WeakSet<object>();
  return {
    ...real,
    quotaOf(state: Parameters<typeof real.quotaOf>[0], peer: number) {
      const q = real.quotaOf(state, peer);
      outbound.add(q.outbound.messages);
      outbound.add(q.outbound.files);
      return q;
    },
    left: (b: Parameters<typeof real.left>[0]) => (outbound.has(b) ? Number.MAX_SAFE_INTEGER : real.left(b)),
  };
});

let pki: TestPki;
beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob']);
});
afterAll(() => cleanup(pki?.dir));

type Cheat = { home: string; id: number; client: RunningClient; log: string[] };

// Alice's profile made as any other (`parley init`), her client started here.
async function cheatAt(port: number): Promise<Cheat> {
  const home = tempHome('cheat-alice');
  await ok(clientInitArgs(pki, 'alice', `127.0.0.1:${port}`), { home });
  const log: string[] = [];
  let client: RunningClient | null = null;
  client = await startClient({
    home,
    identity: loadHomeIdentity(home, KEY_PASSWORD),
    run: (argv, io) => (client ? runInClient({ profile: client.profile, state: client.state }, argv, io) : Promise.resolve(3)),
    log: (line) => log.push(line),
  });
  await client.firstLogin;
  const id = client.state().id;
  if (id === null) {
    await client.close();
    throw new Error(`alice did not log in: ${log.join(' | ')}`);
  }
  return { home, id, client, log };
}

type Row = Record<string, unknown>;

async function history(home: string, peer: number): Promise<Row[]> {
  return jsonLines((await ok(['history', '--peer', String(peer), '--json'], { home })).stdout);
}

async function eventsOf(home: string, type: string): Promise<Row[]> {
  return jsonLines((await ok(['journal', 'inspect', '--type', type, '--json'], { home })).stdout);
}

async function send(home: string, peer: number, text: string): Promise<string> {
  // Through standard input: a text of several packets is longer than one argument may be.
  return (JSON.parse((await ok(['send', '--to', String(peer), '--json', '--yes', '-'], { home, input: text })).stdout) as { id: string }).id;
}

describe('quota cheat', () => {
  it('quota cheat - a sender that ignores its outbound quota is refused by the receiver: nothing beyond the grant is stored, the sender journals the refusal with the packets it lacks, messages within the grant arrive', async () => {
    const port = await freePort();
    await serverAt(pki, port, async () => {
      const a = await cheatAt(port);
      let b: Person | null = null;
      try {
        b = await personAt(pki, 'bob', port);
        const bob = b;
        // Bob lets Alice send him 3 packets of messages.
        await ok(['settings', 'set', 'default-quota-messages', '3'], { home: bob.home });
        await ok(['contacts', 'add', String(a.id), '--name', 'Alice'], { home: bob.home });
        await ok(['contacts', 'add', String(bob.id), '--name', 'Bob'], { home: a.home });
        const statusAtAlice = async (id: string): Promise<unknown> => (await history(a.home, bob.id)).find((m) => m.id === id)?.status;

        const m1 = await send(a.home, bob.id, 'one');
        const m2 = await send(a.home, bob.id, 'two');
        await until(async () => (await statusAtAlice(m2)) === 'delivered', 'the first two delivered', 20_000);
        // 1 packet left; this one takes 3 (140,000 bytes, 65,535 a packet). An honest client keeps
        // it pending; the cheat writes it.
        const m3 = await send(a.home, bob.id, 'x'.repeat(140_000));
        await until(async () => (await statusAtAlice(m3)) === 'failed', 'alice learns her 3-packet message was refused', 20_000);
        // Within what is left: it arrives. Then nothing is left, and a 1-packet one is refused.
        const m4 = await send(a.home, bob.id, 'four');
        await until(async () => (await statusAtAlice(m4)) === 'delivered', 'the fourth (1 packet) delivered');
        const m5 = await send(a.home, bob.id, 'five');
        await until(async () => (await statusAtAlice(m5)) === 'failed', 'the fifth refused');

        // Bob: the refusals journaled inbound with the packets the messages took, the audit adds
        // up, and neither refused message is in his history.
        const audit = jsonLines((await ok(['limits', 'audit', '--peer', String(a.id), '--json'], { home: bob.home })).stdout);
        expect(audit.at(-1)).toEqual({ consistent: true });
        expect(audit.filter((l) => l.op === 'refuse').map((l) => [l.direction, l.kind, l.n, l.balance])).toEqual([
          ['inbound', 'messages', 3, 1],
          ['inbound', 'messages', 1, 0],
        ]);
        expect((await eventsOf(bob.home, 'quota.refused')).map((e) => [e.peer, e.direction, e.n, e.ref])).toEqual([
          [a.id, 'inbound', 3, m3],
          [a.id, 'inbound', 1, m5],
        ]);
        expect((await history(bob.home, a.id)).map((m) => [m.id, m.direction, m.text])).toEqual([
          [m1, 'in', 'one'],
          [m2, 'in', 'two'],
          [m4, 'in', 'four'],
        ]);
        const limits = jsonLines((await ok(['limits', '--peer', String(a.id), '--json'], { home: bob.home })).stdout)[0] as { inbound: { messages: unknown } };
        expect(limits.inbound.messages).toEqual({ granted: 3, spent: 3, left: 0 });

        // Alice: she did write both (spent and transmitted: the check was off), got Bob's answer,
        // and journaled each as failed with a refusal outbound of the packets Bob says she lacks.
        const spent = (await eventsOf(a.home, 'quota.spent')).filter((e) => e.direction === 'outbound');
        expect(spent.map((e) => [e.ref, e.n])).toEqual([
          [m1, 1],
          [m2, 1],
          [m3, 3],
          [m4, 1],
          [m5, 1],
        ]);
        const granted = (await eventsOf(a.home, 'quota.granted')).filter((e) => e.direction === 'outbound' && e.kind === 'messages');
        expect(granted.reduce((sum, e) => sum + (e.n as number), 0)).toBe(3);
        expect((await eventsOf(a.home, 'quota.refused')).map((e) => [e.peer, e.direction, e.kind, e.n, e.ref])).toEqual([
          [bob.id, 'outbound', 'messages', 2, m3],
          [bob.id, 'outbound', 'messages', 1, m5],
        ]);
        const failed = await eventsOf(a.home, 'message.failed');
        expect(failed.map((e) => e.id)).toEqual([m3, m5]);
        expect(failed[0].reason).toMatch(/refused it: it needs 2 more packets granted/);
        expect(failed[1].reason).toMatch(/refused it: it needs 1 more packets granted/);
        expect((await history(a.home, bob.id)).map((m) => [m.id, m.status])).toEqual([
          [m1, 'delivered'],
          [m2, 'delivered'],
          [m3, 'failed'],
          [m4, 'delivered'],
          [m5, 'failed'],
        ]);
      } finally {
        if (b) await stopPerson(b);
        await a.client.close();
      }
    });
  });
});
