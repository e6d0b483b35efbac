// The UI's state, given these actions: messages appended and their marks changed in place,
// notices from events and statuses, transfers, folders, the bell.
import { describe, expect, it } from 'vitest';
import type { NewEvent, Stored } from '../../../src/events/types.js';
import { contactList, evolve, initialModel, openTransfer, rings, unreadByFolder, type Action, type Model } from '../../../src/ui/tui/model.js';
import { given } from '../../helpers/events.js';
import { statusRow as status } from './fake.js';

function model(actions: Action[] = [], settings: Record<string, string> = { language: 'en', notify: 'on' }): Model {
  return actions.reduce(evolve, initialModel({ seq: 0, status: status(), settings }));
}

const events = (list: NewEvent[], firstSeq = 1): Action[] => given(list, firstSeq).map((event) => ({ type: 'event', event }));

describe('model', () => {
  it('model - a chat opened, its page, then live messages appended and marked in place', () => {
    const m = model([
      { type: 'open', peer: 7 },
      { type: 'page', peer: 7, older: false, limit: 50, rows: [] },
      ...events([
        { type: 'message.sent', id: 'm1', peer: 7, text: 'hi', packets: 1 },
        { type: 'message.received', id: 'r1', peer: 7, text: 'hello', sentAt: 1 },
        { type: 'message.sent', id: 'm2', peer: 9, text: 'other chat', packets: 1 },
        { type: 'message.transmitted', id: 'm1', peer: 7 },
        { type: 'message.delivered', id: 'm1', peer: 7, receivedAt: 5 },
      ]),
    ]);
    expect(m.chat?.rows.map((r) => [r.id, r.direction, r.status])).toEqual([
      ['m1', 'out', 'delivered'],
      ['r1', 'in', 'received'],
    ]);
    expect(m.chat?.rows[0].received_at).toBe(5);
    const read = model([{ type: 'open', peer: 7 }, ...events([{ type: 'message.sent', id: 'm1', peer: 7, text: 'a', packets: 1 }, { type: 'message.sent', id: 'm2', peer: 7, text: 'b', packets: 1 }, { type: 'message.read', id: 'm1', peer: 7, by: 'peer' }, { type: 'message.edited', id: 'm2', peer: 7, direction: 'out', text: 'B' }])]);
    expect(read.chat?.rows.map((r) => [r.status, r.text, r.edited_at !== null])).toEqual([
      ['read', 'a', false],
      ['pending', 'B', true],
    ]);
  });

  it('model - an older page goes before the rows loaded, a page read late keeps the events after it', () => {
    const row = (seq: number) => ({ seq, id: `m${seq}`, peer: 7, direction: 'in' as const, at: seq, received_at: seq, text: String(seq), status: 'received', edited_at: null, reply_to: null, reason: null });
    const m = model([
      { type: 'open', peer: 7 },
      ...events([{ type: 'message.received', id: 'm30', peer: 7, text: '30', sentAt: 1 }], 30),
      { type: 'page', peer: 7, older: false, limit: 2, rows: [row(10), row(20)] },
      { type: 'page', peer: 7, older: true, limit: 2, rows: [row(5)] },
    ]);
    expect(m.chat?.rows.map((r) => r.seq)).toEqual([5, 10, 20, 30]);
    expect(m.chat?.hasOlder).toBe(false);
  });

  it('model - statuses become notices: the server for every chat, presence and route for one', () => {
    const m = model([{ type: 'status', at: 1, status: status({ server: 'offline', contacts: [{ id: 7, name: 'Bob', presence: 'online', route: 'relay', unread: 0 }] }) }]);
    expect(m.notices.map((n) => [n.peer, n.notice])).toEqual([
      [null, { kind: 'server', online: false }],
      [7, { kind: 'route', peer: 7, from: 'direct', to: 'relay' }],
    ]);
  });

  it('model - a request is a notice and waits until answered', () => {
    const m = model(events([{ type: 'contact.requested', peer: 55 }]));
    expect(m.requests).toEqual([55]);
    const answered = [...events([{ type: 'contact.requested', peer: 55 }]), ...events([{ type: 'contact.added', peer: 55, name: '55', whitelisted: true }], 2)].reduce(evolve, model());
    expect(answered.requests).toEqual([]);
    expect(answered.notices.map((n) => n.notice.kind)).toEqual(['request', 'accepted']);
  });

  it('model - transfers from offer to completion; the one a key acts on', () => {
    const m = model(events([
      { type: 'transfer.offered', id: 't1', peer: 7, direction: 'in', name: 'a.pdf', size: 100, chunkSize: 10 },
      { type: 'transfer.offered', id: 't2', peer: 7, direction: 'out', name: 'b.pdf', size: 100, chunkSize: 10 },
      { type: 'transfer.accepted', id: 't2', peer: 7, direction: 'out' },
    ]));
    expect(openTransfer(m, 7, ['offered'])?.id).toBe('t1');
    expect(openTransfer(m, 7, ['active', 'paused', 'offered'])?.id).toBe('t2');
    const done = evolve(m, { type: 'event', event: given([{ type: 'transfer.completed', id: 't2', peer: 7, direction: 'out' }], 9)[0] });
    expect(done.transfers['7/out/t2']).toMatchObject({ state: 'completed', done: 100 });
    const cancelled = evolve(m, { type: 'event', event: given([{ type: 'transfer.cancelled', id: 't1', peer: 7, direction: 'in', by: 'peer' }], 9)[0] });
    expect(cancelled.transfers['7/in/t1']).toMatchObject({ state: 'cancelled', reason: 'peer' });
  });

  it('model - a transfer moves as the stored view does: a pause or resume after it ended, or an acceptance twice, changes nothing', () => {
    const m = model(events([
      { type: 'transfer.offered', id: 't2', peer: 7, direction: 'out', name: 'b.pdf', size: 100, chunkSize: 10 },
      { type: 'transfer.accepted', id: 't2', peer: 7, direction: 'out' },
      { type: 'transfer.paused', id: 't2', peer: 7, direction: 'out', reason: 'the link went away' },
      { type: 'transfer.resumed', id: 't2', peer: 7, direction: 'out' },
      { type: 'transfer.completed', id: 't2', peer: 7, direction: 'out' },
      // The link changed as it ended: these came after, in that order.
      { type: 'transfer.paused', id: 't2', peer: 7, direction: 'out', reason: 'the link went away' },
      { type: 'transfer.resumed', id: 't2', peer: 7, direction: 'out' },
      { type: 'transfer.accepted', id: 't2', peer: 7, direction: 'out' },
    ]));
    expect(m.transfers['7/out/t2']).toMatchObject({ state: 'completed', done: 100 });
    const paused = model(events([
      { type: 'transfer.offered', id: 't3', peer: 7, direction: 'in', name: 'c.pdf', size: 100, chunkSize: 10 },
      { type: 'transfer.resumed', id: 't3', peer: 7, direction: 'in' },
      { type: 'transfer.paused', id: 't3', peer: 7, direction: 'in', reason: 'x' },
    ]));
    expect(paused.transfers['7/in/t3']).toMatchObject({ state: 'offered' });
  });

  it('model - folders, and a search by name or id', () => {
    const m = model([{ type: 'folders', rows: [{ id: 9, folder: 'spam' }] }]);
    // fake.ts's statusRow: Bob (7), Eve (9) and 11, who has no name; only Eve is moved.
    expect(contactList(m, 'main', '').map((c) => c.id)).toEqual([7, 11]);
    expect(contactList(m, 'spam', '').map((c) => c.id)).toEqual([9]);
    expect(unreadByFolder(m)).toEqual({ main: 0, spam: 2 });
    expect(contactList(model(), 'main', 'bo').map((c) => c.id)).toEqual([7]);
    expect(contactList(model(), 'main', '9').map((c) => c.id)).toEqual([9]);
    const moved = evolve(model(), { type: 'event', event: given([{ type: 'contact.moved', peer: 7, folder: 'spam' }])[0] });
    expect(contactList(moved, 'spam', '').map((c) => c.id)).toEqual([7]);
  });

  it('model - the bell rings for a message in another chat when notify is on', () => {
    const [e] = given([{ type: 'message.received', id: 'r', peer: 9, text: 'x', sentAt: 1 }]) as Stored[];
    const open7 = model([{ type: 'open', peer: 7 }]);
    expect(rings(open7, e)).toBe(true);
    expect(rings(model([{ type: 'open', peer: 9 }]), e)).toBe(false);
    expect(rings(model([{ type: 'open', peer: 7 }], { language: 'en', notify: 'off' }), e)).toBe(false);
  });
});
