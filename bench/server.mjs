// npm run bench -- server [--sessions N] [--rounds R]
// (standalone, after `npm run build`: node --expose-gc bench/server.mjs)
//
// How many sessions one rendezvous server process holds, how fast clients log in, what a session
// costs in memory and how fast a presence change reaches 1,000 watchers; in the same run, the bare
// Node baseline: plain mutual TLS 1.3 handshakes per second and memory per idle connection.
//
// Processes (this file plays every role, chosen by --role):
//   main      makes the PKI, starts the others, times the phases, prints the figures
//   load x2   hold the client ends: mutual-TLS sessions that log in and heartbeat
//   baseline  a bare tls.Server with the server's certificate: accepts, writes one byte, holds
//   server    the Parley server (dist/server/server.js), as `parley server` runs it
// The server and the baseline run one after the other, each alone in its process, and each
// reports its own RSS after a forced GC; per-connection memory is the RSS growth from an idle
// (warmed-up) process to one holding every connection, divided by the connections.
//
// The file limits, the PKI and the load processes are bench/lib/sessions.mjs's. Both phases use
// the same clients, concurrency and machine.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { cpuNow, measureRss } from './lib/health.mjs';
import { DIST, fdLimits, loadRole, makePki, mib, presenceRounds, round1, round2, serveRole, serverRole, startChild } from './lib/sessions.mjs';

const SELF = fileURLToPath(import.meta.url);
const LOADS = 2;
const WARM = 300; // connections opened and closed before the idle RSS is taken
const WATCHERS = 1000;

const argv = process.argv.slice(2);
function arg(name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
}

const role = arg('--role', 'main');
if (role === 'main') await main();
else await child(role);

// ---------------------------------------------------------------- main

async function main() {
  const rounds = Number(arg('--rounds', 10));
  const limits = fdLimits();
  // What one process may hold, less room for the listener, the journal, stdio and IPC.
  const perProcess = Math.max(limits.soft, Math.min(limits.hard, 20_000));
  const sessions = Math.min(Number(arg('--sessions', perProcess - 400)), perProcess - 400);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-bench-server-'));
  const children = [];
  const started = performance.now();
  try {
    const { caKeyPem, template, files } = await makePki(dir);

    const want = Math.min(limits.hard, 20_000);
    const shares = Array.from({ length: LOADS }, (_, i) => Math.floor(sessions / LOADS) + (i < sessions % LOADS ? 1 : 0));
    const loads = shares.map(() => startChild(SELF, 'load', want, limits));
    children.push(...loads);
    const t0 = performance.now();
    // Load 0 also holds the warm-up clients and the presence target.
    await Promise.all(loads.map((l, i) => l.call({ cmd: 'init', caKeyPem, template, count: shares[i], extra: i === 0 ? WARM + 1 : 0 })));
    const certMs = performance.now() - t0;
    log(`bench server: ${sessions} sessions from ${LOADS} load processes; file limit soft ${limits.soft}, hard ${limits.hard}; ${os.cpus().length} CPUs; node ${process.version}`);
    log(`clients: ${sessions + WARM + 1} EC P-256 keys and certificates made in ${(certMs / 1000).toFixed(1)} s; server key RSA 2048`);

    // Phase 1: the bare Node baseline.
    const base = await phase('baseline', 'tls', files, dir, loads, shares, want, limits);
    log(`baseline, bare Node mutual TLS 1.3 (tls.createServer, requestCert, one byte written, held idle):`);
    log(`  ${base.held} connections in ${(base.ms / 1000).toFixed(1)} s = ${base.perSecond.toFixed(0)} handshakes/s (CPU ms per handshake: listener ${base.hostCpuMs.toFixed(2)}, clients ${base.loadCpuMs.toFixed(2)}); RSS ${mib(base.rss0)} -> ${mib(base.rss1)} MiB = ${base.perConnKiB.toFixed(1)} KiB per connection`);

    // Phase 2: the Parley server.
    const srv = await phase('server', 'parley', files, dir, loads, shares, want, limits, async (host, port) => {
      // The watchers spread over the load processes as watchers are spread over machines.
      const per = loads.map((_, i) => Math.floor(WATCHERS / LOADS) + (i < WATCHERS % LOADS ? 1 : 0));
      const watchers = loads.map((load, i) => ({ load, n: Math.min(per[i], shares[i] - 1) }));
      const presence = await presenceRounds({ load: loads[0], port }, watchers, rounds);
      const stats = await host.call({ cmd: 'stats' });
      return { presence, stats };
    });
    const ratioLogin = srv.perSecond / base.perSecond;
    const ratioRss = srv.perConnKiB / base.perConnKiB;
    log(`parley server (server/: certificate check, login, registration journaled, heartbeats):`);
    log(`  held ${srv.held} sessions; logins in ${(srv.ms / 1000).toFixed(1)} s = ${srv.perSecond.toFixed(0)} logins/s (${ratioLogin.toFixed(2)} of the baseline; CPU ms per login: server ${srv.hostCpuMs.toFixed(2)}, clients ${srv.loadCpuMs.toFixed(2)})`);
    log(`  RSS ${mib(srv.rss0)} -> ${mib(srv.rss1)} MiB = ${srv.perConnKiB.toFixed(1)} KiB per session (${ratioRss.toFixed(2)} of the baseline)`);
    const p = srv.extra.presence;
    log(`  presence to ${p.watchers} watchers, ${p.rounds} rounds of offline then online (${p.samples} deliveries): p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms`);
    log(`  total run ${((performance.now() - started) / 1000).toFixed(0)} s`);
    console.log(
      JSON.stringify({
        bench: 'server',
        held: srv.held,
        login_per_s: Math.round(srv.perSecond),
        baseline_handshake_per_s: Math.round(base.perSecond),
        login_ratio: round2(ratioLogin),
        rss_per_session_kib: round1(srv.perConnKiB),
        baseline_rss_per_conn_kib: round1(base.perConnKiB),
        rss_ratio: round2(ratioRss),
        presence_p99_ms: round1(p.p99),
      }),
    );
  } finally {
    for (const c of children) c.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// One phase: start the host, warm it up, take its idle RSS, open every connection (timed), hold
// them while heartbeats go on, take its RSS again, run `during`, close everything.
async function phase(hostRole, mode, files, dir, loads, shares, want, limits, during) {
  const host = startChild(SELF, hostRole, want, limits);
  try {
    const { port } = await host.call({ cmd: 'start', files, dataDir: path.join(dir, 'data-' + hostRole) });
    await loads[0].call({ cmd: 'warm', port, mode, n: WARM });
    const idle = await host.call({ cmd: 'rss' });
    const t = performance.now();
    const results = await Promise.all(loads.map((l, i) => l.call({ cmd: 'connect', port, mode, n: shares[i] })));
    const ms = performance.now() - t;
    const busy = await host.call({ cmd: 'cpu' });
    const opened = results.reduce((n, r) => n + r.ok, 0);
    const hostCpuMs = (busy.cpuMs - idle.cpuMs) / opened;
    const loadCpuMs = results.reduce((n, r) => n + r.cpuMs, 0) / opened;
    for (const r of results) if (r.failed > 0) log(`  (${r.failed} connections failed: ${r.firstError})`);
    // Hold for a moment with heartbeats going, so what is measured is a steady state.
    await new Promise((r) => setTimeout(r, 3000));
    const full = await host.call({ cmd: 'rss' });
    const held = full.held;
    const extra = during ? await during(host, port) : null;
    await Promise.all(loads.map((l) => l.call({ cmd: 'close' })));
    return { held, ms, perSecond: opened / (ms / 1000), rss0: idle.rss, rss1: full.rss, perConnKiB: (full.rss - idle.rss) / 1024 / held, hostCpuMs, loadCpuMs, extra };
  } finally {
    // The host exits by itself once stopped (so a CPU profile gets written); killed if it hangs.
    await host.stop();
  }
}

// ---------------------------------------------------------------- children

async function child(childRole) {
  serveRole(childRole === 'load' ? await loadRole() : childRole === 'server' ? await serverRole() : await baselineRole());
}

// Bare Node: the same certificate, key and CA; OpenSSL checks the client's chain.
async function baselineRole() {
  const { loadIdentity, serverTlsOptions } = await import(path.join(DIST, 'src/net/tls.js'));
  let server = null;
  const held = new Set();
  return {
    start: async ({ files }) => {
      server = tls.createServer(serverTlsOptions(loadIdentity(files)));
      server.on('tlsClientError', () => undefined);
      server.on('secureConnection', (socket) => {
        held.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => held.delete(socket));
        socket.write('k');
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      return { port: server.address().port };
    },
    rss: async () => measureRss({ held: held.size }),
    cpu: async () => cpuNow(),
    stop: async () => {
      for (const s of held) s.destroy();
      server?.close();
      return {};
    },
  };
}

function log(line) {
  console.log(line);
}
