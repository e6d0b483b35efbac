// Keeps the mirror fed: the three bucket watches (follow.ts), started over on every reconnect
// and whenever one of them ends on its own. Core publish/subscribe would lose messages across a
// reconnect; a watch started over delivers every key's last value again, and the mirror keeps
// only what is newer than what it holds (mirror.ts), so starting over is the re-sync.
//
// Nothing is ever purged from the buckets (history 1 keeps each key's last value or delete
// marker), so every key the mirror holds comes again from a new watch: no key can silently go.
import type { KV } from '@nats-io/kv';
import { follow, type Following } from './follow.js';
import type { Bucket, Entry } from './mirror.js';

const PAUSE_MS = 500;
const BUCKETS: readonly Bucket[] = ['ids', 'sessions', 'nodes'];

export type Sync = {
  // Starts the watches over and resolves true once the mirror has caught up; false when a newer
  // re-sync (or stop) took over. Never throws: it tries again until NATS answers.
  resync: () => Promise<boolean>;
  // The current watches have caught up.
  synced: () => boolean;
  stop: () => void;
};

export function createSync(buckets: Record<Bucket, KV>, onEntry: (bucket: Bucket, entry: Entry) => void, log: (line: string) => void): Sync {
  let generation = 0;
  let caughtUp = false;
  let stopped = false;
  let following: Following[] = [];

  function drop(): void {
    for (const f of following) f.stop();
    following = [];
  }

  async function resync(): Promise<boolean> {
    const gen = ++generation;
    const current = (): boolean => !stopped && gen === generation;
    caughtUp = false;
    drop();
    while (current()) {
      // Entries of an older generation's watches are dropped: they may come after newer ones.
      const started = await Promise.allSettled(BUCKETS.map((b) => follow(buckets[b], (e) => current() && onEntry(b, e))));
      const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      if (ok.length === BUCKETS.length && current()) {
        following = ok;
        // A watch may fail before it has caught up (its connection went): start over then.
        const caught = await Promise.race([Promise.all(ok.map((f) => f.synced)).then(() => true), Promise.race(ok.map((f) => f.ended)).then(() => false)]);
        if (!current()) return false;
        if (caught) {
          caughtUp = true;
          for (const f of ok) void f.ended.then(() => ended(gen));
          return true;
        }
        log('cluster: a bucket watch ended before it caught up; starting over');
        drop();
        await new Promise((r) => setTimeout(r, PAUSE_MS));
        continue;
      }
      for (const f of ok) f.stop();
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) log(`cluster: cannot watch the buckets (${String(failed.reason)}); trying again`);
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
    return false;
  }

  // A watch that ends on its own (its consumer failed): all three start over.
  function ended(gen: number): void {
    if (stopped || gen !== generation) return;
    log('cluster: a bucket watch ended; re-syncing');
    setTimeout(() => void resync(), PAUSE_MS);
  }

  return {
    resync,
    synced: () => caughtUp,
    stop() {
      stopped = true;
      drop();
    },
  };
}
