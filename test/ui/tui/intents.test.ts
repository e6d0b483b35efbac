import { describe, expect, it } from 'vitest';
import type { TuiClient } from '../../../src/ui/tui/client.js';
import { foldersOf, loadPage, quotaOf, transfersOf } from '../../../src/ui/tui/intents.js';

function client(out: string, exit = 0, fail = false): TuiClient & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    asked,
    page: async () => {
      if (fail) throw new Error('gone');
      return [];
    },
    pending: async () => ({ messages: 0, transfers: 0 }),
    run: async (argv) => {
      asked.push(argv);
      if (fail) throw new Error('gone');
      return { out, err: '', exit };
    },
  };
}

describe('intents', () => {
  it('intents - reads the JSON lines of the commands, a line that is not JSON passed over', async () => {
    const c = client('{"id":7,"folder":"spam"}\nwarning: not json\n{"id":9,"folder":"main"}\n');
    expect(await foldersOf(c)).toEqual([{ id: 7, folder: 'spam' }, { id: 9, folder: 'main' }]);
    expect(c.asked).toEqual([['contacts', '--json']]);
    await transfersOf(c, 5);
    expect(c.asked[1]).toEqual(['transfers', '--json', '--limit', '5']);
  });

  it('intents - the quota of one contact, both sides; none when the command fails', async () => {
    const side = { messages: { granted: 10, spent: 1, left: 9 }, files: { granted: 5, spent: 0, left: 5 } };
    expect(await quotaOf(client(JSON.stringify({ peer: 7, outbound: side, inbound: side }) + '\n'), 7)).toEqual({ outbound: side, inbound: side });
    expect(await quotaOf(client('', 4), 7)).toBe(null);
  });

  it('intents - a client gone away gives nothing, never throws', async () => {
    const c = client('', 0, true);
    expect(await loadPage(c, 7)).toBe(null);
    expect(await foldersOf(c)).toEqual([]);
    expect(await quotaOf(c, 7)).toBe(null);
  });
});
