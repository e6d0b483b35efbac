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
import { STORED_VIEWS, VIEW_NAMES } from '../../src/projections/index.js';
import { dumpViews, type ViewsDump } from '../helpers/views.js';
import { peerRange, PREFIX } from '../../src/projections/message-keys.js';

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
// A receipt names its message's seq as the running client writes it, or not (an older Parley's,
// or found by id); a wrong one too, which must attach to no other message.
const msgSeq = fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined });
const transferId = fc.constantFrom('t1', 't2');
// Transfers are known by (peer, direction, id): few of each, so that events meet often, and the
// same id lives both ways and with two peers. Their events weigh more (below): a transfer
// needs an offer, an acceptance and chunks with its key before most rules are reached.
const transferPeer = fc.constantFrom(1, 2 ** 40 - 1);
const transferDirection = fc.constantFrom('in' as const, 'out' as const);
const wireBytes = fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined });
const chunks = fc.array(fc.integer({ min: -1, max: 25 }), { maxLength: 5 });
const text = fc.string({ maxLength: 12 });
const key = fc.constantFrom('a'.repeat(64), 'b'.repeat(64));
const at = fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 });
const direction = fc.constantFrom('inbound' as const, 'outbound' as const);
const kind = fc.constantFrom('messages' as const, 'files' as const);

const event: fc.Arbitrary<NewEvent> = fc.oneof(
  fc.record({ type: fc.constant('contact.added' as const), peer, name: text, whitelisted: fc.boolean(), at }),
  fc.record({ type: fc.constant('contact.renamed' as const), peer, name: text, at }),
  fc.record({ type: fc.constant('contact.moved' as const), peer, folder: fc.constantFrom('main', 'spam'), at }),
  fc.record({ type: fc.constant('contact.blocked' as const), peer, blocked: fc.boolean(), at }),
  fc.record({ type: fc.constant('contact.whitelisted' as const), peer, whitelisted: fc.boolean(), at }),
  fc.record({ type: fc.constant('contact.removed' as const), peer, at }),
  fc.record({ type: fc.constant('contact.pinned' as const), peer, keySha256: key, by: fc.constantFrom('invite' as const, 'first-use' as const, 'hand' as const), at }),
  fc.record({ type: fc.constant('contact.located' as const), peer, addresses: fc.constantFrom(['127.0.0.1'], ['10.0.0.1', '::1']), port: fc.constantFrom(1, 7402), token: fc.option(fc.constantFrom('0'.repeat(32), 'f'.repeat(32)), { nil: undefined }), at }),
  fc.record({ type: fc.constant('contact.key-refused' as const), peer, keySha256: key, pinned: key, address: fc.option(fc.constant('127.0.0.1:1'), { nil: undefined }), at }),
  fc.record({ type: fc.constant('invite.issued' as const), tokenSha256: key, until: at, name: fc.option(text, { nil: undefined }), at }),
  fc.record({ type: fc.constant('invite.used' as const), tokenSha256: key, peer, at }),
  fc.record({ type: fc.constant('link.opened' as const), peer, route: fc.constantFrom('lan' as const, 'direct' as const, 'punched' as const, 'relay' as const), at }),
  fc.record({ type: fc.constant('link.closed' as const), peer, reason: text, at }),
  fc.record({ type: fc.constant('message.sent' as const), id: msgId, peer, text, packets: fc.integer({ min: 1, max: 3 }), at }),
  fc.record({ type: fc.constant('message.sent' as const), id: msgId, peer, text, packets: fc.constant(1), replyTo: msgId, at }),
  fc.record({ type: fc.constant('message.received' as const), id: msgId, peer, text, sentAt: at, at }),
  fc.record({ type: fc.constant('message.delivered' as const), id: msgId, peer, msgSeq, receivedAt: at, at }),
  fc.record({ type: fc.constant('message.read' as const), id: msgId, peer, msgSeq, by: fc.constantFrom('me' as const, 'peer' as const), at }),
  fc.record({ type: fc.constant('message.edited' as const), id: msgId, peer, direction: fc.constantFrom('in' as const, 'out' as const), text, at }),
  fc.record({ type: fc.constant('message.transmitted' as const), id: msgId, peer, msgSeq, at }),
  fc.record({ type: fc.constant('message.failed' as const), id: msgId, peer, msgSeq, reason: text, at }),
  { weight: 4, arbitrary: fc.record({ type: fc.constant('transfer.offered' as const), id: transferId, peer: transferPeer, direction: transferDirection, name: text, size: fc.integer({ min: 0, max: 5000 }), chunkSize: fc.constantFrom(256, 1024), at }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('transfer.accepted' as const), id: transferId, peer: transferPeer, direction: transferDirection, path: fc.option(text, { nil: undefined }), at }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('transfer.paused' as const), id: transferId, peer: transferPeer, direction: transferDirection, reason: text, wireBytes, at }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('transfer.resumed' as const), id: transferId, peer: transferPeer, direction: transferDirection, at }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('transfer.chunks-stored' as const), id: transferId, peer: transferPeer, direction: fc.constant('in' as const), chunks, wireBytes, at }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('transfer.chunks-acked' as const), id: transferId, peer: transferPeer, direction: fc.constant('out' as const), chunks, wireBytes, at }) },
  fc.record({ type: fc.constant('transfer.completed' as const), id: transferId, peer: transferPeer, direction: transferDirection, wireBytes, at }),
  fc.record({ type: fc.constant('transfer.failed' as const), id: transferId, peer: transferPeer, direction: transferDirection, reason: text, wireBytes, at }),
  fc.record({ type: fc.constant('transfer.cancelled' as const), id: transferId, peer: transferPeer, direction: transferDirection, by: fc.constantFrom('me' as const, 'peer' as const), wireBytes, at }),
  fc.record({ type: fc.constant('transfer.declined' as const), id: transferId, peer: transferPeer, direction: transferDirection, reason: fc.option(text, { nil: undefined }), at }),
  fc.record({ type: fc.constantFrom('quota.granted' as const, 'quota.spent' as const, 'quota.refused' as const), peer, direction, kind, n: fc.integer({ min: 1, max: 50 }), at }),
  fc.record({ type: fc.constant('chat.keep-changed' as const), peer, keep: fc.boolean(), at }),
  fc.record({ type: fc.constant('settings.changed' as const), key: fc.constantFrom('language', 'downloads'), value: fc.oneof(text, fc.boolean()), at }),
  fc.record({ type: fc.constant('identity.created' as const), id: peer, keySha256: fc.constantFrom('ab'.repeat(32), 'cd'.repeat(32)), at }),
  fc.record({ type: fc.constantFrom('contact.requested' as const, 'contact.refused' as const), peer, at }),
  fc.record({ type: fc.constant('server.registered' as const), server: fc.constantFrom('127.0.0.1:7400', '[::1]:7400'), id: peer, at }),
) as fc.Arbitrary<NewEvent>;

// A step of a run: append a group of events (one tick), or do something to the profile.
type Step = { op: 'append'; events: NewEvent[] } | { op: 'checkpoint' } | { op: 'restart' } | { op: 'clear'; peer: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('append' as const), events: fc.array(event, { minLength: 1, maxLength: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'checkpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'restart' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const), peer }) },
);

const PEERS = [1, 2, 2 ** 40 - 1];

function viewsOf(profile: Profile): Promise<ViewsDump> {
  return dumpViews(profile, PEERS);
}

// A page is the matching slice of the whole chat, wherever it starts and however long it is.
async function checkPages(profile: Profile, dump: ViewsDump, limit: number, at: number): Promise<void> {
  for (const peer of PEERS) {
    const all = dump.chats[peer].messages;
    const before = at < all.length ? all[at].seq : undefined;
    const end = before === undefined ? all.length : at;
    expect(await profile.page(peer, { limit, before })).toEqual(all.slice(Math.max(0, end - limit), end));
    // By id: the message, or with two copies in the journal (the client never journals a copy;
    // the generator does), the later one.
    for (const m of all) expect(await profile.message(peer, m.direction, m.id)).toEqual(all.findLast((x) => x.direction === m.direction && x.id === m.id));
  }
  // Transfers are listed newest first: a page before a transfer is the slice after it.
  const all = dump.transfers.all;
  const from = at < all.length ? at + 1 : 0;
  expect(await profile.transfers({ limit, before: at < all.length ? all[at].seq : undefined })).toEqual(all.slice(from, from + limit));
  for (const t of all) expect(await profile.transfer(t.peer, t.direction, t.id)).toEqual(t);
  expect(dump.transfers.open).toEqual(all.filter((t) => t.state === 'offered' || t.state === 'active' || t.state === 'paused'));
}

async function runSteps(home: string, steps: Step[]): Promise<Profile> {
  let profile = await openProfile(home);
  for (const s of steps) {
    if (s.op === 'append') await Promise.all(s.events.map((e) => profile.append(structuredClone(e))));
    else if (s.op === 'checkpoint') await profile.checkpoint();
    else if (s.op === 'clear') await profile.clearChat(s.peer);
    else {
      const before = await viewsOf(profile);
      await profile.close();
      profile = await openProfile(home);
      // What a restart loads (checkpoints plus the tail) is what the client held.
      expect(await viewsOf(profile)).toEqual(before);
    }
  }
  return profile;
}

describe('profile', () => {
  it('profile - live views (in memory and stored) equal a rebuild from the journal, across checkpoints, restarts and clears, and pages are slices of the chat', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 8 }), async (steps, limit, at) => {
        const home = tempHome();
        const profile = await runSteps(home, steps);
        const live = await viewsOf(profile);
        await checkPages(profile, live, limit, at);
        await profile.rebuild();
        expect(await viewsOf(profile)).toEqual(live);
        await profile.close();
        // And a cold start from the checkpoints the close wrote.
        const again = await openProfile(home);
        expect(await viewsOf(again)).toEqual(live);
        await again.close();
        fs.rmSync(home, { recursive: true, force: true });
      }),
      { numRuns: 60 },
    );
  });

  it('profile - every projection is covered by the comparison', async () => {
    // Covered: the property's generator makes events that change the projection, and the dump
    // the property compares shows that change. A projection added without events in the
    // generator, or left out of dumpViews, fails here by name.
    const home = tempHome();
    const profile = await openProfile(home);
    try {
      const empty = await viewsOf(profile);
      expect(Object.keys(empty.memory as object).sort()).toEqual([...VIEW_NAMES].sort());
      expect(VIEW_NAMES.length).toBeGreaterThan(0);
      expect(STORED_VIEWS.length).toBeGreaterThan(0);
      // A fixed sample (seeded, so the test is the same every run) of what the property appends.
      const events = fc.sample(event, { numRuns: 300, seed: 42 });
      for (const e of events) await profile.append(structuredClone(e));
      const full = await viewsOf(profile);
      const memory = full.memory as Record<string, unknown>;
      const before = empty.memory as Record<string, unknown>;
      for (const name of VIEW_NAMES) expect(memory[name], `view ${name}`).not.toEqual(before[name]);
      expect(empty.records).toEqual([]);
      for (const view of STORED_VIEWS) {
        const prefixes = view.prefixes.map((p) => p.toString(16).padStart(2, '0'));
        expect(full.records.some(([key]) => prefixes.some((p) => key.startsWith(p))), `stored view ${view.name}`).toBe(true);
      }
    } finally {
      await profile.close();
    }
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

  it('profile - a clear of a long chat compacts its records in the background, and close waits for it; a short one is left to LevelDB', async () => {
    const home = tempHome();
    const profile = await openProfile(home);
    // 30,000 messages of Ann's with a receipt each (60,000 events), 100 of Bo's (peer 4, before
    // her: the chat whose newest page reads up to where hers start) and 100 of Cy's.
    const events: NewEvent[] = [];
    for (let i = 0; i < 30_000; i++) {
      events.push({ type: 'message.sent', id: `a${i}`, peer: 5, text: `ann ${i}`, packets: 1 });
      events.push({ type: 'message.delivered', id: `a${i}`, peer: 5, receivedAt: 1, msgSeq: 2 * i + 1 });
    }
    for (let i = 0; i < 100; i++) events.push({ type: 'message.received', id: `b${i}`, peer: 4, text: `bo ${i}`, sentAt: 1 }, { type: 'message.received', id: `c${i}`, peer: 6, text: `cy ${i}`, sentAt: 1 });
    for (let i = 0; i < events.length; i += 5000) await profile.appendMany(events.slice(i, i + 5000));
    const compacted: string[] = [];
    const compact = profile.journal.compactRange;
    profile.journal.compactRange = async (range) => {
      await compact(range);
      compacted.push(range.gte.toString('hex'));
    };
    expect(await profile.clearChat(6)).toMatchObject({ removed: 100 });
    expect(await profile.clearChat(5)).toMatchObject({ removed: 60_000 });
    await profile.close();
    // Cy's chat (100 events) was not compacted; Ann's was, both its ranges, before close ended.
    expect(compacted).toEqual([peerRange(PREFIX.CHAT, 5).gte.toString('hex'), peerRange(PREFIX.MESSAGE, 5).gte.toString('hex')]);
    const again = await openProfile(home);
    expect(again.journal.lastSeq()).toBe(events.length + 2);
    expect((await again.page(4)).map((m) => m.id)).toEqual(Array.from({ length: 50 }, (_, i) => `b${50 + i}`));
    expect(await again.page(5)).toEqual([]);
    await again.close();
  }, 60_000);

  it('profile - a clear cut short after its records went by range and before its batch is made again, whole, at the next start', async () => {
    const home = tempHome();
    let profile = await openProfile(home);
    const events: NewEvent[] = [];
    // More events than a chunk of the chat's list, so that a closed chunk is read too.
    for (let i = 0; i < 600; i++) events.push({ type: 'message.sent', id: 'm' + i, peer: 5, text: 'gone ' + i, packets: 1 });
    events.push({ type: 'message.sent', id: 'k', peer: 6, text: 'kept', packets: 1 });
    await profile.appendMany(events);
    const keysBefore = profile.keyring.keysOf(5);
    // What clearChat has done when a crash comes inside its pick: the mark, a new key, the
    // chat's records deleted by range; the batch with chat.cleared never written.
    await profile.journal.putMeta([{ name: 'clear-owed', value: Buffer.from(JSON.stringify({ peer: 5, after: profile.journal.lastSeq() })) }], true);
    profile.keyring.rotate(5);
    await profile.journal.clearRange(peerRange(PREFIX.CHAT, 5));
    await profile.journal.clearRange(peerRange(PREFIX.MESSAGE, 5));
    await profile.close();

    profile = await openProfile(home);
    expect(profile.chat(5)).toBeUndefined();
    expect(await profile.page(5)).toEqual([]);
    const types: string[] = [];
    await profile.journal.scan((e) => types.push(e.type + ':' + ('peer' in e ? e.peer : '')));
    expect(types).toEqual(['message.sent:6', 'chat.cleared:5']);
    expect(profile.keyring.keysOf(5)).toBe(keysBefore);
    expect(await profile.journal.getMeta('clear-owed')).toBeUndefined();
    expect((await profile.page(6)).map((m) => m.text)).toEqual(['kept']);
    const live = await dumpViews(profile, [5, 6]);
    await profile.rebuild();
    expect(await dumpViews(profile, [5, 6])).toEqual(live);
    await profile.close();
  });
});

describe('profile - the stored messages view', () => {
  const CHAT: NewEvent[] = [
    { type: 'contact.added', peer: 5, name: 'Ann', whitelisted: true, at: 1 },
    { type: 'message.sent', id: '1', peer: 5, text: 'mine, id 1', packets: 1, at: 2 },
    { type: 'message.received', id: '1', peer: 5, text: 'theirs, id 1 too', sentAt: 2, at: 3 },
    { type: 'message.transmitted', id: '1', peer: 5, at: 4 },
    { type: 'message.delivered', id: '1', peer: 5, receivedAt: 5, at: 6 },
    { type: 'message.received', id: '2', peer: 5, text: 'more', sentAt: 6, at: 7 },
    { type: 'message.edited', id: '2', peer: 5, direction: 'in', text: 'more, edited', at: 8 },
    { type: 'message.read', id: '1', peer: 5, by: 'me', at: 9 },
  ];

  it('profile - a page of many messages (its events read in slices at once) is the matching slice of the chat, edits included', async () => {
    const profile = await openProfile(tempHome());
    const events: NewEvent[] = [{ type: 'contact.added', peer: 5, name: 'Ann', whitelisted: true, at: 1 }];
    for (let i = 1; i <= 130; i++) {
      // Another chat between each of Ann's messages, as a page's events lie in a real journal.
      events.push({ type: 'message.received', id: `o${i}`, peer: 6, text: `other ${i}`, sentAt: i, at: i });
      if (i % 2 === 0) events.push({ type: 'message.sent', id: `${i}`, peer: 5, text: `mine ${i}`, packets: 1, at: i });
      else events.push({ type: 'message.received', id: `${i}`, peer: 5, text: `theirs ${i}`, sentAt: i, at: i });
      if (i % 7 === 0) events.push({ type: 'message.edited', id: `${i}`, peer: 5, direction: i % 2 === 0 ? 'out' : 'in', text: `edited ${i}`, at: i + 1 });
    }
    await profile.appendMany(events);
    const all = (await dumpViews(profile, [5])).chats[5].messages;
    expect(all).toHaveLength(130);
    expect(all.filter((m) => m.text.startsWith('edited'))).toHaveLength(18);
    for (const limit of [17, 50, 130, 500]) {
      for (const at of [0, 40, 129]) {
        const before = all[at].seq;
        expect(await profile.page(5, { limit, before })).toEqual(all.slice(Math.max(0, at - limit), at));
      }
      expect(await profile.page(5, { limit })).toEqual(all.slice(-limit));
    }
    await profile.close();
  });

  it('profile - a message sent and one received with the same id and peer are both kept', async () => {
    const profile = await openProfile(tempHome());
    await profile.appendMany(structuredClone(CHAT));
    const page = await profile.page(5);
    expect(page.map((m) => [m.direction, m.id, m.text, m.status])).toEqual([
      ['out', '1', 'mine, id 1', 'delivered'],
      ['in', '1', 'theirs, id 1 too', 'read'],
      ['in', '2', 'more, edited', 'received'],
    ]);
    expect(await profile.message(5, 'in', '1')).toMatchObject({ seq: 3, text: 'theirs, id 1 too' });
    expect(await profile.message(5, 'out', '1')).toMatchObject({ seq: 2, receivedAt: 5 });
    expect(profile.unread(5)).toBe(1);
    await profile.close();
  });

  it('profile - a page reads on past a message with more updates than one read asks for; an update that names no message is left out', async () => {
    const profile = await openProfile(tempHome());
    const events: NewEvent[] = [
      { type: 'message.received', id: 'a', peer: 5, text: 'first', sentAt: 1, at: 2 },
      { type: 'message.sent', id: 'b', peer: 5, text: 'second', packets: 1, at: 3 },
    ];
    // 40 edits of b (more keys than a page of one asks LevelDB for), the last one wins.
    for (let i = 0; i < 40; i++) events.push({ type: 'message.edited', id: 'b', peer: 5, direction: 'out', text: 'edit ' + i, msgSeq: 2, at: 10 + i });
    // A receipt whose msgSeq names no message of the chat: its update sorts between a and b.
    events.push({ type: 'message.delivered', id: 'zz', peer: 5, msgSeq: 1, receivedAt: 77, at: 60 });
    events.push({ type: 'message.delivered', id: 'b', peer: 5, msgSeq: 2, receivedAt: 99, at: 61 });
    await profile.appendMany(events);
    const both = await profile.page(5);
    expect(both.map((m) => [m.id, m.text, m.status, m.receivedAt])).toEqual([
      ['a', 'first', 'received', 2],
      ['b', 'edit 39', 'delivered', 99],
    ]);
    expect(await profile.page(5, { limit: 1 })).toEqual([both[1]]);
    expect(await profile.page(5, { limit: 1, before: both[1].seq })).toEqual([both[0]]);
    expect(await profile.message(5, 'out', 'b')).toEqual(both[1]);
    const streamed: unknown[] = [];
    for await (const page of profile.stream(5)) streamed.push(...page);
    expect(streamed).toEqual(both);
    await profile.close();
  });

  it('profile - subscribers hear what changed once the views show it', async () => {
    const profile = await openProfile(tempHome());
    const heard: Array<{ change: unknown; page: string[]; unread: number }> = [];
    const pending: Array<Promise<void>> = [];
    profile.subscribe((event, change) => {
      // Synchronous reads already reflect the event; a page read started now sees it too.
      const unread = profile.unread(5);
      pending.push(profile.page(5).then((page) => void heard.push({ change, page: page.map((m) => m.id), unread })));
    });
    await profile.append({ type: 'message.received', id: 'a', peer: 5, text: 'hi', sentAt: 1 });
    await profile.append({ type: 'message.read', id: 'a', peer: 5, by: 'me' });
    await profile.append({ type: 'settings.changed', key: 'language', value: 'ru' });
    await Promise.all(pending);
    expect(heard).toEqual([
      { change: { seq: 1, type: 'message.received', message: { peer: 5, direction: 'in', id: 'a' } }, page: ['a'], unread: 1 },
      { change: { seq: 2, type: 'message.read', message: { peer: 5, direction: 'in', id: 'a' } }, page: ['a'], unread: 0 },
      { change: { seq: 3, type: 'settings.changed' }, page: ['a'], unread: 0 },
    ]);
    await profile.close();
  });

  it('profile - a profile written without the stored views (an older Parley) opens, rebuilds them, and answers the same', async () => {
    // The same events, once through a profile and once through the journal alone, as Parley
    // 0.1.0 wrote it: no view records, and a checkpoint of the old in-memory chats view.
    const live = await openProfile(tempHome());
    await live.appendMany(structuredClone(CHAT));
    const expected = await dumpViews(live, [5]);
    await live.close();

    const home = tempHome();
    const { openJournal } = await import('../../src/events/journal.js');
    const journal = await openJournal(path.join(home, 'journal'), home);
    await journal.appendMany(structuredClone(CHAT));
    await journal.putMeta([{ name: 'checkpoint/chats', value: Buffer.from('old chats view holding mine, id 1') }]);
    await journal.close();

    const progress: number[] = [];
    const old = await openProfile(home, { onProgress: (_view, seq) => progress.push(seq) });
    expect(progress).toEqual([CHAT.length]);
    expect(await dumpViews(old, [5])).toEqual(expected);
    expect(await old.journal.getMeta('checkpoint/chats')).toBeUndefined();
    await old.close();
    // And the next open finds them current: nothing to rebuild.
    const again = await openProfile(home, { onProgress: (_view, seq) => progress.push(seq) });
    expect(progress).toEqual([CHAT.length]);
    await again.close();
  });

  it('profile - a stored view of another version is dropped and rebuilt at open', async () => {
    const home = tempHome();
    const profile = await openProfile(home);
    await profile.appendMany(structuredClone(CHAT));
    const expected = await dumpViews(profile, [5]);
    await profile.journal.putMeta([{ name: 'view/messages', value: Buffer.from(JSON.stringify({ version: 1, seq: CHAT.length })) }]);
    // A stray record the old version might have left: the drop removes it.
    await profile.journal.writeOps([{ key: Buffer.from('c\u0000\u0000\u0000\u0000\u0005\u0000\u0000\u0000\u0000\u0000\u0063', 'latin1'), value: Buffer.from([0x92, 0x00, 0xa1, 0x7a]) }]);
    await profile.close();
    const again = await openProfile(home);
    expect(await dumpViews(again, [5])).toEqual(expected);
    await again.close();
  });
});
