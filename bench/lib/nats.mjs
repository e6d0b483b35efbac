// A NATS cluster on loopback for the cluster bench: `nodes` nats-server processes, each with a
// client port, a route port and a monitoring port of its own, JetStream on a directory of its
// own, and routes to all the others (as test/helpers/nats.ts does for the tests, without the
// NATS client: the bench's main process reads only the monitoring endpoints).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort } from './sessions.mjs';

// Three nodes elect a JetStream meta leader within a few seconds here; the margin is for a
// machine busy with other work.
const READY_MS = 30_000;
const STOP_MS = 5_000;
const NATS_SERVER = fs.existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';

// Starts the nodes under `dir` and resolves once every node is healthy and JetStream has a meta
// leader that every node knows, with all `nodes` peers: then a bucket of `nodes` replicas can be
// placed. Returns { urls, version, stop }.
export async function startNats(dir, { nodes = 3, name = 'parley-bench' } = {}) {
  let version;
  try {
    version = execFileSync(NATS_SERVER, ['--version']).toString().trim();
  } catch (err) {
    throw new Error('nats-server is not installed (Debian: apt-get install nats-server): the cluster bench needs it', { cause: err });
  }
  const list = [];
  for (let i = 0; i < nodes; i++) {
    list.push({ name: `n${i}`, port: await freePort(), routePort: await freePort(), httpPort: await freePort(), dir: path.join(dir, `n${i}`), proc: null, exited: null });
  }
  const routes = list.map((n) => `nats://127.0.0.1:${n.routePort}`).join(',');
  for (const n of list) {
    fs.mkdirSync(n.dir, { recursive: true });
    const args = [
      '-a', '127.0.0.1', '-p', String(n.port), '-m', String(n.httpPort), '-n', n.name,
      '-js', '-sd', n.dir, '-l', path.join(dir, `${n.name}.log`),
      '--cluster_name', name, '--cluster', `nats://127.0.0.1:${n.routePort}`, '--routes', routes,
    ];
    n.proc = spawn(NATS_SERVER, args, { stdio: 'ignore' });
    n.exited = new Promise((resolve) => n.proc.on('exit', resolve));
  }

  async function stop() {
    await Promise.all(
      list.map(async (n) => {
        if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
        n.proc.kill('SIGTERM');
        const timer = setTimeout(() => n.proc.kill('SIGKILL'), STOP_MS);
        await n.exited;
        clearTimeout(timer);
      }),
    );
  }

  const deadline = Date.now() + READY_MS;
  try {
    for (const n of list) {
      await until(deadline, `NATS node ${n.name} healthy (log: ${path.join(dir, n.name + '.log')})`, async () => (await get(n.httpPort, '/healthz')).status === 200);
    }
    // Healthy is not yet placing replicated streams: wait for one meta leader seen by all nodes,
    // which reports every other node as a current peer.
    // => meta_cluster { leader: 'n1', cluster_size: 3, replicas: [{ name: 'n0', current: true }, ...] }
    await until(deadline, 'a JetStream meta leader known to every NATS node', async () => {
      const metas = new Map();
      for (const n of list) {
        const { status, body } = await get(n.httpPort, '/jsz');
        const meta = status === 200 ? JSON.parse(body).meta_cluster : undefined;
        if (!meta?.leader || (meta.cluster_size ?? 0) < nodes) return false;
        metas.set(n.name, meta);
      }
      const leaders = new Set([...metas.values()].map((m) => m.leader));
      const leader = metas.get([...leaders][0]);
      return leaders.size === 1 && (leader?.replicas ?? []).filter((r) => r.current).length >= nodes - 1;
    });
  } catch (err) {
    await stop();
    throw err;
  }
  // Each node's CPU time so far (ms; null where /proc does not tell: not Linux).
  const cpuMs = () => list.map((n) => procCpuMs(n.proc.pid));
  return { urls: list.map((n) => `nats://127.0.0.1:${n.port}`), version, stop, cpuMs };
}

// utime + stime of a process, from /proc/PID/stat (fields 14 and 15, after the command's
// parenthesis), in ms at the usual 100 ticks a second.
function procCpuMs(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

// { status, body } of a GET on the monitoring port; status 0 when it does not answer.
function get(port, urlPath) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 1_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

// Polls `check` every 100 ms until it is true; throws naming `what` past the deadline.
async function until(deadline, what, check) {
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
