// The server refuses a client certificate with the code of its own problem (cert/errors.ts
// refusalCode): a certificate that is not valid yet is not called expired.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signCsr } from '../../cert/sign.js';
import { keySha256OfCert } from '../../src/net/tls.js';
import type { RendezvousServer } from '../../server/server.js';
import { cleanup, connect, makeServerPki, serverOn, tempDir, type Client, type Credentials, type TestPki } from './helpers.js';

const DAY = 86_400_000;

let pki: TestPki;
const open: Client[] = [];
const servers: RendezvousServer[] = [];
const dataDirs: string[] = [];

beforeAll(async () => {
  pki = await makeServerPki(['alice']);
});
afterAll(() => cleanup(pki?.dir));
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
  for (const d of dataDirs.splice(0)) cleanup(d);
});

// Alice's key in a certificate valid from `notBefore` to `notAfter`.
function aliceFrom(notBefore: number, notAfter: number): Credentials {
  const { certPem } = signCsr(pki.ours.ca, pki.ours.holders.alice.csrPem, { role: 'client', notBefore, notAfter });
  return { key: pki.creds.alice.key, cert: certPem, keySha256: keySha256OfCert(certPem) };
}

describe('server - certificate codes', () => {
  const now = Date.now();
  const cases: Array<[string, () => Credentials, string, RegExp]> = [
    ['not valid yet', () => aliceFrom(now + 10 * DAY, now + 20 * DAY), 'CERT_NOT_YET_VALID', /is valid only from .* \(check the clocks\)/],
    ['expired', () => pki.creds.expired, 'CERT_EXPIRED', /expired on 2020-07-01/],
  ];
  for (const [what, creds, code, reason] of cases) {
    it(`server - a client certificate that is ${what} is refused with ${code}`, async () => {
      const dataDir = tempDir('cert-codes-data');
      dataDirs.push(dataDir);
      const srv = await serverOn(pki, dataDir);
      servers.push(srv);
      const c = await connect({ port: srv.address().port, creds: creds(), caPem: pki.caPem });
      open.push(c);
      const refused = await c.next('login-refused');
      expect(refused.code).toBe(code);
      expect(refused.reason).toMatch(reason);
      await c.closed;
    });
  }
});
