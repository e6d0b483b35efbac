// What the Ink UI sees of the running client: the attachment's calls bound to one profile and
// folder (`connect`), and the stream of what happens (`Feed`). Tests hand the App a fake of
// both; `parley` hands it these.
import type { Stored } from '../../events/types.js';
import type { HistoryRow } from '../../node/export.js';
import type { Pending } from '../../node/pending.js';
import type { StatusRow } from '../../node/status.js';
import * as attachment from '../attachment.js';

export type TuiClient = {
  page: (peer: number, options: { limit: number; before?: number }) => Promise<HistoryRow[]>;
  pending: () => Promise<Pending>;
  // A command line run as an intent (attachment.ts, `run`).
  run: (argv: string[]) => Promise<attachment.RunResult>;
};

export type FeedHandlers = {
  onEvent: (event: Stored) => void;
  onStatus: (status: StatusRow) => void;
  onSettings: (settings: attachment.ShownSettings) => void;
  onEnd: (reason: string | null) => void;
};

// What the subscription tells after its snapshot. What comes before the App listens is kept
// and handed over when it does: events between the snapshot and the first render are not lost.
export type Feed = { listen: (handlers: FeedHandlers) => () => void };

export type FeedSource = { feed: Feed } & FeedHandlers;

// A feed the caller pushes into: the subscription's handlers are its own.
export function createFeed(): FeedSource {
  type Call = (h: FeedHandlers) => void;
  let listener: FeedHandlers | null = null;
  const queue: Call[] = [];
  const push = (call: Call): void => (listener ? call(listener) : void queue.push(call));
  return {
    feed: {
      listen(handlers) {
        listener = handlers;
        for (const call of queue.splice(0)) call(handlers);
        return () => {
          if (listener === handlers) listener = null;
        };
      },
    },
    onEvent: (e) => push((h) => h.onEvent(e)),
    onStatus: (s) => push((h) => h.onStatus(s)),
    onSettings: (s) => push((h) => h.onSettings(s)),
    onEnd: (r) => push((h) => h.onEnd(r)),
  };
}

export function connect(home: string, cwd: string): TuiClient {
  return {
    page: (peer, options) => attachment.page(home, peer, options),
    pending: () => attachment.pending(home),
    run: (argv) => attachment.run(home, argv, cwd),
  };
}
