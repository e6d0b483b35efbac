// What the client still owes: my messages no ack has answered (the outbox of every chat) and the
// transfers not finished. `parley console` says it when it ends, as the original warned of
// unsent messages; here they go when the client is next up.
//
//   await pendingOf(profile)   // => { messages: 2, transfers: 1 }
import { unacknowledged } from './outbox.js';
import type { Profile } from './profile.js';

export type Pending = { messages: number; transfers: number };

// Reads each chat's outbox from its end (outbox.ts), so the cost is that of what is pending.
export async function pendingOf(profile: Pick<Profile, 'chats' | 'page' | 'openTransfers'>): Promise<Pending> {
  let messages = 0;
  for (const chat of profile.chats()) messages += (await unacknowledged(profile, chat.peer)).length;
  return { messages, transfers: (await profile.openTransfers()).length };
}
