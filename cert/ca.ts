// The operator's certificate authority: step A of the original's "long way" (its create_cert.sh).
// One RSA key, encrypted with the CA password, and a self-signed certificate that every client
// keeps beside it (rootCA.crt) to recognise the server and its peers.
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { DEFAULTS, type KeyBits } from './constants.js';
import { encryptPrivateKey, generateKey, toForgePrivateKey, toForgePublicKey, type EncryptOptions } from './keys.js';
import { commonName, randomSerialHex, wholeSeconds } from './x509.js';

export type CaOptions = {
  name?: string;
  days?: number;
  now?: number;
};

export type MadeCa = { key: KeyObject; keyPem: string; certPem: string };

// A certificate for `key` issued by itself, named `name`, with `extensions`; SHA-256 (node-forge
// signs with SHA-1 unless given a digest, and Node refuses such a certificate). Backdated by
// DEFAULTS.BACKDATE_MS, valid `days` (DEFAULTS.CA_DAYS by default). The CA's and a self-signed
// profile's (self.ts) differ only in their extensions.
export function selfIssuedCertificate(key: KeyObject, name: string, extensions: object[], options: { days?: number; now?: number } = {}): string {
  const now = options.now ?? Date.now();
  const days = options.days ?? DEFAULTS.CA_DAYS;
  const cert = forge.pki.createCertificate();
  cert.publicKey = toForgePublicKey(key);
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = wholeSeconds(now - DEFAULTS.BACKDATE_MS);
  cert.validity.notAfter = wholeSeconds(now + days * 86_400_000);
  const subject = commonName(name);
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    ...extensions,
    { name: 'subjectKeyIdentifier' },
    // Self-signed: the authority's key is this certificate's own, which is what `true` means.
    { name: 'authorityKeyIdentifier', keyIdentifier: true },
  ]);
  cert.sign(toForgePrivateKey(key), forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

// The CA certificate for a key: CA:true and keyCertSign (what OpenSSL demands of an issuer).
export function createCaCertificate(key: KeyObject, options: CaOptions = {}): string {
  return selfIssuedCertificate(
    key,
    options.name ?? DEFAULTS.CA_NAME,
    [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
    options,
  );
}

// A new CA: key generated, certificate signed, key encrypted. Nothing touches the disk here;
// the caller writes both files at once (files.ts) so a failure leaves neither.
export async function createCa(password: string | Buffer, options: CaOptions & { bits?: KeyBits } & EncryptOptions = {}): Promise<MadeCa> {
  // Check the name before spending a second on a key.
  commonName(options.name ?? DEFAULTS.CA_NAME);
  const key = await generateKey(options.bits ?? DEFAULTS.BITS);
  const certPem = createCaCertificate(key, options);
  const keyPem = await encryptPrivateKey(key, password, options);
  return { key, keyPem, certPem };
}
