// Follows one bucket: a KV watch (a JetStream ordered consumer) that delivers the last value of
// every key, delete markers included (they give a closed session's time), then every change.
//
// Why it says when it has caught up: the mirror must hold the whole bucket before liveness is
// judged (a node not yet delivered would look dead) and before a reconnect's re-sync lifts the
// fence. The watch does not say it when the bucket is empty, so the stream's last sequence is
// read first: with one value kept per key, the stream's last message is some key's last value,
// and the watch delivers it; past it, everything that existed has come.
import type { KV, KvWatchEntry } from '@nats-io/kv';
import type { Entry } from './mirror.js';

export type Following = {
  // Resolves once every entry that existed when the watch began has been delivered.
  synced: Promise<void>;
  // Resolves when the watch ends, by stop() or because the consumer failed.
  ended: Promise<void>;
  stop: () => void;
  // The last stream sequence delivered (a key's revision), to tell a watch that is stuck.
  delivered: () => number;
};

export function toEntry(e: KvWatchEntry | { key: string; revision: number; operation: string; created: Date; string: () => string }): Entry {
  const op = e.operation === 'DEL' || e.operation === 'PURGE' ? e.operation : 'PUT';
  return { key: e.key, revision: e.revision, op, value: op === 'PUT' ? e.string() : '', at: e.created.getTime() };
}

// Throws when the bucket cannot be read (the caller tries again). onEntry never throws.
export async function follow(kv: KV, onEntry: (e: Entry) => void): Promise<Following> {
  const status = await kv.status();
  const last = status.streamInfo.state.last_seq;
  const iter = await kv.watch();
  let markSynced: () => void = () => {};
  const synced = new Promise<void>((resolve) => {
    markSynced = resolve;
  });
  if (last === 0) markSynced();
  let delivered = 0;
  const ended = (async () => {
    try {
      for await (const e of iter) {
        delivered = Math.max(delivered, e.revision);
        onEntry(toEntry(e));
        if (e.revision >= last) markSynced();
      }
    } catch {
      // The consumer failed (its connection went): the caller re-syncs.
    }
  })();
  return { synced, ended, stop: () => iter.stop(), delivered: () => delivered };
}
