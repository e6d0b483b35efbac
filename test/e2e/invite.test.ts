// Two people connect with an invite and no server (issue 10): two self-signed profiles on
// loopback, `parley invite` on one, `parley connect` on the other, both `parley up`; messages
// both ways over the direct link. And the trust rule (docs/PROTOCOL.md section 14): a peer that
// presents another key for a pinned id is refused and shown as a warning; an invite with a wrong
// fingerprint does not connect. Each step waits for the state it needs, bounded; none sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../cert/helpers.js';
import { cleanup, makeServerPki, type TestPki } from '../server/helpers.js';
import { dialPeer } from '../../src/net/peer.js';
import { decodeInvite, encodeInvite } from '../../src/net/invite.js';
import { loadHomeIdentity } from '../../src/node/identity.js';
import { jsonLines, lines, runParley } from '../helpers/cli.js';
import { personAt, restartSelfSigned, selfSignedPerson, serverAt, SELF_SIGNED_PASSWORD, stopPerson, until, type Person, type SelfSignedPerson } from '../helpers/client.js';

type Row = Record<string, unknown>;

async function statusOf(p: Person): Promise<{ server: string; contacts: Row[] }> {
  const r = await runParley(['status', '--json'], { home: p.home });
  return JSON.parse(r.stdout) as { server: string; contacts: Row[] };
}

async function contactOf(p: Person, peer: number): Promise<Row | undefined> {
  return jsonLines((await runParley(['contacts', '--json'], { home: p.home })).stdout).find((c) => c.id === peer);
}

async function routeTo(p: Person, peer: number): Promise<string | null> {
  return ((await statusOf(p)).contacts.find((c) => c.id === peer)?.route as string | null | undefined) ?? null;
}

async function send(p: Person, peer: number, text: string): Promise<string> {
  const r = await runParley(['send', '--to', String(peer), '--json', text], { home: p.home });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

async function messageStatus(p: Person, peer: number, id: string): Promise<string | undefined> {
  const r = await runParley(['history', '--peer', String(peer), '--json'], { home: p.home });
  return jsonLines(r.stdout).find((m) => m.id === id)?.status as string | undefined;
}

async function inviteOf(p: Person, name: string): Promise<string> {
  const r = await runParley(['invite', '--address', '127.0.0.1', '--name', name], { home: p.home });
  expect(r.code, r.stderr).toBe(0);
  return lines(r.stdout).at(-1) as string;
}

// Alice and Bob, both running, Bob connected with Alice's invite and his link up; stopped after.
async function withPair(work: (alice: SelfSignedPerson, bob: SelfSignedPerson) => Promise<void>): Promise<void> {
  const [alice, bob] = await Promise.all([selfSignedPerson('Alice'), selfSignedPerson('Bob')]);
  try {
      const invite = await inviteOf(alice, 'Bob');
      expect((await runParley(['connect', invite, '--name', 'Alice'], { home: bob.home })).code).toBe(0);
      await until(async () => (await routeTo(bob, alice.id)) === 'lan', 'bob has a link to alice, named lan for its loopback address', 15_000);
      await work(alice, bob);
    } finally {
      await Promise.all([stopPerson(alice), stopPerson(bob)]);
    }
  }

  describe('invite, no server', () => {
    it('invite - Alice invites, Bob connects: both pinned, a message each way delivered over a direct link, no server anywhere', async () => {
      const [alice, bob] = await Promise.all([selfSignedPerson('Alice'), selfSignedPerson('Bob')]);
      try {
      const invite = await inviteOf(alice, 'Bob');
      expect(decodeInvite(invite)).toMatchObject({ id: alice.id, keySha256: alice.key, port: alice.port, addresses: ['127.0.0.1'] });
      const connected = await runParley(['connect', invite, '--name', 'Alice', '--json'], { home: bob.home });
      expect(connected.code, connected.stderr).toBe(0);
      expect(JSON.parse(connected.stdout)).toMatchObject({ id: alice.id, name: 'Alice', key_sha256: alice.key, dialling: true });

      await until(async () => (await routeTo(bob, alice.id)) === 'lan', 'bob has a link to alice, named lan for its loopback address', 15_000);
      await until(async () => (await contactOf(alice, bob.id))?.key_sha256 === bob.key, 'alice pinned bob through her invite');
      expect(await contactOf(alice, bob.id)).toMatchObject({ name: 'Bob', whitelisted: true, pinned_by: 'invite' });
      expect(await contactOf(bob, alice.id)).toMatchObject({ key_sha256: alice.key, pinned_by: 'invite', addresses: ['127.0.0.1'], port: alice.port });
      const seen = await statusOf(bob);
      expect(seen.server).toBe('none');
      expect(seen.contacts.find((c) => c.id === alice.id)).toMatchObject({ presence: 'online', route: 'lan' });
      // The listener names the same link by the address it came from: the same name on both sides.
      await until(async () => (await routeTo(alice, bob.id)) === 'lan', 'alice names the link lan too', 15_000);

      const m1 = await send(bob, alice.id, 'Hi Alice, no server between us');
      await until(async () => (await messageStatus(bob, alice.id, m1)) === 'delivered', 'bob sees his message delivered');
      const m2 = await send(alice, bob.id, 'Привет, Боб!');
      await until(async () => (await messageStatus(alice, bob.id, m2)) === 'delivered', 'alice sees her answer delivered');
      expect(await messageStatus(alice, bob.id, m1)).toBe('received');
      expect(await messageStatus(bob, alice.id, m2)).toBe('received');
    } finally {
      await Promise.all([stopPerson(alice), stopPerson(bob)]);
    }
  });

  it('invite - the invite is one-time: used again by someone else, it lets nobody in', async () => {
    const [alice, carol] = await Promise.all([selfSignedPerson('Alice'), selfSignedPerson('Carol')]);
    try {
      const invite = await inviteOf(alice, 'Carol');
      // Carol uses it: she gets in, pinned. Then Dave tries the same token: refused.
      expect((await runParley(['connect', invite], { home: carol.home })).code).toBe(0);
      await until(async () => (await routeTo(carol, alice.id)) === 'lan', 'carol has a link to alice', 15_000);
      const dave = await selfSignedPerson('Dave', { up: false });
      const identity = loadHomeIdentity(dave.home, SELF_SIGNED_PASSWORD);
      const token = decodeInvite(invite).token as string;
      const err = await dialPeer({ host: '127.0.0.1', port: alice.port, identity, id: dave.id, peer: alice.id, peerKey: alice.key, pinned: true, invite: token }).catch((e: Error) => e);
      expect(String((err as Error).message)).toMatch(/PEER_UNKNOWN/);
      expect(await contactOf(alice, dave.id)).toBeUndefined();
      const used = jsonLines((await runParley(['journal', 'inspect', '--type', 'invite.used', '--json'], { home: alice.home })).stdout);
      expect(used.map((e) => e.peer)).toEqual([carol.id]);
    } finally {
      await Promise.all([stopPerson(alice), stopPerson(carol)]);
    }
  });

  it('invite - a peer presenting another key for a pinned id is refused, and contacts and status show the warning', async () => {
    await withPair(async (alice, bob) => {
      // Mallory claims Bob's id with her own key at Alice's listener.
      const mallory = await selfSignedPerson('Mallory', { up: false });
      const identity = loadHomeIdentity(mallory.home, SELF_SIGNED_PASSWORD);
      const err = await dialPeer({ host: '127.0.0.1', port: alice.port, identity, id: bob.id, peer: alice.id, peerKey: alice.key, pinned: true }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(String((err as Error).message)).toMatch(/CERT_KEY_MISMATCH/);
      await until(async () => (await contactOf(alice, bob.id))?.key_warning !== undefined, 'alice journaled the warning');
      expect((await contactOf(alice, bob.id))?.key_warning).toMatchObject({ key_sha256: mallory.key, pinned: bob.key });
      expect((await statusOf(alice)).contacts.find((c) => c.id === bob.id)?.key_warning).toMatchObject({ key_sha256: mallory.key });
      const text = await runParley(['status'], { home: alice.home });
      expect(text.stdout).toContain(`presented key ${mallory.key}`);
      expect((await runParley(['contacts'], { home: alice.home })).stdout).toContain(`not the pinned ${bob.key}: refused`);
      // Bob's own link was not touched, and still carries a message.
      const m = await send(bob, alice.id, 'still me');
      await until(async () => (await messageStatus(bob, alice.id, m)) === 'delivered', 'bob still reaches alice');
    });
  });

  it('invite - an invite with a wrong fingerprint does not connect: the connecting side refuses the key and warns', async () => {
    const [alice, carol] = await Promise.all([selfSignedPerson('Alice'), selfSignedPerson('Carol')]);
    try {
      const real = decodeInvite(await inviteOf(alice, 'Carol'));
      const wrong = 'e'.repeat(64);
      const forged = encodeInvite({ ...real, keySha256: wrong });
      expect((await runParley(['connect', forged, '--name', 'Alice?'], { home: carol.home })).code).toBe(0);
      await until(async () => (await contactOf(carol, alice.id))?.key_warning !== undefined, 'carol refused the key alice presented', 15_000);
      expect((await contactOf(carol, alice.id))?.key_warning).toMatchObject({ key_sha256: alice.key, pinned: wrong });
      expect(await routeTo(carol, alice.id)).toBeNull();
      expect(await contactOf(alice, carol.id)).toBeUndefined();
    } finally {
      await Promise.all([stopPerson(alice), stopPerson(carol)]);
    }
  });

  it('invite - connected before parley up: the next up dials the inviter; after a restart of the dialler the link comes back by itself', async () => {
    const [alice, erin] = await Promise.all([selfSignedPerson('Alice'), selfSignedPerson('Erin', { up: false })]);
    try {
      const invite = await inviteOf(alice, 'Erin');
      expect((await runParley(['connect', invite, '--name', 'Alice'], { home: erin.home })).stdout).toMatch(/parley up dials 127\.0\.0\.1/);
      await restartSelfSigned(erin);
      await until(async () => (await routeTo(erin, alice.id)) === 'lan', 'erin dialled alice at up', 15_000);
      await stopPerson(erin);
      await restartSelfSigned(erin);
      // Alice learned where Erin listens and dials her back too: whichever dial is kept (the lower
      // id's, takeover.ts), a link is up, and either side names it by its address (routes.ts):
      // 'lan' for 127.0.0.1, whoever dialled.
      await until(async () => (await routeTo(erin, alice.id)) === 'lan', 'a link between erin and alice again after her restart', 15_000);
      const m = await send(alice, erin.id, 'welcome back');
      await until(async () => (await messageStatus(alice, erin.id, m)) === 'delivered', 'alice reaches erin');
    } finally {
      await Promise.all([stopPerson(alice), stopPerson(erin)]);
    }
  });
  it('invite - both keep their ports, and the inviter learns where the other listens: after both stop, the inviter dials it back', async () => {
    const [alice, erin] = await Promise.all([selfSignedPerson('Alice'), selfSignedPerson('Erin')]);
    try {
      const invite = await inviteOf(alice, 'Erin');
      expect((await runParley(['connect', invite, '--name', 'Alice'], { home: erin.home })).code).toBe(0);
      await until(async () => (await routeTo(erin, alice.id)) === 'lan', 'erin dialled alice', 15_000);
      // Erin's hello said where she listens: Alice keeps it, at the address the link came from.
      const erinAtAlice = jsonLines((await runParley(['contacts', '--json'], { home: alice.home })).stdout).find((c) => c.id === erin.id);
      expect(erinAtAlice).toMatchObject({ addresses: ['127.0.0.1'], port: erin.port });
      const ports = [alice.port, erin.port];
      await Promise.all([stopPerson(alice), stopPerson(erin)]);
      // Alice alone: she dials Erin where Erin listened (nobody there yet), and listens where she did.
      await restartSelfSigned(alice);
      await alice.up!.waitFor(`cannot reach ${erin.id} at 127.0.0.1 port ${erin.port}`);
      await restartSelfSigned(erin);
      expect([alice.port, erin.port]).toEqual(ports);
      await until(async () => (await routeTo(alice, erin.id)) !== null && (await routeTo(erin, alice.id)) !== null, 'a link again', 15_000);
      const m = await send(alice, erin.id, 'still here');
      await until(async () => (await messageStatus(alice, erin.id, m)) === 'delivered', 'alice reaches erin');
      const shown = JSON.parse((await runParley(['settings', '--json'], { home: alice.home })).stdout) as Record<string, unknown>;
      expect(shown['listen-port']).toBe(alice.port);
    } finally {
      await Promise.all([stopPerson(alice), stopPerson(erin)]);
    }
  });
});

describe('invite, organisation mode and self-signed', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makeServerPki(['alice']);
  });
  afterAll(() => cleanup(pki?.dir));

  it('invite - a client of an operator meets self-signed peers through invites, both ways: it connects with one, and one connects with its own', async () => {
    const port = await freePort();
    await serverAt(pki, port, async () => {
      const alice = await personAt(pki, 'alice', port);
      const [bob, carol] = await Promise.all([selfSignedPerson('Bob'), selfSignedPerson('Carol')]);
      try {
        // Alice (organisation mode) connects with self-signed Bob's invite.
        const fromBob = await inviteOf(bob, 'Alice');
        expect((await runParley(['connect', fromBob, '--name', 'Bob'], { home: alice.home })).code).toBe(0);
        await until(async () => (await routeTo(alice, bob.id)) === 'lan', 'alice reached bob with his invite', 15_000);
        const m1 = await send(alice, bob.id, 'from a CA to a self-signed key');
        await until(async () => (await messageStatus(alice, bob.id, m1)) === 'delivered', 'bob got alice\'s message');
        expect(await contactOf(bob, alice.id)).toMatchObject({ name: 'Alice', pinned_by: 'invite' });

        // Self-signed Carol connects with Alice's invite: Alice's listener takes her by the token.
        const fromAlice = await inviteOf(alice, 'Carol');
        expect((await runParley(['connect', fromAlice, '--name', 'Alice'], { home: carol.home })).code).toBe(0);
        await until(async () => (await routeTo(carol, alice.id)) === 'lan', 'carol reached alice with her invite', 15_000);
        const m2 = await send(carol, alice.id, 'from a self-signed key to a CA');
        await until(async () => (await messageStatus(carol, alice.id, m2)) === 'delivered', 'alice got carol\'s message');
        expect(await contactOf(alice, carol.id)).toMatchObject({ name: 'Carol', key_sha256: carol.key, pinned_by: 'invite' });
      } finally {
        await Promise.all([stopPerson(alice), stopPerson(bob), stopPerson(carol)]);
      }
    });
  });
});
