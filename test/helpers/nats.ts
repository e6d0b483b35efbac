// A real NATS cluster for the cluster tests: `nats-server` processes on 127.0.0.1, each with a
// client port, a route port and a monitoring port of its own, a temp dir for its JetStream
// storage, and routes to all the others. The tests kill and restart nodes, so each node keeps its
// ports and its storage across a restart (a restarted node catches up from the others).
//
// Without nats-server this throws: the tests must fail, not skip (CI installs it, .ci/run).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { connect, credsAuthenticator } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { natsServerIdentity } from '../../server/cluster/connect.js';
import { freePort, removeDir, tempDir } from '../cert/helpers.js';

export type NatsCluster = {
  // nats://127.0.0.1:PORT of each node, in order.
  urls: string[];
  // SIGKILL: the node's storage stays, as after a crash.
  kill: (i: number) => Promise<void>;
  // Starts a killed node again on its ports and storage, and waits until it is healthy.
  restart: (i: number) => Promise<void>;
  stop: () => Promise<void>;
};

type Node = { name: string; port: number; routePort: number; httpPort: number; dir: string; proc: ChildProcess | null };

// A three-node JetStream cluster elects its meta leader within a few seconds here; under load
// on the shared two-CPU machine it has taken longer, hence the margin.
const READY_MS = 30_000;
const STOP_MS = 5_000;

function requireNatsServer(): void {
  try {
    execFileSync('nats-server', ['--version'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error('nats-server is not installed (Debian: apt-get install nats-server; .ci/run installs it): the cluster tests need it', { cause: err });
  }
}

// `auth`: every client must give this user and password (as a deployment's NATS asks).
// `tls`: the nodes speak TLS only, with this certificate and key (PEM files), and, with `verify`,
// take only clients with a certificate from `ca`; `client` is what the helper itself shows them.
export type NatsTls = { cert: string; key: string; ca: string; verify: boolean; client: { ca: string; cert?: string; key?: string } };

// `operator`: the nodes run in operator mode (decentralised JWT auth) with this configuration,
// and the helper signs in with these credentials (a credentials file's text; nats-jwt.ts).
export async function startNatsCluster(options: { nodes: number; auth?: { user: string; pass: string }; tls?: NatsTls; operator?: { config: string; creds: string } }): Promise<NatsCluster> {
  requireNatsServer();
  const root = tempDir('nats');
  const configFile = path.join(root, 'operator.conf');
  if (options.operator) fs.writeFileSync(configFile, options.operator.config);
  const clusterName = `parley-test-${process.pid}`;
  const nodes: Node[] = [];
  for (let i = 0; i < options.nodes; i++) {
    nodes.push({ name: `n${i}`, port: await freePort(), routePort: await freePort(), httpPort: await freePort(), dir: path.join(root, `n${i}`), proc: null });
  }
  const routes = nodes.map((n) => `nats://127.0.0.1:${n.routePort}`).join(',');

  function spawnNode(n: Node): void {
    const args = [
      '-a', '127.0.0.1', '-p', String(n.port), '-m', String(n.httpPort), '-n', n.name,
      '-js', '-sd', n.dir, '-l', path.join(root, `${n.name}.log`),
      // One node is no cluster: with routes to itself alone it waits for ever for a meta leader.
      ...(nodes.length > 1 ? ['--cluster_name', clusterName, '--cluster', `nats://127.0.0.1:${n.routePort}`, '--routes', routes] : []),
      // Clients reach only the servers they are given: a test that cuts one process off (a proxy
      // between it and NATS, test/helpers/proxy.ts) must not see it reconnect around the cut.
      '--no_advertise=true',
      ...(options.auth ? ['--user', options.auth.user, '--pass', options.auth.pass] : []),
      ...(options.operator ? ['-c', configFile] : []),
      ...(options.tls ? ['--tls', '--tlscert', options.tls.cert, '--tlskey', options.tls.key, '--tlscacert', options.tls.ca, ...(options.tls.verify ? ['--tlsverify'] : [])] : []),
    ];
    n.proc = spawn('nats-server', args, { stdio: 'ignore' });
  }

  async function waitExit(n: Node, signal: NodeJS.Signals): Promise<void> {
    const proc = n.proc;
    n.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_MS);
    await exited;
    clearTimeout(timer);
  }

  async function waitHealthy(n: Node, deadline: number): Promise<void> {
    // /healthz answers 200 once the server runs and its JetStream is current with the cluster.
    await until(deadline, `NATS node ${n.name} healthy`, () => {
      // A node that exited (a bad flag, a port taken) will not become healthy: say so at once.
      if (n.proc && n.proc.exitCode !== null) throw new Error(`nats-server ${n.name} exited with ${n.proc.exitCode}: see ${path.join(root, `${n.name}.log`)}`);
      return healthz(n.httpPort);
    });
  }

  for (const n of nodes) spawnNode(n);
  const deadline = Date.now() + READY_MS;
  const urls = nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  try {
    for (const n of nodes) await waitHealthy(n, deadline);
    // Healthy nodes are not yet a JetStream cluster that places replicated streams: wait until a
    // bucket with as many replicas as nodes can be made, which is what the tests do first.
    const tls = options.tls ? { tls: { caFile: options.tls.client.ca, certFile: options.tls.client.cert, keyFile: options.tls.client.key, checkServerIdentity: natsServerIdentity(urls) } } : {};
    const creds = options.operator ? { authenticator: credsAuthenticator(new TextEncoder().encode(options.operator.creds)) } : {};
    const nc = await connect({ servers: urls, timeout: 2_000, ...(options.auth ?? {}), ...tls, ...creds });
    try {
      const kvm = new Kvm(nc);
      await until(deadline, 'a replicated KV bucket', async () => {
        try {
          const kv = await kvm.create('ready', { replicas: options.nodes });
          await kv.destroy();
          return true;
        } catch {
          return false;
        }
      });
    } finally {
      await nc.close();
    }
  } catch (err) {
    await Promise.all(nodes.map((n) => waitExit(n, 'SIGKILL')));
    removeDir(root);
    throw err;
  }

  return {
    urls,
    async kill(i) {
      await waitExit(nodes[i], 'SIGKILL');
    },
    async restart(i) {
      const n = nodes[i];
      if (n.proc) throw new Error(`NATS node ${n.name} is running`);
      spawnNode(n);
      await waitHealthy(n, Date.now() + READY_MS);
    },
    async stop() {
      await Promise.all(nodes.map((n) => waitExit(n, 'SIGTERM')));
      removeDir(root);
    },
  };
}

function healthz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

// Polls `check` every 100 ms until it is true; throws naming `what` past the deadline.
async function until(deadline: number, what: string, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
