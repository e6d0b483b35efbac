// `parley server` and `parley server revoke` as the operator runs them: the built CLI in a child
// process, a wrong password, a clean stop on SIGTERM, SIGINT, SIGHUP and SIGBREAK, and revocation both through the
// running server's admin socket and into a stopped server's journal.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseListen } from '../../src/commands/server.js';
import { CLI, ROOT, runParley, startScript, type Script } from '../helpers/cli.js';
import { freePort } from '../cert/helpers.js';
import { cleanup, connect, makeServerPki, signIn, tempDir, type TestPki, KEY_PASSWORD } from './helpers.js';

let pki: TestPki;
let wrongPasswordFile: string;

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p .\` first (npm test does)`);
  pki = await makeServerPki(['alice', 'bob']);
  wrongPasswordFile = path.join(pki.dir, 'wrong-password');
  fs.writeFileSync(wrongPasswordFile, 'not the password\n');
});
afterAll(() => cleanup(pki?.dir));

function serverArgs(dataDir: string, extra: string[] = []): string[] {
  const s = pki.ours.holders.server;
  return ['server', '--listen', '127.0.0.1:0', '--ca', pki.ours.caCertFile, '--cert', s.certFile, '--key', s.keyFile, '--data', dataDir, ...extra];
}

async function startCli(dataDir: string, env: Record<string, string> = {}): Promise<{ script: Script; port: number }> {
  const script = startScript(CLI, serverArgs(dataDir), { env: { PARLEY_KEY_PASSWORD: KEY_PASSWORD, ...env } });
  const line = await script.waitForLine((l) => l.startsWith('parley server listening on '));
  const m = /listening on 127\.0\.0\.1:(\d+)$/.exec(line);
  expect(m).not.toBeNull();
  return { script, port: Number(m?.[1]) };
}

describe('server cli', () => {
  it('server cli - --listen takes HOST:PORT, IPv6 in brackets', () => {
    expect(parseListen('0.0.0.0:7300')).toEqual({ host: '0.0.0.0', port: 7300 });
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('[::]:7300')).toEqual({ host: '::', port: 7300 });
    expect(parseListen('[fe80::1%eth0]:1')).toEqual({ host: 'fe80::1%eth0', port: 1 });
    expect(parseListen('chat.example.org:443')).toEqual({ host: 'chat.example.org', port: 443 });
    for (const bad of ['7300', ':7300', '1.2.3.4:', '1.2.3.4:65536', '::1:7300', '[::1]', 'a b:1']) {
      expect(() => parseListen(bad), bad).toThrow(expect.objectContaining({ code: 'SERVER_BAD_LISTEN', exitCode: 2 }));
    }
  });

  it('server cli - a wrong key password, an unreadable file or a client certificate: one line, exit 2', async () => {
    const dataDir = tempDir('cli-data');
    try {
      const wrong = await runParley(serverArgs(dataDir, ['--password-file', wrongPasswordFile]));
      expect(wrong.code).toBe(2);
      expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
      expect(wrong.stderr).toMatch(/wrong password for the private key/);

      const a = pki.ours.holders.alice;
      const missing = await runParley(['server', '--listen', '127.0.0.1:0', '--ca', pki.ours.caCertFile, '--cert', path.join(pki.dir, 'none.crt'), '--key', a.keyFile, '--data', dataDir, '--password-file', pki.ours.passwordFile]);
      expect(missing.code).toBe(2);
      expect(missing.stderr.trim().split('\n')).toHaveLength(1);

      const client = await runParley(['server', '--listen', '127.0.0.1:0', '--ca', pki.ours.caCertFile, '--cert', a.certFile, '--key', a.keyFile, '--data', dataDir, '--password-file', pki.ours.passwordFile]);
      expect(client.code).toBe(2);
      expect(client.stderr).toMatch(/client certificate; the server needs one signed with --role server/);

      const badListen = await runParley(['server', '--listen', 'nowhere', '--ca', pki.ours.caCertFile, '--cert', a.certFile, '--key', a.keyFile, '--data', dataDir, '--password-file', pki.ours.passwordFile]);
      expect(badListen.code).toBe(2);
    } finally {
      cleanup(dataDir);
    }
  });

  it('server cli - a busy port is one line and exit 2; no options at all names what is missing, once prefixed', async () => {
    const dataDir = tempDir('cli-data');
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as net.AddressInfo).port;
      const args = serverArgs(dataDir).map((a) => (a === '127.0.0.1:0' ? `127.0.0.1:${port}` : a));
      const taken = await runParley(args, { env: { PARLEY_KEY_PASSWORD: KEY_PASSWORD } });
      expect(taken.code).toBe(2);
      expect(taken.stderr.trim().split('\n')).toEqual([`parley: cannot listen on 127.0.0.1:${port} (EADDRINUSE): choose another address or port`]);

      const bare = await runParley(['server']);
      expect(bare.code).toBe(2);
      expect(bare.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^parley: server needs --listen HOST:PORT/)]);
    } finally {
      busy.close();
      cleanup(dataDir);
    }
  });

  it('server cli - runs until SIGTERM, says bye to its sessions and exits 0; revoke goes through its admin socket', async () => {
    const dataDir = tempDir('cli-data');
    try {
      const { script, port } = await startCli(dataDir);
      const alice = await signIn({ port, creds: pki.creds.alice, caPem: pki.caPem });
      const bob = await signIn({ port, creds: pki.creds.bob, caPem: pki.caPem });

      // A second server on the same data directory is refused: the store is held.
      const second = await runParley(serverArgs(dataDir), { env: { PARLEY_KEY_PASSWORD: KEY_PASSWORD } });
      expect(second.code).toBe(3);
      expect(second.stderr).toMatch(/in use by another running server/);

      const revoked = await runParley(['server', 'revoke', '--data', dataDir, '--key-sha256', pki.creds.alice.keySha256, '--json']);
      expect(revoked.code).toBe(0);
      expect(JSON.parse(revoked.stdout)).toEqual({ keySha256: pki.creds.alice.keySha256, revoked: true, id: alice.id, closed: 1, via: 'running-server' });
      await expect(alice.next('bye')).resolves.toMatchObject({ code: 'REVOKED' });
      await alice.closed;

      script.child.kill('SIGTERM');
      await expect(bob.next('bye')).resolves.toMatchObject({ code: 'SHUTTING_DOWN' });
      await expect(script.exited).resolves.toEqual({ code: 0, signal: null });
      expect(script.lines).toContain('parley server stopped');
    } finally {
      cleanup(dataDir);
    }
  });

  // SIGHUP: its terminal or console window closed; SIGBREAK: Ctrl+Break on Windows, told here by
  // a preload on SIGUSR2 (test/helpers/sigbreak.cjs), as Linux cannot send it.
  it.each([
    ['SIGHUP', 'SIGHUP'],
    ['SIGBREAK', 'SIGUSR2'],
  ] as const)('server cli - %s stops it the clean way: bye to its sessions, exit 0', async (_name, signal) => {
    const dataDir = tempDir('cli-data');
    try {
      const { script, port } = await startCli(dataDir, { NODE_OPTIONS: `--require ${path.join(ROOT, 'test', 'helpers', 'sigbreak.cjs')}` });
      const bob = await signIn({ port, creds: pki.creds.bob, caPem: pki.caPem });
      script.child.kill(signal);
      await expect(bob.next('bye')).resolves.toMatchObject({ code: 'SHUTTING_DOWN' });
      await expect(script.exited).resolves.toEqual({ code: 0, signal: null });
      expect(script.lines).toContain('parley server stopped');
    } finally {
      cleanup(dataDir);
    }
  });

  it('server cli - the cluster options: each missing or bad one is one line and exit 2; a NATS nobody runs is named; a stopped cluster process\'s data refuses a revocation', async () => {
    const dataDir = tempDir('cli-cluster');
    const env = { PARLEY_KEY_PASSWORD: KEY_PASSWORD };
    try {
      const lone = await runParley(serverArgs(dataDir, ['--node', 'p1']), { env });
      expect(lone.code).toBe(2);
      expect(lone.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^parley: the cluster options \(--node, --public, --nats-\.\.\.\) go with --cluster/)]);
      const noNode = await runParley(serverArgs(dataDir, ['--cluster', 'nats://127.0.0.1:4222', '--public', '127.0.0.1:7300']), { env });
      expect(noNode.code).toBe(2);
      expect(noNode.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^parley: server needs --node NAME with --cluster/)]);
      const badUrl = await runParley(serverArgs(dataDir, ['--cluster', 'http://127.0.0.1:4222', '--node', 'p1', '--public', '127.0.0.1:7300']), { env });
      expect(badUrl.code).toBe(2);
      expect(badUrl.stderr.trim().split('\n')).toHaveLength(1);
      expect(badUrl.stderr).toMatch(/nats:\/\/HOST:PORT/);
      const badNode = await runParley(serverArgs(dataDir, ['--cluster', 'nats://127.0.0.1:4222', '--node', 'p 1', '--public', '127.0.0.1:7300']), { env });
      expect(badNode.code).toBe(2);
      expect(badNode.stderr).toMatch(/node/);
      // The NATS secrets and TLS files: missing, of the wrong kind, or half a pair, each said
      // before anything is started (not a crash, nor a NATS that cannot be reached).
      const notCreds = path.join(dataDir, 'not.creds');
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(notCreds, 'not a credentials file\n');
      const missing = path.join(dataDir, 'missing');
      const natsFiles: Array<[string[], RegExp]> = [
        [['--nats-user', 'parley', '--nats-password-file', missing], /^parley: cannot read the NATS password file .*missing/],
        [['--nats-token-file', missing], /^parley: cannot read the NATS token file .*missing/],
        [['--nats-creds', missing], /^parley: cannot read the NATS credentials file .*missing/],
        [['--nats-creds', notCreds], /^parley: cluster option natsCreds must be a NATS credentials file/],
        [['--nats-ca', missing], /^parley: cannot read the NATS CA certificate .*missing/],
        [['--nats-cert', pki.ours.caCertFile], /^parley: cluster option natsKey must be given with natsCert/],
      ];
      for (const [extra, message] of natsFiles) {
        const r = await runParley(serverArgs(dataDir, ['--cluster', 'nats://127.0.0.1:4222', '--node', 'p1', '--public', '127.0.0.1:7300', ...extra]), { env });
        expect({ extra, code: r.code, stderr: r.stderr.trim().split('\n') }).toEqual({ extra, code: 2, stderr: [expect.stringMatching(message)] });
      }

      // Nothing listens there: the server says so and stops, its journal closed.
      const port = await freePort();
      const away = await runParley(serverArgs(dataDir, ['--cluster', `nats://127.0.0.1:${port}`, '--node', 'p1', '--public', '127.0.0.1:7300']), { env });
      expect(away.code).not.toBe(0);
      expect(away.stderr.trim().split('\n')).toEqual([expect.stringContaining(`cannot connect to NATS at nats://127.0.0.1:${port}`)]);

      // That start marked the folder as a cluster process's: revocations live in the cluster.
      expect(fs.existsSync(path.join(dataDir, 'cluster.json'))).toBe(true);
      const revoke = await runParley(['server', 'revoke', '--data', dataDir, '--key-sha256', pki.creds.bob.keySha256]);
      expect(revoke.code).toBe(2);
      expect(revoke.stderr.trim().split('\n')).toEqual([expect.stringMatching(/cluster's process, which is not running: revoke through any running process/)]);
    } finally {
      cleanup(dataDir);
    }
  });

  it('server cli - revoke while the server is stopped goes into its journal; the next start refuses the key; SIGINT exits 0', async () => {
    const dataDir = tempDir('cli-data');
    try {
      // A first run, so the data directory exists and bob has an id.
      const first = await startCli(dataDir);
      const bob = await signIn({ port: first.port, creds: pki.creds.bob, caPem: pki.caPem });
      first.script.child.kill('SIGINT');
      await expect(first.script.exited).resolves.toEqual({ code: 0, signal: null });
      await bob.closed;

      const revoked = await runParley(['server', 'revoke', '--data', dataDir, '--key-sha256', pki.creds.bob.keySha256]);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toMatch(new RegExp(`revoked ${pki.creds.bob.keySha256} \\(id ${bob.id}\\)`));
      expect(revoked.stdout).toMatch(/not running/);
      const again = await runParley(['server', 'revoke', '--data', dataDir, '--key-sha256', pki.creds.bob.keySha256]);
      expect(again.code).toBe(0);
      expect(again.stdout.trim().split('\n')).toEqual([`${pki.creds.bob.keySha256} (id ${bob.id}) was already revoked`]);
      expect(again.stderr).toBe('');

      // A key that never signed in is revoked (before its first use) with a warning: it may be a
      // certificate's fingerprint pasted for its key.
      const fingerprint = 'ab'.repeat(32);
      const unknown = await runParley(['server', 'revoke', '--data', dataDir, '--key-sha256', fingerprint]);
      expect(unknown.code).toBe(0);
      expect(unknown.stdout).toMatch(new RegExp(`^revoked ${fingerprint} \\(a key that never signed in\\)`));
      expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
      expect(unknown.stderr).toMatch(/^parley: warning: no client with key .* has signed in.*key_sha256.*parley cert show FILE/);
      const unknownAgain = await runParley(['server', 'revoke', '--data', dataDir, '--key-sha256', fingerprint]);
      expect(unknownAgain.stdout).toMatch(/was already revoked/);
      expect(unknownAgain.stderr).toBe('');

      const { script, port } = await startCli(dataDir);
      const refused = await connect({ port, creds: pki.creds.bob, caPem: pki.caPem });
      await expect(refused.next('login-refused')).resolves.toMatchObject({ code: 'CERT_REVOKED' });
      await refused.closed;
      const alice = await signIn({ port, creds: pki.creds.alice, caPem: pki.caPem });
      script.child.kill('SIGINT');
      await alice.closed;
      await expect(script.exited).resolves.toEqual({ code: 0, signal: null });

      const notData = await runParley(['server', 'revoke', '--data', path.join(dataDir, 'nothing'), '--key-sha256', pki.creds.bob.keySha256]);
      expect(notData.code).toBe(2);
      const badKey = await runParley(['server', 'revoke', '--data', dataDir, '--key-sha256', 'xyz']);
      expect(badKey.code).toBe(2);
    } finally {
      cleanup(dataDir);
    }
  });
});
