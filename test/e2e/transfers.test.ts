// Files between two running clients (issue 11): two `parley up` processes on loopback and a real
// server. Most tests journal the sender's batch (quota spent, transfer offered) and the receiver's
// choices (auto-accept, a cancel) straight into the stopped profiles, as the commands journal
// them, and start the clients again, to control what each side knows when; one goes through the
// commands as a user does (send-file, transfers accept, decline, cancel) while both run.
// States are read from the journals (`parley journal inspect`, answered by the running client);
// each wait is bounded, none sleeps.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/events/types.js';
import { packetsFor } from '../../src/projections/quotas.js';
import { WINDOW_BYTES } from '../../src/node/sending.js';
import { partPath } from '../../src/node/placing.js';
import { freePort } from '../cert/helpers.js';
import { appendEvents, jsonLines, runParley } from '../helpers/cli.js';
import { personAt, restartPerson, serverAt, startUp, stopPerson, until, withPair as pairOf, type Person, type Up } from '../helpers/client.js';
import { autoAccept, explain, journalWhileStopped as whileStopped, lastOf, listed, makeFile, offerBatch, partReaches, shaOf, transferEvents } from '../helpers/transfers.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob']);
});
afterAll(() => cleanup(pki?.dir));

const person = (name: string, port: number): Promise<Person> => personAt(pki, name, port);
const start = (p: Person): Promise<void> => restartPerson(pki, p);
const stop = stopPerson;
const withPair = (work: (p: { a: Person; b: Person }) => Promise<void>): Promise<void> => pairOf(pki, work);
const journalWhileStopped = (a: Person, forA: NewEvent[], b: Person, forB: NewEvent[]): Promise<void> => whileStopped(pki, a, forA, b, forB);

describe('transfers', () => {
  it('transfers - a file of a few MiB arrives whole, in the downloads folder, completed on both sides with the same root', async () => {
    await withPair(async ({ a, b }) => {
      const { file, sha } = makeFile(a.home, 'report.bin', 5 * 1024 * 1024 + 123);
      await journalWhileStopped(a, offerBatch(b.id, 'f1', file, fs.statSync(file).size), b, [autoAccept]);
      await until(async () => (await lastOf(a, 'f1', 'transfer.completed')) !== undefined, 'alice sees it completed', 30_000);
      const done = (await lastOf(b, 'f1', 'transfer.completed')) as { path: string; root: string };
      expect(done.path).toBe(path.join(b.home, 'downloads', 'report.bin'));
      expect(shaOf(done.path)).toBe(sha);
      expect(((await lastOf(a, 'f1', 'transfer.completed')) as { root: string }).root).toBe(done.root);
      expect(fs.existsSync(partPath(done.path, a.id, 'f1'))).toBe(false);
    });
  });

  it('transfers - a SIGKILL of the receiver midway: after the restart it resumes, the file is whole and wire bytes stay within size + window', async () => {
    await withPair(async ({ a, b }) => {
      const size = 300 * 1024 * 1024;
      const { file, sha } = makeFile(a.home, 'big.bin', size);
      await stop(a);
      await stop(b);
      await appendEvents(a.home, offerBatch(b.id, 'f2', file, size));
      await appendEvents(b.home, [autoAccept, { type: 'quota.granted', peer: a.id, direction: 'inbound', kind: 'files', n: packetsFor(size) }]);
      await start(b);
      const part = partPath(path.join(b.home, 'downloads', 'big.bin'), a.id, 'f2');
      const bob = b.up as Up;
      await start(a);
      // Killed once some chunks are flushed (the .part grows as they are written).
      await partReaches(part, 48 * 1024 * 1024);
      bob.child.kill('SIGKILL');
      await bob.exited;
      b.up = null;
      await start(b);
      await until(async () => (await lastOf(b, 'f2', 'transfer.completed')) !== undefined, 'bob completes it after the restart', 60_000).catch(explain(a, b, 'f2'));
      const events = await transferEvents(b, 'f2');
      const done = events.at(-1) as { path: string };
      expect(shaOf(done.path)).toBe(sha);
      const wire = events.reduce((n, e) => n + (typeof e.wireBytes === 'number' ? e.wireBytes : 0), 0);
      expect(wire).toBeGreaterThanOrEqual(size - WINDOW_BYTES);
      expect(wire).toBeLessThanOrEqual(size + WINDOW_BYTES);
      await until(async () => (await lastOf(a, 'f2', 'transfer.completed')) !== undefined, 'alice sees it completed', 30_000);
    });
  }, 120_000);

  it('transfers - a SIGKILL of the sender midway: after its restart it resumes, the file is whole and wire bytes stay within size + window', async () => {
    await withPair(async ({ a, b }) => {
      const size = 300 * 1024 * 1024;
      const { file, sha } = makeFile(a.home, 'big.bin', size);
      await stop(a);
      await stop(b);
      await appendEvents(a.home, offerBatch(b.id, 'f7', file, size));
      await appendEvents(b.home, [autoAccept, { type: 'quota.granted', peer: a.id, direction: 'inbound', kind: 'files', n: packetsFor(size) }]);
      await start(b);
      await start(a);
      await partReaches(partPath(path.join(b.home, 'downloads', 'big.bin'), a.id, 'f7'), 48 * 1024 * 1024);
      await stop(a, 'SIGKILL');
      // Bob shows it paused, the link gone; then Alice is back and it goes on.
      await until(async () => (await lastOf(b, 'f7', 'transfer.paused')) !== undefined, 'bob sees it paused', 45_000).catch(explain(a, b, 'f7'));
      await start(a);
      await until(async () => (await lastOf(a, 'f7', 'transfer.completed')) !== undefined, 'alice completes it after her restart', 60_000).catch(explain(a, b, 'f7'));
      const events = await transferEvents(b, 'f7');
      expect(events.map((e) => e.type)).toContain('transfer.resumed');
      const done = events.at(-1) as { type: string; path: string };
      expect(done.type).toBe('transfer.completed');
      expect(shaOf(done.path)).toBe(sha);
      const wire = events.reduce((n, e) => n + (typeof e.wireBytes === 'number' ? e.wireBytes : 0), 0);
      expect(wire).toBeLessThanOrEqual(size + WINDOW_BYTES);
    });
  }, 150_000);

  it('transfers - a move from relay to direct midway: the direct link takes over and the transfer goes on to a whole file', async () => {
    const port = await freePort();
    await serverAt(pki, port, async (srv) => {
      const a = await person('alice', port);
      // Bob does not listen: Alice's first link to him is the relay.
      const b = await person('bob', port);
      try {
        expect((await runParley(['contacts', 'add', String(a.id), '--name', 'A'], { home: b.home })).code).toBe(0);
        expect((await runParley(['contacts', 'add', String(b.id), '--name', 'B'], { home: a.home })).code).toBe(0);
        const size = 200 * 1024 * 1024;
        const { file, sha } = makeFile(a.home, 'move.bin', size);
        const routes = async (): Promise<unknown[]> => jsonLines((await runParley(['journal', 'inspect', '--type', 'link.opened', '--json'], { home: a.home })).stdout).map((e) => e.route);
        await stop(a);
        await stop(b);
        const before = (await routes()).length;
        await appendEvents(a.home, offerBatch(b.id, 'f8', file, size));
        await appendEvents(b.home, [autoAccept, { type: 'quota.granted', peer: a.id, direction: 'inbound', kind: 'files', n: packetsFor(size) }]);
        b.up = startUp(pki, b.home, { PARLEY_NO_LISTEN: '1' });
        await b.up.waitFor('online at');
        await start(a);
        await partReaches(partPath(path.join(b.home, 'downloads', 'move.bin'), a.id, 'f8'), 16 * 1024 * 1024, 45_000);
        expect(srv.stats()).toMatchObject({ relays: 1 });
        // Bob writes: on the relay he asks for an introduction again and dials Alice's listener.
        expect((await runParley(['send', '--to', String(a.id), 'hi'], { home: b.home })).code).toBe(0);
        await until(async () => (await lastOf(b, 'f8', 'transfer.completed')) !== undefined, 'bob completes it', 90_000).catch(explain(a, b, 'f8'));
        const done = (await lastOf(b, 'f8', 'transfer.completed')) as { path: string };
        expect(shaOf(done.path)).toBe(sha);
        // Paused when the relay link was dropped for the direct one, resumed on it.
        expect((await transferEvents(b, 'f8')).map((e) => e.type)).toEqual(expect.arrayContaining(['transfer.paused', 'transfer.resumed']));
        const opened = (await routes()).slice(before);
        expect(opened[0]).toBe('relay');
        expect(opened.some((r) => r !== 'relay')).toBe(true);
        await until(async () => (await lastOf(a, 'f8', 'transfer.completed')) !== undefined, 'alice sees it completed', 30_000);
      } finally {
        await stop(a);
        await stop(b);
      }
    });
  }, 180_000);

  it('transfers - an offer with a hostile name is declined with the reason on both sides', async () => {
    await withPair(async ({ a, b }) => {
      const { file } = makeFile(a.home, 'x.bin', 1000);
      await journalWhileStopped(a, offerBatch(b.id, 'f3', file, 1000, '../../etc/passwd'), b, [autoAccept]);
      await until(async () => (await lastOf(a, 'f3', 'transfer.declined')) !== undefined, 'alice sees it declined', 30_000);
      const atA = (await lastOf(a, 'f3', 'transfer.declined')) as { reason: string };
      const atB = (await lastOf(b, 'f3', 'transfer.declined')) as { reason: string };
      expect(atB.reason).toMatch(/name is refused/);
      expect(atA.reason).toBe(atB.reason);
      expect(fs.existsSync(path.join(b.home, 'downloads'))).toBe(false);
    });
  });

  it('transfers - an offer beyond the inbound file packets granted is declined saying how many more it needs', async () => {
    await withPair(async ({ a, b }) => {
      const size = 70 * 1024 * 1024;
      const { file } = makeFile(a.home, 'huge.bin', size);
      await journalWhileStopped(a, offerBatch(b.id, 'f4', file, size), b, [autoAccept]);
      await until(async () => (await lastOf(a, 'f4', 'transfer.declined')) !== undefined, 'alice sees it declined', 30_000);
      const reason = ((await lastOf(a, 'f4', 'transfer.declined')) as { reason: string }).reason;
      expect(reason).toContain(`${packetsFor(size) - 1000} more file packets`);
    });
  });

  it('transfers - cancelled by the receiver: cancelled on both sides, no .part left', async () => {
    await withPair(async ({ a, b }) => {
      const size = 8 * 1024 * 1024;
      const { file } = makeFile(a.home, 'c.bin', size);
      // Bob has it offered and cancels it before Alice's client is back.
      await stop(a);
      await stop(b);
      await appendEvents(a.home, offerBatch(b.id, 'f5', file, size));
      await appendEvents(b.home, [
        { type: 'transfer.offered', id: 'f5', peer: a.id, direction: 'in', name: 'c.bin', size, chunkSize: 1_048_576 },
        { type: 'transfer.cancelled', id: 'f5', peer: a.id, direction: 'in', by: 'me' },
      ]);
      await start(b);
      await start(a);
      await until(async () => (await lastOf(a, 'f5', 'transfer.cancelled')) !== undefined, 'alice sees it cancelled', 30_000);
      expect(await lastOf(a, 'f5', 'transfer.cancelled')).toMatchObject({ by: 'peer' });
      expect(fs.existsSync(partPath(path.join(b.home, 'downloads', 'c.bin'), a.id, 'f5'))).toBe(false);
    });
  });

  it('transfers - as a user does it: send-file, transfers accept, both lists completed; decline with a reason; cancel mid-transfer from each side', async () => {
    await withPair(async ({ a, b }) => {
      const row = listed;
      const offer = async (file: string): Promise<string> => {
        const r = await runParley(['send-file', '--to', String(b.id), '--yes', '--json', file], { home: a.home });
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout) as { id: string; state: string };
        expect(out.state).toBe('offered');
        await until(async () => (await row(b, out.id))?.state === 'offered', `bob has offer ${out.id}`, 30_000).catch(explain(a, b, out.id));
        return out.id;
      };
      // Accepted by the command, it arrives whole; both lists say so.
      const { file, sha } = makeFile(a.home, 'photo.bin', 12 * 1024 * 1024 + 5);
      const t1 = await offer(file);
      expect((await runParley(['transfers', 'accept', t1], { home: b.home })).code).toBe(0);
      await until(async () => (await row(a, t1))?.state === 'completed', 'alice lists it completed', 30_000);
      const atB = (await row(b, t1)) as { state: string; done: number; size: number; path: string; direction: string };
      expect(atB).toMatchObject({ state: 'completed', direction: 'in', done: atB.size });
      expect(shaOf(atB.path)).toBe(sha);
      expect(await row(a, t1)).toMatchObject({ direction: 'out', done: atB.size, path: file });

      // Declined with a reason: the sender sees it.
      const t2 = await offer(file);
      expect((await runParley(['transfers', 'decline', t2, '--reason', 'not now'], { home: b.home })).code).toBe(0);
      await until(async () => (await row(a, t2))?.state === 'declined', 'alice sees it declined', 30_000);
      expect(String((await row(a, t2))?.reason)).toMatch(/not now/);

      // Cancelled mid-transfer, once by each side, while both run.
      const big = makeFile(a.home, 'big.bin', 384 * 1024 * 1024).file;
      expect((await runParley(['limits', 'grant', '--peer', String(a.id), '--files', '20000'], { home: b.home })).code).toBe(0);
      for (const [who, by] of [
        [a, 'sender'],
        [b, 'receiver'],
      ] as const) {
        const t = await offer(big);
        expect((await runParley(['transfers', 'accept', t], { home: b.home })).code).toBe(0);
        await until(async () => Number((await row(b, t))?.done ?? 0) > 0, `bob stores part of ${t}`, 30_000);
        const cancel = await runParley(['transfers', 'cancel', t], { home: who.home });
        expect(cancel.code, `${by}: ${cancel.stderr}`).toBe(0);
        await until(async () => (await row(a, t))?.state === 'cancelled' && (await row(b, t))?.state === 'cancelled', `cancelled by the ${by} on both sides`, 30_000);
        const part = partPath(String((await row(b, t))?.path), a.id, t);
        await until(async () => !fs.existsSync(part), 'no part file left');
      }
    });
  });

  it('transfers - while a transfer moves, both lists show its live speed from the running engines (mb_per_s); none once it ended', async () => {
    await withPair(async ({ a, b }) => {
      // Sparse, so it costs no room to make; cancelled once both speeds are seen, long before
      // its end.
      const size = 4 * 1024 ** 3;
      const file = path.join(a.home, 'zeros.bin');
      fs.closeSync(fs.openSync(file, 'w'));
      fs.truncateSync(file, size);
      await journalWhileStopped(a, offerBatch(b.id, 'f10', file, size), b, [autoAccept, { type: 'quota.granted', peer: a.id, direction: 'inbound', kind: 'files', n: packetsFor(size) }]);
      for (const p of [b, a]) {
        await until(async () => {
          const r = await listed(p, 'f10');
          return r?.state === 'active' && typeof r.mb_per_s === 'number' && r.mb_per_s > 0;
        }, `${p === a ? 'alice' : 'bob'} shows a live speed`, 30_000).catch(explain(a, b, 'f10'));
      }
      expect((await runParley(['transfers', 'cancel', 'f10'], { home: a.home })).code).toBe(0);
      await until(async () => (await listed(a, 'f10'))?.state === 'cancelled' && (await listed(b, 'f10'))?.state === 'cancelled', 'cancelled on both sides', 30_000);
      expect(await listed(a, 'f10')).toMatchObject({ mb_per_s: null });
      expect(await listed(b, 'f10')).toMatchObject({ mb_per_s: null });
    });
  }, 90_000);

  it('transfers - a 64 MiB transfer leaves a bounded number of journal events on each side', async () => {
    await withPair(async ({ a, b }) => {
      const size = 64 * 1024 * 1024;
      const { file, sha } = makeFile(a.home, 'm.bin', size);
      await journalWhileStopped(a, offerBatch(b.id, 'f6', file, size), b, [autoAccept, { type: 'quota.granted', peer: a.id, direction: 'inbound', kind: 'files', n: packetsFor(size) }]);
      await until(async () => (await lastOf(a, 'f6', 'transfer.completed')) !== undefined, 'alice sees it completed', 60_000);
      const atB = await transferEvents(b, 'f6');
      expect(shaOf((atB.at(-1) as { path: string }).path)).toBe(sha);
      expect(atB.length).toBeLessThan(100);
      expect((await transferEvents(a, 'f6')).length).toBeLessThan(100);
    });
  }, 120_000);
});
