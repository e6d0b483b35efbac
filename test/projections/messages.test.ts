import { describe, expect, it } from 'vitest';
import type { Direction, NewEvent } from '../../src/events/types.js';
import { chatRange, CHUNK, decodeUpdate, isUpdateKey, messageKey, openSeqsKey, PREFIX, summaryKey } from '../../src/projections/message-keys.js';
import { foldUpdates, statusOf, unreadOf } from '../../src/projections/message-status.js';
import { decodeSeq, decodeSummary, SEQS, type ChatSummary } from '../../src/projections/message-values.js';
import { messages } from '../../src/projections/messages.js';
import { foldStored, given } from '../helpers/events.js';

// The view over `events`, read back as a person would see each message: its seq, its updates
// folded, its status.
function run(events: NewEvent[]) {
  const stored = given(events);
  const { records, changes, get } = foldStored(messages, stored);
  const summary = (peer: number): ChatSummary | undefined => {
    const v = get(summaryKey(peer));
    return v ? decodeSummary(v) : undefined;
  };
  const record = (peer: number, direction: Direction, id: string) => {
    const v = get(messageKey(peer, direction, id));
    if (!v) return undefined;
    const seq = decodeSeq(v);
    const { gte, lt } = chatRange(peer, seq, seq + 1);
    const updates = [...records.entries()]
      .map(([k, value]) => ({ key: Buffer.from(k, 'latin1'), value }))
      .filter((r) => isUpdateKey(r.key) && Buffer.compare(r.key, gte) >= 0 && Buffer.compare(r.key, lt) < 0)
      .sort((x, y) => Buffer.compare(x.key, y.key))
      .map((r) => decodeUpdate(r.key, r.value));
    return { seq, ...foldUpdates(updates) };
  };
  const status = (peer: number, direction: Direction, id: string): string | undefined => {
    const r = record(peer, direction, id);
    return r ? statusOf(direction, r.seq, r, summary(peer)) : undefined;
  };
  // Records under a prefix; under 'c', the messages' entries alone (their updates: `updates`).
  const keysOf = (prefix: number) => [...records.keys()].filter((k) => k.charCodeAt(0) === prefix);
  const count = (prefix: number) => keysOf(prefix).filter((k) => prefix !== PREFIX.CHAT || !isUpdateKey(Buffer.from(k, 'latin1'))).length;
  const updates = () => keysOf(PREFIX.CHAT).filter((k) => isUpdateKey(Buffer.from(k, 'latin1'))).length;
  // The chat's list of events: its chunks on disk in key order, then the one being filled.
  const seqs = (peer: number): number[] => {
    const closed = [...records.entries()]
      .map(([k, value]) => ({ key: Buffer.from(k, 'latin1'), value }))
      .filter((r) => r.key[0] === PREFIX.SEQS && r.key.readUIntBE(1, 5) === peer)
      .sort((x, y) => Buffer.compare(x.key, y.key))
      .flatMap((r) => SEQS.decode(r.value));
    const open = get(openSeqsKey(peer));
    return closed.concat(open ? SEQS.decode(open) : []);
  };
  return { stored, changes, summary, status, record, count, updates, seqs };
}

const sent = (id: string, peer = 7): NewEvent => ({ type: 'message.sent', id, peer, text: 'hi ' + id, packets: 1 });
const received = (id: string, peer = 7): NewEvent => ({ type: 'message.received', id, peer, text: 'yo ' + id, sentAt: 5 });

describe('messages', () => {
  it('messages - mine goes pending, sent (on a link), delivered, read; the peer clock is kept', () => {
    const steps: NewEvent[] = [
      sent('a'),
      { type: 'message.transmitted', id: 'a', peer: 7 },
      { type: 'message.delivered', id: 'a', peer: 7, receivedAt: 123 },
      { type: 'message.read', id: 'a', peer: 7, by: 'peer' },
    ];
    const seen = steps.map((_, i) => run(steps.slice(0, i + 1)).status(7, 'out', 'a'));
    expect(seen).toEqual(['pending', 'sent', 'delivered', 'read']);
    expect(run(steps).record(7, 'out', 'a')).toMatchObject({ seq: 1, deliveredAt: 123, failed: null });
  });

  it('messages - a failed message says why; a delivery that comes after all the same wins', () => {
    const failed = run([sent('a'), { type: 'message.transmitted', id: 'a', peer: 7 }, { type: 'message.failed', id: 'a', peer: 7, reason: 'peer refused: quota' }]);
    expect(failed.status(7, 'out', 'a')).toBe('failed');
    expect(failed.record(7, 'out', 'a')?.failed).toBe('peer refused: quota');
    const late = run([sent('a'), { type: 'message.failed', id: 'a', peer: 7, reason: 'x' }, { type: 'message.delivered', id: 'a', peer: 7, receivedAt: 9 }]);
    expect(late.status(7, 'out', 'a')).toBe('delivered');
  });

  it('messages - reading is a watermark: everything up to the message read is read, unread is what came after', () => {
    const r = run([received('a'), received('b'), sent('m'), received('c'), received('d'), { type: 'message.read', id: 'b', peer: 7, by: 'me' }]);
    expect(['a', 'b', 'c', 'd'].map((id) => r.status(7, 'in', id))).toEqual(['read', 'read', 'received', 'received']);
    expect(unreadOf(r.summary(7))).toBe(2);
    expect(r.summary(7)).toMatchObject({ messages: 5, incoming: 4, readOrd: 2 });
    // One event, however many messages it covers: no write per message read.
    expect(r.changes[5]).toEqual({ peer: 7, direction: 'in', id: 'b' });
  });

  it('messages - a late receipt for an older message does not move a watermark back', () => {
    const r = run([received('a'), received('b'), { type: 'message.read', id: 'b', peer: 7, by: 'me' }, { type: 'message.read', id: 'a', peer: 7, by: 'me' }]);
    expect(unreadOf(r.summary(7))).toBe(0);
    const p = run([sent('a'), sent('b'), { type: 'message.read', id: 'b', peer: 7, by: 'peer' }, { type: 'message.read', id: 'a', peer: 7, by: 'peer' }]);
    expect([p.status(7, 'out', 'a'), p.status(7, 'out', 'b')]).toEqual(['read', 'read']);
  });

  it('messages - the peer reading my messages leaves my unread count alone; my read of an id I sent marks nothing', () => {
    const r = run([received('a'), sent('a'), { type: 'message.read', id: 'a', peer: 7, by: 'peer' }]);
    expect(unreadOf(r.summary(7))).toBe(1);
    expect(r.status(7, 'out', 'a')).toBe('read');
    const m = run([sent('a'), { type: 'message.read', id: 'a', peer: 7, by: 'me' }]);
    expect(m.status(7, 'out', 'a')).toBe('pending');
  });

  it('messages - the same id sent and received with one peer is two messages, both kept', () => {
    const r = run([sent('1'), received('1'), { type: 'message.delivered', id: '1', peer: 7, receivedAt: 50 }]);
    expect(r.record(7, 'out', '1')).toMatchObject({ seq: 1, deliveredAt: 50 });
    expect(r.record(7, 'in', '1')).toMatchObject({ seq: 2, deliveredAt: null });
    expect(r.count(PREFIX.CHAT)).toBe(2);
    expect(r.summary(7)).toMatchObject({ messages: 2, incoming: 1 });
  });

  it('messages - the same id from two peers is two messages; an edit names its direction', () => {
    const r = run([received('x', 1), received('x', 2), { type: 'message.edited', id: 'x', peer: 2, direction: 'in', text: 'edited 2' }, { type: 'message.edited', id: 'x', peer: 2, direction: 'out', text: 'no such' }]);
    expect(r.record(1, 'in', 'x')?.editSeq).toBe(0);
    expect(r.record(2, 'in', 'x')).toMatchObject({ editSeq: 3, editedAt: r.stored[2].at });
    expect(r.record(2, 'out', 'x')).toBeUndefined();
  });

  it('messages - a new message reads nothing: a second copy in the journal (the client drops copies before) shows twice, the later found by id', () => {
    const r = run([received('b'), received('b')]);
    expect(r.record(7, 'in', 'b')?.seq).toBe(2);
    expect(r.summary(7)).toMatchObject({ messages: 2, incoming: 2 });
    expect(r.count(PREFIX.CHAT)).toBe(2);
    expect(given([sent('a'), received('b')]).map((e) => messages.reads(e))).toEqual([[], []]);
  });

  it('messages - every event about a chat is listed for its clear, even a receipt for an unknown message', () => {
    const r = run([sent('a'), { type: 'message.delivered', id: 'gone', peer: 7, receivedAt: 1 }, { type: 'message.read', id: 'a', peer: 7, by: 'peer' }, { type: 'quota.spent', peer: 7, direction: 'outbound', kind: 'messages', n: 1 }]);
    // The read receipt moves a watermark and writes no update; both receipts are in the list.
    expect([r.count(PREFIX.CHAT), r.updates()]).toEqual([1, 0]);
    expect(r.seqs(7)).toEqual([1, 2, 3]);
  });

  it("messages - the list of a chat's events fills a chunk, goes to disk under its first seq, and starts the next", () => {
    const events: NewEvent[] = [];
    for (let i = 0; i < CHUNK + 3; i++) events.push(i % 2 === 0 ? sent('m' + i) : received('m' + i, 8));
    const r = run(events);
    const mine = r.stored.filter((e) => e.peer === 7).map((e) => e.seq);
    expect(r.seqs(7)).toEqual(mine);
    expect(r.seqs(8)).toEqual(r.stored.filter((e) => e.peer === 8).map((e) => e.seq));
    // Two chats of half a chunk each close none; one of CHUNK + 1 events closes one.
    expect(r.count(PREFIX.SEQS)).toBe(0);
    const one = run(Array.from({ length: CHUNK + 1 }, (_, i) => sent('n' + i)));
    expect(one.count(PREFIX.SEQS)).toBe(1);
    expect(one.seqs(7)).toEqual(Array.from({ length: CHUNK + 1 }, (_, i) => i + 1));
  });

  it('messages - a clear drops the chat summary (the clear batch drops the records)', () => {
    const r = run([received('a'), received('b', 8), { type: 'chat.cleared', peer: 7, removed: 0 }]);
    expect(r.summary(7)).toBeUndefined();
    expect(unreadOf(r.summary(8))).toBe(1);
    expect(r.changes[2]).toEqual({ peer: 7, cleared: true });
  });
});

describe('messages - receipts that name their message by seq', () => {
  it('messages - a receipt with msgSeq reads nothing and lands on that message; without it, the message is found by id', () => {
    const withSeq: NewEvent[] = [sent('a'), received('a'), { type: 'message.delivered', id: 'a', peer: 7, msgSeq: 1, receivedAt: 9 }, { type: 'message.read', id: 'a', peer: 7, by: 'me', msgSeq: 2 }];
    const byId: NewEvent[] = [sent('a'), received('a'), { type: 'message.delivered', id: 'a', peer: 7, receivedAt: 9 }, { type: 'message.read', id: 'a', peer: 7, by: 'me' }];
    for (const events of [withSeq, byId]) {
      const r = run(events);
      expect([r.status(7, 'out', 'a'), r.status(7, 'in', 'a')]).toEqual(['delivered', 'read']);
      expect(r.record(7, 'out', 'a')?.deliveredAt).toBe(9);
    }
    const stored = given(withSeq);
    expect(stored.slice(2).map((e) => messages.reads(e))).toEqual([[], [Buffer.from('630000000007000000000002', 'hex')]]);
    // A message of the batch being derived (seq 2 at or after its first, `since`) is not in the
    // store: nothing to read, and apply finds its entry through the Tx.
    expect([messages.reads(stored[3], 2), messages.reads(stored[3], 3)]).toEqual([[], [Buffer.from('630000000007000000000002', 'hex')]]);
  });

  it('messages - an update sits beside its message entry, and a receipt naming a seq not yet written goes aside', () => {
    const r = run([sent('a'), { type: 'message.delivered', id: 'a', peer: 7, msgSeq: 1, receivedAt: 9 }, { type: 'message.delivered', id: 'b', peer: 7, msgSeq: 4, receivedAt: 9 }, sent('b')]);
    // Entry 'c' 7 seq 1, then its update 'c' 7 seq 1 'd' evSeq 2: one range holds both.
    const keys = [...foldStored(messages, r.stored).records.keys()].map((k) => Buffer.from(k, 'latin1').toString('hex')).filter((k) => k.startsWith('63')).sort();
    expect(keys).toEqual(['630000000007000000000001', '630000000007000000000001' + '64' + '000000000002', '630000000007000000000004']);
    // The receipt at seq 3 named seq 4, written after it: not b's update, listed all the same.
    expect(r.record(7, 'out', 'b')).toMatchObject({ seq: 4, deliveredAt: null });
    expect(r.seqs(7)).toEqual([1, 2, 3, 4]);
  });

  it('messages - the first delivery and the first sending stand, the last failure and edit do', () => {
    const r = run([
      sent('a'),
      { type: 'message.transmitted', id: 'a', peer: 7, at: 100 },
      { type: 'message.transmitted', id: 'a', peer: 7, at: 200 },
      { type: 'message.edited', id: 'a', peer: 7, direction: 'out', text: 'one' },
      { type: 'message.edited', id: 'a', peer: 7, direction: 'out', text: 'two' },
      { type: 'message.failed', id: 'a', peer: 7, reason: 'first' },
      { type: 'message.failed', id: 'a', peer: 7, reason: 'last' },
    ]);
    expect(r.record(7, 'out', 'a')).toMatchObject({ sentAt: 100, editSeq: 5, failed: 'last' });
  });
});
