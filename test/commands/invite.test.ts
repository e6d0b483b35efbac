// parley invite: the profile's invite as the last line, read back by decodeInvite.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeInvite, invitableAddresses } from '../../src/net/invite.js';
import { lanAddresses } from '../../src/node/online.js';
import { jsonLines, lines, runParley, tempHome } from '../helpers/cli.js';

const ENV = { PARLEY_KEY_PASSWORD: 'a key password' };

async function selfSignedHome(prefix: string): Promise<{ home: string; id: number; key: string }> {
  const home = tempHome(prefix);
  const r = await runParley(['init', '--json'], { home, env: ENV });
  expect(r.code, r.stderr).toBe(0);
  const [row] = jsonLines(r.stdout);
  return { home, id: row.id as number, key: row.key_sha256 as string };
}

describe('invite command', () => {
  it('invite - the last line is the invite: the id and fingerprint of the profile, the port given, this machine\'s addresses', async () => {
    const { home, id, key } = await selfSignedHome('invite');
    const expected = invitableAddresses(lanAddresses());
    const r = await runParley(['invite', '--port', '7402'], { home });
    if (expected.length === 0) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--address/);
      return;
    }
    expect(r.code, r.stderr).toBe(0);
    const last = lines(r.stdout).at(-1) as string;
    expect(decodeInvite(last)).toEqual({ id, keySha256: key, port: 7402, addresses: expected, token: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('invite - each invite has a token of its own; only its hash is journaled, with its end', async () => {
    const { home } = await selfSignedHome('invite-token');
    const texts: string[] = [];
    for (const name of ['Bob', 'Carol']) {
      const r = await runParley(['invite', '--port', '7402', '--address', '127.0.0.1', '--name', name, '--json'], { home });
      expect(r.code, r.stderr).toBe(0);
      texts.push(jsonLines(r.stdout)[0].invite as string);
    }
    const [t1, t2] = texts.map((t) => decodeInvite(t).token as string);
    expect(t1).not.toBe(t2);
    const issued = jsonLines((await runParley(['journal', 'inspect', '--type', 'invite.issued', '--json'], { home })).stdout);
    expect(issued.map((e) => e.name)).toEqual(['Bob', 'Carol']);
    expect(issued[0].tokenSha256).toBe(createHash('sha256').update(Buffer.from(t1, 'hex')).digest('hex'));
    expect(JSON.stringify(issued)).not.toContain(t1);
    expect(issued[0].until as number).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);
  });

  it('invite - --address replaces the found ones; --json gives the same invite', async () => {
    const { home, id, key } = await selfSignedHome('invite-address');
    const r = await runParley(['invite', '--port', '1', '--address', '127.0.0.1', '--address', '2001:DB8::9', '--json'], { home });
    expect(r.code, r.stderr).toBe(0);
    const [row] = jsonLines(r.stdout);
    expect(decodeInvite(row.invite as string)).toMatchObject({ id, keySha256: key, port: 1, addresses: ['127.0.0.1', '2001:db8::9'] });
    expect(row).toMatchObject({ id, key_sha256: key, port: 1 });
  });

  it.each([
    ['no --port and no running client', ['invite'], /--port N, or start the client/],
    ['port 0', ['invite', '--port', '0'], /1 to 65535/],
    ['a host name as --address', ['invite', '--port', '7', '--address', 'example.org'], /host names are never taken/],
  ])('invite - %s: exit 2', async (_what, args, message) => {
    const { home } = await selfSignedHome('invite-bad');
    const r = await runParley(args, { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('invite - a folder with no profile: exit 2, told to run parley init', async () => {
    const r = await runParley(['invite', '--port', '7402'], { home: tempHome('invite-none') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/parley init/);
  });
});
