// Private keys: made by Node's native crypto (OpenSSL, many times faster than node-forge's
// JavaScript RSA), stored as encrypted PKCS#8 PEM that `openssl pkey` opens, and handed to
// node-forge only for signing certificates and requests.
import crypto, { type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { DEFAULTS, KDF, OID, type KeyBits } from './constants.js';
import { badKeyFile, wrongPassword } from './errors.js';

const generateKeyPair = promisify(crypto.generateKeyPair);
const pbkdf2 = promisify(crypto.pbkdf2);

export type EncryptOptions = { iterations?: number };

// A new RSA private key. Async: a 4096-bit key takes about a second and the prompt, the spinner
// or the other test in the same process need not wait behind it.
export async function generateKey(bits: KeyBits = DEFAULTS.BITS): Promise<KeyObject> {
  const { privateKey } = await generateKeyPair('rsa', { modulusLength: bits, publicExponent: 0x10001 });
  return privateKey;
}

// The key as PKCS#8 EncryptedPrivateKeyInfo (RFC 8018 PBES2), PEM "ENCRYPTED PRIVATE KEY".
// Why not `key.export({ cipher, passphrase })`: Node leaves the iteration count to OpenSSL's
// default of 2,048, far below what a password on a stolen laptop needs today; Node has no
// option to raise it. So we derive and encrypt with Node's crypto and write the same ASN.1
// structure OpenSSL writes, with KDF.ITERATIONS instead. Any OpenSSL (and Node's
// createPrivateKey) reads it back.
export async function encryptPrivateKey(key: KeyObject, password: string | Buffer, options: EncryptOptions = {}): Promise<string> {
  const iterations = options.iterations ?? KDF.ITERATIONS;
  const plain = key.export({ type: 'pkcs8', format: 'der' });
  const salt = crypto.randomBytes(KDF.SALT_BYTES);
  const iv = crypto.randomBytes(KDF.IV_BYTES);
  const derived = await pbkdf2(password, salt, iterations, KDF.KEY_BYTES, KDF.DIGEST);
  const cipher = crypto.createCipheriv(KDF.CIPHER, derived, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  derived.fill(0);
  plain.fill(0);

  // EncryptedPrivateKeyInfo ::= SEQUENCE {
  //   encryptionAlgorithm SEQUENCE { PBES2, SEQUENCE {
  //     keyDerivationFunc SEQUENCE { PBKDF2, SEQUENCE { salt, iterationCount, prf SEQUENCE { hmacWithSHA256, NULL } } },
  //     encryptionScheme SEQUENCE { aes256-CBC, iv } } },
  //   encryptedData OCTET STRING }
  const info = seq([
    seq([
      oid(OID.PBES2),
      seq([
        seq([oid(OID.PBKDF2), seq([octets(salt), integer(iterations), seq([oid(OID.HMAC_SHA256), nullValue()])])]),
        seq([oid(OID.AES_256_CBC), octets(iv)]),
      ]),
    ]),
    octets(encrypted),
  ]);
  const der = Buffer.from(forge.asn1.toDer(info).getBytes(), 'binary');
  return toPem('ENCRYPTED PRIVATE KEY', der);
}

// Opens a private key PEM (encrypted PKCS#8 as we write it, or any PEM key Node reads).
// `file` only names the key in the error. Synchronous: Node has no async key parsing, and the
// cost (the KDF) is paid once at start.
export function decryptPrivateKey(pem: string, password: string | Buffer | undefined, file = 'the key'): KeyObject {
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem) || /Proc-Type:\s*4,ENCRYPTED/.test(pem);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw badKeyFile(file, new Error('no PRIVATE KEY block'));
  if (encrypted && (password === undefined || password.length === 0)) throw wrongPassword(file);
  try {
    return crypto.createPrivateKey({ key: pem, format: 'pem', passphrase: password ?? '' });
  } catch (err) {
    // With CBC, a wrong password shows as bad padding (255 times in 256) or as garbage that
    // fails to parse as a key: both mean the password is wrong, once the PEM itself was sound.
    if (encrypted) throw wrongPassword(file, err);
    throw badKeyFile(file, err);
  }
}

export function publicKeyOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? crypto.createPublicKey(key) : key;
}

// SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex: what ids and pins are bound to.
// It stays the same when a certificate is renewed from the same CSR.
export function keySha256(key: KeyObject): string {
  const spki = publicKeyOf(key).export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(spki).digest('hex');
}

const KEY_SHA256_HEX = /^[0-9a-f]{64}$/;

// A key's SHA-256 as pins, the server's registry and its revocations keep it: 64 lowercase hex,
// with the colons and the case of a pasted fingerprint ignored; null when the text is not one.
// Spaces are not forgiven here: a command line trims its argument first.
// => 'ab12…' from 'AB:12:…'
export function normalKeySha256(text: string): string | null {
  const key = String(text).replace(/:/g, '').toLowerCase();
  return KEY_SHA256_HEX.test(key) ? key : null;
}

// The same key in node-forge's shape, for signing. Only RSA: node-forge has no other.
export function toForgePrivateKey(key: KeyObject): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(key.export({ type: 'pkcs1', format: 'pem' }) as string) as forge.pki.rsa.PrivateKey;
}

export function toForgePublicKey(key: KeyObject): forge.pki.rsa.PublicKey {
  return forge.pki.publicKeyFromPem(publicKeyOf(key).export({ type: 'spki', format: 'pem' }) as string) as forge.pki.rsa.PublicKey;
}

export function toPem(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function seq(items: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SEQUENCE, true, items);
}

function oid(value: string): forge.asn1.Asn1 {
  return forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OID, false, forge.asn1.oidToDer(value).getBytes());
}

function octets(value: Buffer): forge.asn1.Asn1 {
  return forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, value.toString('binary'));
}

function integer(value: number): forge.asn1.Asn1 {
  return forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.INTEGER, false, forge.asn1.integerToDer(value).getBytes());
}

function nullValue(): forge.asn1.Asn1 {
  return forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.NULL, false, '');
}
