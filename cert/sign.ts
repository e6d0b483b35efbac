// Signing requests with the operator's CA: steps B.4 and C.2 of the original's "long way" (its
// create_certificate.sh and create_client_certificate.sh), one function for both roles.
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { DEFAULTS, type LeafRole } from './constants.js';
import { caExpired, caKeyMismatch, hostRequired, notACa } from './errors.js';
import { decryptPrivateKey, keySha256, toForgePrivateKey } from './keys.js';
import { readCsr } from './csr.js';
import { altNamesOf, keySha256OfX509, randomSerialHex, readCertificate, validityOf, wholeSeconds } from './x509.js';
import { readText } from './files.js';

export type CaMaterial = { certPem: string; key: KeyObject; certFile?: string; keyFile?: string };

export type SignOptions = {
  role: LeafRole;
  // Names and addresses the holder is dialled at; required for a server, optional for a client.
  hosts?: readonly string[];
  days?: number;
  now?: number;
  // Exact validity, for tests (an expired certificate) and for nothing else: no CLI option sets it.
  notBefore?: number;
  notAfter?: number;
  // Names the request in errors.
  csrFile?: string;
};

export type Signed = { certPem: string; notBefore: number; notAfter: number; clampedToCa: boolean };

// Reads and opens the CA of a directory (rootCA.crt, rootCA.key) and checks that it can sign.
export function loadCa(files: { certFile: string; keyFile: string; password: string | Buffer; now?: number }): CaMaterial {
  const certPem = readText(files.certFile, 'CA certificate');
  const keyPem = readText(files.keyFile, 'CA key');
  const key = decryptPrivateKey(keyPem, files.password, files.keyFile);
  const ca: CaMaterial = { certPem, key, certFile: files.certFile, keyFile: files.keyFile };
  checkCa(ca, files.now ?? Date.now());
  return ca;
}

function checkCa(ca: CaMaterial, now: number): { notAfter: number } {
  const certFile = ca.certFile ?? 'the CA certificate';
  const x509 = readCertificate(ca.certPem, certFile);
  if (!x509.ca) throw notACa(certFile);
  const { notAfter } = validityOf(x509);
  if (now > notAfter) throw caExpired(certFile, notAfter);
  if (keySha256(ca.key) !== keySha256OfX509(x509)) throw caKeyMismatch(ca.keyFile ?? 'the CA key', certFile);
  return { notAfter };
}

// A certificate for the key of `csrPem`, signed by `ca`. Signing the same request again gives a
// renewed certificate with the same key, hence the same key_sha256 and the same Parley id.
export function signCsr(ca: CaMaterial, csrPem: string, options: SignOptions): Signed {
  const now = options.now ?? Date.now();
  const hosts = options.hosts ?? [];
  if (options.role !== 'server' && options.role !== 'client') throw new TypeError(`role must be server or client, got ${String(options.role)}`);
  if (options.role === 'server' && hosts.length === 0) throw hostRequired();
  const altNames = altNamesOf(hosts);
  const csr = readCsr(csrPem, options.csrFile);
  const { notAfter: caNotAfter } = checkCa(ca, now);
  const caCert = forge.pki.certificateFromPem(ca.certPem);

  const days = options.days ?? DEFAULTS.CERT_DAYS;
  const notBefore = options.notBefore ?? now - DEFAULTS.BACKDATE_MS;
  let notAfter = options.notAfter ?? now + days * 86_400_000;
  // A certificate that outlives its CA would stop working on the CA's last day anyway; saying so
  // now beats a surprise then.
  const clampedToCa = options.notAfter === undefined && notAfter > caNotAfter;
  if (clampedToCa) notAfter = caNotAfter;

  const cert = forge.pki.createCertificate();
  cert.publicKey = csr.publicKey as forge.pki.rsa.PublicKey;
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = wholeSeconds(notBefore);
  cert.validity.notAfter = wholeSeconds(notAfter);
  cert.setSubject(csr.subject.attributes);
  // The issuer is the CA's subject as the CA encoded it: OpenSSL matches the two when it builds
  // the chain.
  cert.setIssuer(caCert.subject.attributes);

  // A client listens for its peers too (the original's "built-in server"), so it gets both.
  const eku = options.role === 'client' ? { serverAuth: true, clientAuth: true } : { serverAuth: true };
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    // digitalSignature is what TLS 1.3 uses; keyEncipherment keeps TLS 1.2 RSA key exchange possible
    // for tools that still speak it.
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', ...eku },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId(caCert) },
  ];
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions);
  cert.sign(toForgePrivateKey(ca.key), forge.md.sha256.create());
  return {
    certPem: forge.pki.certificateToPem(cert),
    notBefore: cert.validity.notBefore.getTime(),
    notAfter: cert.validity.notAfter.getTime(),
    clampedToCa,
  };
}

// The CA's own subjectKeyIdentifier when it has one (a CA made by another tool may compute it
// another way), else the RFC 5280 method 1 hash node-forge uses.
function authorityKeyId(caCert: forge.pki.Certificate): string {
  const ski = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  if (ski && typeof ski.subjectKeyIdentifier === 'string') return forge.util.hexToBytes(ski.subjectKeyIdentifier);
  return caCert.generateSubjectKeyIdentifier().getBytes();
}
