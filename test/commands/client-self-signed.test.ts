// parley init without a server (issue 10): a self-signed identity, its fingerprint shown, its id
// the first 40 bits of that fingerprint, journaled as a login journals a server's id.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decryptPrivateKey, keySha256 } from '../../cert/keys.js';
import { keySha256OfCert } from '../../src/net/tls.js';
import { decodeInvite } from '../../src/net/invite.js';
import { isSelfSignedHome } from '../../src/node/identity.js';
import { jsonLines, lines, runParley, tempHome } from '../helpers/cli.js';
import { startUp } from '../helpers/client.js';
import type { TestPki } from '../server/helpers.js';

const ENV = { PARLEY_KEY_PASSWORD: 'a key password' };

describe('init without a server', () => {
  it('init - without --server makes a self-signed identity: files written, key encrypted and private, id = first 40 bits of the fingerprint, journaled', async () => {
    const home = tempHome('init-self');
    const r = await runParley(['init', '--name', 'Алиса', '--json'], { home, env: ENV });
    expect(r.code, r.stderr).toBe(0);
    const [row] = jsonLines(r.stdout);
    const dir = path.join(home, 'identity');
    const certPem = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    const keyPem = fs.readFileSync(path.join(dir, 'key.pem'), 'utf8');
    expect(fs.readFileSync(path.join(dir, 'ca.pem'), 'utf8')).toBe(certPem);
    expect(isSelfSignedHome(home)).toBe(true);
    expect(isSelfSignedHome(path.join(home, 'nothing'))).toBe(false);
    expect(keyPem).toContain('-----BEGIN ENCRYPTED PRIVATE KEY-----');
    expect(fs.statSync(path.join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
    // The key opens with the password and is the certificate's.
    const fingerprint = keySha256OfCert(certPem);
    expect(keySha256(decryptPrivateKey(keyPem, ENV.PARLEY_KEY_PASSWORD))).toBe(fingerprint);
    expect(row).toMatchObject({ home, name: 'Алиса', server: null, key_sha256: fingerprint });
    expect(row.id).toBe(parseInt(fingerprint.slice(0, 10), 16));
    expect(row.id).toBeGreaterThan(0);

    const status = await runParley(['status', '--json'], { home });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ id: row.id, name: 'Алиса', server: 'none', contacts: [] });
  });

  it('init - the text form prints the whole fingerprint and the id', async () => {
    const home = tempHome('init-self-text');
    const r = await runParley(['init'], { home, env: ENV });
    expect(r.code, r.stderr).toBe(0);
    const fingerprint = keySha256OfCert(fs.readFileSync(path.join(home, 'identity', 'cert.pem')));
    expect(r.stdout).toContain(`key_sha256 ${fingerprint}\n`);
    expect(r.stdout).toContain(`id ${parseInt(fingerprint.slice(0, 10), 16)},`);
  });

  it('init - a second self-signed init is refused with exit 2, the first identity kept', async () => {
    const home = tempHome('init-self-twice');
    expect((await runParley(['init'], { home, env: ENV })).code).toBe(0);
    const before = fs.readFileSync(path.join(home, 'identity', 'key.pem'), 'utf8');
    const again = await runParley(['init', '--name', 'Bob'], { home, env: ENV });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a profile/);
    expect(fs.readFileSync(path.join(home, 'identity', 'key.pem'), 'utf8')).toBe(before);
  });

  it('init - some of --server, --ca, --cert, --key but not all: exit 2, nothing written', async () => {
    const home = tempHome('init-self-partial');
    const r = await runParley(['init', '--server', '127.0.0.1:7400'], { home, env: ENV });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing --ca, --cert, --key/);
    expect(fs.existsSync(path.join(home, 'identity'))).toBe(false);
  });

  it('init - no password from a file, the environment or a terminal: exit 5 (as parley cert csr), nothing written', async () => {
    const home = tempHome('init-self-nopw');
    const r = await runParley(['init'], { home, env: { PARLEY_KEY_PASSWORD: undefined } });
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/PARLEY_KEY_PASSWORD/);
    expect(fs.existsSync(path.join(home, 'identity'))).toBe(false);
  });

  it('init - a self-signed profile runs with parley up, no server; status and invite reach the running client', async () => {
    const home = tempHome('init-self-up');
    const [row] = jsonLines((await runParley(['init', '--json'], { home, env: ENV })).stdout);
    const passwordFile = path.join(home, 'password.txt');
    fs.writeFileSync(passwordFile, ENV.PARLEY_KEY_PASSWORD + '\n');
    // startUp reads only the password file of the PKI it is given.
    const u = startUp({ ours: { passwordFile } } as unknown as TestPki, home);
    try {
      await u.waitFor('the client runs on');
      const status = await runParley(['status', '--json'], { home });
      expect(JSON.parse(status.stdout)).toMatchObject({ id: row.id, server: 'none' });
      const invite = await runParley(['invite', '--port', '7402', '--address', '127.0.0.1'], { home });
      expect(invite.code, invite.stderr).toBe(0);
      expect(decodeInvite(lines(invite.stdout).at(-1) as string)).toMatchObject({ id: row.id, keySha256: row.key_sha256, port: 7402, addresses: ['127.0.0.1'] });
      // Without --port, the running client's listener: the one status shows.
      const listening = (JSON.parse(status.stdout) as { listen_port: number }).listen_port;
      expect(listening).toBeGreaterThan(0);
      const own = await runParley(['invite', '--address', '127.0.0.1'], { home });
      expect(own.code, own.stderr).toBe(0);
      expect(decodeInvite(lines(own.stdout).at(-1) as string).port).toBe(listening);
    } finally {
      u.child.kill('SIGTERM');
      expect(await u.exited).toBe(0);
    }
  });

  it('up - a folder with no profile is told both ways to make one', async () => {
    const r = await runParley(['up'], { home: tempHome('up-none'), env: ENV });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--server HOST:PORT .*, or without a server with parley init --home/);
  });
});
