// What a profile's views hold, in a form tests compare: the small views in memory, every record
// of the stored views as bytes, each chat as a person reads it (pages, unread counts), and the
// transfers as the profile lists them (every page, and the open ones).
import type { ChatMessage } from '../../src/node/history.js';
import type { Profile } from '../../src/node/profile.js';
import type { Transfer } from '../../src/projections/transfer-values.js';
import { STORED_VIEWS } from '../../src/projections/index.js';
import { prefixRange } from '../../src/projections/keys.js';

export type ViewsDump = {
  memory: unknown;
  records: Array<[string, string]>;
  chats: Record<string, { unread: number; messages: ChatMessage[] }>;
  transfers: { all: Transfer[]; open: Transfer[] };
};

// Every record under the stored views' prefixes, as hex, in key order.
export async function storedRecords(profile: Profile): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  for (const view of STORED_VIEWS) {
    for (const prefix of view.prefixes) {
      for await (const entries of profile.journal.entries(prefixRange(prefix))) {
        for (const [key, value] of entries) out.push([key.toString('hex'), value.toString('hex')]);
      }
    }
  }
  return out;
}

// The whole chat, oldest first, through the stream the exports use.
export async function allMessages(profile: Profile, peer: number): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  for await (const page of profile.stream(peer)) out.push(...page);
  return out;
}

// Every transfer, newest offer first, read page after page (`pageSize` each) as a list command
// would.
export async function allTransfers(profile: Profile, pageSize = 3): Promise<Transfer[]> {
  const out: Transfer[] = [];
  for (;;) {
    const page = await profile.transfers({ limit: pageSize, before: out.length > 0 ? out[out.length - 1].seq : undefined });
    out.push(...page);
    if (page.length < pageSize) return out;
  }
}

export async function dumpViews(profile: Profile, peers: readonly number[]): Promise<ViewsDump> {
  const chats: ViewsDump['chats'] = {};
  for (const peer of peers) chats[peer] = { unread: profile.unread(peer), messages: await allMessages(profile, peer) };
  const transfers = { all: await allTransfers(profile), open: await profile.openTransfers() };
  return { memory: structuredClone(profile.views), records: await storedRecords(profile), chats, transfers };
}
