// Writes and reads of the shared buckets that survive a NATS node dying under them.
//
// Measured on NATS 2.9.10 (three nodes on one machine): when the leader of a bucket's stream is
// SIGKILLed, its writes fail for 4.4 to 9.1 s (six runs) while another is elected: the first
// try times out, the next ones fail at once with "jetstream is not enabled" until the election
// is over. So each try waits about 1 s at most (the JetStream client's timeout, nats.ts), a try
// that failed at once is followed by a pause of PAUSE_MS (not a busy loop of requests from every
// waiting login), and a write is tried again for up to TOTAL_MS in all.
//
// A create that timed out may still have been written: the retry then finds the key taken, and
// reads it to see whether the value is ours.
import type { KV, KvEntry } from '@nats-io/kv';
import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, DrainingConnectionError, InvalidArgumentError, PermissionViolationError } from '@nats-io/transport-node';
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

// What trying again cannot help: a request the server refused for good, a connection this
// process closed, a bad argument. Everything else (timeouts, no responders, JetStream without a
// leader for a moment, a connection being re-established) is what a failover looks like.
export function isFinal(err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.status === 400;
  return (
    err instanceof ClosedConnectionError ||
    err instanceof DrainingConnectionError ||
    err instanceof InvalidArgumentError ||
    err instanceof PermissionViolationError ||
    (err instanceof Error && err.message.startsWith('invalid key'))
  );
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
