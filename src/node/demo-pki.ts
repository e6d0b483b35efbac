// The demo's certificate authority (node/demo.ts): what an operator makes with `parley cert ca`,
// `cert csr` and `cert sign`, made here with the same code and no openssl: a CA, the server's
// certificate for 127.0.0.1, and a client certificate for each of the two profiles. Made once
// per demo folder, whole or not at all (built in a temporary folder, then renamed into place).
import fs from 'node:fs';
import path from 'node:path';
import { createCa } from '../../cert/ca.js';
import { createCsr } from '../../cert/csr.js';
import { signCsr } from '../../cert/sign.js';
import { badInput } from '../errors.js';

type Holder = 'server' | 'user' | 'bot';
const HOLDERS: readonly Holder[] = ['server', 'user', 'bot'];

export type HolderFiles = { caFile: string; certFile: string; keyFile: string };
export type DemoPki = Record<Holder, HolderFiles> & { password: string };

function filesIn(dir: string, holder: Holder): HolderFiles {
  return { caFile: path.join(dir, 'ca.crt'), certFile: path.join(dir, `${holder}.crt`), keyFile: path.join(dir, `${holder}.key`) };
}

// The files of one holder with the key's password, as loadIdentity takes them.
export function pkiFiles(pki: DemoPki, holder: Holder): HolderFiles & { password: string } {
  return { ...pki[holder], password: pki.password };
}

export async function makeDemoPki(dir: string, password: string): Promise<DemoPki> {
  const pki = { password, ...Object.fromEntries(HOLDERS.map((h) => [h, filesIn(dir, h)])) } as DemoPki;
  if (fs.existsSync(dir)) {
    const missing = HOLDERS.flatMap((h) => Object.values(pki[h])).filter((f) => !fs.existsSync(f));
    if (missing.length > 0) throw badInput('DEMO_PKI_INCOMPLETE', `the demo's certificates in ${dir} are incomplete (${path.basename(missing[0])} is missing): start the demo in a new folder`);
    return pki;
  }
  const building = `${dir}.${process.pid}.tmp`;
  fs.rmSync(building, { recursive: true, force: true });
  fs.mkdirSync(building, { recursive: true, mode: 0o700 });
  try {
    // The four keys at once (RSA generation and the key encryption run on libuv's threads).
    const [ca, ...csrs] = await Promise.all([
      createCa(password, { name: 'Parley demo CA' }),
      ...HOLDERS.map((holder) => createCsr(holder === 'server' ? 'Parley demo server' : `Parley demo ${holder}`, password)),
    ]);
    fs.writeFileSync(path.join(building, 'ca.crt'), ca.certPem);
    fs.writeFileSync(path.join(building, 'ca.key'), ca.keyPem, { mode: 0o600 });
    HOLDERS.forEach((holder, i) => {
      const signed = signCsr({ certPem: ca.certPem, key: ca.key }, csrs[i].csrPem, holder === 'server' ? { role: 'server', hosts: ['127.0.0.1'] } : { role: 'client' });
      const files = filesIn(building, holder);
      fs.writeFileSync(files.certFile, signed.certPem);
      fs.writeFileSync(files.keyFile, csrs[i].keyPem, { mode: 0o600 });
    });
    fs.renameSync(building, dir);
  } catch (err) {
    fs.rmSync(building, { recursive: true, force: true });
    throw err;
  }
  return pki;
}
