import crypto, { type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KDF } from '../../cert/constants.js';
import { decryptPrivateKey, encryptPrivateKey, generateKey, keySha256, normalKeySha256 } from '../../cert/keys.js';
import { openssl, removeDir, sha256Hex, tempDir } from './helpers.js';

describe('keys', () => {
  let dir: string;
  let key: KeyObject;
  let pem: string;
  let keyFile: string;

  beforeAll(async () => {
    dir = tempDir('keys');
    key = await generateKey();
    // The product's default KDF cost, since this file is where it is checked.
    pem = await encryptPrivateKey(key, 'right password');
    keyFile = path.join(dir, 'domain.key');
    fs.writeFileSync(keyFile, pem);
    fs.writeFileSync(path.join(dir, 'right'), 'right password\n');
    fs.writeFileSync(path.join(dir, 'wrong'), 'wrong password\n');
  });
  afterAll(() => removeDir(dir));

  it('keys - writes PKCS#8 PBES2 with PBKDF2-HMAC-SHA256, the default iterations and AES-256-CBC', () => {
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    const parsed = openssl(['asn1parse', '-in', keyFile]);
    expect(parsed.status).toBe(0);
    expect(parsed.stdout).toContain(':PBES2');
    expect(parsed.stdout).toContain(':PBKDF2');
    expect(parsed.stdout).toContain(':hmacWithSHA256');
    expect(parsed.stdout).toContain(':aes-256-cbc');
    const iterations = /INTEGER\s+:([0-9A-F]+)/.exec(parsed.stdout);
    expect(parseInt(iterations![1], 16)).toBe(KDF.ITERATIONS);
    expect(KDF.ITERATIONS).toBeGreaterThanOrEqual(600_000);
  });

  it('keys - openssl pkey opens the key with the right password', () => {
    const run = openssl(['pkey', '-in', keyFile, '-passin', `file:${path.join(dir, 'right')}`, '-pubout']);
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(crypto.createPublicKey(key).export({ type: 'spki', format: 'pem' }));
  });

  it('keys - openssl pkey refuses a wrong password', () => {
    const run = openssl(['pkey', '-in', keyFile, '-passin', `file:${path.join(dir, 'wrong')}`, '-noout']);
    expect(run.status).not.toBe(0);
  });

  it('keys - decryptPrivateKey opens the right password and refuses a wrong or missing one with WRONG_PASSWORD', () => {
    expect(keySha256(decryptPrivateKey(pem, 'right password'))).toBe(keySha256(key));
    expect(() => decryptPrivateKey(pem, 'wrong password', keyFile)).toThrow(expect.objectContaining({ code: 'WRONG_PASSWORD', exitCode: 2 }));
    expect(() => decryptPrivateKey(pem, '', keyFile)).toThrow(expect.objectContaining({ code: 'WRONG_PASSWORD' }));
    expect(() => decryptPrivateKey(pem, undefined, keyFile)).toThrow(expect.objectContaining({ code: 'WRONG_PASSWORD' }));
  });

  it('keys - refuses a file that holds no key with BAD_KEY_FILE', () => {
    expect(() => decryptPrivateKey('hello', 'x', 'f')).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE' }));
    const damaged = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    expect(() => decryptPrivateKey(damaged, undefined, 'f')).toThrow(expect.objectContaining({ code: 'BAD_KEY_FILE' }));
  });

  it('keys - reads a key that openssl encrypted', () => {
    const file = path.join(dir, 'openssl.key');
    const made = openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-aes-256-cbc', '-pass', `file:${path.join(dir, 'right')}`, '-out', file]);
    expect(made.status).toBe(0);
    const opened = decryptPrivateKey(fs.readFileSync(file, 'utf8'), 'right password', file);
    expect(opened.asymmetricKeyType).toBe('rsa');
    expect(() => decryptPrivateKey(fs.readFileSync(file, 'utf8'), 'wrong password', file)).toThrow(expect.objectContaining({ code: 'WRONG_PASSWORD' }));
  });

  it('keys - keySha256 is the SHA-256 of the DER SubjectPublicKeyInfo, as openssl computes it', () => {
    const der = openssl(['pkey', '-in', keyFile, '-passin', `file:${path.join(dir, 'right')}`, '-pubout', '-outform', 'DER']);
    expect(der.status).toBe(0);
    expect(keySha256(key)).toBe(sha256Hex(der.bytes!));
    expect(keySha256(key)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keys - normalKeySha256 lowercases, drops colons and refuses anything but 64 hex', () => {
    const k = 'ab'.repeat(32);
    const cases: Array<[string, string | null]> = [
      [k, k],
      ['AB'.repeat(32), k],
      [Array(32).fill('Ab').join(':'), k],
      // Spaces are the command line's to trim, not this function's.
      [` ${k}`, null],
      [k.slice(1), null],
      [k + 'ab', null],
      ['zz'.repeat(32), null],
      ['', null],
    ];
    for (const [text, want] of cases) expect(normalKeySha256(text)).toBe(want);
  });

  it('keys - generates 3072-bit keys on request', async () => {
    const big = await generateKey(3072);
    expect(big.asymmetricKeyDetails?.modulusLength).toBe(3072);
  });
});
