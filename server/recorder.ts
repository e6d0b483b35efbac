// The server's writes to its journal, each applied to the registry too (registry.ts), so the
// registry stays what a replay of the journal gives. Kept apart from startServer so that close()
// can wait for every write under way before it saves the registry's checkpoint.
import type { Journal } from '../src/events/journal.js';
import type { ServerEvent } from './events.js';
import { apply, type Registry } from './registry.js';

export function createRecorder(journal: Journal<ServerEvent>, registry: Registry, log: (line: string) => void) {
  const writes = new Set<Promise<unknown>>();
  function track<T>(p: Promise<T>): Promise<T> {
    writes.add(p);
    const forget = (): void => void writes.delete(p);
    p.then(forget, forget);
    return p;
  }

  // Journals an event and applies it to the registry. Session and relay events are not awaited
  // (the journal does not sync them: events.ts notDurable); a failure is logged, never thrown.
  function record(event: ServerEvent): void {
    apply(registry, event);
    void track(journal.append(event).catch((err: Error) => log(`parley server: journal write failed: ${err.message}`)));
  }

  // A registration or a revocation: stored (and synced) first, then applied. Rejects when the
  // write fails, and then the registry is as it was.
  function durable(event: ServerEvent): Promise<void> {
    return track(journal.append(event).then(() => void apply(registry, event)));
  }

  // Resolves once every write started so far has settled (and those they started).
  async function settled(): Promise<void> {
    while (writes.size > 0) await Promise.allSettled([...writes]);
  }

  return { record, durable, settled };
}
