// What the console prints of events and status changes: given this event (or these two
// statuses), this line; events a person does not need line by line give none.
import { describe, expect, it } from 'vitest';
import type { Stored } from '../../../src/events/types.js';
import type { StatusRow } from '../../../src/node/status.js';
import { en } from '../../../src/ui/i18n/en.js';
import { ru } from '../../../src/ui/i18n/ru.js';
import { eventLine, statusLines, type FileNames } from '../../../src/ui/console/notices.js';

const AT = new Date(2025, 0, 2, 9, 5).getTime();
const nameOf = (peer: number): string => (peer === 7 ? 'Bob (7)' : String(peer));
const event = (e: Record<string, unknown>): Stored => ({ at: AT, seq: 1, v: 1, ...e }) as unknown as Stored;

describe('notices', () => {
  it.each([
    ['a message received', { type: 'message.received', id: 'm1', peer: 7, text: 'hi', sentAt: AT }, '[09:05] Bob (7): hi'],
    ['a message sent', { type: 'message.sent', id: 'm1', peer: 7, text: 'yo', packets: 1 }, '[09:05] you → Bob (7): yo'],
    ['a message failed', { type: 'message.failed', id: 'm1', peer: 7, reason: 'contact removed' }, 'Your message m1 to Bob (7) failed: contact removed.'],
    ['a request', { type: 'contact.requested', peer: 12 }, '12 asks to talk to you: /requests accept 12 or /requests refuse 12'],
    ['an edit of theirs', { type: 'message.edited', id: 'm1', peer: 7, direction: 'in', text: 'fixed' }, 'Bob (7) edited a message: fixed'],
    ['a delivered mark', { type: 'message.delivered', id: 'm1', peer: 7, receivedAt: AT }, null],
    ['a read mark', { type: 'message.read', id: 'm1', peer: 7, by: 'peer' }, null],
    ['an edit of mine', { type: 'message.edited', id: 'm1', peer: 7, direction: 'out', text: 'x' }, null],
    ['a link opened (the status tells)', { type: 'link.opened', peer: 7, route: 'direct' }, null],
    ['a setting', { type: 'settings.changed', key: 'notify', value: false }, null],
  ])('notices - %s', (_what, e, line) => {
    expect(eventLine(en, event(e), nameOf, new Map())).toBe(line);
  });

  it('notices - a transfer told from its offer to its end, by the name it was offered under', () => {
    const files: FileNames = new Map();
    const key = { id: 't1', peer: 7, direction: 'in' };
    const lines = [
      { type: 'transfer.offered', ...key, name: 'photo.jpg', size: 1_500_000, chunkSize: 65_535 },
      { type: 'transfer.accepted', ...key },
      { type: 'transfer.completed', ...key, path: '/home/ann/downloads/photo.jpg' },
    ].map((e) => eventLine(en, event(e), nameOf, files));
    expect(lines).toEqual([
      'Bob (7) offers the file photo.jpg (1.5 MB): /transfers accept t1 or /transfers decline t1',
      'photo.jpg: accepted, coming from Bob (7).',
      'photo.jpg: completed, in /home/ann/downloads/photo.jpg.',
    ]);
    const out = { id: 't2', peer: 7, direction: 'out' };
    expect(eventLine(en, event({ type: 'transfer.offered', ...out, name: 'a\nb.txt', size: 10, chunkSize: 65_535 }), nameOf, files)).toBe('File a\\u000ab.txt (10 B) offered to Bob (7): transfer t2.');
    expect(eventLine(en, event({ type: 'transfer.declined', ...out, reason: 'no room' }), nameOf, files)).toBe('a\\u000ab.txt: declined by Bob (7) (no room).');
    // One whose offer the console never saw is named by its id.
    expect(eventLine(ru, event({ type: 'transfer.cancelled', id: 't9', peer: 7, direction: 'out', by: 'peer' }), nameOf, files)).toBe('t9: отменено другой стороной.');
    expect(eventLine(en, event({ type: 'transfer.failed', id: 't9', peer: 7, direction: 'in', reason: 'the peer went away' }), nameOf, files)).toBe('t9: failed (the peer went away).');
  });

  const status = (server: StatusRow['server'], contacts: StatusRow['contacts']): StatusRow => ({ id: 1, name: 'Ann', server, cert_expires_at: null, contacts });
  const bob = (presence: 'online' | 'offline' | 'refused', route: string | null) => ({ id: 7, name: 'Bob', presence, route, unread: 0 });

  it.each([
    ['the server goes away', status('online', []), status('offline', []), ['The server went away: offline, reconnecting.']],
    ['the server comes back', status('offline', []), status('online', []), ['The server is back: online.']],
    ['a first login fails: nothing to tell', status('offline', []), status('offline', []), []],
    ['a contact comes online, with a route', status('online', [bob('offline', null)]), status('online', [bob('online', 'relay')]), ['Bob (7) is online.', 'Bob (7): connected (relay).']],
    ['the route changes', status('online', [bob('online', 'relay')]), status('online', [bob('online', 'direct')]), ['Bob (7): the route changed, relay → direct.']],
    ['a contact goes', status('online', [bob('online', 'direct')]), status('online', [bob('offline', null)]), ['Bob (7) went offline.']],
    ['a contact refuses', status('online', [bob('offline', null)]), status('online', [bob('refused', null)]), ['Bob (7) refuses you.']],
    ['an unread count alone', status('online', [bob('online', 'lan')]), status('online', [{ ...bob('online', 'lan'), unread: 3 }]), []],
    ['a new contact', status('online', []), status('online', [bob('offline', null)]), []],
  ])('notices - status: %s', (_what, before, after, lines) => {
    expect(statusLines(en, before, after, nameOf)).toEqual(lines);
  });
});
