// A self-signed client certificate: the identity of a profile with no operator (`parley init`
// without --server, issue 10). No CA vouches for it; peers accept it for its key fingerprint only,
// pinned from an invite or at first contact (docs/PROTOCOL.md "Invites"). The key is made and
// encrypted exactly as `parley cert csr` makes it (keys.ts).
//
// The certificate is a leaf that is its own issuer: basicConstraints CA:false (so roleOf calls it
// a client, never a CA), clientAuth and serverAuth (a client also listens for its peers), and no
// keyUsage extension. Why none: OpenSSL's X509_check_issued refuses an issuer whose keyUsage lacks
// keyCertSign, and RFC 5280 forbids keyCertSign without CA:true; without the extension any use
// is allowed, the certificate checks as issued by itself, and `loadIdentity` can read the profile
// with the certificate as its own CA.
import type { KeyObject } from 'node:crypto';
import { selfIssuedCertificate } from './ca.js';
import { DEFAULTS, type KeyBits } from './constants.js';
import { encryptPrivateKey, generateKey, type EncryptOptions } from './keys.js';
import { commonName } from './x509.js';

export type SelfSignedOptions = {
  bits?: KeyBits;
  days?: number;
  now?: number;
} & EncryptOptions;

export type MadeSelfSigned = { key: KeyObject; keyPem: string; certPem: string };

// The certificate for `key`, named `name`. Valid for DEFAULTS.CA_DAYS (ten years) by default:
// it is its own root, and peers pin its key, not its dates.
export function createSelfSignedCertificate(key: KeyObject, name: string, options: { days?: number; now?: number } = {}): string {
  return selfIssuedCertificate(
    key,
    name,
    [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    ],
    options,
  );
}

// A new self-signed identity: key generated, certificate signed, key encrypted. Nothing touches
// the disk here; the caller writes the files at once (files.ts).
export async function createSelfSigned(name: string, password: string | Buffer, options: SelfSignedOptions = {}): Promise<MadeSelfSigned> {
  // Check the name before spending a second on a key.
  commonName(name);
  const key = await generateKey(options.bits ?? DEFAULTS.BITS);
  const certPem = createSelfSignedCertificate(key, name, options);
  const keyPem = await encryptPrivateKey(key, password, options);
  return { key, keyPem, certPem };
}
