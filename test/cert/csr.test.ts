import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr, readCsr, type MadeCsr } from '../../cert/csr.js';
import { openssl, removeDir, tamper, tempDir, TEST_ITERATIONS } from './helpers.js';

describe('csr', () => {
  let dir: string;
  let made: MadeCsr;
  let csrFile: string;

  beforeAll(async () => {
    dir = tempDir('csr');
    made = await createCsr('Анна', 'key password', { iterations: TEST_ITERATIONS });
    csrFile = path.join(dir, 'domain.csr');
    fs.writeFileSync(csrFile, made.csrPem);
  });
  afterAll(() => removeDir(dir));

  it('csr - openssl req verifies the request and reads its UTF-8 name', () => {
    const run = openssl(['req', '-in', csrFile, '-noout', '-verify', '-subject', '-nameopt', 'utf8']);
    expect(run.status).toBe(0);
    expect(run.stderr + run.stdout).toMatch(/verify OK/i);
    expect(run.stdout).toMatch(/CN ?= ?Анна/);
  });

  it('csr - the request carries the key of the key file', () => {
    const run = openssl(['req', '-in', csrFile, '-noout', '-pubkey']);
    expect(run.stdout).toBe(crypto.createPublicKey(made.key).export({ type: 'spki', format: 'pem' }));
  });

  it('csr - readCsr accepts a sound request, refuses an altered one with CSR_BAD_SIGNATURE', () => {
    expect(readCsr(made.csrPem).subject.getField('CN').value).toBeTruthy();
    // Near the end: the signature. Near the middle: the public key.
    for (const at of [0.95, 0.5]) {
      expect(() => readCsr(tamper(made.csrPem, at), 'domain.csr')).toThrow(expect.objectContaining({ code: 'CSR_BAD_SIGNATURE', exitCode: 2 }));
    }
  });

  it('csr - reads an RSA request made by openssl, refuses an EC one with BAD_CSR', () => {
    const rsa = openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'o.key'), '-subj', '/CN=openssl', '-out', '-']);
    expect(rsa.status).toBe(0);
    expect(readCsr(rsa.stdout).subject.getField('CN').value).toBe('openssl');
    const ec = openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'e.key'), '-subj', '/CN=ec', '-out', '-']);
    expect(ec.status).toBe(0);
    expect(() => readCsr(ec.stdout, 'ec.csr')).toThrow(expect.objectContaining({ code: 'BAD_CSR' }));
    expect(() => readCsr('not a request', 'x.csr')).toThrow(expect.objectContaining({ code: 'BAD_CSR' }));
  });
});
