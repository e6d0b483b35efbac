// A client for the App's tests, in memory: chats paged as the real one pages them (oldest
// first, `before` a seq), commands recorded and answered as the few the UI reads answer, and a
// feed the test pushes events into. Plus the act() wrappers DESIGN.md asks for and a bounded
// wait for a frame.
import React, { act } from 'react';
import { render } from 'ink-testing-library';
import type { NewEvent, Stored } from '../../../src/events/types.js';
import { EVENT_VERSIONS } from '../../../src/events/types.js';
import type { HistoryRow } from '../../../src/node/export.js';
import type { StatusRow } from '../../../src/node/status.js';
import type { RunResult, Snapshot } from '../../../src/ui/attachment.js';
import { App } from '../../../src/ui/tui/App.js';
import { createFeed, type TuiClient } from '../../../src/ui/tui/client.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

export const NOW = new Date(2026, 11, 1, 9, 5).getTime();

export function statusRow(over: Partial<StatusRow> = {}): StatusRow {
  return {
    id: 42,
    name: 'Ann',
    server: 'online',
    cert_expires_at: null,
    listen_port: null,
    servers: ['127.0.0.1:7400'],
    server_address: '127.0.0.1:7400',
    contacts: [
      { id: 7, name: 'Bob', presence: 'online', route: 'direct', unread: 0 },
      { id: 9, name: 'Eve', presence: 'offline', route: null, unread: 2 },
      { id: 11, name: '11', presence: 'refused', route: null, unread: 0 },
    ],
    ...over,
  };
}

export function message(seq: number, peer: number, text: string, over: Partial<HistoryRow> = {}): HistoryRow {
  return { seq, id: `m${seq}`, peer, direction: 'in', at: NOW + seq * 1000, received_at: NOW + seq * 1000 + 500, text, status: 'received', edited_at: null, reply_to: null, reason: null, ...over };
}

export type Fake = {
  client: TuiClient;
  runs: string[][];
  pages: Array<{ peer: number; limit: number; before?: number }>;
  push: (e: NewEvent) => Stored;
  feed: ReturnType<typeof createFeed>;
  seq: number;
};

export function fakeClient(options: { chats?: Record<number, HistoryRow[]>; answers?: (argv: string[]) => RunResult | undefined } = {}): Fake {
  const chats = options.chats ?? {};
  const feed = createFeed();
  const fake: Fake = {
    runs: [],
    pages: [],
    feed,
    seq: 1000,
    push(e) {
      const stored = { at: NOW, ...e, seq: ++fake.seq, v: EVENT_VERSIONS[e.type] } as Stored;
      feed.onEvent(stored);
      return stored;
    },
    client: {
      async page(peer, { limit, before }) {
        fake.pages.push({ peer, limit, ...(before !== undefined ? { before } : {}) });
        const rows = (chats[peer] ?? []).filter((r) => before === undefined || r.seq < before);
        return rows.slice(-limit);
      },
      async pending() {
        return { messages: 1, transfers: 0 };
      },
      async run(argv) {
        fake.runs.push(argv);
        const answer = options.answers?.(argv);
        if (answer) return answer;
        if (argv[0] === 'limits') return { out: JSON.stringify({ peer: Number(argv[2]), outbound: { messages: { granted: 1000, spent: 3, left: 997 }, files: { granted: 1000, spent: 0, left: 1000 } }, inbound: { messages: { granted: 1000, spent: 10, left: 990 }, files: { granted: 500, spent: 0, left: 500 } } }) + '\n', err: '', exit: 0 };
        if (argv[0] === 'contacts') return { out: JSON.stringify({ id: 9, name: 'Eve', folder: 'main' }) + '\n', err: '', exit: 0 };
        return { out: '', err: '', exit: 0 };
      },
    },
  };
  return fake;
}

export function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return { seq: 1000, status: statusRow(), settings: { language: 'en', notify: 'on', 'auto-accept-files': 'off', mouse: 'off', 'show-bits': 'off' }, ...over };
}

export type Rendered = ReturnType<typeof render> & { written: string[]; quits: Array<string | null>; type: (text: string) => Promise<void>; frame: () => string };

export async function renderApp(fake: Fake, snap: Snapshot = snapshot(), size = { columns: 100, rows: 24 }, cwd = process.cwd()): Promise<Rendered> {
  const written: string[] = [];
  const quits: Array<string | null> = [];
  let r!: ReturnType<typeof render>;
  await act(async () => {
    r = render(React.createElement(App, { client: fake.client, feed: fake.feed.feed, snapshot: snap, cwd, terminal: { write: (s: string) => void written.push(s) }, size, onQuit: (reason: string | null) => void quits.push(reason) }));
  });
  return {
    ...r,
    written,
    quits,
    frame: () => r.lastFrame() ?? '',
    type: async (text: string) => {
      await act(async () => {
        r.stdin.write(text);
      });
    },
  };
}

// Waits for a frame that passes `check`, giving the App's promises a turn each time; fails
// with the last frame after `ms`.
export async function frameWhere(r: Rendered, check: (frame: string) => boolean, ms = 3000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const frame = r.frame();
    if (check(frame)) return frame;
    if (Date.now() > until) throw new Error(`no such frame in ${ms} ms; the last:\n${frame}`);
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
  }
}

export async function unmount(r: Rendered): Promise<void> {
  await act(async () => {
    r.unmount();
    r.cleanup();
  });
}
