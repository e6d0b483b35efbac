// Property tests: for random event sequences, every projection as kept live while events are
// appended equals the projection rebuilt from the journal; also across checkpoints, restarts
// and history clears.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/events/types.js';
import { openProfile, type Profile } from '../../src/node/profile.js';
import { VIEW_NAMES } from '../../src/projections/index.js';

const dirs: string[] = [];
function tempHome(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-profile-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const peer = fc.constantFrom(1, 2, 2 ** 40 - 1);
const msgId = fc.constantFrom('a', 'b', 'c', 'd');
const transferId = fc.constantFrom('t1', 't2');
const text = fc.string({ maxLength: 12 });
const at = fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 });
const direction = fc.constantFrom('inbound' as const, 'outbound' as const);
const kind = fc.constantFrom('messages' as const, 'files' as const);

const event: fc.Arbitrary<NewEvent> = fc.oneof(
  fc.record({ type: fc.constant('contact.added' as const), peer, name: text, whitelisted: fc.boolean(), at }),
  fc.record({ type: fc.constant('contact.renamed' as const), peer, name: text, at }),
  fc.record({ type: fc.constant('contact.moved' as const), peer, folder: fc.constantFrom('main', 'spam'), at }),
  fc.record({ type: fc.constant('contact.blocked' as const), peer, blocked: fc.boolean(), at }),
  fc.record({ type: fc.constant('contact.whitelisted' as const), peer, whitelisted: fc.boolean(), at }),
  fc.record({ type: fc.constant('link.opened' as const), peer, route: fc.constantFrom('lan' as const, 'direct' as const, 'punched' as const, 'relay' as const), at }),
  fc.record({ type: fc.constant('link.closed' as const), peer, reason: text, at }),
  fc.record({ type: fc.constant('message.sent' as const), id: msgId, peer, text, packets: fc.integer({ min: 1, max: 3 }), at }),
  fc.record({ type: fc.constant('message.sent' as const), id: msgId, peer, text, packets: fc.constant(1), replyTo: msgId, at }),
  fc.record({ type: fc.constant('message.received' as const), id: msgId, peer, text, sentAt: at, at }),
  fc.record({ type: fc.constant('message.delivered' as const), id: msgId, peer, receivedAt: at, at }),
  fc.record({ type: fc.constant('message.read' as const), id: msgId, peer, by: fc.constantFrom('me' as const, 'peer' as const), at }),
  fc.record({ type: fc.constant('message.edited' as const), id: msgId, peer, text, at }),
  fc.record({ type: fc.constant('transfer.offered' as const), id: transferId, peer, direction: fc.constantFrom('in' as const, 'out' as const), name: text, size: fc.integer({ min: 0, max: 5000 }), chunkSize: fc.constantFrom(256, 1024), at }),
  fc.record({ type: fc.constant('transfer.accepted' as const), id: transferId, at }),
  fc.record({ type: fc.constant('transfer.chunks-stored' as const), id: transferId, chunks: fc.array(fc.integer({ min: 0, max: 25 }), { maxLength: 5 }), at }),
  fc.record({ type: fc.constant('transfer.chunks-acked' as const), id: transferId, chunks: fc.array(fc.integer({ min: 0, max: 25 }), { maxLength: 5 }), at }),
  fc.record({ type: fc.constantFrom('transfer.completed' as const), id: transferId, at }),
  fc.record({ type: fc.constant('transfer.failed' as const), id: transferId, reason: text, at }),
  fc.record({ type: fc.constant('transfer.cancelled' as const), id: transferId, by: fc.constantFrom('me' as const, 'peer' as const), at }),
  fc.record({ type: fc.constant('transfer.declined' as const), id: transferId, at }),
  fc.record({ type: fc.constantFrom('quota.granted' as const, 'quota.spent' as const, 'quota.refused' as const), peer, direction, kind, n: fc.integer({ min: 1, max: 50 }), at }),
  fc.record({ type: fc.constant('settings.changed' as const), key: fc.constantFrom('language', 'downloads'), value: fc.oneof(text, fc.boolean()), at }),
) as fc.Arbitrary<NewEvent>;

// A step of a run: append a group of events (one tick), or do something to the profile.
type Step = { op: 'append'; events: NewEvent[] } | { op: 'checkpoint' } | { op: 'restart' } | { op: 'clear'; peer: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('append' as const), events: fc.array(event, { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'checkpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'restart' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const), peer }) },
);

function viewsOf(profile: Profile): unknown {
  return structuredClone(profile.views);
}

async function runSteps(home: string, steps: Step[]): Promise<Profile> {
  let profile = await openProfile(home);
  for (const s of steps) {
    if (s.op === 'append') await Promise.all(s.events.map((e) => profile.append(e)));
    else if (s.op === 'checkpoint') await profile.checkpoint();
    else if (s.op === 'clear') await profile.clearChat(s.peer);
    else {
      const before = viewsOf(profile);
      await profile.close();
      profile = await openProfile(home);
      // What a restart loads (checkpoints plus the tail) is what the client held.
      expect(viewsOf(profile)).toEqual(before);
    }
  }
  return profile;
}

describe('profile', () => {
  it('profile - live projections equal a rebuild from the journal, across checkpoints, restarts and clears', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const home = tempHome();
        const profile = await runSteps(home, steps);
        const live = viewsOf(profile);
        await profile.rebuild();
        expect(viewsOf(profile)).toEqual(live);
        await profile.close();
        // And a cold start from the checkpoints the close wrote.
        const again = await openProfile(home);
        expect(viewsOf(again)).toEqual(live);
        await again.close();
        fs.rmSync(home, { recursive: true, force: true });
      }),
      { numRuns: 60 },
    );
  });

  it('profile - every projection is covered by the comparison', () => {
    expect(VIEW_NAMES.sort()).toEqual(['chats', 'contacts', 'links', 'quotas', 'settings', 'transfers', 'unread']);
  });

  it('profile - a checkpoint of another version is thrown away and that view rebuilt', async () => {
    const home = tempHome();
    let profile = await openProfile(home);
    await profile.appendMany([
      { type: 'contact.added', peer: 5, name: 'Bo', whitelisted: true },
      { type: 'message.received', id: 'x', peer: 5, text: 'hey', sentAt: 1 },
    ]);
    await profile.close();
    // Write a checkpoint that claims to be another version with a wrong state.
    const { encodeCheckpoint } = await import('../../src/projections/checkpoint.js');
    const { PROJECTIONS } = await import('../../src/projections/index.js');
    const { openJournal } = await import('../../src/events/journal.js');
    const journal = await openJournal(path.join(home, 'journal'));
    const stale = encodeCheckpoint({ ...PROJECTIONS.contacts, version: 999 } as never, {} as never, 2);
    await journal.putMeta([stale]);
    await journal.close();
    profile = await openProfile(home);
    expect(profile.views.contacts[5]).toMatchObject({ name: 'Bo' });
    await profile.close();
  });

  it('profile - a clear removes the text from the store and keeps quota events', async () => {
    const home = tempHome();
    const profile = await openProfile(home);
    await profile.appendMany([
      { type: 'message.sent', id: 'a', peer: 5, text: 'secret-marker-5150', packets: 1 },
      { type: 'quota.spent', peer: 5, direction: 'outbound', kind: 'messages', n: 1, ref: 'a' },
      { type: 'message.sent', id: 'b', peer: 6, text: 'keep-me', packets: 1 },
    ]);
    await profile.checkpoint();
    const cleared = await profile.clearChat(5);
    expect(cleared).toMatchObject({ type: 'chat.cleared', peer: 5, removed: 1, seq: 4 });
    const types: string[] = [];
    await profile.journal.scan((e) => types.push(e.type));
    expect(types).toEqual(['quota.spent', 'message.sent', 'chat.cleared']);
    await profile.close();
    for (const file of fs.readdirSync(path.join(home, 'journal'))) {
      const bytes = fs.readFileSync(path.join(home, 'journal', file));
      expect(bytes.includes('secret-marker-5150'), file).toBe(false);
    }
  });
});
