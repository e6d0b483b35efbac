import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa, type MadeCa } from '../../cert/ca.js';
import { decryptPrivateKey, keySha256 } from '../../cert/keys.js';
import { describeCertificate, readCertificate } from '../../cert/x509.js';
import { openssl, removeDir, tempDir, TEST_ITERATIONS } from './helpers.js';

describe('ca', () => {
  let dir: string;
  let made: MadeCa;
  let certFile: string;
  const now = Date.UTC(2030, 0, 1);

  beforeAll(async () => {
    dir = tempDir('ca');
    made = await createCa('ca password', { name: 'Операторский CA', days: 30, now, iterations: TEST_ITERATIONS });
    certFile = path.join(dir, 'rootCA.crt');
    fs.writeFileSync(certFile, made.certPem);
  });
  afterAll(() => removeDir(dir));

  it('ca - is a CA to openssl: CA:TRUE, keyCertSign, SHA-256, key identifiers', () => {
    const text = openssl(['x509', '-in', certFile, '-noout', '-text']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(text.stdout).toMatch(/Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text.stdout).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(text.stdout).toContain('Subject Key Identifier');
    expect(text.stdout).toContain('Authority Key Identifier');
    // A self-signed CA verifies against itself.
    // (At a time within its validity: it was made for 2030.)
    const at = String(now / 1000 + 86_400);
    expect(openssl(['verify', '-attime', at, '-CAfile', certFile, certFile]).stdout).toContain(': OK');
  });

  it('ca - keeps a UTF-8 name, the requested validity and role ca', () => {
    const info = describeCertificate(readCertificate(made.certPem));
    expect(info.subject).toBe('CN=Операторский CA');
    expect(info.issuer).toBe(info.subject);
    expect(info.role).toBe('ca');
    expect(info.not_after).toBe(now + 30 * 86_400_000);
    // Backdated an hour, for peers whose clocks run behind.
    expect(info.not_before).toBe(now - 3_600_000);
  });

  it('ca - the encrypted key is the certificate\'s key', () => {
    const key = decryptPrivateKey(made.keyPem, 'ca password');
    expect(keySha256(key)).toBe(describeCertificate(readCertificate(made.certPem)).key_sha256);
  });

  it('ca - gives each CA a random positive serial', async () => {
    const other = await createCa('ca password', { iterations: TEST_ITERATIONS });
    const serialA = readCertificate(made.certPem).serialNumber;
    const serialB = readCertificate(other.certPem).serialNumber;
    expect(serialA).not.toBe(serialB);
    expect(serialA).toMatch(/^[4-7][0-9A-F]{31}$/);
  });

  it('ca - refuses an empty or overlong name with BAD_NAME', async () => {
    await expect(createCa('pw', { name: ' ', iterations: TEST_ITERATIONS })).rejects.toMatchObject({ code: 'BAD_NAME' });
    await expect(createCa('pw', { name: 'x'.repeat(65), iterations: TEST_ITERATIONS })).rejects.toMatchObject({ code: 'BAD_NAME' });
  });
});
