// A deployment's NATS asks its clients for credentials (docs/OPERATOR.md part E): a server process
// given the right user and password joins the cluster and signs clients in; given a wrong one,
// it says which NATS refused it and does not start.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsCluster, type NatsCluster } from '../helpers/nats.js';
import { freePort } from '../cert/helpers.js';
import { cleanup, makeServerPki, serverOn, signIn, tempDir, type TestPki } from './helpers.js';

let pki: TestPki;
let nats: NatsCluster;
const AUTH = { user: 'parley', pass: 'a long random password' };

beforeAll(async () => {
  [pki, nats] = await Promise.all([makeServerPki(['alice']), startNatsCluster({ nodes: 1, auth: AUTH })]);
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  cleanup(pki?.dir);
});

describe('cluster credentials', () => {
  it('cluster credentials - the right user and password: the process joins and signs a client in; a wrong one: a clear refusal', async () => {
    const dataDir = tempDir('cluster-auth');
    try {
      const port = await freePort();
      const cluster = { servers: nats.urls, node: 'p0', publicAddress: `127.0.0.1:${port}`, name: `auth${process.pid}`, replicas: 1 };
      const srv = await serverOn(pki, dataDir, { port, cluster: { ...cluster, auth: AUTH } });
      try {
        const alice = await signIn({ port, creds: pki.creds.alice, caPem: pki.caPem });
        expect(alice.id).toBeGreaterThan(0);
        alice.close();
      } finally {
        await srv.close();
      }
      const refused = serverOn(pki, dataDir, { port, cluster: { ...cluster, auth: { user: AUTH.user, pass: 'wrong' } } });
      await expect(refused).rejects.toMatchObject({ code: 'CLUSTER_UNREACHABLE', message: expect.stringMatching(/cannot connect to NATS at .*Authorization/i) });
    } finally {
      cleanup(dataDir);
    }
  });
});
