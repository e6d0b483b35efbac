// Signing requests with the operator's CA: steps B.4 and C.2 of the original's "long way" (its
// create_certificate.sh and create_client_certificate.sh), one function for both roles.
import crypto, { type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { DEFAULTS, type LeafRole } from './constants.js';
import { badCsr, caExpired, caKeyMismatch, hostRequired, notACa } from './errors.js';
import { decryptPrivateKey, keySha256 } from './keys.js';
import { readCsr } from './csr.js';
import { altNamesOf, csrSubjectOf, keySha256OfX509, namesOf, randomSerialHex, readCertificate, validityOf, wholeSeconds } from './x509.js';
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
  const csr = readCsr(csrPem, options.csrFile);
  const { notAfter: caNotAfter } = checkCa(ca, now);
  return issueCertificate(ca.certPem, ca.key, csr, { ...options, now, caNotAfter });
}

// The certificate itself, with no check that `key` is the CA's: signCsr makes that check. Apart
// from it for the tests, which forge certificates with it (the CA's name, another key) to prove
// that every verifier refuses them.
export function issueCertificate(
  caCertPem: string,
  key: KeyObject,
  csr: forge.pki.CertificateSigningRequest,
  options: SignOptions & { now: number; caNotAfter: number },
): Signed {
  const caX509 = readCertificate(caCertPem, 'the CA certificate');
  const caCert = forge.pki.certificateFromPem(caCertPem);
  const altNames = altNamesOf(options.hosts ?? []);
  const days = options.days ?? DEFAULTS.CERT_DAYS;
  const notBefore = options.notBefore ?? options.now - DEFAULTS.BACKDATE_MS;
  let notAfter = options.notAfter ?? options.now + days * 86_400_000;
  // A certificate that outlives its CA would stop working on the CA's last day anyway; saying so
  // now beats a surprise then.
  const clampedToCa = options.notAfter === undefined && notAfter > options.caNotAfter;
  if (clampedToCa) notAfter = options.caNotAfter;

  const cert = forge.pki.createCertificate();
  cert.publicKey = csr.publicKey as forge.pki.rsa.PublicKey;
  cert.serialNumber = randomSerialHex();
  cert.validity.notBefore = wholeSeconds(notBefore);
  cert.validity.notAfter = wholeSeconds(notAfter);

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

  // The names are copied as the bytes their owners signed: the subject from the request, the
  // issuer from the CA's own subject (OpenSSL matches the two when it builds the chain). Through
  // node-forge's attributes, a UTF8String comes back as its bytes and was written as UTF-8 again:
  // "Клиент" became "ÐÐ»Ð¸ÐµÐ½Ñ" and no chain verified (issue 14).
  const subjectDer = csrSubjectOf(Buffer.from(forge.asn1.toDer(forge.pki.certificationRequestToAsn1(csr)).getBytes(), 'binary'));
  if (!subjectDer) throw badCsr(options.csrFile ?? 'the request', new Error('no subject name in it'));
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: forge.pki.Certificate): forge.asn1.Asn1 }).getTBSCertificate(cert);
  // TBSCertificate: [0] version, serialNumber, signature, issuer (3), validity, subject (5), ...
  (tbs.value as forge.asn1.Asn1[])[3] = derToForge(namesOf(caX509).subject);
  (tbs.value as forge.asn1.Asn1[])[5] = derToForge(subjectDer);
  const tbsDer = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  // certificateToAsn1 prefers this cached TBSCertificate over building one from the fields.
  cert.tbsCertificate = tbs;
  cert.signature = crypto.sign('sha256', tbsDer, key).toString('binary');
  const certPem = forge.pki.certificateToPem(cert);
  return {
    certPem,
    notBefore: cert.validity.notBefore.getTime(),
    notAfter: cert.validity.notAfter.getTime(),
    clampedToCa,
  };
}

// DER bytes as a node-forge ASN.1 node; forge writes a node read this way back byte for byte.
function derToForge(der: Buffer): forge.asn1.Asn1 {
  return forge.asn1.fromDer(der.toString('binary'));
}

// The CA's own subjectKeyIdentifier when it has one (a CA made by another tool may compute it
// another way), else the RFC 5280 method 1 hash node-forge uses.
function authorityKeyId(caCert: forge.pki.Certificate): string {
  const ski = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | null;
  if (ski && typeof ski.subjectKeyIdentifier === 'string') return forge.util.hexToBytes(ski.subjectKeyIdentifier);
  return caCert.generateSubjectKeyIdentifier().getBytes();
}
