// parley up --keylog FILE (issue 10): the TLS secrets of every link, the server session's and the
// peer link's, appended in the NSS key log format that Wireshark reads, the file private to its
// owner, with a warning; a file that cannot be written is refused before anything starts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../cert/helpers.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';
import { CLI, jsonLines, ROOT, runParley, tempHome } from '../helpers/cli.js';
import { clientInitArgs, lanOff, serverAt, until } from '../helpers/client.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makeServerPki(['alice', 'bob']);
});
afterAll(() => cleanup(pki?.dir));

// One NSS key log line of TLS 1.3: a label, the client random and the secret, in hex.
const LINE = /^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET) [0-9a-f]{64} [0-9a-f]{64,96}$/;

describe('keylog', () => {
  it('keylog - up --keylog writes the secrets of the server session and of the peer link, 0600, with a warning', async () => {
    const port = await freePort();
    await serverAt(pki, port, async () => {
      const homes = { alice: tempHome('keylog-alice'), bob: tempHome('keylog-bob') };
      for (const [name, home] of Object.entries(homes)) {
        expect((await runParley(clientInitArgs(pki, name, `127.0.0.1:${port}`), { home })).code).toBe(0);
        await lanOff(home);
      }
      const file = path.join(homes.alice, 'keys.log');
      const alice = spawn(process.execPath, [CLI, 'up', '--home', homes.alice, '--password-file', pki.ours.passwordFile, '--keylog', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      const bob = spawn(process.execPath, [CLI, 'up', '--home', homes.bob, '--password-file', pki.ours.passwordFile], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let said = '';
      let bobSaid = '';
      alice.stderr.setEncoding('utf8').on('data', (d: string) => (said += d));
      bob.stderr.setEncoding('utf8').on('data', (d: string) => (bobSaid += d));
      const ended = Promise.all([alice, bob].map((c) => new Promise((r) => c.on('close', r))));
      try {
        // Online: each said so (the check gives the loop a turn to read what they said).
        const online = async (): Promise<boolean> => {
          await new Promise((r) => setTimeout(r, 25));
          return said.includes('online at') && bobSaid.includes('online at');
        };
        await until(online, `both online; alice: ${said} bob: ${bobSaid}`);
        const idOf = async (home: string): Promise<number> => (JSON.parse((await runParley(['status', '--json'], { home })).stdout) as { id: number | null }).id ?? 0;
        const ids = { alice: await idOf(homes.alice), bob: await idOf(homes.bob) };
        expect((await runParley(['contacts', 'add', String(ids.bob), '--name', 'Bob'], { home: homes.alice })).code).toBe(0);
        expect((await runParley(['contacts', 'add', String(ids.alice), '--name', 'Alice'], { home: homes.bob })).code).toBe(0);
        const sent = JSON.parse((await runParley(['send', '--to', String(ids.bob), '--json', 'seen in Wireshark'], { home: homes.alice })).stdout) as { id: string };
        const status = async (): Promise<unknown> => jsonLines((await runParley(['history', '--peer', String(ids.bob), '--json'], { home: homes.alice })).stdout).find((m) => m.id === sent.id)?.status;
        await until(async () => (await status()) === 'delivered', 'delivered');
        expect(said).toMatch(/warning: the TLS secrets of every link go to .*keys\.log: whoever reads that file can read your messages/);
        expect(fs.statSync(file).mode & 0o777).toBe(0o600);
        const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
        for (const line of lines) expect(line).toMatch(LINE);
        // Two TLS links at least, each with both traffic secrets: the server session and the peer link.
        const randoms = new Set(lines.filter((l) => l.startsWith('CLIENT_TRAFFIC_SECRET_0')).map((l) => l.split(' ')[1]));
        expect(randoms.size).toBeGreaterThanOrEqual(2);
        for (const random of randoms) expect(lines.some((l) => l.startsWith(`SERVER_TRAFFIC_SECRET_0 ${random} `))).toBe(true);
      } finally {
        alice.kill('SIGTERM');
        bob.kill('SIGTERM');
        await ended;
      }
    });
  });

  it('keylog - a key log that cannot be written is refused before the client starts (exit 2)', async () => {
    const home = tempHome('keylog-bad');
    expect((await runParley(clientInitArgs(pki, 'alice', '127.0.0.1:9'), { home })).code).toBe(0);
    const r = await runParley(['up', '--password-file', pki.ours.passwordFile, '--keylog', path.join(home, 'no', 'such', 'dir', 'keys.log')], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot write the key log .*keys\.log: ENOENT/);
  });
});
