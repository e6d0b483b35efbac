// The fixed choices of Parley's certificate tooling, in one place so that docs/CERTIFICATES.md,
// the CLI's help and the tests all read the same numbers.

export const ROLES = Object.freeze(['ca', 'server', 'client'] as const);
export type Role = (typeof ROLES)[number];
// A leaf certificate is signed for one of these; 'ca' is only ever made by `cert ca`.
export type LeafRole = Exclude<Role, 'ca'>;

export const KEY_BITS = Object.freeze([2048, 3072, 4096] as const);
export type KeyBits = (typeof KEY_BITS)[number];

export const DEFAULTS = Object.freeze({
  BITS: 2048 as KeyBits,
  CA_DAYS: 3650,
  // 825 days: the longest lifetime Apple's TLS clients accept for a private CA's server certificate.
  CERT_DAYS: 825,
  CA_NAME: 'Parley CA',
  // Certificates start this far in the past, so a peer whose clock runs a little behind the
  // operator's does not refuse a certificate signed a minute ago.
  BACKDATE_MS: 60 * 60 * 1000,
  MAX_DAYS: 36500,
});

// Private keys are PKCS#8 PEM, PBES2: PBKDF2-HMAC-SHA256 then AES-256-CBC. 600,000 iterations is
// OWASP's 2023 figure for PBKDF2-HMAC-SHA256; it costs 0.12-0.2 s per key load here, paid once
// when a client or the server starts (docs/CERTIFICATES.md has the figures).
export const KDF = Object.freeze({
  ITERATIONS: 600_000,
  SALT_BYTES: 16,
  CIPHER: 'aes-256-cbc',
  KEY_BYTES: 32,
  IV_BYTES: 16,
  DIGEST: 'sha256',
});

// New passwords shorter than this are refused, as `openssl genpkey` does.
export const MIN_PASSWORD_LENGTH = 4;

export const FILES = Object.freeze({
  CA_KEY: 'rootCA.key',
  CA_CERT: 'rootCA.crt',
  KEY: 'domain.key',
  CSR: 'domain.csr',
});

export const ENV = Object.freeze({
  CA_PASSWORD: 'PARLEY_CA_PASSWORD',
  KEY_PASSWORD: 'PARLEY_KEY_PASSWORD',
});

export const OID = Object.freeze({
  SERVER_AUTH: '1.3.6.1.5.5.7.3.1',
  CLIENT_AUTH: '1.3.6.1.5.5.7.3.2',
  PBES2: '1.2.840.113549.1.5.13',
  PBKDF2: '1.2.840.113549.1.5.12',
  HMAC_SHA256: '1.2.840.113549.2.9',
  AES_256_CBC: '2.16.840.1.101.3.4.1.42',
});
