// Per chat "keep history" (issue 12): a chat turned off is cleared when the client closes, the
// way `parley up` ends (SIGINT, SIGTERM, SIGHUP), and the others are untouched. A profile
// without a server (issue 10) is enough: the chats are written into it as the client writes them.
import { describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/events/types.js';
import { appendEvents, jsonLines, ok } from '../helpers/cli.js';
import { restartSelfSigned, selfSignedPerson, stopPerson } from '../helpers/client.js';

const CHATS: NewEvent[] = [
  { type: 'contact.added', peer: 5, name: 'Ann', whitelisted: true },
  { type: 'contact.added', peer: 6, name: 'Bo', whitelisted: true },
  { type: 'message.received', id: 'a1', peer: 5, text: 'for this session only', sentAt: 1_700_000_000_000 },
  { type: 'message.sent', id: 'a2', peer: 5, text: 'understood', packets: 1 },
  { type: 'message.received', id: 'b1', peer: 6, text: 'keep me', sentAt: 1_700_000_000_000 },
];

async function historyOf(home: string, peer: number): Promise<unknown[]> {
  return jsonLines((await ok(['history', '--peer', String(peer), '--json'], { home })).stdout).map((m) => m.id);
}

describe('keep history', () => {
  for (const signal of ['SIGINT', 'SIGHUP'] as const) {
    it(`keep history - off: the chat is empty after parley up ends on ${signal}, the other chat untouched, within a few seconds`, async () => {
      const p = await selfSignedPerson('keeper', { up: false });
      await appendEvents(p.home, CHATS);
      await restartSelfSigned(p);
      // Set while the client runs: the command reaches it over its socket.
      await ok(['history', 'keep', '--peer', '5', 'off'], { home: p.home });
      expect(await historyOf(p.home, 5)).toEqual(['a1', 'a2']);
      const t0 = Date.now();
      await stopPerson(p, signal);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(await historyOf(p.home, 5)).toEqual([]);
      expect(await historyOf(p.home, 6)).toEqual(['b1']);
      // Still off: the next session's chat goes too, and a close with nothing to clear journals
      // no clear.
      expect(jsonLines((await ok(['history', 'keep', '--json'], { home: p.home })).stdout)).toEqual([
        { peer: 5, name: 'Ann', keep: false },
        { peer: 6, name: 'Bo', keep: true },
      ]);
      await restartSelfSigned(p);
      await stopPerson(p, signal);
      const clears = jsonLines((await ok(['journal', 'inspect', '--type', 'chat.cleared', '--json'], { home: p.home })).stdout);
      expect(clears.map((c) => [c.peer, c.removed])).toEqual([[5, 2]]);
    });
  }
});
