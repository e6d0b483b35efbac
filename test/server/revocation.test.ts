// Two revocations of one key at once (srv.revoke twice, unawaited): the second waits for the
// first's journal write and finds it done, so the key is journaled revoked once, its watchers
// hear "revoked" once, its session gets one bye, and both calls resolve and agree.
import { describe, expect, it } from 'vitest';
import type { RevokeResult } from '../../server/server.js';
import { journalOf, serverSuite, within, WAIT_MS } from './helpers.js';

const suite = serverSuite(['alice', 'bob'], 'revocation');
const { online } = suite;

describe('revocation', () => {
  it('revocation - two revocations of one key at once: journaled once, watchers told once, both resolve and agree', async () => {
    const { srv, port, dataDir } = await suite.server();
    const key = suite.pki.creds.alice.keySha256;
    const w = await online(port, 'bob');
    const a = await online(port, 'alice');
    w.send({ type: 'presence-watch', ids: [a.id] });
    await expect(w.next('presence')).resolves.toMatchObject({ id: a.id, online: true });

    // Both started before either is awaited; one in the key's other spelling.
    const both = await within<RevokeResult[]>(WAIT_MS, 'both revocations to resolve', (resolve, reject) => {
      Promise.all([srv.revoke(key), srv.revoke(key.toUpperCase())]).then(resolve, reject);
    });
    const [first, second] = [...both].sort((x, y) => Number(y.revoked) - Number(x.revoked));
    expect(first).toEqual({ keySha256: key, revoked: true, id: a.id, closed: 1 });
    expect(second).toEqual({ keySha256: key, revoked: false, id: a.id, closed: 0 });

    await expect(a.next('bye')).resolves.toMatchObject({ code: 'REVOKED' });
    await within<void>(WAIT_MS, 'the revoked session to be closed', (resolve) => void a.closed.then(resolve));
    await expect(w.next('revoked')).resolves.toEqual({ type: 'revoked', id: a.id, key, at: expect.any(Number) });
    await expect(w.next('presence')).resolves.toMatchObject({ id: a.id, online: false });
    // Both calls have resolved, so all they wrote precedes the answer to this request.
    w.send({ type: 'time-request' });
    await w.next('time');
    expect(w.received.filter((m) => m.type === 'revoked')).toHaveLength(1);
    expect(a.received.filter((m) => m.type === 'bye')).toHaveLength(1);

    await srv.close();
    const revoked = (await journalOf(dataDir)).filter((e) => e.type === 'client.revoked');
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ keySha256: key });
  });
});
