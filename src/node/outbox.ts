// A contact's outbox: my messages to it that no ack has answered yet, pending (never written to a
// link) or sent (written to a link that went before the ack came). It needs no store of its
// own: messages go in order on a link and are acknowledged in order, so they are the newest of
// the chat back to the first of mine that is delivered, read or failed (docs/ARCHITECTURE.md,
// "Messages between clients"). Read from the end of the chat by page, so the cost is that of
// the outbox, not of the history.
//
// delivery.ts reads the same outbox (its pendingOf) to send it; `contacts remove` reads it to
// fail it.
import type { ChatMessage } from './history.js';
import type { Profile } from './profile.js';

// Messages read at a time from the end of a chat.
const PAGE = 50;

// Oldest first.
export async function unacknowledged(profile: Pick<Profile, 'page'>, peer: number): Promise<ChatMessage[]> {
  const found: ChatMessage[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await profile.page(peer, { limit: PAGE, before });
    for (let i = page.length - 1; i >= 0; i--) {
      const m = page[i];
      if (m.direction !== 'out') continue;
      if (m.status !== 'pending' && m.status !== 'sent') return found.reverse();
      found.push(m);
    }
    if (page.length < PAGE) return found.reverse();
    before = page[0].seq;
  }
}
