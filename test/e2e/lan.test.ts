// Two people on a closed LAN with no server, no router and no default route (network namespaces,
// test/helpers/netns.ts makeClosedLan): self-signed profiles, each the other's contact by id,
// each `parley up` in its host's namespace with LAN discovery on. They find each other by their
// announcements (directed broadcast) and chat over a `lan` link. The commands run outside the
// namespaces and reach each running client through its local socket, a file in its profile.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runParley, tempHome } from '../helpers/cli.js';
import { SELF_SIGNED_PASSWORD, startUpWith, until, type Up } from '../helpers/client.js';
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
});
