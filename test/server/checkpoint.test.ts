// The registry's checkpoint, through the one checkpoint loader of every journal
// (src/projections/checkpoint.ts): a start replays only the events after it, and ends with the
// same state as a replay of the whole journal; a checkpoint it cannot trust (another version, the
// format of version 1, a seq the journal lacks, damaged bytes) costs a full replay.
import path from 'node:path';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { openJournal, type Journal } from '../../src/events/journal.js';
import { loadProjection, saveCheckpoint } from '../../src/projections/checkpoint.js';
import { SERVER_EVENTS, type NewServerEvent, type ServerEvent } from '../../server/events.js';
import { apply, initial, REGISTRY, type Registry } from '../../server/registry.js';
import { removeDir, tempDir } from '../cert/helpers.js';

const K1 = '11'.repeat(32);
const K2 = '22'.repeat(32);
const META = 'checkpoint/registry';

const opened: Array<{ dir: string; journal: Journal<ServerEvent> }> = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.journal.close();
    removeDir(o.dir);
  }
});

async function journalWith(events: NewServerEvent[]): Promise<Journal<ServerEvent>> {
  const dir = tempDir('checkpoint');
  const journal = await openJournal<ServerEvent>(path.join(dir, 'journal'), dir, { schema: SERVER_EVENTS });
  opened.push({ dir, journal });
  await journal.appendMany(events);
  return journal;
}

async function fullReplay(journal: Journal<ServerEvent>): Promise<Registry> {
  const r = initial();
  await journal.scan((e) => void apply(r, e));
  return r;
}

// Functions: the journal completes the event objects it is given (seq, v).
const BEFORE = (): NewServerEvent[] => [
  { type: 'client.registered', id: 7, keySha256: K1, at: 1 },
  { type: 'session.opened', id: 7, address: '10.0.0.1:5000', at: 2 },
  { type: 'session.closed', id: 7, reason: 'QUIT', at: 3 },
];
const AFTER = (): NewServerEvent[] => [
  { type: 'client.registered', id: 8, keySha256: K2, at: 4 },
  { type: 'client.revoked', keySha256: K1, at: 5 },
  { type: 'session.opened', id: 8, address: '10.0.0.2:5000', at: 6 },
];

describe('checkpoint', () => {
  it('checkpoint - a start replays only the events after the checkpoint and gets the state of a full replay', async () => {
    const journal = await journalWith(BEFORE());
    const first = await loadProjection(journal, REGISTRY);
    expect(first).toMatchObject({ from: 0, replayed: 3 });
    await saveCheckpoint(journal, REGISTRY, first.state, journal.lastSeq());
    await journal.appendMany(AFTER());

    const next = await loadProjection(journal, REGISTRY);
    expect(next).toMatchObject({ from: 3, replayed: 3 });
    expect(next.state).toEqual(await fullReplay(journal));
    expect(next.state.byId.get(8)).toBe(K2);
    expect(next.state.revoked.get(K1)).toBe(5);
    expect(next.state.lastSeen.get(7)).toBe(3);
  });

  it('checkpoint - another version, the format of version 1, a seq the journal lacks or damaged bytes: a full replay', async () => {
    const journal = await journalWith([...BEFORE(), ...AFTER()]);
    const plain = new Packr({ useRecords: false });
    const records = new Packr({ useRecords: true, mapsAsObjects: true });
    const empty = { byKey: [], revoked: [], lastSeen: [] };
    const wrong = [
      records.pack({ version: REGISTRY.version + 1, seq: 3, state: empty }),
      // Version 1, as servers before this one wrote it: the maps at the top level, with a seq.
      plain.pack({ version: 1, seq: 3, byKey: [[K1, 7]], revoked: [], lastSeen: [[7, 3]] }),
      records.pack({ version: REGISTRY.version, seq: 99, state: empty }),
      records.pack({ version: REGISTRY.version, seq: 3, state: { byKey: 'no' } }),
      records.pack({ version: REGISTRY.version, seq: -1, state: empty }),
      Buffer.from([0xc1, 0xff, 0x00]),
    ];
    for (const value of wrong) {
      await journal.putMeta([{ name: META, value }]);
      const loaded = await loadProjection(journal, REGISTRY);
      expect(loaded).toMatchObject({ from: 0, replayed: 6 });
      expect(loaded.state).toEqual(await fullReplay(journal));
    }
  });

  it('checkpoint - a server journal refuses a client event, and a client profile a server event', async () => {
    const journal = await journalWith(BEFORE());
    await expect(journal.append({ type: 'contact.added', peer: 1, name: 'x', whitelisted: true } as never)).rejects.toMatchObject({
      message: expect.stringContaining("to a Parley server's data directory"),
    });
    const dir = tempDir('profile-journal');
    const profile = await openJournal(path.join(dir, 'journal'), dir);
    try {
      await expect(profile.append({ type: 'client.revoked', keySha256: K1 } as never)).rejects.toMatchObject({ message: expect.stringContaining('to a Parley profile') });
    } finally {
      await profile.close();
      removeDir(dir);
    }
  });
});
