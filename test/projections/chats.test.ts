import { describe, expect, it } from 'vitest';
import { chats, historyOf } from '../../src/projections/chats.js';
import { fold, given } from '../helpers/events.js';

describe('chats', () => {
  it('chats - a sent message is delivered, then read, with the receive time of the peer', () => {
    const s = fold(chats, given([
      { type: 'message.sent', id: 'a', peer: 7, text: 'hi', packets: 1 },
      { type: 'message.delivered', id: 'a', peer: 7, receivedAt: 123 },
      { type: 'message.read', id: 'a', peer: 7, by: 'peer' },
    ]));
    const [m] = historyOf(s, 7);
    expect(m).toMatchObject({ id: 'a', direction: 'out', text: 'hi', status: 'read', receivedAt: 123, editedAt: null, replyTo: null });
  });

  it('chats - a received message keeps the sent time and the arrival time apart', () => {
    const s = fold(chats, given([{ type: 'message.received', id: 'b', peer: 7, text: 'yo', sentAt: 5, replyTo: 'a' }], 1, 9000));
    expect(historyOf(s, 7)[0]).toMatchObject({ direction: 'in', at: 5, receivedAt: 9000, status: 'received', replyTo: 'a' });
  });

  it('chats - an edit replaces the text and records when', () => {
    const events = given([
      { type: 'message.sent', id: 'a', peer: 7, text: 'helo', packets: 1 },
      { type: 'message.edited', id: 'a', peer: 7, text: 'hello' },
    ]);
    const m = historyOf(fold(chats, events), 7)[0];
    expect(m.text).toBe('hello');
    expect(m.editedAt).toBe(events[1].at);
  });

  it('chats - a duplicate delivery keeps the first copy', () => {
    const s = fold(chats, given([
      { type: 'message.received', id: 'b', peer: 7, text: 'one', sentAt: 5 },
      { type: 'message.received', id: 'b', peer: 7, text: 'two', sentAt: 5 },
    ]));
    expect(historyOf(s, 7).map((m) => m.text)).toEqual(['one']);
  });

  it('chats - the same id from two peers is two messages', () => {
    const s = fold(chats, given([
      { type: 'message.received', id: 'x', peer: 1, text: 'from 1', sentAt: 5 },
      { type: 'message.received', id: 'x', peer: 2, text: 'from 2', sentAt: 5 },
      { type: 'message.edited', id: 'x', peer: 2, text: 'edited 2' },
    ]));
    expect(historyOf(s, 1)[0].text).toBe('from 1');
    expect(historyOf(s, 2)[0].text).toBe('edited 2');
  });

  it('chats - a receipt from me does not mark my own sent message read', () => {
    const s = fold(chats, given([
      { type: 'message.sent', id: 'a', peer: 7, text: 'hi', packets: 1 },
      { type: 'message.read', id: 'a', peer: 7, by: 'me' },
    ]));
    expect(historyOf(s, 7)[0].status).toBe('sent');
  });

  it('chats - a clear forgets that chat only, and later receipts of it are ignored', () => {
    const s = fold(chats, given([
      { type: 'message.sent', id: 'a', peer: 7, text: 'hi', packets: 1 },
      { type: 'message.sent', id: 'b', peer: 8, text: 'other', packets: 1 },
      { type: 'chat.cleared', peer: 7, removed: 1 },
      { type: 'message.delivered', id: 'a', peer: 7, receivedAt: 1 },
    ]));
    expect(historyOf(s, 7)).toEqual([]);
    expect(historyOf(s, 8)).toHaveLength(1);
    expect(s.index.size).toBe(1);
  });

  it('chats - snapshot and restore give back the same state with its index', () => {
    const s = fold(chats, given([
      { type: 'message.sent', id: 'a', peer: 7, text: 'hi', packets: 1 },
      { type: 'message.received', id: 'b', peer: 8, text: 'yo', sentAt: 1 },
    ]));
    const back = chats.restore!(structuredClone(chats.snapshot!(s)));
    expect(back).toEqual(s);
  });
});
