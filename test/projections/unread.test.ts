import { describe, expect, it } from 'vitest';
import { unread, unreadCount } from '../../src/projections/unread.js';
import { fold, given } from '../helpers/events.js';

describe('unread', () => {
  it('unread - counts incoming messages until I read them', () => {
    const s = fold(unread, given([
      { type: 'message.received', id: 'a', peer: 7, text: '1', sentAt: 1 },
      { type: 'message.received', id: 'b', peer: 7, text: '2', sentAt: 2 },
      { type: 'message.received', id: 'c', peer: 8, text: '3', sentAt: 3 },
      { type: 'message.read', id: 'a', peer: 7, by: 'me' },
      { type: 'message.read', id: 'a', peer: 7, by: 'me' },
    ]));
    expect(unreadCount(s, 7)).toBe(1);
    expect(unreadCount(s, 8)).toBe(1);
  });

  it('unread - the peer reading my message changes nothing here', () => {
    const s = fold(unread, given([
      { type: 'message.received', id: 'a', peer: 7, text: '1', sentAt: 1 },
      { type: 'message.read', id: 'a', peer: 7, by: 'peer' },
    ]));
    expect(unreadCount(s, 7)).toBe(1);
  });

  it('unread - a clear leaves nothing unread in that chat', () => {
    const s = fold(unread, given([
      { type: 'message.received', id: 'a', peer: 7, text: '1', sentAt: 1 },
      { type: 'chat.cleared', peer: 7, removed: 1 },
    ]));
    expect(unreadCount(s, 7)).toBe(0);
  });
});
