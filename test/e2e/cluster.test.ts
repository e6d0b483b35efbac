// The server on several processes (issue 13), end to end: two `parley server --cluster` processes
// on a three-node NATS cluster (test/helpers/nats.ts), two `parley up` clients given both
// addresses, each signed in on a different process. They chat; the process one of them is on is
// killed with SIGKILL; that client is back on the other process within 15 s, and every message
// either side journaled, before and after, arrives once.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../cert/helpers.js';
import { CLI, ROOT, jsonLines, runParley, tempHome } from '../helpers/cli.js';
import { clientInitArgs, lanOff, startUp, stopPerson, until, type Person } from '../helpers/client.js';
import { startNatsCluster, type NatsCluster } from '../helpers/nats.js';
import { cleanup, makeServerPki, tempDir, type TestPki } from '../server/helpers.js';

let pki: TestPki;
let nats: NatsCluster;
beforeAll(async () => {
  [pki, nats] = await Promise.all([makeServerPki(['alice', 'bob']), startNatsCluster({ nodes: 3 })]);
}, 60_000);
afterAll(async () => {
  await nats?.stop();
  cleanup(pki?.dir);
});

type ServerProcess = { child: ChildProcessWithoutNullStreams; port: number; dataDir: string; output: () => string; exited: Promise<number | null> };

// `parley server --cluster` as an operator runs it, listening once it says so.
async function clusterServer(node: string, port: number, name: string): Promise<ServerProcess> {
  const dataDir = tempDir(`e2e-cluster-${node}`);
  const h = pki.ours.holders.server;
  const args = [CLI, 'server', '--listen', `127.0.0.1:${port}`, '--ca', pki.ours.caCertFile, '--cert', h.certFile, '--key', h.keyFile, '--data', dataDir, '--password-file', pki.ours.passwordFile];
  args.push('--cluster', nats.urls.join(','), '--node', node, '--public', `127.0.0.1:${port}`, '--cluster-name', name);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (output += d));
  child.stderr.on('data', (d: string) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const end = Date.now() + 20_000;
  while (!output.includes('listening on')) {
    if (Date.now() > end) throw new Error(`parley server ${node} did not listen within 20 s: ${output}`);
    const stopped = await Promise.race([exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))]);
    if (stopped) throw new Error(`parley server ${node} exited: ${output}`);
  }
  return { child, port, dataDir, output: () => output, exited };
}

async function personWith(name: string, servers: string): Promise<Person> {
  const home = tempHome(`e2e-cluster-${name}`);
  const init = await runParley(clientInitArgs(pki, name, servers), { home });
  if (init.code !== 0) throw new Error(`parley init for ${name}: ${init.stderr}`);
  await lanOff(home);
  const up = startUp(pki, home);
  await up.waitFor('online at');
  const id = (JSON.parse((await runParley(['status', '--json'], { home })).stdout) as { id: number }).id;
  return { home, id, up };
}

async function history(p: Person, peer: number): Promise<Array<Record<string, unknown>>> {
  const r = await runParley(['history', '--peer', String(peer), '--json'], { home: p.home });
  return r.code === 0 ? jsonLines(r.stdout) : [];
}

async function send(p: Person, peer: number, text: string): Promise<string> {
  const r = await runParley(['send', '--to', String(peer), '--json', text], { home: p.home });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { id: string }).id;
}

async function delivered(p: Person, peer: number, ids: string[]): Promise<boolean> {
  const rows = await history(p, peer);
  return ids.every((id) => rows.some((m) => m.id === id && (m.status === 'delivered' || m.status === 'read')));
}

describe('cluster end to end', () => {
  it('cluster e2e - clients on two processes chat; SIGKILL of one process: its client is back on the other within 15 s and nothing journaled is lost', async () => {
    const name = `e2e${process.pid}`;
    const [portA, portB] = [await freePort(), await freePort()];
    const a = await clusterServer('pa', portA, name);
    const b = await clusterServer('pb', portB, name);
    let alice: Person | null = null;
    let bob: Person | null = null;
    try {
      // Alice tries A first, Bob B first: each signs in on a process of its own.
      alice = await personWith('alice', `127.0.0.1:${portA},127.0.0.1:${portB}`);
      bob = await personWith('bob', `127.0.0.1:${portB},127.0.0.1:${portA}`);
      expect(alice.up?.stderr()).toContain(`online at 127.0.0.1:${portA}`);
      expect(bob.up?.stderr()).toContain(`online at 127.0.0.1:${portB}`);
      const [al, bo] = [alice, bob];
      expect((await runParley(['contacts', 'add', String(bo.id), '--name', 'Bob'], { home: al.home })).code).toBe(0);
      expect((await runParley(['contacts', 'add', String(al.id), '--name', 'Alice'], { home: bo.home })).code).toBe(0);

      const before = [await send(al, bo.id, 'before 1'), await send(al, bo.id, 'before 2')];
      const answer = await send(bo, al.id, 'answer');
      await until(() => delivered(al, bo.id, before), 'alice sees her first messages delivered', 20_000);
      await until(() => delivered(bo, al.id, [answer]), 'bob sees his answer delivered', 20_000);

      // Alice's process dies. She writes on meanwhile; she is back on B within 15 s.
      a.child.kill('SIGKILL');
      await a.exited;
      const killedAt = Date.now();
      const during = await send(al, bo.id, 'while her server is gone');
      await al.up?.waitFor(`online at 127.0.0.1:${portB}`, 15_000);
      expect(Date.now() - killedAt).toBeLessThan(15_000);
      const after = await send(al, bo.id, 'after');
      const bobAfter = await send(bo, al.id, 'bob after');
      await until(() => delivered(al, bo.id, [...before, during, after]), 'alice sees every message delivered', 30_000);
      await until(() => delivered(bo, al.id, [answer, bobAfter]), 'bob sees his delivered', 30_000);

      // Each message once, on both sides.
      const atBob = (await history(bo, al.id)).filter((m) => m.direction === 'in').map((m) => m.text);
      expect(atBob).toEqual(['before 1', 'before 2', 'while her server is gone', 'after']);
      const atAlice = (await history(al, bo.id)).filter((m) => m.direction === 'in').map((m) => m.text);
      expect(atAlice).toEqual(['answer', 'bob after']);
    } finally {
      if (alice) await stopPerson(alice);
      if (bob) await stopPerson(bob);
      for (const s of [a, b]) {
        s.child.kill('SIGTERM');
        await s.exited;
        cleanup(s.dataDir);
      }
    }
  });
});
