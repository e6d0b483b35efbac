// Two people on a closed LAN with no server, no router and no default route (network namespaces,
// test/helpers/netns.ts makeClosedLan): self-signed profiles, each the other's contact by id,
// each `parley up` in its host's namespace with LAN discovery on. They find each other by their
// announcements (directed broadcast) and chat over a `lan` link. The commands run outside the
// namespaces and reach each running client through its local socket, a file in its profile.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeServerPki, tempDir } from '../server/helpers.js';
import { CLI, jsonLines, ROOT, runParley, tempHome } from '../helpers/cli.js';
import { clientInitArgs, SELF_SIGNED_PASSWORD, startUp, startUpWith, until, type Up } from '../helpers/client.js';
import { inCi, makeClosedLan, netnsUnavailable, type ClosedLan } from '../helpers/netns.js';

const UNAVAILABLE = netnsUnavailable();
if (UNAVAILABLE && !inCi) console.warn(`lan.test.ts: skipped: ${UNAVAILABLE}`);

describe.runIf(UNAVAILABLE !== null && inCi)('closed LAN in CI', () => {
  it('lan - network namespaces are available in CI', () => {
    expect(UNAVAILABLE).toBeNull();
  });
});

type Person = { home: string; id: number; up: Up };

describe.skipIf(UNAVAILABLE !== null)('two people on a closed LAN, no server (network namespaces, real parley processes)', () => {
  let net: ClosedLan;
  const people: Person[] = [];

  beforeAll(() => {
    net = makeClosedLan(`e${process.pid % 100000}`);
  });

  afterAll(() => {
    for (const p of people) if (p.up.child.exitCode === null) p.up.child.kill('SIGKILL');
    net?.remove();
  });

  async function person(name: string, namespace: string): Promise<Person> {
    const home = tempHome(`lan-${name}`);
    const env = { PARLEY_KEY_PASSWORD: SELF_SIGNED_PASSWORD };
    const init = await runParley(['init', '--name', name, '--json'], { home, env });
    if (init.code !== 0) throw new Error(`parley init for ${name}: ${init.stderr}`);
    const id = (JSON.parse(init.stdout) as { id: number }).id;
    const passwordFile = path.join(home, 'password.txt');
    fs.writeFileSync(passwordFile, SELF_SIGNED_PASSWORD + '\n');
    const up = startUpWith(passwordFile, home, {}, ['ip', 'netns', 'exec', namespace]);
    const p = { home, id, up };
    people.push(p);
    await up.waitFor('the client runs on');
    return p;
  }

  async function stop(p: Person): Promise<void> {
    if (p.up.child.exitCode !== null) return;
    p.up.child.kill('SIGTERM');
    await p.up.exited;
  }

  async function routeTo(p: Person, peer: number): Promise<string | null> {
    const status = JSON.parse((await runParley(['status', '--json'], { home: p.home })).stdout) as { contacts: Array<{ id: number; route: string | null }> };
    return status.contacts.find((c) => c.id === peer)?.route ?? null;
  }

  it('lan - two self-signed clients on a segment with no router find each other and chat over a lan link', async () => {
    const a = await person('Alice', net.a);
    const b = await person('Bob', net.b);
    try {
      expect((await runParley(['contacts', 'add', String(b.id), '--name', 'Bob'], { home: a.home })).code).toBe(0);
      expect((await runParley(['contacts', 'add', String(a.id), '--name', 'Alice'], { home: b.home })).code).toBe(0);
      await until(async () => (await routeTo(a, b.id)) === 'lan' && (await routeTo(b, a.id)) === 'lan', 'a lan link on both sides', 20_000).catch((err: Error) => {
        throw new Error(`${err.message}\nalice: ${a.up.stderr()}\nbob: ${b.up.stderr()}`);
      });
      const sent = await runParley(['send', '--to', String(b.id), '--json', 'Привет по локалке'], { home: a.home });
      expect(sent.code, sent.stderr).toBe(0);
      const id = (JSON.parse(sent.stdout) as { id: string }).id;
      await until(async () => jsonLines((await runParley(['history', '--peer', String(a.id), '--json'], { home: b.home })).stdout).some((m) => m.id === id), 'bob has the message', 15_000);
      // Each pinned the other's key at this first link (trust on first use).
      const contacts = jsonLines((await runParley(['contacts', '--json'], { home: b.home })).stdout);
      expect(contacts.find((c) => c.id === a.id)).toMatchObject({ id: a.id });
    } finally {
      await stop(a);
      await stop(b);
    }
  }, 60_000);
  // Organisation mode: a contact with no pinned key is met through the server first (the CA
  // vouches, the server names the key, the client pins it); after that the LAN needs no server.
  // The server runs on Alice's host for the first meeting, then stops for good.
  it('lan - two clients of an operator, met once through the server, find each other on the LAN and chat once the server is gone', async () => {
    const pki = await makeServerPki(['alice', 'bob']);
    const data = tempDir('lan-server');
    const listen = '10.77.0.1:7301';
    const h = pki.ours.holders.server;
    const server = spawn('ip', ['netns', 'exec', net.a, process.execPath, CLI, 'server', '--listen', listen, '--ca', pki.ours.caCertFile, '--cert', h.certFile, '--key', h.keyFile, '--data', data, '--password-file', pki.ours.passwordFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let said = '';
    const listening = new Promise<void>((resolve, reject) => {
      for (const out of [server.stdout, server.stderr]) {
        out.setEncoding('utf8').on('data', (d: string) => {
          said += d;
          if (said.includes('listening on')) resolve();
        });
      }
      server.on('close', () => reject(new Error(`the server ended: ${said}`)));
    });
    const org = async (name: string, namespace: string): Promise<Person> => {
      const home = tempHome(`lan-org-${name}`);
      const init = await runParley(clientInitArgs(pki, name, listen), { home });
      if (init.code !== 0) throw new Error(`parley init for ${name}: ${init.stderr}`);
      const up = startUp(pki, home, {}, ['ip', 'netns', 'exec', namespace]);
      await up.waitFor('online at');
      const id = (JSON.parse((await runParley(['status', '--json'], { home })).stdout) as { id: number }).id;
      const p = { home, id, up };
      people.push(p);
      return p;
    };
    const delivered = async (from: Person, to: Person, text: string): Promise<void> => {
      const sent = await runParley(['send', '--to', String(to.id), '--json', text], { home: from.home });
      expect(sent.code, sent.stderr).toBe(0);
      const id = (JSON.parse(sent.stdout) as { id: string }).id;
      await until(async () => jsonLines((await runParley(['history', '--peer', String(to.id), '--json'], { home: from.home })).stdout).some((m) => m.id === id && m.status === 'delivered'), `${text}: delivered`, 20_000);
    };
    try {
      await listening;
      const a = await org('alice', net.a);
      const b = await org('bob', net.b);
      expect((await runParley(['contacts', 'add', String(b.id), '--name', 'Bob'], { home: a.home })).code).toBe(0);
      expect((await runParley(['contacts', 'add', String(a.id), '--name', 'Alice'], { home: b.home })).code).toBe(0);
      await delivered(a, b, 'through the server first');
      for (const p of [a, b]) await stop(p);
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('close', resolve));
      // No server from here on: each client starts, cannot sign in, and finds the other on the LAN.
      for (const p of [a, b]) {
        p.up = startUp(pki, p.home, {}, ['ip', 'netns', 'exec', p === a ? net.a : net.b]);
        await p.up.waitFor('the client runs on');
      }
      await until(async () => (await routeTo(a, b.id)) === 'lan' && (await routeTo(b, a.id)) === 'lan', 'a lan link on both sides without the server', 25_000).catch((err: Error) => {
        throw new Error(`${err.message}\nalice: ${a.up.stderr()}\nbob: ${b.up.stderr()}`);
      });
      await delivered(a, b, 'по локалке, без сервера');
      await delivered(b, a, 'and back');
    } finally {
      if (server.exitCode === null) server.kill('SIGKILL');
      for (const p of people) await stop(p);
      cleanup(data);
      cleanup(pki.dir);
    }
  }, 90_000);
});
