// What the rendezvous server and the client build their TLS from, and how they check a peer.
// Every link is TLS 1.3 with certificates on both ends (docs/CERTIFICATES.md). Peers are dialled
// by address, so a host name never proves anything here: a peer is accepted for its chain to the
// operator's CA, its role, its validity and, when known, its key fingerprint.
import { X509Certificate, type KeyObject } from 'node:crypto';
import tls from 'node:tls';
import type { Role } from '../../cert/constants.js';
import { certRefused, keyMismatch, PEER_CODES, peerRefused, type PeerCode } from '../../cert/errors.js';
import { readText } from '../../cert/files.js';
import { decryptPrivateKey, keySha256, normalKeySha256 } from '../../cert/keys.js';
import { issuerOf, keySha256OfX509, nameWithBytes, readCertificate, roleOf, subjectOf, validityOf } from '../../cert/x509.js';
import { causeText } from '../errors.js';
import { WIRE_CODE } from './constants.js';

// The code a refusal on the wire carries for each problem: login-refused from the server, a peer
// link's error from a client (docs/PROTOCOL.md "Codes carried in messages"). One code each, so
// the refused side learns which check failed; the Record makes a new PEER_CODE need its own.
const WIRE_CODE_OF: Readonly<Record<PeerCode, string>> = Object.freeze({
  [PEER_CODES.MISSING]: WIRE_CODE.CERT_MISSING,
  [PEER_CODES.UNREADABLE]: WIRE_CODE.CERT_UNREADABLE,
  [PEER_CODES.FOREIGN_CA]: WIRE_CODE.CERT_UNKNOWN_CA,
  [PEER_CODES.WRONG_ROLE]: WIRE_CODE.CERT_WRONG_ROLE,
  [PEER_CODES.EXPIRED]: WIRE_CODE.CERT_EXPIRED,
  [PEER_CODES.NOT_YET_VALID]: WIRE_CODE.CERT_NOT_YET_VALID,
  [PEER_CODES.KEY_MISMATCH]: WIRE_CODE.CERT_KEY_MISMATCH,
});

// => 'CERT_UNKNOWN_CA' from 'CERT_FOREIGN_CA'
export function refusalCode(code: PeerCode): string {
  return WIRE_CODE_OF[code];
}

export type Identity = {
  // PEM texts, as node:tls takes them. `key` is the decrypted private key (PKCS#8 PEM): it lives
  // in this process's memory only, never on disk.
  ca: string;
  cert: string;
  key: string;
  keySha256: string;
  role: Role;
  notAfter: number;
};

export type PeerCheckOptions = {
  caPem: string;
  // The roles accepted. The server expects 'client'; a client expects 'server' from the
  // rendezvous server and 'client' from a peer. Omitted: any role but 'ca'.
  expectRole?: Role | readonly Role[];
  // A pinned key (lowercase hex SHA-256 of the SubjectPublicKeyInfo; colons and case ignored).
  expectKeySha256?: string;
  now?: number;
};

export type PeerCheck =
  | { ok: true; keySha256: string; role: Role; subject: string; notAfter: number }
  | { ok: false; code: PeerCode; reason: string };

// The certificate, key and CA a process presents, read and checked once at start. Throws with
// exit code 2 (WRONG_PASSWORD, KEY_MISMATCH, CERT_EXPIRED, CERT_FOREIGN_CA, ...) so a bad file is
// reported before any socket opens.
export function loadIdentity(files: {
  caFile: string;
  certFile: string;
  keyFile: string;
  password: string | Buffer | undefined;
  now?: number;
}): Identity {
  const ca = readText(files.caFile, 'CA certificate');
  const cert = readText(files.certFile, 'certificate');
  const keyPem = readText(files.keyFile, 'private key');
  const x509 = readCertificate(cert, files.certFile);
  const check = checkPeerCertificate(x509, { caPem: ca, expectRole: ['server', 'client'], now: files.now });
  if (!check.ok) throw certRefused(files.certFile, check.code, check.reason);
  const key: KeyObject = decryptPrivateKey(keyPem, files.password, files.keyFile);
  if (keySha256(key) !== check.keySha256) throw keyMismatch(files.keyFile, files.certFile);
  return {
    ca,
    cert,
    key: key.export({ type: 'pkcs8', format: 'pem' }) as string,
    keySha256: check.keySha256,
    role: check.role,
    notAfter: check.notAfter,
  };
}

// For a tls.Server (also one that never listens and is fed sockets: DESIGN.md, traps).
// OpenSSL checks the client's chain and dates during the handshake; the role and the pin are the
// application's to check on 'secureConnection' with verifyTlsPeer, so it can tell the peer why.
// A client that OpenSSL refuses (another CA, expired) is dropped by Node without a reason: the
// server sees only 'tlsClientError' ECONNRESET, the client a close after 'secureConnect'.
export function serverTlsOptions(identity: Identity): tls.TlsOptions {
  return {
    key: identity.key,
    cert: identity.cert,
    ca: [identity.ca],
    minVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: true,
  };
}

// The TLS server of a client's listener for peer links: as serverTlsOptions, except that a
// certificate this side's CA does not vouch for (a self-signed peer's) is let through the
// handshake, to be judged at the hello by its pinned key or the invite it brings
// (docs/PROTOCOL.md section 14; acceptPeer and src/node/trust.ts). Nothing is accepted on the
// handshake alone: acceptPeer checks every certificate in the application.
export function peerServerTlsOptions(identity: Identity): tls.TlsOptions {
  return { ...serverTlsOptions(identity), rejectUnauthorized: false };
}

// For dialling a contact pinned to a key (an invite, a pin by hand): no CA is asked, the key of
// the certificate is checked after the handshake (pinnedKeyOf). The secure context is made once
// per identity: parsing the key is the costly part of a handshake (clientTlsOptions).
const pinnedContexts = new WeakMap<object, tls.SecureContext>();
export function pinnedClientTlsOptions(identity: Pick<Identity, 'key' | 'cert'>): tls.ConnectionOptions {
  let secureContext = pinnedContexts.get(identity);
  if (!secureContext) {
    secureContext = tls.createSecureContext({ key: identity.key, cert: identity.cert, minVersion: 'TLSv1.3' });
    pinnedContexts.set(identity, secureContext);
  }
  // Not rejectUnauthorized: a self-signed certificate fails OpenSSL's chain check, which is not
  // the check that matters here. checkServerIdentity is skipped for the same reason (a host name
  // proves nothing, section 1).
  return { secureContext, minVersion: 'TLSv1.3', rejectUnauthorized: false, checkServerIdentity: () => undefined };
}

// The key fingerprint of the certificate a live peer presented, and whether it is its own
// issuer (a self-signed profile's, cert/self.ts); null when it sent none or one that cannot be
// read.
export function presentedCertOf(socket: tls.TLSSocket): { keySha256: string; selfIssued: boolean } | null {
  const raw = socket.getPeerCertificate(false)?.raw;
  if (!raw || raw.length === 0) return null;
  try {
    const cert = new X509Certificate(raw);
    return { keySha256: keySha256OfX509(cert), selfIssued: cert.checkIssued(cert) && verifiesWith(cert, cert.publicKey) };
  } catch {
    return null;
  }
}

export function presentedKeyOf(socket: tls.TLSSocket): string | null {
  return presentedCertOf(socket)?.keySha256 ?? null;
}

// For tls.connect. The host-name check is replaced by checkPeerCertificate: a peer is dialled by
// address, which its certificate need not name. `expectRole` defaults to 'server' (the rendezvous
// server); pass 'client' to dial a peer, and its key fingerprint when it is known.
// Node skips checkServerIdentity when a session is resumed: do not pass `session` with these.
// The options carry a secureContext: keep them and reuse them for every connection to that kind
// of peer; `key`, `cert` and `ca` spread over them would be ignored.
// Without `key` and `cert` the client presents no certificate: only the server's tests do that,
// and they still check the server.
export function clientTlsOptions(
  identity: Pick<Identity, 'ca'> & Partial<Pick<Identity, 'key' | 'cert'>>,
  expect: { expectRole?: Role | readonly Role[]; expectKeySha256?: string } = {},
): tls.ConnectionOptions {
  const checkPeer = makePeerChecker({ caPem: identity.ca, expectRole: expect.expectRole ?? 'server', expectKeySha256: expect.expectKeySha256 });
  return {
    // Built once here, not by every tls.connect: parsing the key and the CA is a fifth of a
    // dialler's CPU per handshake (bench/cert.mjs).
    secureContext: tls.createSecureContext({ key: identity.key || undefined, cert: identity.cert || undefined, ca: [identity.ca], minVersion: 'TLSv1.3' }),
    minVersion: 'TLSv1.3',
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => {
      const check = checkPeer(cert);
      return check.ok ? undefined : peerRefused(check.code, check.reason);
    },
  };
}

// OpenSSL checks a server's chain and dates before checkServerIdentity runs, and Node then
// destroys the socket with OpenSSL's code. The same problem gets the same code as from
// checkPeerCertificate, so a client tells its user one story. Null for an error that is not a
// refusal of the certificate (a reset, a refused connection).
// => CERT_FOREIGN_CA from SELF_SIGNED_CERT_IN_CHAIN
const OPENSSL_PEER_CODES: Readonly<Record<string, PeerCode>> = Object.freeze({
  SELF_SIGNED_CERT_IN_CHAIN: PEER_CODES.FOREIGN_CA,
  DEPTH_ZERO_SELF_SIGNED_CERT: PEER_CODES.FOREIGN_CA,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: PEER_CODES.FOREIGN_CA,
  UNABLE_TO_GET_ISSUER_CERT: PEER_CODES.FOREIGN_CA,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: PEER_CODES.FOREIGN_CA,
  CERT_SIGNATURE_FAILURE: PEER_CODES.FOREIGN_CA,
  CERT_HAS_EXPIRED: PEER_CODES.EXPIRED,
  CERT_NOT_YET_VALID: PEER_CODES.NOT_YET_VALID,
});

export function tlsPeerError(err: Error): Error | null {
  const given = (err as NodeJS.ErrnoException).code ?? '';
  // Already ours: checkServerIdentity's refusal (clientTlsOptions).
  if ((Object.values(PEER_CODES) as string[]).includes(given)) return err;
  const code = OPENSSL_PEER_CODES[given];
  if (!code) return null;
  const refused = peerRefused(code, `the server's certificate was refused by TLS: ${err.message}`);
  (refused as Error & { cause?: unknown }).cause = err;
  return refused;
}

// The check of a live peer, for either end once the handshake is done.
export function verifyTlsPeer(
  socket: tls.TLSSocket,
  options: Omit<PeerCheckOptions, 'caPem'> & { identity: Pick<Identity, 'ca'> },
): PeerCheck {
  const { identity, ...rest } = options;
  return checkPeerCertificate(socket.getPeerCertificate(true), { ...rest, caPem: identity.ca });
}

export type PeerCertInput = tls.PeerCertificate | tls.DetailedPeerCertificate | X509Certificate | null | undefined;

// A check bound to one CA and role. Per call, only the pin and the time may change.
export type PeerChecker = (peerCert: PeerCertInput, options?: { expectKeySha256?: string; now?: number }) => PeerCheck;

// Chain to the CA, validity, role, pinned key: in that order, each with its own code
// (PEER_CODES), so the person on the other end of a refusal learns which one failed.
// Never throws.
export function checkPeerCertificate(peerCert: PeerCertInput, options: PeerCheckOptions): PeerCheck {
  return makePeerChecker(options)(peerCert);
}

// checkPeerCertificate with the CA parsed once, for whoever checks many peers against one CA (the
// server, at every login): parsing its PEM was ~40% of each check. Same codes and reasons.
export function makePeerChecker(options: PeerCheckOptions): PeerChecker {
  let ca: X509Certificate;
  try {
    ca = readCertificate(options.caPem, 'the CA certificate');
  } catch (err) {
    const reason = `the CA certificate cannot be read: ${causeText(err)}`;
    return () => refuse(PEER_CODES.UNREADABLE, reason);
  }
  let caKey: KeyObject | null = null;
  try {
    caKey = ca.publicKey;
  } catch {
    // Then no peer verifies with it: CERT_FOREIGN_CA, as when it was fetched per check.
  }
  const caName = subjectOf(ca);
  const caValidity = validityOf(ca);
  const accepted: readonly Role[] = options.expectRole === undefined ? ['server', 'client'] : typeof options.expectRole === 'string' ? [options.expectRole] : options.expectRole;

  return (peerCert, call = {}) => {
    const now = call.now ?? options.now ?? Date.now();
    const expectKeySha256 = call.expectKeySha256 ?? options.expectKeySha256;
    let cert: X509Certificate;
    if (peerCert instanceof X509Certificate) {
      cert = peerCert;
    } else {
      // getPeerCertificate() gives {} when the peer sent no certificate.
      const raw = peerCert && (peerCert as tls.PeerCertificate).raw;
      if (!raw || raw.length === 0) return refuse(PEER_CODES.MISSING, 'the peer sent no certificate');
      try {
        cert = new X509Certificate(raw);
      } catch (err) {
        return refuse(PEER_CODES.UNREADABLE, `the peer's certificate cannot be read: ${causeText(err)}`);
      }
    }

    const subject = subjectOf(cert);
    if (!cert.checkIssued(ca) || !verifiesWith(cert, caKey)) return refuse(PEER_CODES.FOREIGN_CA, notIssuedReason(cert, subject, caName));
    const validity = validityOf(cert);
    for (const [which, whose, { notBefore, notAfter }] of [['certificate', subject, validity], ['CA certificate', caName, caValidity]] as const) {
      if (now < notBefore) return refuse(PEER_CODES.NOT_YET_VALID, `the ${which} of ${whose} is valid only from ${iso(notBefore)} (check the clocks)`);
      if (now > notAfter) return refuse(PEER_CODES.EXPIRED, `the ${which} of ${whose} expired on ${iso(notAfter)}`);
    }
    const role = roleOf(cert);
    if (role === null || !accepted.includes(role)) {
      return refuse(PEER_CODES.WRONG_ROLE, `${subject} is a ${role ?? 'roleless'} certificate, ${accepted.join(' or ')} expected`);
    }
    const key = keySha256OfX509(cert);
    if (expectKeySha256 !== undefined) {
      const expected = normalKeySha256(expectKeySha256);
      // A pin that is not a key's SHA-256 matches no key: shown as it was given.
      if (expected !== key) return refuse(PEER_CODES.KEY_MISMATCH, `${subject} has key ${key}, ${expected ?? expectKeySha256} expected`);
    }
    return { ok: true, keySha256: key, role, subject, notAfter: validity.notAfter };
  };
}

export function keySha256OfCert(pem: string | Buffer | X509Certificate): string {
  return keySha256OfX509(pem instanceof X509Certificate ? pem : readCertificate(pem));
}

// Why a certificate does not chain to the CA, told so that the cause shows. Three cases:
// another issuer name (shown with its bytes when either is not ASCII, since names that differ only
// in their encoding look alike); the CA's name on a certificate of another key (a forgery, or
// another CA of the same name); the CA's name and key identifier with a signature that fails.
function notIssuedReason(cert: X509Certificate, subject: string, caName: string): string {
  const issuer = issuerOf(cert);
  if (issuer !== caName) {
    // Parley before issue 14 wrote a non-ASCII name's UTF-8 bytes as UTF-8 again: "Тест" became
    // "Ð¢ÐµÑÑ". Undoing that once gives the CA's name back.
    const garbled = Buffer.from(issuer, 'latin1').toString('utf8') === caName && /[^\u0000-\u00ff]/.test(issuer) === false;
    const hint = garbled ? ': its issuer name was written twice over as UTF-8 by an older Parley; sign its request again' : '';
    return `${subject} is not signed by this CA: its issuer is ${nameWithBytes(issuer)}, the CA is ${nameWithBytes(caName)}${hint}`;
  }
  return `${subject} is not signed by this CA: it names ${caName} as its issuer but its signature is not that CA's key's (a forged certificate, or one of another CA with the same name)`;
}

function verifiesWith(cert: X509Certificate, caKey: KeyObject | null): boolean {
  if (!caKey) return false;
  try {
    return cert.verify(caKey);
  } catch {
    return false;
  }
}

function refuse(code: PeerCode, reason: string): PeerCheck {
  return { ok: false, code, reason };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
