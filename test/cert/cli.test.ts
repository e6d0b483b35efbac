// Tests src/commands/cert.ts through the real program (node dist/src/cli.js; `npm test` builds
// it first). Kept under test/cert so that `vitest run test/cert` covers the whole area.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl, parley, removeDir, tamper, tempDir, type Run } from './helpers.js';

describe('cert command', () => {
  let dir: string;
  let caDir: string;
  let caPw: string;
  let keyPw: string;
  let wrongPw: string;

  // One line on stderr, "parley: ...", and the expected code.
  function expectRefusal(run: Run, status: number, text: RegExp): void {
    expect(run.status).toBe(status);
    expect(run.stderr).toMatch(/^parley: [^\n]+\n$/);
    expect(run.stderr).toMatch(text);
  }

  beforeAll(async () => {
    dir = tempDir('cli');
    caDir = path.join(dir, 'CA');
    caPw = path.join(dir, 'ca.pw');
    keyPw = path.join(dir, 'key.pw');
    wrongPw = path.join(dir, 'wrong.pw');
    fs.writeFileSync(caPw, 'the CA password\n');
    fs.writeFileSync(keyPw, 'the key password\n');
    fs.writeFileSync(wrongPw, 'not the password\n');
    // Step A: the CA. Steps B and C: a server's and a client's key and request.
    const runs = await Promise.all([
      parley(['cert', 'ca', '--dir', caDir, '--password-file', caPw, '--name', 'Test Operator CA']),
      parley(['cert', 'csr', '--dir', path.join(dir, 'server'), '--name', 'rendezvous', '--password-file', keyPw]),
      parley(['cert', 'csr', '--dir', path.join(dir, 'alice'), '--name', 'alice'], { env: { PARLEY_KEY_PASSWORD: 'the key password' } }),
    ]);
    for (const run of runs) expect(run.stderr).toBe('');
    for (const run of runs) expect(run.status).toBe(0);
  });
  afterAll(() => removeDir(dir));

  it('cert - the long way: CA, requests, a server and a client certificate that openssl verifies', async () => {
    expect(fs.readdirSync(caDir).sort()).toEqual(['rootCA.crt', 'rootCA.key']);
    const server = await parley(['cert', 'sign', '--ca-dir', caDir, '--csr', path.join(dir, 'server', 'domain.csr'), '--role', 'server', '--out', path.join(dir, 'server', 'domain.crt'), '--host', '127.0.0.1', '--host', 'chat.example.org', '--password-file', caPw]);
    expect(server.status).toBe(0);
    expect(server.stdout).toContain('role               server');
    const client = await parley(['cert', 'sign', '--ca-dir', caDir, '--csr', path.join(dir, 'alice', 'domain.csr'), '--role', 'client', '--out', path.join(dir, 'alice', 'client.crt'), '--json'], { env: { PARLEY_CA_PASSWORD: 'the CA password' } });
    expect(client.status).toBe(0);
    expect(JSON.parse(client.stdout)).toMatchObject({ role: 'client', subject: 'CN=alice', issuer: 'CN=Test Operator CA' });
    for (const cert of [path.join(dir, 'server', 'domain.crt'), path.join(dir, 'alice', 'client.crt')]) {
      expect(openssl(['verify', '-CAfile', path.join(caDir, 'rootCA.crt'), cert]).stdout.trim()).toBe(`${cert}: OK`);
    }
    // The keys open in openssl with their passwords.
    expect(openssl(['pkey', '-in', path.join(caDir, 'rootCA.key'), '-passin', `file:${caPw}`, '-noout']).status).toBe(0);
    expect(openssl(['pkey', '-in', path.join(dir, 'alice', 'domain.key'), '-passin', `file:${keyPw}`, '-noout']).status).toBe(0);
    expect(openssl(['pkey', '-in', path.join(dir, 'alice', 'domain.key'), '-passin', `file:${wrongPw}`, '-noout']).status).not.toBe(0);
  });

  it('cert - show --json agrees with openssl x509 -fingerprint -sha256 and the public key hash', async () => {
    const file = path.join(caDir, 'rootCA.crt');
    const show = await parley(['cert', 'show', file, '--json']);
    expect(show.status).toBe(0);
    const info = JSON.parse(show.stdout);
    expect(Object.keys(info)).toEqual(['subject', 'issuer', 'role', 'not_before', 'not_after', 'fingerprint_sha256', 'key_sha256']);
    expect(info.role).toBe('ca');
    const fp = openssl(['x509', '-in', file, '-noout', '-fingerprint', '-sha256']).stdout.trim().split('=')[1];
    expect(info.fingerprint_sha256).toBe(fp.replace(/:/g, '').toLowerCase());
    const pub = openssl(['x509', '-in', file, '-noout', '-pubkey']).stdout;
    const der = openssl(['pkey', '-pubin', '-outform', 'DER'], pub).bytes!;
    expect(info.key_sha256).toBe(openssl(['dgst', '-sha256', '-r'], der).stdout.split(' ')[0]);
    expect(Number.isInteger(info.not_before) && Number.isInteger(info.not_after)).toBe(true);
  });

  it('cert - signing the same request again renews with the same key', async () => {
    const csr = path.join(dir, 'alice', 'domain.csr');
    const [a, b] = await Promise.all(
      ['renew1.crt', 'renew2.crt'].map((name) => parley(['cert', 'sign', '--ca-dir', caDir, '--csr', csr, '--role', 'client', '--out', path.join(dir, name), '--days', '30', '--json', '--password-file', caPw])),
    );
    const [infoA, infoB] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
    expect(infoA.key_sha256).toBe(infoB.key_sha256);
    expect(infoA.fingerprint_sha256).not.toBe(infoB.fingerprint_sha256);
  });

  it('cert - a wrong CA password: exit 2, one line, no certificate written', async () => {
    const out = path.join(dir, 'never.crt');
    const run = await parley(['cert', 'sign', '--ca-dir', caDir, '--csr', path.join(dir, 'alice', 'domain.csr'), '--role', 'client', '--out', out, '--password-file', wrongPw]);
    expectRefusal(run, 2, /wrong password/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('cert - an existing file: exit 2 and it stays as it was', async () => {
    const before = fs.readFileSync(path.join(caDir, 'rootCA.crt'), 'utf8');
    expectRefusal(await parley(['cert', 'ca', '--dir', caDir, '--password-file', caPw]), 2, /already exists/);
    expect(fs.readFileSync(path.join(caDir, 'rootCA.crt'), 'utf8')).toBe(before);
    expectRefusal(await parley(['cert', 'csr', '--dir', path.join(dir, 'alice'), '--name', 'x', '--password-file', keyPw]), 2, /already exists/);
    const out = path.join(dir, 'alice', 'taken.crt');
    fs.writeFileSync(out, 'mine');
    expectRefusal(await parley(['cert', 'sign', '--ca-dir', caDir, '--csr', path.join(dir, 'alice', 'domain.csr'), '--role', 'client', '--out', out, '--password-file', caPw]), 2, /already exists/);
    expect(fs.readFileSync(out, 'utf8')).toBe('mine');
  });

  it('cert - a request with a bad signature: exit 2, nothing written', async () => {
    const bad = path.join(dir, 'tampered.csr');
    fs.writeFileSync(bad, tamper(fs.readFileSync(path.join(dir, 'alice', 'domain.csr'), 'utf8'), 0.95));
    const out = path.join(dir, 'tampered.crt');
    expectRefusal(await parley(['cert', 'sign', '--ca-dir', caDir, '--csr', bad, '--role', 'client', '--out', out, '--password-file', caPw]), 2, /signature/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('cert - no password source and no terminal: exit 5, pointing at --password-file, nothing written', async () => {
    const where = path.join(dir, 'no-password');
    const run = await parley(['cert', 'csr', '--dir', where, '--name', 'x']);
    expectRefusal(run, 5, /--password-file/);
    expect(fs.existsSync(where)).toBe(false);
  });

  it('cert - bad options: exit 2 (role, bits, days, host, missing server host)', async () => {
    const csr = path.join(dir, 'server', 'domain.csr');
    const base = ['cert', 'sign', '--ca-dir', caDir, '--csr', csr, '--out', path.join(dir, 'x.crt'), '--password-file', caPw];
    expectRefusal(await parley([...base, '--role', 'admin']), 2, /--role/);
    expectRefusal(await parley([...base, '--role', 'client', '--days', '0']), 2, /--days/);
    expectRefusal(await parley([...base, '--role', 'server', '--host', 'a b']), 2, /host name/);
    expectRefusal(await parley([...base, '--role', 'server']), 2, /--host/);
    expectRefusal(await parley(['cert', 'ca', '--dir', path.join(dir, 'ca2'), '--bits', '1024', '--password-file', caPw]), 2, /--bits/);
    expect(fs.existsSync(path.join(dir, 'x.crt'))).toBe(false);
  });

  it('cert - verify: ok for our certificates, exit 2 for a wrong role, a foreign CA or a file that is no certificate', async () => {
    const ca = path.join(caDir, 'rootCA.crt');
    const alice = path.join(dir, 'alice', 'client.crt');
    const ok = await parley(['cert', 'verify', alice, '--ca', ca, '--role', 'client']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('ok, a client certificate');
    expectRefusal(await parley(['cert', 'verify', alice, '--ca', ca, '--role', 'server']), 2, /server expected/);
    const otherCa = path.join(dir, 'OtherCA');
    expect((await parley(['cert', 'ca', '--dir', otherCa, '--password-file', caPw, '--name', 'Other'])).status).toBe(0);
    expectRefusal(await parley(['cert', 'verify', alice, '--ca', path.join(otherCa, 'rootCA.crt')]), 2, /not signed by this CA/);
    expectRefusal(await parley(['cert', 'show', path.join(dir, 'alice', 'domain.csr')]), 2, /not a certificate/);
  });
});
