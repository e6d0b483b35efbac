// Writes and reads of the shared buckets that survive a NATS node dying under them.
//
// Measured on NATS 2.9 (three nodes): when the leader of a bucket's stream dies, its writes stall
// about 6-7 s while another is elected. So each try waits about 1 s (the JetStream client's
// timeout, nats.ts) and a write is tried again for up to TOTAL_MS in all, rather than one long
// wait that would also hold a write the new leader would take at once.
//
// A create that timed out may still have been written: the retry then finds the key taken, and
// reads it to see whether the value is ours.
import type { KV, KvEntry } from '@nats-io/kv';
import { JetStreamApiError } from '@nats-io/jetstream';
import { clusterUnavailable } from './errors.js';

export const TOTAL_MS = 12_000;
// Between tries after an error that came back at once (no responders while a leader is elected).
const PAUSE_MS = 250;
// The JetStream error when the subject's last sequence is not the one expected: the key exists
// (a create) or has changed since it was read (an update or delete at a revision).
const WRONG_LAST_SEQUENCE = 10071;

export type Created = { created: true; revision: number } | { created: false; value: string; revision: number };

export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE;
}

// A request the server refused for good (a bad key, a bad request): trying again cannot help.
function isFinal(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.status === 400;
}

// Runs `attempt` until it settles, trying again on what a failover looks like (timeouts, no
// responders, a connection being re-established) for up to TOTAL_MS, then throws
// CLUSTER_UNAVAILABLE naming `what`.
export async function retried<T>(what: string, attempt: (tried: number) => Promise<T>, now: () => number = Date.now): Promise<T> {
  const deadline = now() + TOTAL_MS;
  for (let tried = 0; ; tried++) {
    const started = now();
    try {
      return await attempt(tried);
    } catch (err) {
      if (isFinal(err) || isWrongLastSequence(err)) throw err;
      if (now() >= deadline) throw clusterUnavailable(what, err);
      if (now() - started < PAUSE_MS) await new Promise((r) => setTimeout(r, PAUSE_MS));
    }
  }
}

export async function read(kv: KV, key: string): Promise<KvEntry | null> {
  return retried(`reading ${key}`, () => kv.get(key));
}

// Creates `key` = `value` unless it exists; when it does, returns what it holds.
export async function create(kv: KV, key: string, value: string): Promise<Created> {
  let uncertain = false;
  return retried(`writing ${key}`, async (tried) => {
    uncertain ||= tried > 0;
    try {
      return { created: true, revision: await kv.create(key, value) };
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
    }
    const e = await kv.get(key);
    // Deleted again in between (a session key): try the create once more.
    if (!e || e.operation !== 'PUT') throw Object.assign(new Error(`${key} changed while it was created`), { retry: true });
    const held = e.string();
    // Our own earlier try, whose answer was lost.
    if (uncertain && held === value) return { created: true, revision: e.revision };
    return { created: false, value: held, revision: e.revision };
  });
}

// Replaces `key` if it is still at `revision`; false when it has changed since.
export async function update(kv: KV, key: string, value: string, revision: number): Promise<number | null> {
  let uncertain = false;
  return retried(`writing ${key}`, async (tried) => {
    uncertain ||= tried > 0;
    try {
      return await kv.update(key, value, revision);
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      if (!uncertain) return null;
      const e = await kv.get(key);
      return e && e.operation === 'PUT' && e.string() === value ? e.revision : null;
    }
  });
}

// Deletes `key` if it is still at `revision` (a session someone else took over in between is
// left alone); false when it had changed. Never used on the ids bucket (write-once).
export async function removeAt(kv: KV, key: string, revision: number): Promise<boolean> {
  let uncertain = false;
  return retried(`deleting ${key}`, async (tried) => {
    uncertain ||= tried > 0;
    try {
      await kv.delete(key, { previousSeq: revision });
      return true;
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      if (!uncertain) return false;
      const e = await kv.get(key);
      return e === null || e.operation !== 'PUT';
    }
  });
}
