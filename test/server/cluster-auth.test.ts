// A deployment's NATS asks its clients for credentials (docs/OPERATOR.md part E): a server process
// given the right user and password joins the cluster and signs clients in; given a wrong one,
// it says which NATS refused it and does not start. The same over TLS with client certificates
// (`--nats-ca`, `--nats-cert`, `--nats-key`): NATS's certificate checked against the CA given,
// and a process without a certificate of its own turned away by a NATS that asks for one. And with
// a credentials file (`--nats-creds`, a user JWT and its seed) on a NATS in operator mode.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNatsCluster, type NatsCluster } from '../helpers/nats.js';
import { makeNatsOperator } from '../helpers/nats-jwt.js';
import { freePort } from '../cert/helpers.js';
import type { ServerOptions } from '../../server/server.js';
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

// A secret of the test's own (an unencrypted key, a credentials file) in a file only its owner reads.
function writeSecret(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

// A server process with these cluster options starts, and a client signs in to it.
async function joinsAndSignsIn(dataDir: string, port: number, cluster: NonNullable<ServerOptions['cluster']>): Promise<void> {
  const srv = await serverOn(pki, dataDir, { port, cluster });
  try {
    const alice = await signIn({ port, creds: pki.creds.alice, caPem: pki.caPem });
    expect(alice.id).toBeGreaterThan(0);
    alice.close();
  } finally {
    await srv.close();
  }
}

describe('cluster credentials', () => {
  it('cluster credentials - the right user and password: the process joins and signs a client in; a wrong one: a clear refusal', async () => {
    const dataDir = tempDir('cluster-auth');
    try {
      const port = await freePort();
      const cluster = { servers: nats.urls, node: 'p0', publicAddress: `127.0.0.1:${port}`, name: `auth${process.pid}`, replicas: 1 };
      await joinsAndSignsIn(dataDir, port, { ...cluster, auth: AUTH });
      const refused = serverOn(pki, dataDir, { port, cluster: { ...cluster, auth: { user: AUTH.user, pass: 'wrong' } } });
      await expect(refused).rejects.toMatchObject({ code: 'CLUSTER_UNREACHABLE', message: expect.stringMatching(/cannot connect to NATS at .*Authorization/i) });
    } finally {
      cleanup(dataDir);
    }
  });
});

describe('cluster over TLS', () => {
  it('cluster TLS - with the CA, a certificate and a key the process joins a NATS that checks client certificates; without its certificate, or trusting another CA, a clear refusal', async () => {
    // NATS reads its key unencrypted: the server's and alice's keys, decrypted, in files of
    // their own (the test's PKI keeps them encrypted). NATS is reached at 127.0.0.1, the address
    // its certificate names.
    const files = tempDir('cluster-tls');
    const dataDir = tempDir('cluster-tls-data');
    let tlsNats: NatsCluster | undefined;
    try {
      const ca = pki.ours.caCertFile;
      const natsKey = writeSecret(files, 'nats.key', pki.server.key);
      const clientCert = pki.ours.holders.alice.certFile;
      const clientKey = writeSecret(files, 'client.key', pki.creds.alice.key);
      tlsNats = await startNatsCluster({ nodes: 1, tls: { cert: pki.ours.holders.server.certFile, key: natsKey, ca, verify: true, client: { ca, cert: clientCert, key: clientKey } } });
      const port = await freePort();
      const cluster = { servers: tlsNats.urls, node: 'p0', publicAddress: `127.0.0.1:${port}`, name: `tls${process.pid}`, replicas: 1 };
      await joinsAndSignsIn(dataDir, port, { ...cluster, tls: { ca, cert: clientCert, key: clientKey } });
      // NATS ends the handshake of a client without a certificate; the client sees a timeout.
      const withoutCert = serverOn(pki, dataDir, { port, cluster: { ...cluster, tls: { ca } } });
      await expect(withoutCert).rejects.toMatchObject({ code: 'CLUSTER_UNREACHABLE', message: expect.stringMatching(/cannot connect to NATS at /) });
      const otherCa = serverOn(pki, dataDir, { port, cluster: { ...cluster, tls: { ca: pki.foreign.caCertFile, cert: clientCert, key: clientKey } } });
      await expect(otherCa).rejects.toMatchObject({ code: 'CLUSTER_UNREACHABLE', message: expect.stringMatching(/cannot connect to NATS at .*unable to verify/i) });
    } finally {
      await tlsNats?.stop();
      cleanup(files);
      cleanup(dataDir);
    }
  }, 60_000);
});

describe('cluster with a credentials file', () => {
  it('cluster creds - a user of the JetStream account joins and signs a client in; a user of an account NATS does not know is refused', async () => {
    const operator = makeNatsOperator();
    const files = tempDir('cluster-creds');
    const dataDir = tempDir('cluster-creds-data');
    let credsNats: NatsCluster | undefined;
    try {
      const creds = writeSecret(files, 'parley.creds', operator.creds);
      const stranger = writeSecret(files, 'stranger.creds', operator.strangerCreds);
      credsNats = await startNatsCluster({ nodes: 1, operator: { config: operator.config, creds: operator.creds } });
      const port = await freePort();
      const cluster = { servers: credsNats.urls, node: 'p0', publicAddress: `127.0.0.1:${port}`, name: `creds${process.pid}`, replicas: 1 };
      await joinsAndSignsIn(dataDir, port, { ...cluster, auth: { credsFile: creds } });
      const refused = serverOn(pki, dataDir, { port, cluster: { ...cluster, auth: { credsFile: stranger } } });
      await expect(refused).rejects.toMatchObject({ code: 'CLUSTER_UNREACHABLE', message: expect.stringMatching(/cannot connect to NATS at .*(Authorization|authentication)/i) });
    } finally {
      await credsNats?.stop();
      cleanup(files);
      cleanup(dataDir);
    }
  }, 60_000);
});
