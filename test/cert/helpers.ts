// Shared by the cert tests: temporary folders, free ports, running openssl, and a small PKI
// made once per test file (RSA key generation is the slow part).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createCa } from '../../cert/ca.js';
import { createCsr } from '../../cert/csr.js';
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import type { LeafRole } from '../../cert/constants.js';
import { readCsr } from '../../cert/csr.js';
import { toForgePrivateKey } from '../../cert/keys.js';
import { issueCertificate, loadCa, signCsr, type CaMaterial, type SignOptions } from '../../cert/sign.js';
import { writeNewFiles, KEY_MODE } from '../../cert/files.js';

export const CA_PASSWORD = 'ca password ✓';
export const KEY_PASSWORD = 'key password';
// Test keys use fewer KDF rounds than the product's default, to keep the suite quick; the
// default itself is checked in keys.test.ts.
export const TEST_ITERATIONS = 10_000;

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `parley-${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

// A port nobody listens on right now: bound on 127.0.0.1 by Node, then released.
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export type Run = { status: number | null; stdout: string; stderr: string; bytes?: Buffer };

export function openssl(args: string[], input?: string | Buffer): Run {
  const result = spawnSync('openssl', args, { input, timeout: 30_000 });
  return { status: result.status, stdout: result.stdout?.toString() ?? '', stderr: result.stderr?.toString() ?? '', bytes: result.stdout };
}

export function sha256Hex(data: Buffer): string {
  return spawnSync('openssl', ['dgst', '-sha256', '-r'], { input: data }).stdout.toString().split(' ')[0].trim();
}

export const CLI = path.resolve('dist/src/cli.js');

export function parley(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Run> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  return new Promise((resolve, reject) => {
    // The caller's environment must not leak a password into a test that expects none.
    const env = { ...process.env };
    delete env.PARLEY_CA_PASSWORD;
    delete env.PARLEY_KEY_PASSWORD;
    Object.assign(env, options.env);
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.on('error', () => undefined); // a child that exits before reading its input
    child.stdin.end(options.input ?? '');
  });
}

// Flips one bit in the middle of a PEM's DER body: inside the subject's key or the signature.
export function tamper(pem: string, at = 0.5): string {
  const lines = pem.trim().split('\n');
  const der = Buffer.from(lines.slice(1, -1).join(''), 'base64');
  der[Math.floor(der.length * at)] ^= 0x01;
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `${lines[0]}\n${body}\n${lines[lines.length - 1]}\n`;
}

export type Pki = {
  dir: string;
  ca: CaMaterial;
  caCertFile: string;
  caKeyFile: string;
  passwordFile: string;
  // name -> files of a key, its request and its certificate
  holders: Record<string, { keyFile: string; csrFile: string; certFile: string; csrPem: string }>;
};

// A CA in dir/ca and, for each holder, dir/NAME/{domain.key,domain.csr,NAME.crt}. Keys are
// encrypted with KEY_PASSWORD, the CA's with CA_PASSWORD; dir/password holds KEY_PASSWORD and
// dir/ca-password CA_PASSWORD, for openssl's -pass file:.
export async function makePki(
  dir: string,
  holders: Record<string, Omit<SignOptions, 'now'>>,
  caName = 'Test CA',
): Promise<Pki> {
  const made = await createCa(CA_PASSWORD, { name: caName, iterations: TEST_ITERATIONS });
  const caCertFile = path.join(dir, 'ca', 'rootCA.crt');
  const caKeyFile = path.join(dir, 'ca', 'rootCA.key');
  const passwordFile = path.join(dir, 'password');
  writeNewFiles([
    { file: caKeyFile, data: made.keyPem, mode: KEY_MODE },
    { file: caCertFile, data: made.certPem },
    { file: passwordFile, data: KEY_PASSWORD + '\n', mode: KEY_MODE },
    { file: path.join(dir, 'ca-password'), data: CA_PASSWORD + '\n', mode: KEY_MODE },
  ]);
  const ca = loadCa({ certFile: caCertFile, keyFile: caKeyFile, password: CA_PASSWORD });
  const out: Pki['holders'] = {};
  await Promise.all(
    Object.entries(holders).map(async ([name, options]) => {
      const csr = await createCsr(name, KEY_PASSWORD, { iterations: TEST_ITERATIONS });
      const signed = signCsr(ca, csr.csrPem, options);
      const files = {
        keyFile: path.join(dir, name, 'domain.key'),
        csrFile: path.join(dir, name, 'domain.csr'),
        certFile: path.join(dir, name, `${name}.crt`),
        csrPem: csr.csrPem,
      };
      writeNewFiles([
        { file: files.keyFile, data: csr.keyPem, mode: KEY_MODE },
        { file: files.csrFile, data: csr.csrPem },
        { file: files.certFile, data: signed.certPem },
      ]);
      out[name] = files;
    }),
  );
  return { dir, ca, caCertFile, caKeyFile, passwordFile, holders: out };
}

// A forgery: a certificate for `csrPem` that names the CA of `caCertPem` as its issuer, with that
// CA's very name bytes and key identifier, but signed by `otherKey`. Only the signature tells it
// from the real thing.
export function forgeCertificate(caCertPem: string, otherKey: KeyObject, csrPem: string, role: LeafRole = 'client'): string {
  const now = Date.now();
  return issueCertificate(caCertPem, otherKey, readCsr(csrPem), { role, now, caNotAfter: now + 365 * 86_400_000 }).certPem;
}

// A client certificate as Parley 0.1.0 signed it: the subject and issuer copied through
// node-forge's attributes, so a non-ASCII name is written as the UTF-8 of its UTF-8 (issue 14).
export function signLikeParley010(ca: CaMaterial, csrPem: string): string {
  const csr = readCsr(csrPem);
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = csr.publicKey as forge.pki.rsa.PublicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.now() - 3_600_000);
  cert.validity.notAfter = new Date(Date.now() + 30 * 86_400_000);
  cert.setSubject(csr.subject.attributes);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
  ]);
  cert.sign(toForgePrivateKey(ca.key), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}
