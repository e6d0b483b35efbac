import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCa } from '../../cert/ca.js';
import { createCsr } from '../../cert/csr.js';
import { decryptPrivateKey } from '../../cert/keys.js';
import { signCsr, loadCa, type CaMaterial } from '../../cert/sign.js';
import { describeCertificate, readCertificate } from '../../cert/x509.js';
import { CA_PASSWORD, makePki, openssl, removeDir, tamper, tempDir, TEST_ITERATIONS, type Pki } from './helpers.js';

describe('sign', () => {
  let dir: string;
  let pki: Pki;

  beforeAll(async () => {
    dir = tempDir('sign');
    pki = await makePki(dir, {
      server: { role: 'server', hosts: ['127.0.0.1', 'chat.example.org', '::1'] },
      alice: { role: 'client' },
    });
  });
  afterAll(() => removeDir(dir));

  function text(file: string): string {
    return openssl(['x509', '-in', file, '-noout', '-text']).stdout;
  }

  it('sign - openssl verify accepts the server and the client certificates', () => {
    for (const name of ['server', 'alice']) {
      const run = openssl(['verify', '-CAfile', pki.caCertFile, pki.holders[name].certFile]);
      expect(run.stdout.trim()).toBe(`${pki.holders[name].certFile}: OK`);
    }
  });

  it('sign - openssl verify checks the purposes: a server for sslserver, a client for both', () => {
    const purpose = (name: string, p: string) => openssl(['verify', '-purpose', p, '-CAfile', pki.caCertFile, pki.holders[name].certFile]).status;
    expect(purpose('server', 'sslserver')).toBe(0);
    expect(purpose('server', 'sslclient')).not.toBe(0);
    expect(purpose('alice', 'sslserver')).toBe(0);
    expect(purpose('alice', 'sslclient')).toBe(0);
  });

  it('sign - a server certificate carries serverAuth only and its hosts as subjectAltNames', () => {
    const out = text(pki.holders.server.certFile);
    expect(out).toMatch(/Extended Key Usage:\s*\n\s*TLS Web Server Authentication\n/);
    expect(out).toContain('IP Address:127.0.0.1, DNS:chat.example.org, IP Address:0:0:0:0:0:0:0:1');
    expect(out).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(out).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(describeCertificate(readCertificate(fs.readFileSync(pki.holders.server.certFile))).role).toBe('server');
  });

  it('sign - a client certificate carries clientAuth and serverAuth, and its authority key id is the CA\'s key id', () => {
    const out = text(pki.holders.alice.certFile);
    expect(out).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication|TLS Web Client Authentication, TLS Web Server Authentication/);
    const caOut = text(pki.caCertFile);
    const ski = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(caOut)![1];
    expect(out).toMatch(new RegExp(`Authority Key Identifier:\\s*\\n\\s*(keyid:)?${ski}`));
    expect(describeCertificate(readCertificate(fs.readFileSync(pki.holders.alice.certFile))).role).toBe('client');
  });

  it('sign - signing the same request again renews: same key, new serial and fingerprint', () => {
    const first = readCertificate(fs.readFileSync(pki.holders.alice.certFile));
    const again = readCertificate(signCsr(pki.ca, pki.holders.alice.csrPem, { role: 'client', days: 10 }).certPem);
    expect(describeCertificate(again).key_sha256).toBe(describeCertificate(first).key_sha256);
    expect(again.serialNumber).not.toBe(first.serialNumber);
    expect(describeCertificate(again).fingerprint_sha256).not.toBe(describeCertificate(first).fingerprint_sha256);
  });

  it('sign - refuses a server without hosts, a bad host, an altered request', () => {
    expect(() => signCsr(pki.ca, pki.holders.server.csrPem, { role: 'server' })).toThrow(expect.objectContaining({ code: 'HOST_REQUIRED' }));
    expect(() => signCsr(pki.ca, pki.holders.server.csrPem, { role: 'server', hosts: ['bad host!'] })).toThrow(expect.objectContaining({ code: 'BAD_HOST' }));
    expect(() => signCsr(pki.ca, tamper(pki.holders.alice.csrPem, 0.95), { role: 'client' })).toThrow(expect.objectContaining({ code: 'CSR_BAD_SIGNATURE', exitCode: 2 }));
  });

  it('sign - refuses a CA key that is not the CA certificate\'s, an expired CA, a non-CA', async () => {
    const other = await createCa('x', { iterations: TEST_ITERATIONS });
    const mixed: CaMaterial = { certPem: pki.ca.certPem, key: other.key };
    expect(() => signCsr(mixed, pki.holders.alice.csrPem, { role: 'client' })).toThrow(expect.objectContaining({ code: 'CA_KEY_MISMATCH' }));
    const later = Date.now() + 20 * 365 * 86_400_000;
    expect(() => signCsr(pki.ca, pki.holders.alice.csrPem, { role: 'client', now: later })).toThrow(expect.objectContaining({ code: 'CA_EXPIRED' }));
    const leaf: CaMaterial = { certPem: fs.readFileSync(pki.holders.alice.certFile, 'utf8'), key: decryptPrivateKey(fs.readFileSync(pki.holders.alice.keyFile, 'utf8'), 'key password') };
    expect(() => signCsr(leaf, pki.holders.alice.csrPem, { role: 'client' })).toThrow(expect.objectContaining({ code: 'NOT_A_CA' }));
  });

  it('sign - loadCa refuses a wrong CA password with WRONG_PASSWORD', () => {
    expect(() => loadCa({ certFile: pki.caCertFile, keyFile: pki.caKeyFile, password: 'not it' })).toThrow(expect.objectContaining({ code: 'WRONG_PASSWORD', exitCode: 2 }));
    expect(loadCa({ certFile: pki.caCertFile, keyFile: pki.caKeyFile, password: CA_PASSWORD }).certPem).toBe(pki.ca.certPem);
  });

  it('sign - a certificate asked to outlive its CA ends with the CA', async () => {
    const shortCa = await createCa('x', { days: 5, iterations: TEST_ITERATIONS });
    const csr = await createCsr('bob', 'pw', { iterations: TEST_ITERATIONS });
    const signed = signCsr({ certPem: shortCa.certPem, key: shortCa.key }, csr.csrPem, { role: 'client', days: 30 });
    expect(signed.clampedToCa).toBe(true);
    expect(signed.notAfter).toBe(describeCertificate(readCertificate(shortCa.certPem)).not_after);
  });

  it('sign - writes exact validity when asked (how tests make an expired certificate)', () => {
    const notBefore = Date.UTC(2020, 0, 1);
    const notAfter = Date.UTC(2020, 6, 1);
    const signed = signCsr(pki.ca, pki.holders.alice.csrPem, { role: 'client', notBefore, notAfter });
    const info = describeCertificate(readCertificate(signed.certPem));
    expect([info.not_before, info.not_after]).toEqual([notBefore, notAfter]);
    const file = path.join(dir, 'expired.crt');
    fs.writeFileSync(file, signed.certPem);
    const run = openssl(['verify', '-CAfile', pki.caCertFile, file]);
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/certificate has expired/);
  });
});
