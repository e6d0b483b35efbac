import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySha256 } from '../../cert/keys.js';
import { createSelfSigned, type MadeSelfSigned } from '../../cert/self.js';
import { readCertificate, roleOf } from '../../cert/x509.js';
import { loadIdentity } from '../../src/net/tls.js';
import { openssl, removeDir, tempDir, TEST_ITERATIONS } from './helpers.js';

describe('self', () => {
  let dir: string;
  let made: MadeSelfSigned;
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    dir = tempDir('self');
    made = await createSelfSigned('Анна', 'key password', { iterations: TEST_ITERATIONS });
    certFile = path.join(dir, 'cert.pem');
    keyFile = path.join(dir, 'key.pem');
    fs.writeFileSync(certFile, made.certPem);
    fs.writeFileSync(keyFile, made.keyPem);
  });
  afterAll(() => removeDir(dir));

  it('self - a client leaf that is its own issuer: CA:FALSE, client and server auth, verifies against itself', () => {
    const x509 = readCertificate(made.certPem);
    expect(roleOf(x509)).toBe('client');
    expect(x509.checkIssued(x509)).toBe(true);
    expect(x509.subject).toBe('CN=Анна');
    const text = openssl(['x509', '-in', certFile, '-noout', '-text']);
    expect(text.stdout).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(text.stdout).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
    expect(openssl(['verify', '-CAfile', certFile, certFile]).stdout).toContain(': OK');
  });

  it('self - loadIdentity reads it with the certificate as its own CA, the key encrypted', () => {
    expect(made.keyPem).toContain('ENCRYPTED PRIVATE KEY');
    const identity = loadIdentity({ caFile: certFile, certFile, keyFile, password: 'key password' });
    expect(identity).toMatchObject({ role: 'client', keySha256: keySha256(made.key) });
  });

  it('self - two self-signed peers complete mutual TLS 1.3 when each trusts the other\'s certificate', async () => {
    const other = await createSelfSigned('Bob', 'pw', { iterations: TEST_ITERATIONS });
    const pem = (m: MadeSelfSigned) => m.key.export({ type: 'pkcs8', format: 'pem' }) as string;
    const server = tls.createServer({ key: pem(made), cert: made.certPem, ca: [other.certPem], requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (s) => s.end('hi'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const got = await new Promise<string>((resolve, reject) => {
        const c = tls.connect({ host: '127.0.0.1', port, key: pem(other), cert: other.certPem, ca: [made.certPem], checkServerIdentity: () => undefined, minVersion: 'TLSv1.3' });
        let text = '';
        c.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text)).on('error', reject);
      });
      expect(got).toBe('hi');
    } finally {
      server.close();
    }
  });
});
