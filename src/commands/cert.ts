// `parley cert ...`: the operator's certificate authority, replacing the original's four openssl
// scripts (docs/OPERATOR.md walks through them). The work is in cert/; this file reads options
// and passwords, checks outputs before any slow step, and prints what was written.
import path from 'node:path';
import type { Command } from 'commander';
import { createCa } from '../../cert/ca.js';
import { DEFAULTS, ENV, FILES, KEY_BITS, type KeyBits, type LeafRole } from '../../cert/constants.js';
import { createCsr } from '../../cert/csr.js';
import { badBits, badDays, badRole, certRefused } from '../../cert/errors.js';
import { ensureAbsent, KEY_MODE, PUBLIC_MODE, readText, writeNewFiles } from '../../cert/files.js';
import { keySha256 } from '../../cert/keys.js';
import { obtainPassword } from '../../cert/password.js';
import { loadCa, signCsr } from '../../cert/sign.js';
import { checkPeerCertificate } from '../net/tls.js';
import { describeCertificate, readCertificate, type CertInfo } from '../../cert/x509.js';
import { printJson, printLine } from './common.js';

type CaOpts = { dir: string; days?: string; bits?: string; name?: string; passwordFile?: string; json?: boolean };
type CsrOpts = { dir: string; name: string; bits?: string; passwordFile?: string; json?: boolean };
type SignOpts = { caDir: string; csr: string; role: string; out: string; host: string[]; days?: string; passwordFile?: string; json?: boolean };
type ShowOpts = { json?: boolean };
type VerifyOpts = { ca: string; role?: string; json?: boolean };

export function registerCertCommands(program: Command): void {
  const cert = program
    .command('cert')
    .description('the certificate authority: make the CA, key requests, sign and inspect certificates');

  cert
    .command('ca')
    .description(`make a certificate authority: DIR/${FILES.CA_KEY} (encrypted) and DIR/${FILES.CA_CERT}`)
    .requiredOption('--dir <dir>', 'where to write the CA files')
    .option('--days <n>', `validity in days (default ${DEFAULTS.CA_DAYS})`)
    .option('--bits <n>', `RSA key size: ${KEY_BITS.join(', ')} (default ${DEFAULTS.BITS})`)
    .option('--name <name>', `the CA's common name (default "${DEFAULTS.CA_NAME}")`)
    .option('--password-file <file>', `the new CA password, first line (else ${ENV.CA_PASSWORD}, else asked twice)`)
    .option('--json', 'print the result as one JSON line')
    .action(async (opts: CaOpts) => runCa(opts));

  cert
    .command('csr')
    .description(`make a private key and a certificate request: DIR/${FILES.KEY} (encrypted) and DIR/${FILES.CSR}`)
    .requiredOption('--dir <dir>', 'where to write the key and the request')
    .requiredOption('--name <name>', "the holder's common name (a person, a computer or the server)")
    .option('--bits <n>', `RSA key size: ${KEY_BITS.join(', ')} (default ${DEFAULTS.BITS})`)
    .option('--password-file <file>', `the new key password, first line (else ${ENV.KEY_PASSWORD}, else asked twice)`)
    .option('--json', 'print the result as one JSON line')
    .action(async (opts: CsrOpts) => runCsr(opts));

  cert
    .command('sign')
    .description('sign a certificate request with the CA of --ca-dir')
    .requiredOption('--ca-dir <dir>', `the folder of ${FILES.CA_KEY} and ${FILES.CA_CERT}`)
    .requiredOption('--csr <file>', 'the request to sign')
    .requiredOption('--role <role>', 'server (the rendezvous server) or client (a person; also listens for peers)')
    .requiredOption('--out <file>', 'the certificate to write (must not exist)')
    .option('--host <nameOrIp>', 'a host name or IP address the holder is reached at (repeatable; a server needs one)', collect, [])
    .option('--days <n>', `validity in days (default ${DEFAULTS.CERT_DAYS})`)
    .option('--password-file <file>', `the CA password, first line (else ${ENV.CA_PASSWORD}, else asked)`)
    .option('--json', 'print the result as one JSON line')
    .action(async (opts: SignOpts) => runSign(opts));

  cert
    .command('show')
    .description('show a certificate: subject, issuer, role, validity, fingerprints')
    .argument('<file>', 'a certificate in PEM')
    .option('--json', 'print one JSON line: subject, issuer, role, not_before, not_after, fingerprint_sha256, key_sha256')
    .action((file: string, opts: ShowOpts) => runShow(file, opts));

  cert
    .command('verify')
    .description('check a certificate against a CA: chain, validity, role (exit 2 if refused)')
    .argument('<file>', 'a certificate in PEM')
    .requiredOption('--ca <file>', `the CA certificate (${FILES.CA_CERT})`)
    .option('--role <role>', 'the role it must have: server or client')
    .option('--json', 'print the certificate as `cert show --json` does')
    .action((file: string, opts: VerifyOpts) => runVerify(file, opts));
}

async function runCa(opts: CaOpts): Promise<void> {
  const days = parseDays(opts.days, DEFAULTS.CA_DAYS);
  const bits = parseBits(opts.bits);
  const keyFile = path.join(opts.dir, FILES.CA_KEY);
  const certFile = path.join(opts.dir, FILES.CA_CERT);
  // Refuse before asking for a password or spending a second on a key.
  ensureAbsent([keyFile, certFile]);
  const password = await obtainPassword({ what: 'CA', file: opts.passwordFile, env: ENV.CA_PASSWORD, confirm: true });
  const made = await createCa(password, { bits, days, name: opts.name });
  writeNewFiles([
    { file: keyFile, data: made.keyPem, mode: KEY_MODE },
    { file: certFile, data: made.certPem, mode: PUBLIC_MODE },
  ]);
  const info = describeCertificate(readCertificate(made.certPem));
  if (opts.json) return printJson({ key_file: keyFile, cert_file: certFile, ...info });
  printLine(`wrote ${keyFile} (the CA's private key: keep it secret, never hand it out)`);
  printLine(`wrote ${certFile} (give it to the server and to every client)`);
  printInfo(info);
}

async function runCsr(opts: CsrOpts): Promise<void> {
  const bits = parseBits(opts.bits);
  const keyFile = path.join(opts.dir, FILES.KEY);
  const csrFile = path.join(opts.dir, FILES.CSR);
  ensureAbsent([keyFile, csrFile]);
  const password = await obtainPassword({ what: 'key', file: opts.passwordFile, env: ENV.KEY_PASSWORD, confirm: true });
  const made = await createCsr(opts.name, password, { bits });
  writeNewFiles([
    { file: keyFile, data: made.keyPem, mode: KEY_MODE },
    { file: csrFile, data: made.csrPem, mode: PUBLIC_MODE },
  ]);
  const key = keySha256(made.key);
  if (opts.json) return printJson({ key_file: keyFile, csr_file: csrFile, key_sha256: key });
  printLine(`wrote ${keyFile} (the private key: it stays on this computer)`);
  printLine(`wrote ${csrFile} (send it to the operator to sign)`);
  printLine(`key_sha256 ${key}`);
}

async function runSign(opts: SignOpts): Promise<void> {
  const role = parseRole(opts.role);
  const days = parseDays(opts.days, DEFAULTS.CERT_DAYS);
  ensureAbsent([opts.out]);
  const csrPem = readText(opts.csr, 'certificate request');
  const password = await obtainPassword({ what: 'CA', file: opts.passwordFile, env: ENV.CA_PASSWORD });
  const ca = loadCa({
    certFile: path.join(opts.caDir, FILES.CA_CERT),
    keyFile: path.join(opts.caDir, FILES.CA_KEY),
    password,
  });
  const signed = signCsr(ca, csrPem, { role, hosts: opts.host, days, csrFile: opts.csr });
  writeNewFiles([{ file: opts.out, data: signed.certPem, mode: PUBLIC_MODE }]);
  const info = describeCertificate(readCertificate(signed.certPem));
  if (opts.json) return printJson({ cert_file: opts.out, clamped_to_ca: signed.clampedToCa, ...info });
  printLine(`wrote ${opts.out}`);
  if (signed.clampedToCa) printLine(`note: the certificate ends when the CA does, on ${new Date(signed.notAfter).toISOString()}`);
  printInfo(info);
}

function runShow(file: string, opts: ShowOpts): void {
  const info = describeCertificate(readCertificate(readText(file, 'certificate'), file));
  if (opts.json) return printJson(info);
  printInfo(info);
}

function runVerify(file: string, opts: VerifyOpts): void {
  const role = opts.role === undefined ? undefined : parseRole(opts.role);
  const cert = readCertificate(readText(file, 'certificate'), file);
  const caPem = readText(opts.ca, 'CA certificate');
  readCertificate(caPem, opts.ca);
  const check = checkPeerCertificate(cert, { caPem, expectRole: role });
  if (!check.ok) throw certRefused(file, check.code, check.reason);
  const info = describeCertificate(cert);
  if (opts.json) return printJson(info);
  printLine(`${file}: ok, a ${check.role} certificate of this CA`);
  printInfo(info);
}

function printInfo(info: CertInfo): void {
  printLine(`subject            ${info.subject}`);
  printLine(`issuer             ${info.issuer}`);
  printLine(`role               ${info.role ?? '(none)'}`);
  printLine(`not before         ${new Date(info.not_before).toISOString()}`);
  printLine(`not after          ${new Date(info.not_after).toISOString()}`);
  printLine(`fingerprint_sha256 ${info.fingerprint_sha256}`);
  printLine(`key_sha256         ${info.key_sha256}`);
}

function parseDays(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text.trim());
  if (!/^[0-9]+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1 || n > DEFAULTS.MAX_DAYS) throw badDays(text);
  return n;
}

function parseBits(text: string | undefined): KeyBits {
  if (text === undefined) return DEFAULTS.BITS;
  const n = Number(text.trim());
  if (!(KEY_BITS as readonly number[]).includes(n)) throw badBits(text);
  return n as KeyBits;
}

function parseRole(text: string): LeafRole {
  if (text === 'server' || text === 'client') return text;
  throw badRole(text);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
