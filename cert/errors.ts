// The errors of the certificate tooling. Every one has a fixed UPPER_SNAKE code (tests check it)
// and a one-line message that tells the operator what to do; the CLI prints the message and ends
// with the error's exit code (src/errors.ts): 2 for bad input, 4 for a refused peer, 5 when a
// password was needed and there was no terminal to ask on.
import { EXIT, badInput, causeText, parleyError, type ParleyError } from '../src/errors.js';
import { KEY_BITS, MIN_PASSWORD_LENGTH, DEFAULTS } from './constants.js';

// Why a peer's certificate was refused: returned by checkPeerCertificate, carried by the error
// a TLS connection fails with.
export const PEER_CODES = Object.freeze({
  MISSING: 'CERT_MISSING',
  UNREADABLE: 'CERT_UNREADABLE',
  FOREIGN_CA: 'CERT_FOREIGN_CA',
  WRONG_ROLE: 'CERT_WRONG_ROLE',
  EXPIRED: 'CERT_EXPIRED',
  NOT_YET_VALID: 'CERT_NOT_YET_VALID',
  KEY_MISMATCH: 'CERT_KEY_MISMATCH',
});
export type PeerCode = (typeof PEER_CODES)[keyof typeof PEER_CODES];

export function fileExists(file: string): ParleyError {
  return badInput('FILE_EXISTS', `${file} already exists; move it away or choose another place (nothing was written)`);
}

export function fileUnreadable(file: string, what: string, cause?: unknown): ParleyError {
  return badInput('FILE_UNREADABLE', `cannot read the ${what} ${file}: ${causeText(cause)}`, cause);
}

export function fileUnwritable(file: string, cause?: unknown): ParleyError {
  return badInput('FILE_UNWRITABLE', `cannot write ${file}: ${causeText(cause)} (nothing was written)`, cause);
}

export function wrongPassword(file: string, cause?: unknown): ParleyError {
  return badInput('WRONG_PASSWORD', `wrong password for the private key ${file}`, cause);
}

export function passwordNeeded(what: string, env: string): ParleyError {
  return parleyError(
    'PASSWORD_NEEDED',
    `the ${what} password is needed and there is no terminal to ask on: pass --password-file FILE or set ${env}`,
    EXIT.CONFIRM,
  );
}

export function passwordMismatch(): ParleyError {
  return badInput('PASSWORD_MISMATCH', 'the two passwords differ; run the command again');
}

export function passwordTooShort(): ParleyError {
  return badInput('PASSWORD_TOO_SHORT', `a new password needs at least ${MIN_PASSWORD_LENGTH} characters`);
}

export function passwordCancelled(): ParleyError {
  return badInput('PASSWORD_CANCELLED', 'cancelled at the password prompt; nothing was written');
}

export function passwordFileEmpty(file: string): ParleyError {
  return badInput('PASSWORD_FILE_EMPTY', `the password file ${file} is empty; its first line is the password`);
}

export function badKeyFile(file: string, cause?: unknown): ParleyError {
  return badInput('BAD_KEY_FILE', `${file} is not a private key Parley can read (an RSA key in PEM): ${causeText(cause)}`, cause);
}

export function badCertFile(file: string, cause?: unknown): ParleyError {
  return badInput('BAD_CERT_FILE', `${file} is not a certificate in PEM: ${causeText(cause)}`, cause);
}

export function badCsr(file: string, cause?: unknown): ParleyError {
  return badInput('BAD_CSR', `${file} is not a certificate request Parley can sign (an RSA CSR in PEM): ${causeText(cause)}`, cause);
}

export function csrBadSignature(file: string): ParleyError {
  return badInput('CSR_BAD_SIGNATURE', `the signature of the request ${file} does not match its key: it was altered or damaged; ask for a new one`);
}

export function notACa(file: string): ParleyError {
  return badInput('NOT_A_CA', `${file} is not a certificate authority (no CA:true basic constraint)`);
}

export function caExpired(file: string, notAfter: number): ParleyError {
  return badInput('CA_EXPIRED', `the CA certificate ${file} expired on ${new Date(notAfter).toISOString()}; make a new CA with \`parley cert ca\``);
}

export function caKeyMismatch(keyFile: string, certFile: string): ParleyError {
  return badInput('CA_KEY_MISMATCH', `the key ${keyFile} does not belong to the CA certificate ${certFile}`);
}

export function keyMismatch(keyFile: string, certFile: string): ParleyError {
  return badInput('KEY_MISMATCH', `the key ${keyFile} does not belong to the certificate ${certFile}`);
}

// A certificate refused by checkPeerCertificate, thrown where a file (not a live peer) was checked.
export function certRefused(file: string, code: PeerCode, reason: string): ParleyError {
  return badInput(code, `${file}: ${reason}`);
}

// A live peer refused during a TLS handshake: the link closes, the user sees why.
export function peerRefused(code: PeerCode, reason: string): ParleyError {
  return parleyError(code, `peer refused: ${reason}`, EXIT.PEER);
}

export function badHost(host: string): ParleyError {
  return badInput('BAD_HOST', `"${host}" is neither an IP address nor a host name`);
}

export function hostRequired(): ParleyError {
  return badInput('HOST_REQUIRED', 'a server certificate needs at least one --host NAME_OR_IP (the names and addresses clients dial)');
}

export function badBits(text: string): ParleyError {
  return badInput('BAD_BITS', `--bits must be one of ${KEY_BITS.join(', ')}, got "${text}"`);
}

export function badDays(text: string): ParleyError {
  return badInput('BAD_DAYS', `--days must be a whole number from 1 to ${DEFAULTS.MAX_DAYS}, got "${text}"`);
}

export function badRole(text: string): ParleyError {
  return badInput('BAD_ROLE', `--role must be server or client, got "${text}"`);
}

export function badName(text: string): ParleyError {
  return badInput('BAD_NAME', `a name must be 1 to 64 printable characters, got "${text}"`);
}
