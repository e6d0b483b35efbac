// Two people behind two NATs (network namespaces, test/helpers/netns.ts makeNatPair), the
// operator's server on the wan between them, every program a real `parley` process: the server
// in the wan's namespace, each `parley up` in its host's. Their listeners cannot be reached
// through the NATs, so the route is what the ladder finds past them: a punched link through NATs
// that keep ports, the relay through symmetric ones. The commands run outside the namespaces:
// they reach each running client through its local socket, a file in its profile.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeServerPki, tempDir, type TestPki } from '../server/helpers.js';
import { CLI, jsonLines, ROOT, runParley, tempHome } from '../helpers/cli.js';
import { clientInitArgs, until } from '../helpers/client.js';
import { inCi, inNs, makeNatPair, netnsUnavailable, WAN_ADDRESS, type NatPair } from '../helpers/netns.js';

const SERVER_PORT = 7300;
const UNAVAILABLE = netnsUnavailable();
if (UNAVAILABLE && !inCi) console.warn(`nat.test.ts: skipped: ${UNAVAILABLE}`);

describe.runIf(UNAVAILABLE !== null && inCi)('NAT in CI', () => {
  it('nat - network namespaces are available in CI', () => {
    expect(UNAVAILABLE).toBeNull();
  });
});

type Proc = { child: ChildProcessWithoutNullStreams; out: () => string; waitFor: (text: string, ms?: number) => Promise<void> };
type Person = { home: string; id: number; up: Proc };

// A program in a namespace, its stdout and stderr together.
function inNamespace(namespace: string, args: string[]): Proc {
  const child = spawn('ip', ['netns', 'exec', namespace, process.execPath, CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const waiters = new Set<() => void>();
  for (const s of [child.stdout, child.stderr]) {
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      out += d;
      for (const w of [...waiters]) w();
    });
  }
  const waitFor = (text: string, ms = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!out.includes(text)) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`"${args.slice(0, 2).join(' ')}" in ${namespace} did not say "${text}" within ${ms} ms: ${out}`));
      }, ms);
      waiters.add(check);
      check();
    });
  return { child, out: () => out, waitFor };
}

describe.skipIf(UNAVAILABLE !== null)('two people behind NATs (network namespaces, real parley processes)', () => {
  let pki: TestPki;
  let net: NatPair;
  const procs: Proc[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    pki = await makeServerPki(['alice', 'bob']);
    net = makeNatPair(`e${process.pid % 100000}`);
  });

  afterAll(() => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    net?.remove();
    for (const d of dirs) cleanup(d);
    cleanup(pki?.dir);
  });

  function start(namespace: string, args: string[]): Proc {
    const p = inNamespace(namespace, args);
    procs.push(p);
    return p;
  }

  // SIGTERM, as a person stops it; a program that has not ended 10 s later is killed, and that
  // fails the test.
  async function stop(p: Proc): Promise<void> {
    if (p.child.exitCode !== null) return;
    const exited = new Promise((resolve) => p.child.on('close', resolve));
    p.child.kill('SIGTERM');
    const late = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
    const signal = await exited;
    clearTimeout(late);
    if (p.child.signalCode === 'SIGKILL') throw new Error(`still running 10 s after SIGTERM: ${p.out()}`);
    void signal;
  }

  async function server(): Promise<Proc> {
    const data = tempDir('nat-server');
    dirs.push(data);
    const h = pki.ours.holders.server;
    const s = start(net.wan, ['server', '--listen', `${WAN_ADDRESS}:${SERVER_PORT}`, '--ca', pki.ours.caCertFile, '--cert', h.certFile, '--key', h.keyFile, '--data', data, '--password-file', pki.ours.passwordFile]);
    await s.waitFor('listening on');
    return s;
  }

  async function person(name: string, namespace: string): Promise<Person> {
    const home = tempHome(`nat-${name}`);
    const init = await runParley(clientInitArgs(pki, name, `${WAN_ADDRESS}:${SERVER_PORT}`), { home });
    if (init.code !== 0) throw new Error(`parley init for ${name}: ${init.stderr}`);
    const up = start(namespace, ['up', '--home', home, '--password-file', pki.ours.passwordFile]);
    await up.waitFor('online at');
    const id = (JSON.parse((await runParley(['status', '--json'], { home })).stdout) as { id: number }).id;
    return { home, id, up };
  }

  async function statusOf(p: Person, id: string, peer: number): Promise<string | undefined> {
    const r = await runParley(['history', '--peer', String(peer), '--json'], { home: p.home });
    return (r.code === 0 ? jsonLines(r.stdout) : []).find((m) => m.id === id)?.status as string | undefined;
  }

  async function routeOf(p: Person): Promise<string | null> {
    const status = JSON.parse((await runParley(['status', '--json'], { home: p.home })).stdout) as { contacts: Array<{ route: string | null }> };
    return status.contacts[0]?.route ?? null;
  }

  // Both online behind their NATs, contacts of each other; a message each way delivered; the
  // route both sides show.
  async function chat(): Promise<[string | null, string | null]> {
    const srv = await server();
    const a = await person('alice', net.a);
    const b = await person('bob', net.b);
    try {
      expect((await runParley(['contacts', 'add', String(b.id), '--name', 'B'], { home: a.home })).code).toBe(0);
      expect((await runParley(['contacts', 'add', String(a.id), '--name', 'A'], { home: b.home })).code).toBe(0);
      for (const [from, to, text] of [
        [a, b, 'Привет из-за NAT'],
        [b, a, 'hello back'],
      ] as const) {
        const sent = await runParley(['send', '--to', String(to.id), '--json', text], { home: from.home });
        expect(sent.code, sent.stderr).toBe(0);
        const id = (JSON.parse(sent.stdout) as { id: string }).id;
        await until(async () => (await statusOf(from, id, to.id)) === 'delivered', `${text}: delivered`, 25_000);
      }
      return [await routeOf(a), await routeOf(b)];
    } catch (err) {
      // What each program said: the likeliest place to see why.
      throw new Error(`${(err as Error).message}\nalice: ${a.up.out()}\nbob: ${b.up.out()}\nserver: ${srv.out()}`);
    } finally {
      await stop(a.up);
      await stop(b.up);
      await stop(srv);
    }
  }

  it('nat - behind NATs that keep ports and drop unsolicited packets: a punched link, messages both ways', async () => {
    net.masquerade('keeps-ports');
    expect(await chat()).toEqual(['punched', 'punched']);
  }, 90_000);

  it('nat - behind symmetric NATs (MASQUERADE --random-fully): the punch fails and the relay carries the chat', async () => {
    net.masquerade('symmetric');
    expect(await chat()).toEqual(['relay', 'relay']);
  }, 90_000);

  // Alice behind her NAT, Bob on the wan itself (his NAT's namespace, its public address) behind
  // a firewall that drops what he did not ask for, and the two networks first dropping each
  // other's packets (the server still reachable): no dial, no punch, the chat starts on the
  // relay. Then the drops go and Bob opens his firewall: while both go on writing, a side on the
  // relay asks for an introduction again (at most every 20 s, messenger.ts), and a link straight
  // between them takes over from the relay mid-chat: `direct` when Alice asked (she dials Bob's
  // listener), `punched` when Bob did (his dial to Alice's listener stops at her NAT, and the
  // punch goes through).
  const STRAIGHT = ['direct', 'punched'];
  it('nat - a move from relay to direct mid-chat once a path opens: every message arrives once, in order', async () => {
    net.masquerade('keeps-ports');
    const drop = (action: '-I' | '-D'): void => {
      // In the raw table, before connection tracking: a dropped SYN leaves no state behind.
      for (const [nat, other] of [[net.natA, '203.0.113.20'], [net.natB, '203.0.113.10']] as const) {
        inNs(nat, ['iptables', '-t', 'raw', action, 'PREROUTING', '-i', 'wan0', '-s', other, '-j', 'DROP']);
      }
    };
    const open = (action: '-I' | '-D'): void => inNs(net.natB, ['iptables', action, 'INPUT', '-i', 'wan0', '-p', 'tcp', '-j', 'ACCEPT']);
    drop('-I');
    let dropping = true;
    let opened = false;
    const srv = await server();
    const a = await person('alice', net.a);
    const b = await person('bob', net.natB);
    try {
      expect((await runParley(['contacts', 'add', String(a.id), '--name', 'A'], { home: b.home })).code).toBe(0);
      expect((await runParley(['contacts', 'add', String(b.id), '--name', 'B'], { home: a.home })).code).toBe(0);
      const send = async (from: Person, to: Person, text: string): Promise<string> => {
        const sent = await runParley(['send', '--to', String(to.id), '--json', text], { home: from.home });
        expect(sent.code, sent.stderr).toBe(0);
        return (JSON.parse(sent.stdout) as { id: string }).id;
      };
      const fromA = [await send(a, b, 'a0')];
      await until(async () => (await statusOf(a, fromA[0], b.id)) === 'delivered', 'a0 delivered through the relay', 25_000);
      expect([await routeOf(a), await routeOf(b)]).toEqual(['relay', 'relay']);
      drop('-D');
      dropping = false;
      open('-I');
      opened = true;
      // Both write, a message each a second, until a link straight to the peer has taken over.
      const fromB: string[] = [];
      await until(
        async () => {
          fromA.push(await send(a, b, `a${fromA.length}`));
          fromB.push(await send(b, a, `b${fromB.length + 1}`));
          const routes = [await routeOf(a), await routeOf(b)];
          if (routes[0] === routes[1] && STRAIGHT.includes(routes[0] ?? '')) return true;
          await new Promise((resolve) => setTimeout(resolve, 1_000));
          return false;
        },
        'a link straight to the peer took over on both sides',
        50_000,
      );
      fromA.push(await send(a, b, `a${fromA.length}`));
      fromB.push(await send(b, a, `b${fromB.length + 1}`));
      for (const id of fromA) await until(async () => (await statusOf(a, id, b.id)) === 'delivered', `${id} delivered to bob`, 20_000);
      for (const id of fromB) await until(async () => (await statusOf(b, id, a.id)) === 'delivered', `${id} delivered to alice`, 20_000);
      const received = async (p: Person, peer: number): Promise<Array<Record<string, unknown>>> =>
        jsonLines((await runParley(['history', '--peer', String(peer), '--json'], { home: p.home })).stdout).filter((m) => m.direction === 'in');
      const atB = await received(b, a.id);
      const atA = await received(a, b.id);
      expect(atB.map((m) => m.id)).toEqual(fromA);
      expect(atB.map((m) => m.text)).toEqual(fromA.map((_, i) => `a${i}`));
      expect(atA.map((m) => m.id)).toEqual(fromB);
      const links = jsonLines((await runParley(['journal', 'inspect', '--type', 'link.opened', '--json'], { home: a.home })).stdout);
      expect(links.map((e) => e.route)).toEqual(['relay', await routeOf(a)]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nalice: ${a.up.out()}\nbob: ${b.up.out()}\nserver: ${srv.out()}`);
    } finally {
      if (dropping) drop('-D');
      if (opened) open('-D');
      await stop(a.up);
      await stop(b.up);
      await stop(srv);
    }
  }, 120_000);
});
