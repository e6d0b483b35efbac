// npm run bench -- cluster [--sessions N] [--single N] [--rounds R] [--intros K]
// (standalone, after `npm run build`: node --expose-gc bench/cluster.mjs)
//
// The server on several processes acting as one through NATS (issue 13): three Parley server
// processes and a three-node NATS cluster (JetStream, each bucket on three replicas) on this
// machine. Measured:
//   held                sessions logged in and held at once across the three processes (the sum
//                       of each process's own count, read from its stats)
//   login_per_s         logins per second while the sessions open, spread over the three
//   single_login_per_s  the same load, in the same run, against one server process alone (no
//                       cluster): --single N sessions (6,000 by default, or N if fewer), enough
//                       for a rate; one process would hold at most a third of the cluster's
//   presence_p99_ms     a client on process 0 goes offline then online, R rounds (10); 1,000
//                       watchers on processes 1 and 2: from its bye (or login frame) to each
//                       watcher's presence frame
//   intro_p99_ms        introduce-request from clients on process 0 for clients on process 1, K
//                       (1,000) one after the other: from the request to the asker's introduce
//
// Processes (this file plays every role but NATS, chosen by --role):
//   main      makes the PKI, starts the others, times the phases, prints the figures
//   nats x3   nats-server -js, routes to one another (bench/lib/nats.mjs)
//   server    the Parley server (dist/server/server.js) as `parley server --cluster` runs it,
//             one per process, each with its own data directory and port; in the single phase
//             one of them, without --cluster
//   load x3   hold the client ends (bench/lib/sessions.mjs); load i signs in to process i, so
//             each holds a third of the sessions, under its own file limit
// Every process holds one descriptor per session: the file limit (hard 20,000 here) caps each
// server and each load at 19,000 sessions or so, hence 57,000 in all by default. The servers
// allow a million introductions a minute, so that the bench measures the way through the
// cluster, not the rate limit.
//
// Progress goes to stderr; the last line on stdout is one JSON object:
//   {"bench":"cluster","nodes":3,"held":…,"login_per_s":…,"single_login_per_s":…,"presence_p99_ms":…,"intro_p99_ms":…}
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNats } from './lib/nats.mjs';
import { healthLine } from './lib/health.mjs';
import { clock, fdLimits, freePort, loadRole, makePki, mib, presenceRounds, quantiles, round1, round2, serveRole, serverRole, startChild } from './lib/sessions.mjs';

const SELF = fileURLToPath(import.meta.url);
const NODES = 3;
const WATCHERS = 1000;
// Room left in each process's file limit for what is not a session: the listener, the journal's
// files, NATS, stdio and IPC (a server), the presence target (load 0).
const SPARE_FDS = 1000;
const HOLD_MS = 3000;
const INTRODUCTIONS_PER_MINUTE = 1_000_000;

const argv = process.argv.slice(2);
function arg(name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
}

const started = performance.now();
const log = (line) => process.stderr.write(`[cluster ${((performance.now() - started) / 1000).toFixed(0)} s] ${line}\n`);

const role = arg('--role', 'main');
if (role === 'main') await main();
else serveRole(role === 'load' ? await loadRole() : await serverRole());

// ---------------------------------------------------------------- main

async function main() {
  const limits = fdLimits();
  const want = Math.min(limits.hard, 20_000);
  const perProcess = Math.max(limits.soft, want) - SPARE_FDS;
  const sessions = Math.min(Number(arg('--sessions', NODES * perProcess)), NODES * perProcess);
  const single = Math.min(Number(arg('--single', 6000)), sessions, perProcess);
  const rounds = Number(arg('--rounds', 10));
  const intros = Number(arg('--intros', 1000));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-cluster-'));
  const children = [];
  let nats = null;
  try {
    const { caKeyPem, template, files } = await makePki(dir);
    const shares = split(sessions, NODES);
    const loads = shares.map(() => startChild(SELF, 'load', want, limits));
    children.push(...loads);
    log(`${sessions} sessions from ${NODES} load processes, one per server process; file limit soft ${limits.soft}, hard ${limits.hard}; ${os.cpus().length} CPUs; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; node ${process.version}`);
    const t0 = performance.now();
    // Load 0 also holds the presence target.
    await Promise.all(loads.map((l, i) => l.call({ cmd: 'init', caKeyPem, template, count: shares[i], extra: i === 0 ? 1 : 0 })));
    log(`clients: ${sessions + 1} EC P-256 keys and certificates made in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // Phase 1: one server process alone, the same loads and concurrency.
    const alone = startChild(SELF, 'server', want, limits);
    children.push(alone);
    let singleRun;
    try {
      const { port } = await alone.call({ cmd: 'start', files, dataDir: path.join(dir, 'single'), options: { introductionsPerMinute: INTRODUCTIONS_PER_MINUTE } });
      singleRun = await logins(loads.map((load, i) => ({ load, port, n: split(single, NODES)[i] })), [alone]);
      log(`single process: ${singleRun.ok} logins in ${(singleRun.ms / 1000).toFixed(1)} s = ${singleRun.perSecond.toFixed(0)} logins/s (server CPU ${singleRun.serverCpuMs.toFixed(2)} ms a login)`);
      await Promise.all(loads.map((l) => l.call({ cmd: 'close' })));
    } finally {
      await alone.stop();
    }

    // Phase 2: the cluster.
    const t1 = performance.now();
    nats = await startNats(path.join(dir, 'nats'), { nodes: NODES });
    let natsWindow = { at: performance.now(), cpu: nats.cpuMs() };
    log(`NATS: ${NODES} nodes (${nats.version}) ready in ${((performance.now() - t1) / 1000).toFixed(1)} s: ${nats.urls.join(', ')}`);
    const servers = [];
    const ports = [];
    for (let i = 0; i < NODES; i++) {
      servers.push(startChild(SELF, 'server', want, limits));
      ports.push(await freePort());
    }
    children.push(...servers);
    const startOne = (i) =>
      servers[i].call({
        cmd: 'start',
        files,
        dataDir: path.join(dir, `p${i}`),
        options: {
          port: ports[i],
          introductionsPerMinute: INTRODUCTIONS_PER_MINUTE,
          cluster: { servers: nats.urls, node: `p${i}`, publicAddress: `127.0.0.1:${ports[i]}`, name: 'parley', replicas: NODES },
        },
      });
    // The first makes the buckets; the others then find them.
    await startOne(0);
    await Promise.all(servers.slice(1).map((_, i) => startOne(i + 1)));
    log(`server processes p0..p${NODES - 1} on ports ${ports.join(', ')}`);

    const clusterRun = await logins(loads.map((load, i) => ({ load, port: ports[i], n: shares[i] })), servers);
    log(`cluster: ${clusterRun.ok} logins in ${(clusterRun.ms / 1000).toFixed(1)} s = ${clusterRun.perSecond.toFixed(0)} logins/s (server CPU ${clusterRun.serverCpuMs.toFixed(2)} ms a login, all processes); over its first ${singleRun.ok}, as many as the single process's, ${clusterRun.firstPerSecond(singleRun.ok).toFixed(0)} logins/s`);
    // Hold with heartbeats going, then count what each process holds. What holding alone costs
    // each process is its health over the hold (after a first call that ends the logins' window).
    const everyone = [...servers.map((s, i) => [`p${i}`, s]), ...loads.map((l, i) => [`load${i}`, l])];
    const health = async (phase) => {
      const hs = await Promise.all(everyone.map(([, c]) => c.call({ cmd: 'health' })));
      for (const [i, h] of hs.entries()) log(`  ${phase}, ${everyone[i][0]}: ${healthLine(h)}`);
      const now = { at: performance.now(), cpu: nats.cpuMs() };
      const share = now.cpu.map((ms, i) => (ms === null || natsWindow.cpu[i] === null ? '?' : `${Math.round(((ms - natsWindow.cpu[i]) / (now.at - natsWindow.at)) * 100)}%`));
      log(`  ${phase}, NATS nodes: cpu ${share.join(', ')}`);
      natsWindow = now;
    };
    await health('logins');
    const profiling = process.env.PARLEY_BENCH_PHASE_PROF;
    const profiles = async (phase, start) => {
      if (profiling) await Promise.all(everyone.map(([name, c]) => c.call({ cmd: 'profile', start, file: path.join(profiling, `${phase}-${name}.cpuprofile`) })));
    };
    await profiles('holding', true);
    await new Promise((r) => setTimeout(r, Number(process.env.PARLEY_BENCH_HOLD_MS ?? HOLD_MS)));
    await profiles('holding', false);
    await health('holding');
    const stats = await Promise.all(servers.map((s) => s.call({ cmd: 'stats' })));
    const held = stats.reduce((n, s) => n + s.sessions, 0);
    log(`held ${held} sessions: ${stats.map((s, i) => `p${i} ${s.sessions} (registry ${s.registered} ids)`).join(', ')}`);

    await profiles('presence', true);
    // Presence: the target on process 0, the watchers on the others.
    const others = loads.slice(1);
    const per = split(WATCHERS, others.length);
    const presence = await presenceRounds({ load: loads[0], port: ports[0] }, others.map((load, i) => ({ load, n: Math.min(per[i], shares[i + 1] - 1) })), rounds);
    log(`presence from p0 to ${presence.watchers} watchers on p1..p${NODES - 1}, ${rounds} rounds of offline then online (${presence.samples} deliveries): p50 ${presence.p50.toFixed(1)} ms, p99 ${presence.p99.toFixed(1)} ms, max ${presence.max.toFixed(1)} ms; per round (median/worst), going offline: ${presence.offline}; coming online: ${presence.online}`);

    await profiles('presence', false);
    await health('presence rounds');
    await profiles('introductions', true);
    // Introductions: askers on process 0, targets on process 1.
    const { ids } = await loads[1].call({ cmd: 'ids', n: intros });
    const targets = Array.from({ length: intros }, (_, i) => ids[i % ids.length]);
    const asked = await loads[0].call({ cmd: 'introduce', targets });
    const intro = quantiles(asked.latencies);
    if (asked.refused > 0) log(`  (${asked.refused} introductions refused: ${asked.firstRefusal})`);
    log(`introductions from p0 to p1, one at a time (${intro.samples}): p50 ${intro.p50.toFixed(2)} ms, p99 ${intro.p99.toFixed(2)} ms, max ${intro.max.toFixed(2)} ms`);

    await profiles('introductions', false);
    await health('introductions');
    // Memory last: measuring it forces three full collections of a heap near 900 MiB, each
    // stopping the process for about 600 ms, which no phase should have just behind it.
    const rss = await Promise.all(servers.map((s) => s.call({ cmd: 'rss' })));
    log(`memory, the sessions still held: ${rss.map((r, i) => `p${i} RSS ${mib(r.rss)} MiB`).join(', ')}`);
    const t2 = performance.now();
    await Promise.all(loads.map((l) => l.call({ cmd: 'close' })));
    await Promise.all(servers.map((s) => s.stop(10_000)));
    log(`sessions closed and servers stopped in ${((performance.now() - t2) / 1000).toFixed(1)} s; total run ${((performance.now() - started) / 1000).toFixed(0)} s; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    console.log(
      JSON.stringify({
        bench: 'cluster',
        nodes: NODES,
        held,
        login_per_s: Math.round(clusterRun.perSecond),
        single_login_per_s: Math.round(singleRun.perSecond),
        presence_p99_ms: round1(presence.p99),
        intro_p99_ms: round2(intro.p99),
      }),
    );
  } finally {
    for (const c of children) c.kill();
    await nats?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// Every load opens its sessions to its server at once, CONCURRENCY in flight each (timed).
// `plan`: [{ load, port, n }]; `hosts`: the server processes, for their CPU.
async function logins(plan, hosts) {
  const cpu0 = await Promise.all(hosts.map((h) => h.call({ cmd: 'cpu' })));
  const t = performance.now();
  // Every 15 s, what each server holds so far: a cluster that falls behind shows here first. One
  // that lets its sessions go (a process cut off from NATS closes them all) ends the run: the
  // loads would go on being refused until their last credential.
  let most = 0;
  let collapse;
  const collapsed = new Promise((_, reject) => (collapse = reject));
  const progress = setInterval(async () => {
    const stats = await Promise.all(hosts.map((h) => h.call({ cmd: 'stats' }))).catch(() => []);
    const held = stats.map((s) => s.sessions);
    const total = held.reduce((a, b) => a + b, 0);
    log(`  ${((performance.now() - t) / 1000).toFixed(0)} s: ${total} sessions (${held.join(' + ')})`);
    most = Math.max(most, total);
    if (most >= 1000 && total < most / 2) collapse(new Error(`the servers went from ${most} sessions to ${total} while sessions opened: see their lines above`));
  }, 15_000);
  const since = clock();
  const opening = Promise.all(plan.map((p) => p.load.call({ cmd: 'connect', port: p.port, mode: 'parley', n: p.n, times: true })));
  const results = await Promise.race([opening, collapsed]).finally(() => clearInterval(progress));
  const ms = performance.now() - t;
  const cpu1 = await Promise.all(hosts.map((h) => h.call({ cmd: 'cpu' })));
  const ok = results.reduce((n, r) => n + r.ok, 0);
  for (const r of results) if (r.failed > 0) log(`  (${r.failed} logins failed: ${r.firstError})`);
  const serverCpuMs = cpu1.reduce((n, c, i) => n + c.cpuMs - cpu0[i].cpuMs, 0) / ok;
  // The rate over the first `n` logins (the loads' clocks are this one's: one machine).
  const times = results.flatMap((r) => r.times).sort((a, b) => a - b);
  const firstPerSecond = (n) => (n > 0 && n <= times.length ? n / ((times[n - 1] - since) / 1000) : NaN);
  return { ok, ms, perSecond: ok / (ms / 1000), serverCpuMs, firstPerSecond };
}

// n as `parts` whole shares, the first ones larger by one: split(10, 3) => [4, 3, 3]
function split(n, parts) {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}
