// The retries of the cluster's KV writes (server/cluster/store.ts): what is tried again, what is
// not, and the bound. A fake clock; no NATS.
import { describe, expect, test } from 'vitest';
import { JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError, TimeoutError } from '@nats-io/transport-node';
import { retried, TOTAL_MS } from '../../../server/cluster/store.js';

// Each reading of the clock is a second later: tries "take" a second each.
function clock(): () => number {
  let t = 0;
  return () => (t += 1_000);
}

const apiError = (status: number, errCode: number) => new JetStreamApiError({ code: status, err_code: errCode, description: `api ${errCode}` });

describe('store - retried', () => {
  test('store - a timeout is tried again until the write goes through', async () => {
    let tries = 0;
    const got = await retried('writing x', async () => {
      if (++tries < 3) throw new TimeoutError();
      return 'ok';
    }, clock());
    expect(got).toBe('ok');
    expect(tries).toBe(3);
  });

  test.each([
    ['the key exists (wrong last sequence)', () => apiError(400, 10071)],
    ['a bad request', () => apiError(400, 10052)],
    ['a closed connection', () => new ClosedConnectionError()],
    ['an invalid key', () => new Error('invalid key: s.')],
  ])('store - %s is not tried again', async (_, make) => {
    let tries = 0;
    const err = make();
    await expect(retried('writing x', async () => {
      tries++;
      throw err;
    }, clock())).rejects.toBe(err);
    expect(tries).toBe(1);
  });

  test('store - past the bound: CLUSTER_UNAVAILABLE, naming what failed and keeping the cause', async () => {
    let tries = 0;
    const cause = apiError(503, 10008);
    const err = await retried('writing s.5', async () => {
      tries++;
      throw cause;
    }, clock()).catch((e: unknown) => e as Error & { code: string });
    expect(err.code).toBe('CLUSTER_UNAVAILABLE');
    expect(err.message).toContain('writing s.5');
    expect(err.cause).toBe(cause);
    // Tried again meanwhile, and given up once the clock passed the bound (a second a reading).
    expect(tries).toBeGreaterThan(1);
    expect(tries).toBeLessThan(TOTAL_MS / 1_000);
  });
});
