// The registry's checkpoint: a start replays only the events after it, and ends with the same
// state as a replay of the whole journal; a checkpoint it cannot trust costs a full replay.
import path from 'node:path';
import { Packr } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { openJournal, type Journal } from '../../src/events/journal.js';
import type { NewEvent } from '../../src/events/types.js';
import { loadRegistry, REGISTRY_VERSION, saveRegistry } from '../../server/checkpoint.js';
import { apply, initial, type Registry } from '../../server/registry.js';
import { removeDir, tempDir } from '../cert/helpers.js';

const K1 = '11'.repeat(32);
const K2 = '22'.repeat(32);
const META = 'checkpoint/registry';

const opened: Array<{ dir: string; journal: Journal }> = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.journal.close();
    removeDir(o.dir);
  }
});

async function journalWith(events: NewEvent[]): Promise<Journal> {
  const dir = tempDir('checkpoint');
  const journal = await openJournal(path.join(dir, 'journal'), dir);
  opened.push({ dir, journal });
  await journal.appendMany(events);
  return journal;
}

async function fullReplay(journal: Journal): Promise<Registry> {
  const r = initial();
  await journal.scan((e) => void apply(r, e));
  return r;
}

// Functions: the journal completes the event objects it is given (seq, v).
const BEFORE = (): NewEvent[] => [
  { type: 'client.registered', id: 7, keySha256: K1, at: 1 },
  { type: 'session.opened', id: 7, address: '10.0.0.1:5000', at: 2 },
  { type: 'session.closed', id: 7, reason: 'QUIT', at: 3 },
];
const AFTER = (): NewEvent[] => [
  { type: 'client.registered', id: 8, keySha256: K2, at: 4 },
  { type: 'client.revoked', keySha256: K1, at: 5 },
  { type: 'session.opened', id: 8, address: '10.0.0.2:5000', at: 6 },
];

describe('checkpoint', () => {
  it('checkpoint - a start replays only the events after the checkpoint and gets the state of a full replay', async () => {
    const journal = await journalWith(BEFORE());
    const first = await loadRegistry(journal);
    expect(first).toMatchObject({ from: 0, replayed: 3 });
    await saveRegistry(journal, first.registry, journal.lastSeq());
    await journal.appendMany(AFTER());

    const next = await loadRegistry(journal);
    expect(next).toMatchObject({ from: 3, replayed: 3 });
    expect(next.registry).toEqual(await fullReplay(journal));
    expect(next.registry.byId.get(8)).toBe(K2);
    expect(next.registry.revoked.get(K1)).toBe(5);
    expect(next.registry.lastSeen.get(7)).toBe(3);
  });

  it('checkpoint - another version, a seq the journal lacks or damaged bytes: a full replay', async () => {
    const journal = await journalWith([...BEFORE(), ...AFTER()]);
    const packr = new Packr({ useRecords: false });
    const wrong = [
      packr.pack({ version: REGISTRY_VERSION + 1, seq: 3, byKey: [], revoked: [], lastSeen: [] }),
      packr.pack({ version: REGISTRY_VERSION, seq: 99, byKey: [], revoked: [], lastSeen: [] }),
      packr.pack({ version: REGISTRY_VERSION, seq: 3, byKey: 'no' }),
      Buffer.from([0xc1, 0xff, 0x00]),
    ];
    for (const value of wrong) {
      await journal.putMeta([{ name: META, value }]);
      const loaded = await loadRegistry(journal);
      expect(loaded).toMatchObject({ from: 0, replayed: 6 });
      expect(loaded.registry).toEqual(await fullReplay(journal));
    }
  });
});
