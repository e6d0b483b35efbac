import { describe, expect, it } from 'vitest';
import type { ChatMessage, PageOptions } from '../../src/node/history.js';
import { unacknowledged } from '../../src/node/outbox.js';
import type { MessageStatus } from '../../src/projections/message-status.js';

// A chat as the profile pages it: the last `limit` messages before `before`, oldest first.
function chatOf(statuses: MessageStatus[]): { page: (peer: number, options?: PageOptions) => Promise<ChatMessage[]>; all: ChatMessage[] } {
  const all = statuses.map((status, i): ChatMessage => ({
    seq: i + 1,
    id: `m${i + 1}`,
    peer: 7,
    direction: status === 'received' ? 'in' : 'out',
    at: 1_700_000_000_000 + i,
    receivedAt: null,
    text: `text ${i + 1}`,
    status,
    editedAt: null,
    replyTo: null,
    reason: null,
  }));
  const page = async (_peer: number, options: PageOptions = {}): Promise<ChatMessage[]> => {
    const end = options.before === undefined ? all.length : all.findIndex((m) => m.seq >= (options.before as number));
    const to = end === -1 ? all.length : end;
    return all.slice(Math.max(0, to - (options.limit ?? 50)), to);
  };
  return { page, all };
}

describe('outbox', () => {
  const cases: Array<[string, MessageStatus[], string[]]> = [
    ['an empty chat has none', [], []],
    ['messages of theirs only: none', ['received', 'read'], []],
    ['pending and sent after a delivered one, theirs between skipped', ['delivered', 'sent', 'received', 'pending', 'pending'], ['m2', 'm4', 'm5']],
    ['a failed one ends it: the pending ones before it are not the outbox', ['pending', 'failed', 'pending'], ['m3']],
    ['a read one ends it', ['sent', 'read', 'received'], []],
    ['all of them when none was answered', ['pending', 'sent'], ['m1', 'm2']],
  ];
  for (const [what, statuses, ids] of cases) {
    it(`outbox - ${what}`, async () => {
      const chat = chatOf(statuses);
      expect((await unacknowledged(chat, 7)).map((m) => m.id)).toEqual(ids);
    });
  }

  it('outbox - read back over several pages, oldest first', async () => {
    const chat = chatOf(['delivered', ...Array.from({ length: 120 }, (_, i): MessageStatus => (i % 3 === 0 ? 'received' : 'pending'))]);
    const found = await unacknowledged(chat, 7);
    expect(found.map((m) => m.seq)).toEqual(chat.all.filter((m) => m.status === 'pending').map((m) => m.seq));
    expect(found).toHaveLength(80);
  });
});
