// Names in any script, through the whole chain (issue 14): `cert ca`, `csr`, `sign`, `show` and
// `verify`, OpenSSL's `verify` and `x509 -nameopt utf8`, a mutual TLS login to the server; the
// certificates an older Parley signed with a garbled issuer name; and forgeries that carry the
// CA's exact name and key identifier but another key's signature.
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCaCertificate } from '../../cert/ca.js';
import { createCsrFor, readCsr } from '../../cert/csr.js';
import { decryptPrivateKey } from '../../cert/keys.js';
import { issueCertificate } from '../../cert/sign.js';
import { checkPeerCertificate, loadIdentity } from '../../src/net/tls.js';
import { commonName, namesOf } from '../../cert/x509.js';
import type { RendezvousServer } from '../../server/server.js';
import { startServer } from '../../server/server.js';
import { connect } from '../server/helpers.js';
import { forgeCertificate, KEY_PASSWORD, makePki, openssl, parley, removeDir, signLikeParley010, tempDir, type Pki } from './helpers.js';

// CA name, client name: every pair non-ASCII on both sides.
const SCRIPTS: Array<[string, string]> = [
  ['Тест CA', 'Клиент'],
  ['Αρχή Πιστοποίησης', 'Ελένη'],
  ['認証局 テスト', '王小明'],
  ['🔐 Ключи 🗝️', '👩‍💻 Zoë'],
];

// The value bytes of the one CN in a DER Name: SEQUENCE { SET { SEQUENCE { OID, string } } }.
function cnOf(nameDer: Buffer): { tag: number; bytes: Buffer } {
  const parsed = openssl(['asn1parse', '-inform', 'DER'], nameDer).stdout;
  expect(parsed).toMatch(/:commonName/);
  // The last element is the string; its header is short for names within the 64-character bound.
  const oid = Buffer.from('0603550403', 'hex');
  const at = nameDer.indexOf(oid) + oid.length;
  const length = nameDer[at + 1] & 0x80 ? nameDer[at + 2] : nameDer[at + 1];
  const start = at + (nameDer[at + 1] & 0x80 ? 3 : 2);
  return { tag: nameDer[at], bytes: nameDer.subarray(start, start + length) };
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

describe('cert names in any script', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('names');
  });
  afterAll(() => removeDir(dir));

  it('cert names - ca, csr, sign, show, verify, openssl verify and x509 -nameopt utf8 keep every script byte for byte', async () => {
    const caPw = path.join(dir, 'ca.pw');
    const keyPw = path.join(dir, 'k.pw');
    fs.writeFileSync(caPw, 'ca password\n');
    fs.writeFileSync(keyPw, 'key password\n');
    await Promise.all(
      SCRIPTS.map(async ([caName, clientName], i) => {
        const caDir = path.join(dir, `ca${i}`);
        const cDir = path.join(dir, `c${i}`);
        const made = await Promise.all([
          parley(['cert', 'ca', '--dir', caDir, '--name', caName, '--password-file', caPw]),
          parley(['cert', 'csr', '--dir', cDir, '--name', clientName, '--password-file', keyPw]),
        ]);
        for (const run of made) expect(run.stderr).toBe('');
        const crt = path.join(cDir, 'client.crt');
        const signed = await parley(['cert', 'sign', '--ca-dir', caDir, '--csr', path.join(cDir, 'domain.csr'), '--role', 'client', '--out', crt, '--password-file', caPw, '--json']);
        expect(signed.stderr).toBe('');
        expect(JSON.parse(signed.stdout)).toMatchObject({ subject: `CN=${clientName}`, issuer: `CN=${caName}`, role: 'client' });

        const show = JSON.parse((await parley(['cert', 'show', crt, '--json'])).stdout);
        expect([show.subject, show.issuer]).toEqual([`CN=${clientName}`, `CN=${caName}`]);
        const verify = await parley(['cert', 'verify', '--ca', path.join(caDir, 'rootCA.crt'), '--role', 'client', crt]);
        expect([verify.status, verify.stderr]).toEqual([0, '']);
        expect(verify.stdout).toContain('ok, a client certificate of this CA');

        expect(openssl(['verify', '-CAfile', path.join(caDir, 'rootCA.crt'), crt]).stdout.trim()).toBe(`${crt}: OK`);
        const names = openssl(['x509', '-in', crt, '-noout', '-issuer', '-subject', '-nameopt', 'utf8']).stdout;
        expect(names).toBe(`issuer=CN=${caName}\nsubject=CN=${clientName}\n`);

        // The bytes: UTF8String (tag 12) holding the name's UTF-8, and the issuer exactly the
        // CA's subject.
        const leaf = namesOf(new X509Certificate(fs.readFileSync(crt)));
        const ca = namesOf(new X509Certificate(fs.readFileSync(path.join(caDir, 'rootCA.crt'))));
        expect(leaf.issuer.equals(ca.subject)).toBe(true);
        expect(cnOf(leaf.subject)).toEqual({ tag: 12, bytes: utf8(clientName) });
        expect(cnOf(leaf.issuer)).toEqual({ tag: 12, bytes: utf8(caName) });
      }),
    );
  });

  it('cert names - a name with a control character, C1 included, is refused as BAD_NAME as the wire refuses it', () => {
    for (const name of ['Ann\u0007', 'Ann\u007f', 'Ann\u0085', '\u009b2JAnn', 'Ann\u009f']) {
      expect(() => commonName(name), JSON.stringify(name)).toThrow(expect.objectContaining({ code: 'BAD_NAME' }));
    }
    expect(commonName('Ann\u00a0Lee')[0]).toMatchObject({ value: 'Ann\u00a0Lee' });
  });

  it('cert names - any name within the bounds makes a chain Node and OpenSSL verify, or is refused as BAD_NAME', () => {
    // Keys made once: the property is about names, and RSA key generation is the slow part.
    const { privateKey: caKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { privateKey: leafKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const caFile = path.join(dir, 'prop-ca.crt');
    const leafFile = path.join(dir, 'prop-leaf.crt');
    const name = fc.oneof(
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 64 }),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 70 }),
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 64 }),
    );
    fc.assert(
      fc.property(name, name, (caName, leafName) => {
        let accepted = true;
        for (const n of [caName, leafName]) {
          try {
            commonName(n);
          } catch (err) {
            expect((err as { code?: string }).code).toBe('BAD_NAME');
            accepted = false;
          }
        }
        fc.pre(accepted);
        const caPem = createCaCertificate(caKey, { name: caName });
        const csr = readCsr(createCsrFor(leafKey, leafName));
        const now = Date.now();
        const leafPem = issueCertificate(caPem, caKey, csr, { role: 'client', now, caNotAfter: now + 86_400_000 }).certPem;
        const ca = new X509Certificate(caPem);
        const leaf = new X509Certificate(leafPem);
        expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
        expect(namesOf(leaf).issuer.equals(namesOf(ca).subject)).toBe(true);
        expect(cnOf(namesOf(leaf).subject)).toEqual({ tag: 12, bytes: utf8(leafName.trim()) });
        expect(checkPeerCertificate(leaf, { caPem, expectRole: 'client' })).toMatchObject({ ok: true });
        fs.writeFileSync(caFile, caPem);
        fs.writeFileSync(leafFile, leafPem);
        expect(openssl(['verify', '-CAfile', caFile, leafFile]).stdout.trim()).toBe(`${leafFile}: OK`);
      }),
      { numRuns: 60 },
    );
  });
});

describe('cert names - the chain in use', () => {
  let dir: string;
  let pki: Pki;
  let srv: RendezvousServer;
  let caPem: string;
  const CLIENT = 'Клиент Ёлкин';

  beforeAll(async () => {
    dir = tempDir('names-tls');
    pki = await makePki(dir, { server: { role: 'server', hosts: ['127.0.0.1'] }, [CLIENT]: { role: 'client' }, mallory: { role: 'client' } }, 'Тест CA');
    const server = loadIdentity({ caFile: pki.caCertFile, certFile: pki.holders.server.certFile, keyFile: pki.holders.server.keyFile, password: KEY_PASSWORD });
    srv = await startServer({ identity: server, dataDir: path.join(dir, 'data'), host: '127.0.0.1', port: 0, admin: false });
    caPem = fs.readFileSync(pki.caCertFile, 'utf8');
  });
  afterAll(async () => {
    await srv?.close();
    removeDir(dir);
  });

  function credsOf(name: string, cert?: string): { key: string; cert: string; keySha256: string } {
    const h = pki.holders[name];
    const id = loadIdentity({ caFile: pki.caCertFile, certFile: h.certFile, keyFile: h.keyFile, password: KEY_PASSWORD });
    return { key: id.key, cert: cert ?? id.cert, keySha256: id.keySha256 };
  }

  async function login(creds: { key: string; cert: string; keySha256: string }) {
    const c = await connect({ port: srv.address().port, creds, caPem });
    try {
      return await c.login();
    } finally {
      c.close();
    }
  }

  it('cert names - a client named in Cyrillic, of a CA named in Cyrillic, signs in to the server over mutual TLS', async () => {
    const answer = await login(credsOf(CLIENT));
    expect(answer.type).toBe('login-ok');
  });

  it('cert names - a certificate an older Parley signed with a garbled name is refused, naming both names as bytes', async () => {
    const garbled = signLikeParley010(pki.ca, pki.holders[CLIENT].csrPem);
    const garbledFile = path.join(dir, 'garbled.crt');
    fs.writeFileSync(garbledFile, garbled);
    const check = checkPeerCertificate(new X509Certificate(garbled), { caPem, expectRole: 'client' });
    expect(check).toMatchObject({ ok: false, code: 'CERT_FOREIGN_CA' });
    const reason = (check as { reason: string }).reason;
    // "Тест CA" is d0 a2 d0 b5 d1 81 d1 82 20 43 41; written twice, Т (d0 a2) became c3 90 c2 a2.
    expect(reason).toContain('the CA is CN=Тест CA (UTF-8 43 4e 3d d0 a2 d0 b5 d1 81 d1 82 20 43 41)');
    expect(reason).toContain('(UTF-8 43 4e 3d c3 90 c2 a2 c3 90 c2 b5 c3 91 c2 81 c3 91 c2 82 20 43 41)');
    expect(reason).toMatch(/written twice over as UTF-8 by an older Parley; sign its request again/);

    const verify = await parley(['cert', 'verify', '--ca', pki.caCertFile, garbledFile]);
    expect(verify.status).toBe(2);
    expect(verify.stderr).toContain(reason);
    expect(openssl(['verify', '-CAfile', pki.caCertFile, garbledFile]).status).not.toBe(0);

    const answer = await login(credsOf(CLIENT, garbled));
    expect(answer).toMatchObject({ type: 'login-refused', code: 'CERT_UNKNOWN_CA' });
    expect((answer as { reason: string }).reason).toMatch(/sign its request again/);
  });

  it('cert names - a forged certificate (the CA name and key identifier, another key) is refused by cert verify, openssl verify and the server', async () => {
    const malloryKey = decryptPrivateKey(fs.readFileSync(pki.holders.mallory.keyFile, 'utf8'), KEY_PASSWORD);
    const forged = forgeCertificate(pki.ca.certPem, malloryKey, pki.holders.mallory.csrPem);
    const forgedFile = path.join(dir, 'forged.crt');
    fs.writeFileSync(forgedFile, forged);
    // What makes it a forgery and not merely a foreign certificate: name and AKI match.
    const x509 = new X509Certificate(forged);
    expect(x509.checkIssued(new X509Certificate(caPem))).toBe(true);

    const check = checkPeerCertificate(x509, { caPem, expectRole: 'client' });
    expect(check).toMatchObject({ ok: false, code: 'CERT_FOREIGN_CA' });
    expect((check as { reason: string }).reason).toMatch(/names CN=Тест CA as its issuer but its signature is not that CA's key's/);

    const verify = await parley(['cert', 'verify', '--ca', pki.caCertFile, forgedFile]);
    expect(verify.status).toBe(2);
    expect(verify.stderr).toMatch(/its signature is not that CA's key's/);
    const ossl = openssl(['verify', '-CAfile', pki.caCertFile, forgedFile]);
    expect(ossl.status).not.toBe(0);
    expect(ossl.stdout + ossl.stderr).toMatch(/signature failure/);

    const answer = await login(credsOf('mallory', forged));
    expect(answer).toMatchObject({ type: 'login-refused', code: 'CERT_UNKNOWN_CA' });
  });
});
