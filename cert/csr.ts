// Certificate requests: step B.1-2 of the original's "long way" (its create_key_csr.sh). The key
// never leaves the machine that made it; only the request travels to the operator.
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { DEFAULTS, type KeyBits } from './constants.js';
import { badCsr, csrBadSignature } from './errors.js';
import { encryptPrivateKey, generateKey, toForgePrivateKey, toForgePublicKey, type EncryptOptions } from './keys.js';
import { commonName } from './x509.js';

export type MadeCsr = { key: KeyObject; keyPem: string; csrPem: string };

// A PKCS#10 request for `name`, signed with the key to prove the requester holds it.
export function createCsrFor(key: KeyObject, name: string): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = toForgePublicKey(key);
  csr.setSubject(commonName(name));
  csr.sign(toForgePrivateKey(key), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

export async function createCsr(name: string, password: string | Buffer, options: { bits?: KeyBits } & EncryptOptions = {}): Promise<MadeCsr> {
  // Check the name before spending a second on a key.
  commonName(name);
  const key = await generateKey(options.bits ?? DEFAULTS.BITS);
  const csrPem = createCsrFor(key, name);
  const keyPem = await encryptPrivateKey(key, password, options);
  return { key, keyPem, csrPem };
}

// A request read and its signature checked: a request altered on its way to the operator (or
// made for another key) must not become a certificate.
export function readCsr(pem: string | Buffer, file = 'the request'): forge.pki.CertificateSigningRequest {
  const text = pem.toString();
  if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(text)) throw badCsr(file, new Error('no CERTIFICATE REQUEST block'));
  let csr: forge.pki.CertificateSigningRequest;
  try {
    // node-forge reads RSA requests only; an EC request fails here with "OID is not RSA".
    csr = forge.pki.certificationRequestFromPem(text);
  } catch (err) {
    throw badCsr(file, err);
  }
  let valid = false;
  try {
    valid = csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw csrBadSignature(file);
  return csr;
}
