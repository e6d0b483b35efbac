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
  // Starts over when a watch has not delivered, by now, what its bucket held at the previous
  // check. Never throws, safe to run unawaited; call it every few heartbeats.
  check: () => Promise<void>;
  stop: () => void;
};

export function createSync(buckets: Record<Bucket, KV>, onEntry: (bucket: Bucket, entry: Entry) => void, log: (line: string) => void): Sync {
  let generation = 0;
  let caughtUp = false;
  let stopped = false;
  // The watches whose entries feed the mirror; a re-sync's new ones join them and replace them
  // once caught up. Both at once is harmless: the mirror takes only what is newer per key, and
  // the old ones may still work (the library's ordered consumers survive many failovers), so
  // the mirror does not go stale while the new ones wait for a stream leader to be elected.
  let following: Following[] = [];
  const open = new Set<Following>();

  function end(list: Following[]): void {
    for (const f of list) {
      f.stop();
      open.delete(f);
    }
  }

  async function resync(): Promise<boolean> {
    const gen = ++generation;
    const current = (): boolean => !stopped && gen === generation;
    // No judging of liveness until the new watches have caught up (nats.ts): a node's latest
    // heartbeat may come after ours in the replay.
    caughtUp = false;
    let failures = 0;
    while (current()) {
      const started = await Promise.allSettled(BUCKETS.map((b) => follow(buckets[b], (e) => !stopped && onEntry(b, e))));
      const fresh = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      for (const f of fresh) open.add(f);
      if (fresh.length === BUCKETS.length && current()) {
        // A watch may fail before it has caught up (its connection went): start over then.
        const caught = await Promise.race([Promise.all(fresh.map((f) => f.synced)).then(() => true), Promise.race(fresh.map((f) => f.ended)).then(() => false)]);
        if (!current()) {
          end(fresh);
          return false;
        }
        if (caught) {
          end(following);
          following = fresh;
          caughtUp = true;
          if (failures > 0) log(`cluster: watching the buckets again after ${failures} failed tries`);
          for (const f of fresh) void f.ended.then(() => ended(gen));
          return true;
        }
        log('cluster: a bucket watch ended before it caught up; starting over');
      } else {
        const failed = started.find((r) => r.status === 'rejected');
        if (failed) log(`cluster: cannot watch the buckets (${String(failed.reason)}); trying again`);
      }
      end(fresh);
      failures++;
      await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
    return false;
  }

  // Measured: when the NATS node holding a watch's consumer is killed, the library's ordered
  // consumer notices only after two missed idle heartbeats (10 s, 60 s after a reset) and the
  // watch delivers nothing meanwhile, without ending. The buckets' last sequences tell it sooner.
  let seen = new Map<Following, number>();
  let checking = false;
  async function check(): Promise<void> {
    if (!caughtUp || checking || stopped) return;
    checking = true;
    try {
      const gen = generation;
      const watched = following;
      const lasts = await Promise.all(BUCKETS.map((b) => buckets[b].status().then((st) => st.streamInfo.state.last_seq, () => null)));
      if (gen !== generation || stopped) return;
      const stuck = watched.some((f) => (seen.get(f) ?? 0) > f.delivered());
      seen = new Map(watched.flatMap((f, i) => (lasts[i] === null ? [] : [[f, lasts[i]] as [Following, number]])));
      if (stuck) {
        log('cluster: a bucket watch is stuck behind its bucket; re-syncing');
        void resync();
      }
    } finally {
      checking = false;
    }
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
    check,
    stop() {
      stopped = true;
      end([...open]);
      following = [];
    },
  };
}
