import { describe, expect, it } from 'vitest';
import { contacts, decideMove, decideRemove, isFolder, REMOVED_REASON } from '../../src/projections/contacts.js';
import { links } from '../../src/projections/links.js';
import { quotas, quotaOf } from '../../src/projections/quotas.js';
import { pendingRequests, requests } from '../../src/projections/requests.js';
import { fold, given } from '../helpers/events.js';

describe('contacts', () => {
  it('contacts - added, renamed, moved, blocked', () => {
    const s = fold(contacts, given([
      { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
      { type: 'contact.renamed', peer: 7, name: 'Anna' },
      { type: 'contact.moved', peer: 7, folder: 'spam' },
      { type: 'contact.blocked', peer: 7, blocked: true },
    ]));
    expect(s[7]).toMatchObject({ id: 7, name: 'Anna', folder: 'spam', whitelisted: true, blocked: true });
  });

  it('contacts - decideMove: a move to another folder is one event, a move to where it is none', () => {
    const added = given([{ type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true }]);
    const s = fold(contacts, added);
    expect(decideMove(s, 7, 'main')).toBeNull();
    const move = decideMove(s, 7, 'spam');
    expect(move).toEqual({ type: 'contact.moved', peer: 7, folder: 'spam' });
    const moved = fold(contacts, [...added, ...given([move!], 2)]);
    expect(moved[7].folder).toBe('spam');
    expect(decideMove(moved, 7, 'spam')).toBeNull();
    expect(decideMove(moved, 7, 'main')).toEqual({ type: 'contact.moved', peer: 7, folder: 'main' });
  });

  it('contacts - the folders are main and spam, nothing else', () => {
    expect(['main', 'spam', 'Main', 'work', '', 'toString'].map(isFolder)).toEqual([true, true, false, false, false, false]);
  });

  it('contacts - blocking someone never added makes a plain entry', () => {
    const s = fold(contacts, given([{ type: 'contact.blocked', peer: 9, blocked: true }]));
    expect(s[9]).toMatchObject({ id: 9, name: '9', folder: 'main', whitelisted: false, blocked: true });
  });

  it('contacts - removed: off the list, and added again a new entry with the new name, in the main folder', () => {
    const added = { type: 'contact.added' as const, peer: 7, name: 'Ann', whitelisted: true };
    const removed = fold(contacts, given([added, { type: 'contact.moved', peer: 7, folder: 'work' }, { type: 'contact.added', peer: 8, name: 'Bo', whitelisted: true }, { type: 'contact.removed', peer: 7 }]));
    expect(removed[7]).toBeUndefined();
    expect(Object.keys(removed)).toEqual(['8']);
    const again = fold(contacts, given([added, { type: 'contact.moved', peer: 7, folder: 'work' }, { type: 'contact.removed', peer: 7 }, { ...added, name: 'Anna' }]));
    expect(again[7]).toEqual({ id: 7, name: 'Anna', folder: 'main', whitelisted: true, blocked: false, addedAt: 1_700_000_000_000 + 3000 });
  });

  it('contacts - a blocked contact removed stays blocked: a plain entry, as blocking a peer never added makes', () => {
    const s = fold(contacts, given([
      { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
      { type: 'contact.blocked', peer: 7, blocked: true },
      { type: 'contact.removed', peer: 7 },
    ]));
    const stranger = fold(contacts, given([{ type: 'contact.blocked', peer: 7, blocked: true }], 3, 1_700_000_000_000 + 2000));
    expect(s).toEqual(stranger);
    expect(s[7]).toMatchObject({ name: '7', whitelisted: false, blocked: true });
  });

  it('contacts - removing a peer not on the list changes nothing', () => {
    const s = fold(contacts, given([{ type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true }, { type: 'contact.removed', peer: 9 }]));
    expect(Object.keys(s)).toEqual(['7']);
  });

  it('contacts - a removal keeps the quotas: grants and spends count as before', () => {
    const events = given([
      { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
      { type: 'quota.granted', peer: 7, direction: 'inbound', kind: 'messages', n: 5 },
      { type: 'quota.spent', peer: 7, direction: 'inbound', kind: 'messages', n: 2 },
      { type: 'quota.granted', peer: 7, direction: 'outbound', kind: 'files', n: 3 },
      { type: 'contact.removed', peer: 7 },
    ]);
    const q = quotaOf(fold(quotas, events), 7);
    expect(q.inbound.messages).toEqual({ granted: 5, spent: 2 });
    expect(q.outbound.files).toEqual({ granted: 3, spent: 0 });
  });

  it('requests - a removed contact that asks again is a request again; a refused one stays refused', () => {
    const asked = fold(requests, given([
      { type: 'contact.requested', peer: 7 },
      { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
      { type: 'contact.removed', peer: 7 },
      { type: 'contact.requested', peer: 7 },
    ]));
    expect(pendingRequests(asked).map((r) => r.peer)).toEqual([7]);
    const refused = fold(requests, given([{ type: 'contact.requested', peer: 8 }, { type: 'contact.refused', peer: 8 }, { type: 'contact.removed', peer: 8 }, { type: 'contact.requested', peer: 8 }]));
    expect(refused[8].state).toBe('refused');
  });

  it('decideRemove - a contact: the removal, then one failure per message not acknowledged, naming its seq', () => {
    const state = fold(contacts, given([{ type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true }]));
    expect(decideRemove(state, 7, [])).toEqual([{ type: 'contact.removed', peer: 7 }]);
    expect(decideRemove(state, 7, [{ id: 'a', seq: 4 }, { id: 'b', seq: 9 }])).toEqual([
      { type: 'contact.removed', peer: 7 },
      { type: 'message.failed', id: 'a', peer: 7, msgSeq: 4, reason: REMOVED_REASON },
      { type: 'message.failed', id: 'b', peer: 7, msgSeq: 9, reason: REMOVED_REASON },
    ]);
    expect(REMOVED_REASON).toBe('contact removed');
  });

  it('decideRemove - a peer not on the list (never added, or removed already): null, nothing to journal', () => {
    const state = fold(contacts, given([{ type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true }, { type: 'contact.removed', peer: 7 }]));
    expect(decideRemove(state, 7, [{ id: 'a', seq: 2 }])).toBeNull();
    expect(decideRemove(state, 9, [])).toBeNull();
  });

  it('links - opened and closed keep the last route', () => {
    const s = fold(links, given([
      { type: 'link.opened', peer: 7, route: 'punched', address: '203.0.113.5:4000' },
      { type: 'link.closed', peer: 7, reason: 'peer went away' },
    ]));
    expect(s[7]).toMatchObject({ state: 'closed', route: 'punched', reason: 'peer went away' });
  });
});

describe('contacts - trust without a CA', () => {
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);
  it('contacts - a pin, a location from an invite, a refused key kept as a warning until a pin by hand', () => {
    const s = fold(contacts, given([
      { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
      { type: 'contact.pinned', peer: 7, keySha256: A, by: 'invite' },
      { type: 'contact.located', peer: 7, addresses: ['127.0.0.1'], port: 7402, token: 'f'.repeat(32) },
      { type: 'contact.key-refused', peer: 7, keySha256: B, pinned: A, address: '127.0.0.1:7402' },
    ]));
    expect(s[7]).toMatchObject({
      pin: { keySha256: A, by: 'invite' },
      location: { addresses: ['127.0.0.1'], port: 7402, token: 'f'.repeat(32) },
      keyWarning: { keySha256: B, pinned: A, address: '127.0.0.1:7402' },
    });
    const answered = fold(contacts, given([
      { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
      { type: 'contact.pinned', peer: 7, keySha256: A, by: 'first-use' },
      { type: 'contact.key-refused', peer: 7, keySha256: B, pinned: A },
      { type: 'contact.pinned', peer: 7, keySha256: A, by: 'hand' },
    ]));
    expect(answered[7].keyWarning).toBeUndefined();
    expect(answered[7].pin).toMatchObject({ keySha256: A, by: 'hand' });
  });

  it('contacts - removed, the pin goes with it: added again, the contact is met anew', () => {
    const s = fold(contacts, given([
      { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
      { type: 'contact.pinned', peer: 7, keySha256: A, by: 'first-use' },
      { type: 'contact.removed', peer: 7 },
      { type: 'contact.added', peer: 7, name: 'Ann', whitelisted: true },
    ]));
    expect(s[7].pin).toBeUndefined();
  });
});
