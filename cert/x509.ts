// Reading certificates: Node's X509Certificate (OpenSSL underneath) for everything it can say,
// so what Parley reports agrees with `openssl x509` by construction. Writing them is node-forge's
// job (ca.ts, sign.ts); these are the shared pieces.
import crypto, { X509Certificate } from 'node:crypto';
import net from 'node:net';
import forge from 'node-forge';
import { hasControlChars } from '../src/net/text.js';
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

// SHA-256 of the SubjectPublicKeyInfo. Hashed straight from the certificate's bytes when they are
// already what OpenSSL would export: exporting the key costs ~250 µs a call.
export function keySha256OfX509(cert: X509Certificate): string {
  // Read first, as ever: a key OpenSSL cannot decode still throws here.
  const key = cert.publicKey;
  const spki = canonicalSpkiOf(cert.raw);
  return spki ? crypto.createHash('sha256').update(spki).digest('hex') : keySha256(key);
}

// The SubjectPublicKeyInfo inside a DER certificate when its bytes are exactly those of
// `publicKey.export({ type: 'spki', format: 'der' })`: an RSA key (Parley's) or a P-256 key with
// an uncompressed point, in canonical DER. Null for anything else, which takes the slow path.
function canonicalSpkiOf(der: Buffer): Buffer | null {
  const fields = tbsFieldsOf(der);
  if (!fields) return null;
  const { spki } = fields;
  const body = tlv(der, spki.start, 0x30);
  if (!body) return null;
  for (const { algorithm, canonicalKey } of SPKI_KINDS) {
    const after = body.start + algorithm.length;
    if (after > body.end || !der.subarray(body.start, after).equals(algorithm)) continue;
    const bits = tlv(der, after, 0x03);
    if (!bits || bits.end !== body.end || der[bits.start] !== 0) return null;
    return canonicalKey(der, bits.start + 1, bits.end) ? der.subarray(spki.start, spki.end) : null;
  }
  return null;
}

type Span = { start: number; end: number };

// Where the issuer, subject and SubjectPublicKeyInfo of a DER certificate lie, each span covering
// the whole element (tag and length included). Null when the bytes are not laid out as RFC 5280
// says.
function tbsFieldsOf(der: Buffer): { issuer: Span; subject: Span; spki: Span } | null {
  const cert = tlv(der, 0, 0x30);
  const tbs = cert && tlv(der, cert.start, 0x30);
  if (!tbs) return null;
  let at = tbs.start;
  const version = tlv(der, at, 0xa0);
  if (version) at = version.end;
  // serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
  const spans: Span[] = [];
  for (const tag of [0x02, 0x30, 0x30, 0x30, 0x30, 0x30]) {
    const field = tlv(der, at, tag);
    if (!field || field.end > tbs.end) return null;
    spans.push({ start: at, end: field.end });
    at = field.end;
  }
  return { issuer: spans[2], subject: spans[4], spki: spans[5] };
}

// The issuer and subject Names of a certificate, as the DER bytes that were signed. A signer
// copies them from here rather than re-encoding what a parser made of them: a re-encoding is how
// Parley once wrote every non-ASCII name twice over (UTF-8 of UTF-8).
export function namesOf(cert: X509Certificate): { issuer: Buffer; subject: Buffer } {
  const fields = tbsFieldsOf(cert.raw);
  // Node parsed these bytes already, so they are a certificate; a layout this reader cannot walk
  // would be a bug here, not bad input.
  if (!fields) throw new Error('cannot find the names in a certificate that OpenSSL read');
  return { issuer: cert.raw.subarray(fields.issuer.start, fields.issuer.end), subject: cert.raw.subarray(fields.subject.start, fields.subject.end) };
}

// The subject Name of a PKCS#10 request (CertificationRequestInfo: version, subject, ...) as
// the DER bytes its requester signed, or null when the request is not laid out so.
export function csrSubjectOf(der: Buffer): Buffer | null {
  const request = tlv(der, 0, 0x30);
  const info = request && tlv(der, request.start, 0x30);
  const version = info && tlv(der, info.start, 0x02);
  const subject = version && tlv(der, version.end, 0x30);
  return subject && subject.end <= info.end ? der.subarray(version.end, subject.end) : null;
}

const SPKI_KINDS: ReadonlyArray<{ algorithm: Buffer; canonicalKey: (der: Buffer, start: number, end: number) => boolean }> = [
  {
    // SEQUENCE { rsaEncryption, NULL }; the key: SEQUENCE { INTEGER modulus, INTEGER exponent }
    algorithm: Buffer.from('300d06092a864886f70d0101010500', 'hex'),
    canonicalKey: (der, start, end) => {
      const rsa = tlv(der, start, 0x30);
      const modulus = rsa && tlv(der, rsa.start, 0x02);
      const exponent = modulus && tlv(der, modulus.end, 0x02);
      return !!exponent && rsa.end === end && exponent.end === end && minimalPositive(der, modulus) && minimalPositive(der, exponent);
    },
  },
  {
    // SEQUENCE { id-ecPublicKey, prime256v1 }; the key: 04 X Y
    algorithm: Buffer.from('301306072a8648ce3d020106082a8648ce3d030107', 'hex'),
    canonicalKey: (der, start, end) => end - start === 65 && der[start] === 0x04,
  },
];

// The DER element with `tag` at `at`: where its contents start and end. Null for another tag, an
// indefinite or non-minimal length, or one running past the buffer.
function tlv(der: Buffer, at: number, tag: number): { start: number; end: number } | null {
  if (at + 2 > der.length || der[at] !== tag) return null;
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 3 || start + n > der.length || der[start] === 0) return null;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + der[start + i];
    start += n;
    if (length < 0x80) return null;
  }
  return start + length <= der.length ? { start, end: start + length } : null;
}

function minimalPositive(der: Buffer, int: { start: number; end: number }): boolean {
  if (int.end === int.start || der[int.start] & 0x80) return false;
  return !(der[int.start] === 0 && int.end - int.start > 1 && !(der[int.start + 1] & 0x80));
}

export function describeCertificate(cert: X509Certificate): CertInfo {
  const { notBefore, notAfter } = validityOf(cert);
  return {
    subject: subjectOf(cert),
    issuer: issuerOf(cert),
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

// A name with the bytes it is made of, for messages about names that look alike but are not:
// => 'CN=Ð¢ÐµÑ (UTF-8 43 4e 3d c3 90 c2 a2 c3 90 c2 b5 c3 91)'. Plain ASCII names need no bytes.
export function nameWithBytes(name: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\u0000-\u007f]*$/.test(name)) return name;
  return `${name} (UTF-8 ${Buffer.from(name, 'utf8').toString('hex').replace(/(..)(?=.)/g, '$1 ')})`;
}

// => "CN=ann"
export function issuerOf(cert: X509Certificate): string {
  return oneLine(cert.issuer);
}

// => "CN=ann"
export function subjectOf(cert: X509Certificate): string {
  return oneLine(cert.subject);
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
  if (trimmed.length < 1 || [...trimmed].length > 64 || hasControlChars(trimmed)) throw badName(name);
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
