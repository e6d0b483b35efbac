// The chats not kept (projections/retention.ts) are cleared when the client closes: the last
// step before the profile is closed, once no link, session or command can append to them any
// more, so nothing of the session is left after it. A clear costs the chat, not the store
// (profile.clearChat), so a close still ends in well under a second for everyday chats. A crash
// instead of a close leaves them to the next close (and a clear cut short is finished at the
// next start, clearing.ts).
import { notKept } from '../projections/retention.js';
import type { Profile } from './profile.js';

// Clears every chat not kept that holds anything; returns how many were cleared. Never throws:
// a chat that cannot be cleared is named through `log`, and the others are cleared still.
export async function clearUnkept(profile: Profile, log: (line: string) => void): Promise<number> {
  let cleared = 0;
  for (const peer of notKept(profile.views.retention)) {
    // A chat with no message has no summary: nothing to clear, and no chat.cleared journaled at
    // every close.
    if (profile.chat(peer) === undefined) continue;
    try {
      await profile.clearChat(peer);
      cleared++;
    } catch (err) {
      log(`parley: cannot clear the chat with ${peer}, which is not kept: ${(err as Error).message}`);
    }
  }
  return cleared;
}
