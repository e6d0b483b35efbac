// Who this client is to an operator's server: its CA certificate, its own certificate and its
// key, copied into the profile by `parley init` (the key stays encrypted with its password, as
// `parley cert csr` wrote it), and the server's addresses (servers.ts), journaled as a setting.
// The id is not known until the server gives it at the first login (client.ts journals it then).
//
// Or, with no operator (issue 10), a self-signed identity made by `parley init` alone: the same
// three files, ca.pem being a copy of cert.pem (the certificate is its own root, so that
// loadIdentity reads the profile unchanged, and a check by chain accepts no peer but this one:
// peers are accepted by their pinned key only). Its id is known at once: candidate 0 of its key
// (docs/PROTOCOL.md section 4), journaled with identity.created by init.
//
//   <home>/identity/ca.pem  cert.pem  key.pem
import fs from 'node:fs';
import path from 'node:path';
import { writeNewFiles, KEY_MODE } from '../../cert/files.js';
import { keySha256 } from '../../cert/keys.js';
import { createSelfSigned, type SelfSignedOptions } from '../../cert/self.js';
import { readCertificate, validityOf } from '../../cert/x509.js';
import { badInput } from '../errors.js';
import { assignId } from '../net/control.js';
import { loadIdentity, type Identity } from '../net/tls.js';

export const SERVER_SETTING = 'server';
export const NAME_SETTING = 'name';

export type IdentityFiles = { caFile: string; certFile: string; keyFile: string };

export function identityFiles(home: string): IdentityFiles {
  const dir = path.join(home, 'identity');
  return { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') };
}

export function hasIdentity(home: string): boolean {
  return fs.existsSync(identityFiles(home).certFile);
}

// Checks the three files as the client will use them (the certificate chains to the CA, is a
// client's and in date, the key opens with the password and matches it) and copies them into the
// profile. Nothing is written when a check fails.
export function installIdentity(home: string, source: IdentityFiles, password: string | undefined): Identity {
  const identity = loadIdentity({ ...source, password });
  if (identity.role !== 'client') {
    throw badInput('CERT_WRONG_ROLE', `${source.certFile} is a ${identity.role} certificate: a client needs one signed with --role client`);
  }
  const target = identityFiles(home);
  writeNewFiles([
    { file: target.caFile, data: fs.readFileSync(source.caFile) },
    { file: target.certFile, data: fs.readFileSync(source.certFile) },
    { file: target.keyFile, data: fs.readFileSync(source.keyFile), mode: KEY_MODE },
  ]);
  return identity;
}

// The identity of a profile, its key opened with the password.
export function loadHomeIdentity(home: string, password: string | undefined): Identity {
  return loadIdentity({ ...identityFiles(home), password });
}

// The id of a self-signed identity: the first 40 bits of its key's fingerprint (candidate 0), or
// when that is 0 (one key in 2^40) the next candidate that is not (docs/PROTOCOL.md section 4).
// Peers pin the whole fingerprint, so a colliding id gains nothing.
// => 347227087000 for 50d858e098…
export function selfSignedId(keySha256Hex: string): number {
  // Nothing is taken without a server: the loop ends at the first non-zero candidate.
  return assignId(Buffer.from(keySha256Hex, 'hex'), () => false) as number;
}

export type SelfSigned = { id: number; keySha256: string; notAfter: number };

// Makes a self-signed identity in the profile: a new key (encrypted with `password`), its
// certificate named `name`, and ca.pem as a copy of it. Nothing is written when a step fails.
export async function createSelfSignedIdentity(home: string, name: string, password: string, options: SelfSignedOptions = {}): Promise<SelfSigned> {
  const made = await createSelfSigned(name, password, options);
  const target = identityFiles(home);
  writeNewFiles([
    { file: target.caFile, data: made.certPem },
    { file: target.certFile, data: made.certPem },
    { file: target.keyFile, data: made.keyPem, mode: KEY_MODE },
  ]);
  const key = keySha256(made.key);
  return { id: selfSignedId(key), keySha256: key, notAfter: validityOf(readCertificate(made.certPem)).notAfter };
}

// Whether the profile's identity is self-signed (made by `parley init` without a server).
export function isSelfSignedHome(home: string): boolean {
  const files = identityFiles(home);
  try {
    return fs.readFileSync(files.caFile, 'utf8') === fs.readFileSync(files.certFile, 'utf8');
  } catch {
    return false;
  }
}
