// Reading certificates: Node's X509Certificate (OpenSSL underneath) for everything it can say,
// so what Parley reports agrees with `openssl x509` by construction. Writing them is node-forge's
// job (ca.ts, sign.ts); these are the shared pieces.
import crypto, { X509Certificate } from 'node:crypto';
import net from 'node:net';
import forge from 'node-forge';
import { OID, type Role } from './constants.js';
import { badCertFile, badHost, badName } from './errors.js';
import { keySha256 } from './keys.js';

// What `parley cert show --json` prints. Times in ms since the epoch, hex lowercase, no colons.
export type CertInfo = {
  subject: string;
  issuer: string;
  role: Role | null;
  not_before: number;
  not_after: number;
  fingerprint_sha256: string;
  key_sha256: string;
};

export function readCertificate(pem: string | Buffer, file = 'the certificate'): X509Certificate {
  const text = pem.toString();
  if (!/-----BEGIN CERTIFICATE-----/.test(text)) throw badCertFile(file, new Error('no CERTIFICATE block'));
  try {
    return new X509Certificate(text);
  } catch (err) {
    throw badCertFile(file, err);
  }
}

// The role a certificate was signed for. A CA is a CA whatever else it says; clientAuth makes a
// client (whose certificate also carries serverAuth, for its own listener); serverAuth alone makes
// a server. Anything else (no EKU at all, other purposes) has no Parley role.
export function roleOf(cert: X509Certificate): Role | null {
  if (cert.ca) return 'ca';
  // Node names the extended key usage list `keyUsage` (undefined when the extension is absent).
  const eku = cert.keyUsage ?? [];
  if (eku.includes(OID.CLIENT_AUTH)) return 'client';
  if (eku.includes(OID.SERVER_AUTH)) return 'server';
  return null;
}

// => { notBefore: 1764230400000, notAfter: 1835510400000 }
export function validityOf(cert: X509Certificate): { notBefore: number; notAfter: number } {
  // validFrom looks like "Nov 27 08:57:21 2026 GMT"; Date.parse reads that form.
  return { notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

// OpenSSL's `-fingerprint -sha256`: SHA-256 of the whole DER certificate.
export function fingerprintSha256(cert: X509Certificate): string {
  return crypto.createHash('sha256').update(cert.raw).digest('hex');
}

export function keySha256OfX509(cert: X509Certificate): string {
  return keySha256(cert.publicKey);
}

export function describeCertificate(cert: X509Certificate): CertInfo {
  const { notBefore, notAfter } = validityOf(cert);
  return {
    subject: oneLine(cert.subject),
    issuer: oneLine(cert.issuer),
    role: roleOf(cert),
    not_before: notBefore,
    not_after: notAfter,
    fingerprint_sha256: fingerprintSha256(cert),
    key_sha256: keySha256OfX509(cert),
  };
}

// Node prints a name one attribute per line ("CN=ann\nO=Parley"); one line reads better in a
// terminal and in JSON. => "CN=ann, O=Parley"
function oneLine(name: string): string {
  return name.split('\n').filter(Boolean).join(', ');
}

// A random positive serial of 16 bytes (RFC 5280 allows up to 20): the top bit cleared keeps the
// DER INTEGER positive, the next one set keeps its length fixed at 16 bytes.
export function randomSerialHex(): string {
  const bytes = crypto.randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  return bytes.toString('hex');
}

// X.509 keeps whole seconds; dropping the milliseconds here makes `cert show` give back exactly
// the times that were asked for.
export function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

// A common name as node-forge should write it: UTF8String, so that "Анна" survives (node-forge
// writes PrintableString unless told).
export function commonName(name: string): forge.pki.CertificateField[] {
  const trimmed = String(name).trim();
  // 64 is X.520's upper bound for a common name; control characters would garble terminals.
  if (trimmed.length < 1 || [...trimmed].length > 64 || /[\u0000-\u001f\u007f]/.test(trimmed)) throw badName(name);
  return [{ name: 'commonName', value: trimmed, valueTagClass: forge.asn1.Type.UTF8 } as unknown as forge.pki.CertificateField];
}

// --host values as subjectAltNames: an IP address (v4 or v6) or a DNS name.
// => [{ type: 7, ip: '203.0.113.5' }, { type: 2, value: 'chat.example.org' }]
export function altNamesOf(hosts: readonly string[]): Array<{ type: number; ip?: string; value?: string }> {
  const DNS = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
  const seen = new Set<string>();
  const names: Array<{ type: number; ip?: string; value?: string }> = [];
  for (const raw of hosts) {
    const host = String(raw).trim();
    if (seen.has(host.toLowerCase())) continue;
    seen.add(host.toLowerCase());
    if (net.isIP(host)) names.push({ type: 7, ip: host });
    else if (DNS.test(host)) names.push({ type: 2, value: host });
    else throw badHost(raw);
  }
  return names;
}
