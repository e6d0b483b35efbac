import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keySha256 } from '../../cert/keys.js';
import { signCsr } from '../../cert/sign.js';
import {
  checkPeerCertificate,
  clientTlsOptions,
  keySha256OfCert,
  loadIdentity,
  makePeerChecker,
  serverTlsOptions,
  tlsPeerError,
  verifyTlsPeer,
  type Identity,
} from '../../src/net/tls.js';
import { readCertificate } from '../../cert/x509.js';
import { freePort, KEY_PASSWORD, makePki, openssl, removeDir, tempDir, type Pki } from './helpers.js';

describe('tls', () => {
  let dir: string;
  let pki: Pki;
  let foreign: Pki;
  let expiredFile: string;
  const id: Record<string, Identity> = {};

  beforeAll(async () => {
    dir = tempDir('tls');
    [pki, foreign] = await Promise.all([
      makePki(path.join(dir, 'ours'), {
        server: { role: 'server', hosts: ['127.0.0.1'] },
        alice: { role: 'client' },
        bob: { role: 'client' },
      }),
      makePki(path.join(dir, 'theirs'), { mallory: { role: 'client' } }, 'Another CA'),
    ]);
    const past = signCsr(pki.ca, pki.holders.alice.csrPem, { role: 'client', notBefore: Date.UTC(2020, 0, 1), notAfter: Date.UTC(2020, 6, 1) });
    expiredFile = path.join(dir, 'expired.crt');
    fs.writeFileSync(expiredFile, past.certPem);
    for (const name of ['server', 'alice', 'bob']) id[name] = identityOf(pki, name);
    id.mallory = identityOf(foreign, 'mallory');
  });
  afterAll(() => removeDir(dir));

  function identityOf(from: Pki, name: string): Identity {
    const h = from.holders[name];
    return loadIdentity({ caFile: from.caCertFile, certFile: h.certFile, keyFile: h.keyFile, password: KEY_PASSWORD });
  }

  function pem(file: string): string {
    return fs.readFileSync(file, 'utf8');
  }

  describe('loadIdentity', () => {
    it('tls - loadIdentity reads a certificate, its key and the CA, and names its role and key', () => {
      expect(id.server.role).toBe('server');
      expect(id.alice.role).toBe('client');
      expect(id.alice.keySha256).toBe(keySha256OfCert(pem(pki.holders.alice.certFile)));
      expect(id.alice.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    });

    it('tls - loadIdentity refuses, with exit code 2, a wrong password, a foreign key, a foreign or expired certificate', () => {
      const a = pki.holders.alice;
      const cases: Array<[Parameters<typeof loadIdentity>[0], string]> = [
        [{ caFile: pki.caCertFile, certFile: a.certFile, keyFile: a.keyFile, password: 'wrong' }, 'WRONG_PASSWORD'],
        [{ caFile: pki.caCertFile, certFile: a.certFile, keyFile: pki.holders.bob.keyFile, password: KEY_PASSWORD }, 'KEY_MISMATCH'],
        [{ caFile: pki.caCertFile, certFile: foreign.holders.mallory.certFile, keyFile: foreign.holders.mallory.keyFile, password: KEY_PASSWORD }, 'CERT_FOREIGN_CA'],
        [{ caFile: pki.caCertFile, certFile: expiredFile, keyFile: a.keyFile, password: KEY_PASSWORD }, 'CERT_EXPIRED'],
        [{ caFile: pki.caCertFile, certFile: pki.caCertFile, keyFile: pki.caKeyFile, password: KEY_PASSWORD }, 'CERT_WRONG_ROLE'],
        [{ caFile: pki.caCertFile, certFile: path.join(dir, 'none.crt'), keyFile: a.keyFile, password: KEY_PASSWORD }, 'FILE_UNREADABLE'],
      ];
      for (const [files, code] of cases) expect(() => loadIdentity(files)).toThrow(expect.objectContaining({ code, exitCode: 2 }));
    });
  });

  describe('checkPeerCertificate', () => {
    it('tls - checkPeerCertificate accepts a sound peer and says its role and key', () => {
      const check = checkPeerCertificate(readCertificate(pem(pki.holders.bob.certFile)), { caPem: id.alice.ca, expectRole: 'client', expectKeySha256: id.bob.keySha256.toUpperCase() });
      expect(check).toMatchObject({ ok: true, role: 'client', keySha256: id.bob.keySha256, subject: 'CN=bob' });
    });

    it('tls - checkPeerCertificate refuses each fault with its own code', () => {
      const caPem = id.alice.ca;
      const cert = (file: string) => readCertificate(pem(file));
      const notBefore = Date.parse(cert(pki.holders.bob.certFile).validFrom);
      const cases: Array<[string, ReturnType<typeof checkPeerCertificate>]> = [
        ['CERT_FOREIGN_CA', checkPeerCertificate(cert(foreign.holders.mallory.certFile), { caPem, expectRole: 'client' })],
        ['CERT_WRONG_ROLE', checkPeerCertificate(cert(pki.holders.server.certFile), { caPem, expectRole: 'client' })],
        ['CERT_WRONG_ROLE', checkPeerCertificate(cert(pki.holders.bob.certFile), { caPem, expectRole: 'server' })],
        ['CERT_WRONG_ROLE', checkPeerCertificate(cert(pki.caCertFile), { caPem })],
        ['CERT_EXPIRED', checkPeerCertificate(cert(expiredFile), { caPem, expectRole: 'client' })],
        ['CERT_NOT_YET_VALID', checkPeerCertificate(cert(pki.holders.bob.certFile), { caPem, expectRole: 'client', now: notBefore - 86_400_000 })],
        ['CERT_KEY_MISMATCH', checkPeerCertificate(cert(pki.holders.bob.certFile), { caPem, expectRole: 'client', expectKeySha256: id.alice.keySha256 })],
        ['CERT_MISSING', checkPeerCertificate({} as tls.PeerCertificate, { caPem })],
        ['CERT_MISSING', checkPeerCertificate(null, { caPem })],
      ];
      for (const [code, check] of cases) {
        expect(check.ok).toBe(false);
        if (!check.ok) {
          expect(check.code).toBe(code);
          expect(check.reason.length).toBeGreaterThan(10);
        }
      }
    });
  });

  describe('makePeerChecker', () => {
    it('tls - makePeerChecker gives the same answers as checkPeerCertificate, code and reason', () => {
      const caPem = id.alice.ca;
      const x509 = (file: string) => readCertificate(pem(file));
      const bob = x509(pki.holders.bob.certFile);
      const notBefore = Date.parse(bob.validFrom);
      const cases: Array<[tls.PeerCertificate | X509Certificate | null, Parameters<typeof checkPeerCertificate>[1]]> = [
        [bob, { caPem, expectRole: 'client' }],
        [bob, { caPem, expectRole: 'client', expectKeySha256: id.bob.keySha256.toUpperCase() }],
        [{ raw: bob.raw } as tls.PeerCertificate, { caPem, expectRole: 'client' }],
        [x509(foreign.holders.mallory.certFile), { caPem, expectRole: 'client' }],
        [x509(pki.holders.server.certFile), { caPem, expectRole: 'client' }],
        [bob, { caPem, expectRole: ['server'] }],
        [x509(pki.caCertFile), { caPem }],
        [x509(expiredFile), { caPem, expectRole: 'client' }],
        [bob, { caPem, expectRole: 'client', now: notBefore - 86_400_000 }],
        [bob, { caPem, expectRole: 'client', expectKeySha256: id.alice.keySha256 }],
        [{ raw: Buffer.from('not a certificate') } as tls.PeerCertificate, { caPem }],
        [{} as tls.PeerCertificate, { caPem }],
        [null, { caPem }],
        [bob, { caPem: 'no PEM here', expectRole: 'client' }],
      ];
      const codes = new Set<string>();
      for (const [cert, options] of cases) {
        const expected = checkPeerCertificate(cert, options);
        codes.add(expected.ok ? 'ok' : expected.code);
        // Bound once, then given the pin and the time per call, as the server does.
        const { expectKeySha256, now, ...bound } = options;
        expect(makePeerChecker(bound)(cert, { expectKeySha256, now })).toEqual(expected);
        expect(makePeerChecker(options)(cert)).toEqual(expected);
      }
      expect([...codes].sort()).toEqual(['CERT_EXPIRED', 'CERT_FOREIGN_CA', 'CERT_KEY_MISMATCH', 'CERT_MISSING', 'CERT_NOT_YET_VALID', 'CERT_UNREADABLE', 'CERT_WRONG_ROLE', 'ok']);
    });

    it('tls - one checker answers many peers, and the time of a call overrides the time it was made with', () => {
      const bob = readCertificate(pem(pki.holders.bob.certFile));
      const check = makePeerChecker({ caPem: id.alice.ca, expectRole: 'client', now: Date.parse(bob.validFrom) - 86_400_000 });
      expect(check(bob)).toMatchObject({ ok: false, code: 'CERT_NOT_YET_VALID' });
      expect(check(bob, { now: Date.now() })).toMatchObject({ ok: true, role: 'client', keySha256: id.bob.keySha256 });
      expect(check(readCertificate(pem(pki.holders.alice.certFile)), { now: Date.now() })).toMatchObject({ ok: true, keySha256: id.alice.keySha256 });
      expect(check(readCertificate(pem(expiredFile)), { now: Date.now() })).toMatchObject({ ok: false, code: 'CERT_EXPIRED' });
    });
  });

  describe('tlsPeerError', () => {
    const coded = (code: string): Error => Object.assign(new Error(code.toLowerCase()), { code });
    it.each([
      ['SELF_SIGNED_CERT_IN_CHAIN', 'CERT_FOREIGN_CA'],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_FOREIGN_CA'],
      ['CERT_HAS_EXPIRED', 'CERT_EXPIRED'],
      ['CERT_NOT_YET_VALID', 'CERT_NOT_YET_VALID'],
      ['CERT_WRONG_ROLE', 'CERT_WRONG_ROLE'],
    ])('tls - OpenSSL or peer check code %s reads as %s', (given, code) => {
      expect(tlsPeerError(coded(given))).toMatchObject({ code });
    });

    it('tls - an error that is not about the certificate is not a refusal', () => {
      expect(tlsPeerError(coded('ECONNRESET'))).toBeNull();
      expect(tlsPeerError(new Error('no code'))).toBeNull();
    });
  });

  describe('key_sha256 from the certificate bytes', () => {
    // What it must equal: the hash of the key as OpenSSL exports it.
    const exported = (cert: X509Certificate) => keySha256(cert.publicKey);

    // A self-signed certificate for a key openssl makes from `genkey` (and `convert`, if given).
    function opensslCert(name: string, genkey: string[], convert?: string[]): X509Certificate {
      const key = path.join(dir, `${name}.key`);
      const cert = path.join(dir, `${name}.crt`);
      expect(openssl([...genkey, '-out', key]).status).toBe(0);
      if (convert) expect(openssl([...convert, '-in', key, '-out', key]).status).toBe(0);
      expect(openssl(['req', '-x509', '-new', '-key', key, '-subj', `/CN=${name}`, '-days', '1', '-out', cert]).status).toBe(0);
      return readCertificate(pem(cert));
    }

    it('tls - the key of a certificate hashes as OpenSSL exports it: RSA, P-256, and the kinds hashed the slow way', () => {
      const p256 = ['ecparam', '-name', 'prime256v1', '-genkey', '-noout'];
      const certs = [
        ...[pki.caCertFile, pki.holders.server.certFile, pki.holders.bob.certFile, foreign.holders.mallory.certFile, expiredFile].map((file) => readCertificate(pem(file))),
        opensslCert('p256', p256),
        opensslCert('p256-compressed', p256, ['ec', '-conv_form', 'compressed']),
        opensslCert('p384', ['ecparam', '-name', 'secp384r1', '-genkey', '-noout']),
        opensslCert('ed25519', ['genpkey', '-algorithm', 'ed25519']),
      ];
      for (const cert of certs) expect(keySha256OfCert(cert)).toBe(exported(cert));
    });

    it('tls - an RSA key written without the NULL parameters is hashed as exported, not as written', () => {
      // OpenSSL reads it and exports it with the NULL: the bytes in the certificate hash otherwise.
      const noNull = new X509Certificate(withoutRsaNull(readCertificate(pem(pki.holders.bob.certFile)).raw));
      expect(exported(noNull)).toBe(id.bob.keySha256);
      expect(keySha256OfCert(noNull)).toBe(id.bob.keySha256);
    });

    it('tls - any certificate OpenSSL reads, however its bytes are altered, hashes as its exported key', () => {
      const rsa = readCertificate(pem(pki.holders.bob.certFile)).raw;
      const ec = opensslCert('p256-fuzz', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout']).raw;
      let read = 0;
      for (const der of [rsa, ec]) {
        fc.assert(
          fc.property(fc.array(fc.tuple(fc.nat(der.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (edits) => {
            const bytes = Buffer.from(der);
            for (const [at, value] of edits) bytes[at] = value;
            let cert: X509Certificate;
            let expected: string;
            try {
              cert = new X509Certificate(bytes);
              expected = exported(cert);
            } catch {
              return; // neither way reads it
            }
            read += 1;
            expect(keySha256OfCert(cert)).toBe(expected);
          }),
          { numRuns: 400 },
        );
      }
      expect(read).toBeGreaterThan(200);
    });
  });

  describe('node tls', () => {
    type Outcome = {
      serverCheck?: ReturnType<typeof verifyTlsPeer>;
      clientProtocol?: string | null;
      clientAuthorized?: boolean;
      clientGotData?: boolean;
      clientError?: Error & { code?: string };
      serverError?: Error & { code?: string };
    };

    // One connection from `client` to a tls.Server of `server`; resolves when both ends are done.
    async function handshake(server: Identity, client: Identity, expect: Parameters<typeof clientTlsOptions>[1], serverExpectRole: 'client' | 'server' = 'client'): Promise<Outcome> {
      const outcome: Outcome = {};
      const listener = tls.createServer(serverTlsOptions(server));
      const serverDone = new Promise<void>((resolve) => {
        listener.on('secureConnection', (socket) => {
          outcome.serverCheck = verifyTlsPeer(socket, { identity: server, expectRole: serverExpectRole });
          socket.end('hi\n');
          resolve();
        });
        listener.on('tlsClientError', (err) => {
          outcome.serverError = err;
          resolve();
        });
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
      const { port } = listener.address() as AddressInfo;
      const clientDone = new Promise<void>((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ...clientTlsOptions(client, expect) });
        socket.on('secureConnect', () => {
          outcome.clientProtocol = socket.getProtocol();
          outcome.clientAuthorized = socket.authorized;
          socket.on('data', () => (outcome.clientGotData = true));
          socket.on('end', () => resolve());
        });
        socket.on('error', (err) => {
          outcome.clientError = err;
          resolve();
        });
        socket.on('close', () => resolve());
      });
      await clientDone;
      if (!outcome.clientError) await serverDone;
      else await Promise.race([serverDone, new Promise((r) => setTimeout(r, 200))]);
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      return outcome;
    }

    it('tls - a client and the server complete a mutual TLS 1.3 handshake with these options', async () => {
      const out = await handshake(id.server, id.alice, { expectRole: 'server', expectKeySha256: id.server.keySha256 });
      expect(out.clientError).toBeUndefined();
      expect(out.clientProtocol).toBe('TLSv1.3');
      expect(out.clientAuthorized).toBe(true);
      expect(out.clientGotData).toBe(true);
      expect(out.serverCheck).toMatchObject({ ok: true, role: 'client', keySha256: id.alice.keySha256 });
    });

    it('tls - two clients link peer to peer, each checking the other as a client', async () => {
      const out = await handshake(id.alice, id.bob, { expectRole: 'client', expectKeySha256: id.alice.keySha256 });
      expect(out.clientError).toBeUndefined();
      expect(out.clientProtocol).toBe('TLSv1.3');
      expect(out.clientGotData).toBe(true);
      expect(out.serverCheck).toMatchObject({ ok: true, role: 'client', keySha256: id.bob.keySha256 });
    });

    it('tls - the dialling side refuses a peer of the wrong role or another key, by code, though the host never matched', async () => {
      const role = await handshake(id.alice, id.bob, {});
      expect(role.clientError?.code).toBe('CERT_WRONG_ROLE');
      const pin = await handshake(id.alice, id.bob, { expectRole: 'client', expectKeySha256: id.server.keySha256 });
      expect(pin.clientError?.code).toBe('CERT_KEY_MISMATCH');
    });

    it('tls - the listening side refuses a client certificate from another CA', async () => {
      // Mallory trusts our CA (so she would accept alice) but holds a certificate of another CA.
      const mallory: Identity = { ...id.mallory, ca: id.alice.ca };
      const out = await handshake(id.alice, mallory, { expectRole: 'client' });
      // Node destroys the socket without a word (DESIGN.md, traps): the server sees a hang-up, the
      // client a handshake that seemed to succeed and then a close with no data.
      expect(out.serverCheck).toBeUndefined();
      expect(out.serverError).toBeDefined();
      expect(out.clientGotData).toBeFalsy();
    });

    it('tls - the dialling side refuses a listener whose certificate is from another CA', async () => {
      const out = await handshake(id.mallory, id.alice, { expectRole: 'client' });
      expect(out.clientError).toBeDefined();
      expect(out.clientProtocol).toBeUndefined();
    });
  });

  describe('openssl', () => {
    type Proc = { child: ChildProcess; stdout: string; stderr: string; exited: Promise<number | null> };

    function start(args: string[]): Proc {
      const child = spawn('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
      const proc: Proc = { child, stdout: '', stderr: '', exited: Promise.resolve(null) };
      // An s_client that refuses the server's certificate can end before its line is written:
      // the write then fails with EPIPE, which is the refusal the test looks for, not an error.
      child.stdin!.on('error', () => undefined);
      child.stdout!.on('data', (d) => (proc.stdout += d));
      child.stderr!.on('data', (d) => (proc.stderr += d));
      proc.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
      return proc;
    }

    function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
      return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms))]);
    }

    // s_server for one connection, ready once it prints ACCEPT; then s_client sends a line.
    async function opensslPair(server: { certFile: string; keyFile: string; caFile: string }, client: { certFile: string; keyFile: string; caFile: string }) {
      const port = await freePort();
      const common = (h: typeof server) => ['-cert', h.certFile, '-key', h.keyFile, '-pass', `file:${pki.passwordFile}`, '-CAfile', h.caFile, '-verify_return_error', '-tls1_3'];
      const s = start(['s_server', '-accept', `127.0.0.1:${port}`, '-naccept', '1', '-Verify', '1', ...common(server)]);
      try {
        await within(
          new Promise<void>((resolve, reject) => {
            s.child.stdout!.on('data', () => s.stdout.includes('ACCEPT') && resolve());
            s.child.on('close', () => reject(new Error(`s_server ended: ${s.stderr}`)));
          }),
          10_000,
          's_server start',
        );
        const c = start(['s_client', '-connect', `127.0.0.1:${port}`, ...common(client)]);
        c.child.stdin!.end('hello over mutual TLS\n');
        const clientCode = await within(c.exited, 15_000, 's_client');
        s.child.kill();
        await s.exited;
        return { server: s, client: c, clientCode };
      } finally {
        s.child.kill();
      }
    }

    const files = (from: () => Pki, name: string) => () => ({ certFile: from().holders[name].certFile, keyFile: from().holders[name].keyFile, caFile: from().caCertFile });

    it('tls - openssl s_server and s_client complete a mutual TLS 1.3 handshake between two clients, in both directions', async () => {
      for (const [srv, cli] of [['alice', 'bob'], ['bob', 'alice']]) {
        const run = await opensslPair(files(() => pki, srv)(), files(() => pki, cli)());
        expect(run.clientCode).toBe(0);
        expect(run.client.stdout).toMatch(/TLSv1\.3/);
        expect(run.client.stdout).toContain('Verify return code: 0 (ok)');
        expect(run.client.stdout).toContain(`CN = ${srv}`);
        // The line arrived: the server accepted the client's certificate.
        expect(run.server.stdout).toContain('hello over mutual TLS');
        expect(run.server.stdout).toMatch(new RegExp(`subject=CN ?= ?${cli}`));
      }
    });

    it('tls - openssl s_server refuses a client certificate from another CA', async () => {
      const mallory = { ...files(() => foreign, 'mallory')(), caFile: pki.caCertFile };
      const run = await opensslPair(files(() => pki, 'alice')(), mallory);
      expect(run.server.stdout).not.toContain('hello over mutual TLS');
      expect(run.server.stdout + run.server.stderr).toMatch(/verify error|certificate verify failed|unable to get local issuer/i);
    });

    it('tls - openssl s_client refuses a server certificate from another CA', async () => {
      const mallory = { ...files(() => foreign, 'mallory')(), caFile: pki.caCertFile };
      const run = await opensslPair(mallory, files(() => pki, 'alice')());
      expect(run.clientCode).not.toBe(0);
      expect(run.server.stdout).not.toContain('hello over mutual TLS');
      expect(run.client.stdout + run.client.stderr).toMatch(/verify error|certificate verify failed|unable to get local issuer/i);
    });
  });
});

// A certificate's DER with the NULL parameters of its rsaEncryption AlgorithmIdentifier removed
// and every enclosing length fixed. The signature no longer matches; only the key is looked at.
function withoutRsaNull(der: Buffer): Buffer {
  const rsaNull = Buffer.from('300d06092a864886f70d0101010500', 'hex');
  const at = der.indexOf(rsaNull);
  if (at < 0) throw new Error('no rsaEncryption with NULL');
  // Elements enclosing `at`: Certificate, TBSCertificate, SubjectPublicKeyInfo.
  const head = (pos: number) => {
    const n = der[pos + 1] & 0x80 ? der[pos + 1] & 0x7f : 0;
    let length = n ? 0 : der[pos + 1];
    for (let i = 0; i < n; i++) length = length * 256 + der[pos + 2 + i];
    return { start: pos + 2 + n, end: pos + 2 + n + length };
  };
  const encode = (tag: number, body: Buffer) => {
    const l = body.length;
    const length = l < 0x80 ? [l] : l < 0x100 ? [0x81, l] : [0x82, l >> 8, l & 0xff];
    return Buffer.concat([Buffer.from([tag, ...length]), body]);
  };
  const rebuild = (pos: number): Buffer => {
    const { start, end } = head(pos);
    if (pos === at) return encode(0x30, der.subarray(start, end - 2));
    let child = start;
    while (head(child).end <= at) child = head(child).end;
    return encode(der[pos], Buffer.concat([der.subarray(start, child), rebuild(child), der.subarray(head(child).end, end)]));
  };
  return rebuild(0);
}
