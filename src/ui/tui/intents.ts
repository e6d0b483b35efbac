// What the UI asks of the client besides the subscription: pages of a chat, and commands run as
// intents (attachment.ts, `run`) whose JSON output it reads. Each returns plain data, or null
// when the command failed; none throws (a client gone away is told by the feed's end).
import type { TransferRow } from '../../commands/transfers.js';
import type { HistoryRow } from '../../node/export.js';
import type { TuiClient } from './client.js';
import type { QuotaLeft } from './model.js';

// Rows asked for at a time: a few screens, well under what a page may hold (500).
export const PAGE_ROWS = 100;

function jsonLines(out: string): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  for (const line of out.split('\n')) {
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line that is not JSON (a warning) is not a row.
    }
  }
  return rows;
}

async function quietly<T>(work: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await work();
  } catch {
    return fallback;
  }
}

export function loadPage(client: TuiClient, peer: number, before?: number): Promise<HistoryRow[] | null> {
  return quietly(() => client.page(peer, { limit: PAGE_ROWS, ...(before !== undefined ? { before } : {}) }), null);
}

// Opening a chat reads it, as `parley read` does: the unread count goes, the peer is told.
export function markRead(client: TuiClient, peer: number): Promise<void> {
  return quietly(async () => void (await client.run(['read', '--peer', String(peer), '--json'])), undefined);
}

// What I may still send to `peer`, and it to me: `parley limits`.
export function quotaOf(client: TuiClient, peer: number): Promise<QuotaLeft | null> {
  return quietly(async () => {
    const r = await client.run(['limits', '--peer', String(peer), '--json']);
    const row = jsonLines(r.out)[0] as Partial<QuotaLeft> | undefined;
    return r.exit === 0 && row?.outbound ? { outbound: row.outbound, inbound: row.inbound ?? null } : null;
  }, null);
}

// Each contact's folder (`parley contacts --json`): the status does not carry it.
export function foldersOf(client: TuiClient): Promise<Array<{ id: number; folder: string }>> {
  return quietly(async () => {
    const r = await client.run(['contacts', '--json']);
    return jsonLines(r.out).filter((c) => typeof c.id === 'number' && typeof c.folder === 'string') as Array<{ id: number; folder: string }>;
  }, []);
}

// The newest transfers with their live speed (`parley transfers --json`).
export function transfersOf(client: TuiClient, limit = 200): Promise<TransferRow[]> {
  return quietly(async () => {
    const r = await client.run(['transfers', '--json', '--limit', String(limit)]);
    return jsonLines(r.out) as unknown as TransferRow[];
  }, []);
}
