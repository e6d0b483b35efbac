import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { altNamesOf, describeCertificate, readCertificate, roleOf } from '../../cert/x509.js';
import { makePki, openssl, removeDir, sha256Hex, tempDir, type Pki } from './helpers.js';

describe('x509', () => {
  let dir: string;
  let pki: Pki;

  beforeAll(async () => {
    dir = tempDir('x509');
    pki = await makePki(dir, { server: { role: 'server', hosts: ['127.0.0.1'] }, alice: { role: 'client' } });
  });
  afterAll(() => removeDir(dir));

  it('x509 - fingerprint_sha256 and key_sha256 agree with openssl for the CA, a server and a client', () => {
    for (const file of [pki.caCertFile, pki.holders.server.certFile, pki.holders.alice.certFile]) {
      const info = describeCertificate(readCertificate(fs.readFileSync(file), file));
      // => "sha256 Fingerprint=AB:CD:..."
      const fp = openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1];
      expect(info.fingerprint_sha256).toBe(fp.replace(/:/g, '').toLowerCase());
      // openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256
      const pub = openssl(['x509', '-in', file, '-noout', '-pubkey']).stdout;
      const der = openssl(['pkey', '-pubin', '-outform', 'DER'], pub).bytes!;
      expect(info.key_sha256).toBe(sha256Hex(der));
      expect(info.fingerprint_sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('x509 - times agree with openssl, in whole milliseconds since the epoch', () => {
    const file = pki.holders.alice.certFile;
    const info = describeCertificate(readCertificate(fs.readFileSync(file)));
    const dates = openssl(['x509', '-in', file, '-noout', '-startdate', '-enddate']).stdout;
    // => "notBefore=Nov 27 08:00:20 2026 GMT\nnotAfter=..."
    const [start, end] = dates.trim().split('\n').map((line) => Date.parse(line.split('=')[1]));
    expect([info.not_before, info.not_after]).toEqual([start, end]);
    expect(Number.isInteger(info.not_before)).toBe(true);
  });

  it('x509 - roleOf: ca, server, client, and null for a certificate with no purpose', () => {
    const plain = path.join(dir, 'plain.crt');
    const made = openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'plain.key'), '-subj', '/CN=plain', '-days', '1', '-addext', 'basicConstraints=CA:FALSE', '-out', plain]);
    expect(made.status).toBe(0);
    const cases: Array<[string, string | null]> = [
      [pki.caCertFile, 'ca'],
      [pki.holders.server.certFile, 'server'],
      [pki.holders.alice.certFile, 'client'],
      [plain, null],
    ];
    for (const [file, role] of cases) expect(roleOf(readCertificate(fs.readFileSync(file)))).toBe(role);
  });

  it('x509 - readCertificate refuses what is not a certificate with BAD_CERT_FILE', () => {
    expect(() => readCertificate('nothing', 'f')).toThrow(expect.objectContaining({ code: 'BAD_CERT_FILE' }));
    expect(() => readCertificate(fs.readFileSync(pki.holders.alice.csrFile), 'f')).toThrow(expect.objectContaining({ code: 'BAD_CERT_FILE' }));
    expect(() => readCertificate('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', 'f')).toThrow(expect.objectContaining({ code: 'BAD_CERT_FILE' }));
  });

  it('x509 - altNamesOf: IPv4, IPv6 and DNS names; duplicates once; nonsense refused', () => {
    expect(altNamesOf(['203.0.113.5', 'fe80::1', 'chat.example.org', 'localhost', 'CHAT.example.org'])).toEqual([
      { type: 7, ip: '203.0.113.5' },
      { type: 7, ip: 'fe80::1' },
      { type: 2, value: 'chat.example.org' },
      { type: 2, value: 'localhost' },
    ]);
    for (const bad of ['', 'a b', 'http://x', '-x.org', 'x..org', '1.2.3.4:80']) {
      expect(() => altNamesOf([bad])).toThrow(expect.objectContaining({ code: 'BAD_HOST' }));
    }
  });
});
