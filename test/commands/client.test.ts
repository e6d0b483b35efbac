// parley init, parley up and parley status, run as a new user runs them, against a real server on
// loopback: the profile made from the operator's files, the client online with its id, every
// command on the profile reaching the running client over its private local socket, one client
// per profile, a clean end on SIGINT, SIGTERM, SIGHUP and SIGBREAK, and reconnects when the server comes.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RendezvousServer } from '../../server/server.js';
import { freePort } from '../cert/helpers.js';
import { jsonLines, ROOT, runParley, tempHome } from '../helpers/cli.js';
import { clientInitArgs, serverAt, startUp, until, type Up } from '../helpers/client.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob']);
});
afterAll(() => cleanup(pki?.dir));

const initArgs = (name: string, server: string, extra: string[] = []): string[] => clientInitArgs(pki, name, server, extra);
const up = (home: string): Up => startUp(pki, home);
const withServer = <T>(port: number, work: (srv: RendezvousServer) => Promise<T>): Promise<T> => serverAt(pki, port, work);

describe('init', () => {
  it('init - copies the operator\'s files into the profile, key encrypted and private, and journals the server and the name', async () => {
    const home = tempHome('init');
    const r = await runParley(initArgs('alice', '127.0.0.1:7400', ['--name', 'Алиса', '--json']), { home });
    expect(r.code, r.stderr).toBe(0);
    const [row] = jsonLines(r.stdout);
    expect(row).toMatchObject({ home, name: 'Алиса', server: '127.0.0.1:7400', key_sha256: pki.creds.alice.keySha256 });
    expect(Date.parse(row.cert_expires_at as string)).toBeGreaterThan(Date.now());
    const key = fs.readFileSync(path.join(home, 'identity', 'key.pem'), 'utf8');
    expect(key).toContain('ENCRYPTED');
    expect(fs.statSync(path.join(home, 'identity', 'key.pem')).mode & 0o777).toBe(0o600);
    const status = await runParley(['status', '--json'], { home });
    expect(JSON.parse(status.stdout)).toMatchObject({ id: null, name: 'Алиса', server: 'offline', contacts: [] });
  });

  it.each([
    ['a server without a port', ['--server', 'example.org'], 'BAD_SERVER'],
    ['a port out of range', ['--server', '127.0.0.1:70000'], 'BAD_SERVER'],
    ['an empty entry in a list', ['--server', '127.0.0.1:7400,,127.0.0.1:7401'], 'BAD_SERVER'],
    ['a bad port in a list', ['--server', '127.0.0.1:7400,127.0.0.1:0'], 'BAD_SERVER'],
  ])('init - %s: exit 2 and no profile', async (_what, args, code) => {
    const home = tempHome('init-bad');
    const base = initArgs('alice', 'x');
    const i = base.indexOf('--server');
    base.splice(i, 2, ...args);
    const r = await runParley(base, { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/HOST:PORT/);
    expect(fs.existsSync(path.join(home, 'identity'))).toBe(false);
    void code;
  });

  it('init - several processes of one server: the list journaled as given, spaces dropped; status shows it', async () => {
    const home = tempHome('init-list');
    const r = await runParley(initArgs('alice', '127.0.0.1:7400, [::1]:7401,chat.example:7402', ['--json']), { home });
    expect(r.code, r.stderr).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ server: '127.0.0.1:7400,[::1]:7401,chat.example:7402' });
    const status = await runParley(['status', '--json'], { home });
    expect(JSON.parse(status.stdout)).toMatchObject({ server: 'offline', servers: ['127.0.0.1:7400', '[::1]:7401', 'chat.example:7402'], server_address: null });
    const text = await runParley(['status'], { home });
    expect(text.stdout).toMatch(/server offline 127\.0\.0\.1:7400,\[::1\]:7401,chat\.example:7402\n/);
  });

  it('init - a wrong password, a server\'s certificate or another CA\'s: exit 2, nothing written', async () => {
    const home = tempHome('init-refused');
    const wrong = path.join(home, '..', `wrong-${path.basename(home)}`);
    fs.writeFileSync(wrong, 'not the password\n');
    try {
      const r1 = await runParley(['init', '--server', '127.0.0.1:1', '--ca', pki.ours.caCertFile, '--cert', pki.ours.holders.alice.certFile, '--key', pki.ours.holders.alice.keyFile, '--password-file', wrong], { home });
      expect(r1.code).toBe(2);
      expect(r1.stderr).toMatch(/password/i);
      const r2 = await runParley(initArgs('server', '127.0.0.1:1'), { home });
      expect(r2.code).toBe(2);
      expect(r2.stderr).toMatch(/server certificate: a client needs one signed with --role client/);
      const m = pki.foreign.holders.mallory;
      const r3 = await runParley(['init', '--server', '127.0.0.1:1', '--ca', pki.ours.caCertFile, '--cert', m.certFile, '--key', m.keyFile, '--password-file', pki.ours.passwordFile], { home });
      expect(r3.code).toBe(2);
      expect(r3.stderr).toMatch(/CA/);
      expect(fs.existsSync(path.join(home, 'identity'))).toBe(false);
    } finally {
      fs.rmSync(wrong, { force: true });
    }
  });

  it('init - a profile that has a certificate already is refused (exit 2), the first one kept', async () => {
    const home = tempHome('init-twice');
    expect((await runParley(initArgs('alice', '127.0.0.1:7400'), { home })).code).toBe(0);
    const again = await runParley(initArgs('bob', '127.0.0.1:7401'), { home });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a profile/);
    expect(fs.readFileSync(path.join(home, 'identity', 'cert.pem'), 'utf8')).toBe(fs.readFileSync(pki.ours.holders.alice.certFile, 'utf8'));
  });
});

describe('up', () => {
  it('up - online with an id from the server; commands reach the running client with the same output; a second up and a journal rebuild exit 3; SIGTERM ends it cleanly', async () => {
    const port = await freePort();
    await withServer(port, async () => {
      const home = tempHome('up');
      expect((await runParley(initArgs('alice', `127.0.0.1:${port}`, ['--name', 'Alice']), { home })).code).toBe(0);
      const u = up(home);
      try {
        await u.waitFor('online at');
        const status = await runParley(['status', '--json'], { home });
        expect(status.code, status.stderr).toBe(0);
        const s = JSON.parse(status.stdout) as { id: number; server: string; name: string };
        expect(s).toMatchObject({ server: 'online', name: 'Alice' });
        expect(Number.isSafeInteger(s.id) && s.id > 0).toBe(true);

        // A write through the running client: the same output as on a profile opened directly.
        const added = await runParley(['contacts', 'add', '77', '--name', 'Боб', '--json'], { home });
        expect(added.code, added.stderr).toBe(0);
        const other = tempHome('up-compare');
        const direct = await runParley(['contacts', 'add', '77', '--name', 'Боб', '--json'], { home: other });
        expect(added.stdout).toBe(direct.stdout);
        // Bad input is refused the same way, with the same exit code.
        const bad = await runParley(['contacts', 'add', '0', '--name', 'x'], { home });
        expect(bad.code).toBe(2);
        const listed = await runParley(['status', '--json'], { home });
        expect(JSON.parse(listed.stdout).contacts).toEqual([{ id: 77, name: 'Боб', presence: 'offline', route: null, unread: 0, folder: 'main', keep_history: true }]);

        const second = await runParley(['up', '--password-file', pki.ours.passwordFile], { home });
        expect(second.code).toBe(3);
        expect(second.stderr).toMatch(/already runs/);
        // A rebuild would drop the views under the running client's appends: refused, exit 3.
        const rebuild = await runParley(['journal', 'rebuild'], { home });
        expect(rebuild.code).toBe(3);
        expect(rebuild.stderr).toMatch(/a client runs on .*: stop it/);

        u.child.kill('SIGTERM');
        expect(await u.exited).toBe(0);
        expect(fs.existsSync(path.join(home, 'client.path'))).toBe(false);
        // Stopped: the same profile, opened directly, knows its id and the contact.
        const after = JSON.parse((await runParley(['status', '--json'], { home })).stdout) as { id: number; server: string; contacts: unknown[] };
        expect(after).toMatchObject({ id: s.id, server: 'offline' });
        expect(after.contacts).toHaveLength(1);
        const journal = jsonLines((await runParley(['journal', 'inspect', '--json'], { home })).stdout);
        expect(journal.filter((e) => e.type === 'identity.created')).toEqual([expect.objectContaining({ id: s.id, keySha256: pki.creds.alice.keySha256 })]);
        expect(journal.filter((e) => e.type === 'server.registered')).toEqual([expect.objectContaining({ id: s.id, server: `127.0.0.1:${port}` })]);
      } finally {
        u.child.kill('SIGKILL');
      }
    });
  });

  it('up - a contact added while online is watched at once: its presence comes and goes with its client', async () => {
    const port = await freePort();
    await withServer(port, async () => {
      const alice = tempHome('presence-a');
      const bob = tempHome('presence-b');
      expect((await runParley(initArgs('alice', `127.0.0.1:${port}`), { home: alice })).code).toBe(0);
      expect((await runParley(initArgs('bob', `127.0.0.1:${port}`), { home: bob })).code).toBe(0);
      const a = up(alice);
      const b = up(bob);
      try {
        await a.waitFor('online at');
        await b.waitFor('online at');
        const bobId = (JSON.parse((await runParley(['status', '--json'], { home: bob })).stdout) as { id: number }).id;
        expect((await runParley(['contacts', 'add', String(bobId), '--name', 'Bob'], { home: alice })).code).toBe(0);
        const presence = async (): Promise<string> => (JSON.parse((await runParley(['status', '--json'], { home: alice })).stdout) as { contacts: Array<{ presence: string }> }).contacts[0].presence;
        await until(async () => (await presence()) === 'online', 'bob online at alice');
        b.child.kill('SIGTERM');
        expect(await b.exited).toBe(0);
        await until(async () => (await presence()) === 'offline', 'bob offline at alice');
      } finally {
        a.child.kill('SIGTERM');
        b.child.kill('SIGKILL');
        await a.exited;
      }
    });
  });

  it('up - SIGBREAK (Ctrl+Break on Windows, told here by a preload on SIGUSR2) ends it the same clean way', async () => {
    const home = tempHome('up-sigbreak');
    expect((await runParley(initArgs('bob', '127.0.0.1:1'), { home })).code).toBe(0);
    const u = startUp(pki, home, { NODE_OPTIONS: `--require ${path.join(ROOT, 'test', 'helpers', 'sigbreak.cjs')}` });
    try {
      await u.waitFor('Ctrl+C stops it');
      u.child.kill('SIGUSR2');
      expect(await u.exited, u.stderr()).toBe(0);
      expect(u.stderr()).toContain('stopping (SIGBREAK)');
      expect(fs.existsSync(path.join(home, 'client.path'))).toBe(false);
    } finally {
      u.child.kill('SIGKILL');
    }
  });

  it.each(['SIGINT', 'SIGHUP'] as const)('up - %s ends it the same clean way (exit 0, socket gone)', async (signal) => {
    const home = tempHome('up-signal');
    expect((await runParley(initArgs('bob', '127.0.0.1:1'), { home })).code).toBe(0);
    const u = up(home);
    try {
      await u.waitFor('Ctrl+C stops it');
      expect(fs.existsSync(path.join(home, 'client.path'))).toBe(true);
      u.child.kill(signal);
      expect(await u.exited, u.stderr()).toBe(0);
      expect(u.stderr()).toContain(`stopping (${signal})`);
      expect(fs.existsSync(path.join(home, 'client.path'))).toBe(false);
    } finally {
      u.child.kill('SIGKILL');
    }
  });

  it('up - a client started before its server comes online when the server starts', async () => {
    const port = await freePort();
    const home = tempHome('up-later');
    expect((await runParley(initArgs('bob', `127.0.0.1:${port}`), { home })).code).toBe(0);
    const u = up(home);
    try {
      await u.waitFor('Ctrl+C stops it');
      expect(JSON.parse((await runParley(['status', '--json'], { home })).stdout)).toMatchObject({ server: 'offline' });
      await withServer(port, async () => {
        await u.waitFor('online at');
        expect(JSON.parse((await runParley(['status', '--json'], { home })).stdout)).toMatchObject({ server: 'online' });
      });
      await u.waitFor('parley: offline');
    } finally {
      u.child.kill('SIGKILL');
      await u.exited;
    }
  });

  it('up - a client killed with SIGKILL leaves a pointer that the next commands and the next up get past', async () => {
    const home = tempHome('up-killed');
    expect((await runParley(initArgs('bob', '127.0.0.1:1'), { home })).code).toBe(0);
    const u = up(home);
    await u.waitFor('Ctrl+C stops it');
    u.child.kill('SIGKILL');
    await u.exited;
    expect(fs.existsSync(path.join(home, 'client.path'))).toBe(true);
    const r = await runParley(['contacts', '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    const again = up(home);
    try {
      await again.waitFor('Ctrl+C stops it');
    } finally {
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    }
  });

  it('up - the local socket is closed to another user', async () => {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) throw new Error('this test runs as root, to try the socket as another user');
    const home = tempHome('up-private');
    expect((await runParley(initArgs('bob', '127.0.0.1:1'), { home })).code).toBe(0);
    const u = up(home);
    try {
      await u.waitFor('Ctrl+C stops it');
      const where = fs.readFileSync(path.join(home, 'client.path'), 'utf8').trim();
      expect(fs.statSync(path.dirname(where)).mode & 0o777).toBe(0o700);
      expect(fs.statSync(where).mode & 0o777).toBe(0o600);
      // As "nobody": connecting to the socket is refused by the system.
      const probe = `require('net').connect(${JSON.stringify(where)}).on('error', (e) => { console.log(e.code); process.exit(0); }).on('connect', () => { console.log('CONNECTED'); process.exit(0); });`;
      const out = await new Promise<string>((resolve, reject) => {
        const c = spawn(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, cwd: '/' });
        let text = '';
        c.stdout.on('data', (d) => (text += d));
        c.on('error', reject);
        c.on('close', () => resolve(text.trim()));
      });
      expect(out).toBe('EACCES');
    } finally {
      u.child.kill('SIGTERM');
      await u.exited;
    }
  });
});
